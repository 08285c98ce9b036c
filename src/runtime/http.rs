//! HTTP/1.1 probes on 127.0.0.1: one request on its own connection (`Connection: close`),
//! the status and body. Probes only ever talk to loopback ports Docker published.
//!
//! The protocol is hyper's (already built for bollard): it reads chunked and
//! Content-Length bodies to their end and reports one cut short as an error, where a
//! hand-written parser had returned whatever arrived as if it were the whole answer.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::header::{AUTHORIZATION, CONNECTION, CONTENT_LENGTH, HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Largest body read; health and reload answers are small, metrics pages are not huge.
/// A longer body is an error, never read into memory whole.
const MAX_BODY: usize = 8 << 20;

/// The HTTP methods obsbuild sends: `GET` for health probes and metrics, `POST` for
/// reloads (Prometheus, Alertmanager, Grafana's provisioning API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    /// The method as HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }

    fn to_hyper(self) -> hyper::Method {
        match self {
            Method::Get => hyper::Method::GET,
            Method::Post => hyper::Method::POST,
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request: method, path, and credentials for APIs that want them (Grafana's admin API).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub path: String,
    pub basic_auth: Option<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// `method path` on 127.0.0.1:`port`, within `timeout` (connecting, sending and reading the
/// whole body). A timeout is [`std::io::ErrorKind::TimedOut`].
pub async fn request(port: u16, req: &HttpRequest, timeout: Duration) -> std::io::Result<HttpResponse> {
    tokio::time::timeout(timeout, exchange(port, req))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in time"))?
}

async fn exchange(port: u16, req: &HttpRequest) -> std::io::Result<HttpResponse> {
    let request = build(port, req)?;
    let stream = TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(invalid)?;
    let answer = async {
        let response = sender.send_request(request).await.map_err(invalid)?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_BODY).collect().await.map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                invalid_data(format!("the body is longer than {} MiB", MAX_BODY >> 20))
            } else {
                invalid_data(chain(e.as_ref()))
            }
        })?;
        Ok(HttpResponse { status, body: String::from_utf8_lossy(&body.to_bytes()).into_owned() })
    };
    // The connection is driven here rather than spawned, so nothing outlives the probe:
    // on a timeout both are dropped and the socket closed. Once the connection is done,
    // the answer is complete or carries hyper's error for what was missing.
    let mut connection = std::pin::pin!(connection);
    let mut answer = std::pin::pin!(answer);
    tokio::select! {
        done = &mut answer => done,
        _ = &mut connection => answer.await,
    }
}

/// The request as hyper sends it; a path that is not valid HTTP is refused here.
fn build(port: u16, req: &HttpRequest) -> std::io::Result<hyper::Request<Empty<Bytes>>> {
    let mut builder = hyper::Request::builder()
        .method(req.method.to_hyper())
        .uri(req.path.as_str())
        .header(HOST, format!("127.0.0.1:{port}"))
        .header(USER_AGENT, "obsbuild")
        .header(CONTENT_LENGTH, "0")
        .header(CONNECTION, "close");
    if let Some((user, password)) = &req.basic_auth {
        builder = builder.header(AUTHORIZATION, format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))));
    }
    builder.body(Empty::new()).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("cannot send `{} {}`: {e}", req.method, req.path),
        )
    })
}

fn invalid(e: hyper::Error) -> std::io::Error {
    invalid_data(chain(&e))
}

fn invalid_data(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}

/// An error and its causes on one line: hyper's own message says only which stage failed.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests;
