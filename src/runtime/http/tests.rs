//! The client against a one-shot server on 127.0.0.1 that sends canned bytes: answers cut
//! short must be errors, not bodies.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

const LONG: Duration = Duration::from_secs(10);

/// A server that answers one connection with `answer` and closes it; the join handle
/// yields the request head it read.
async fn serve(answer: Vec<u8>) -> (u16, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).await.unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        // The client may hang up first (a body over the limit): that is not the test's failure.
        let _ = socket.write_all(&answer).await;
        let _ = socket.shutdown().await;
        String::from_utf8_lossy(&head).into_owned()
    });
    (port, task)
}

fn get(path: &str) -> HttpRequest {
    HttpRequest { method: Method::Get, path: path.into(), basic_auth: None }
}

#[tokio::test]
async fn reads_a_content_length_answer_and_sends_a_closing_request() {
    let (port, server) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()).await;
    let req = HttpRequest { method: Method::Post, path: "/-/reload".into(), basic_auth: Some(("admin".into(), "admin".into())) };
    let answer = request(port, &req, LONG).await.unwrap();
    assert_eq!(answer, HttpResponse { status: 200, body: "ok".into() });
    let head = server.await.unwrap().to_ascii_lowercase();
    assert!(head.starts_with("post /-/reload http/1.1\r\n"), "{head}");
    for line in [&format!("host: 127.0.0.1:{port}"), "authorization: basic ywrtaw46ywrtaw4=", "connection: close", "content-length: 0"] {
        assert!(head.contains(&format!("{line}\r\n")), "{line} missing from {head}");
    }
}

#[tokio::test]
async fn reads_a_chunked_answer_whole() {
    let (port, _server) =
        serve(b"HTTP/1.1 500 Err\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".to_vec()).await;
    let answer = request(port, &get("/"), LONG).await.unwrap();
    assert_eq!(answer, HttpResponse { status: 500, body: "abcde".into() });
}

#[tokio::test]
async fn reads_a_body_that_ends_with_the_connection() {
    let (port, _server) = serve(b"HTTP/1.1 200 OK\r\n\r\nall of it".to_vec()).await;
    assert_eq!(request(port, &get("/"), LONG).await.unwrap().body, "all of it");
}

#[tokio::test]
async fn a_chunked_body_cut_short_is_an_error() {
    let (port, _server) = serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n9\r\nde".to_vec()).await;
    let e = request(port, &get("/"), LONG).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
}

#[tokio::test]
async fn a_chunked_body_without_its_last_chunk_is_an_error() {
    let (port, _server) = serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n".to_vec()).await;
    let e = request(port, &get("/"), LONG).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_an_error() {
    let (port, _server) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok".to_vec()).await;
    let e = request(port, &get("/"), LONG).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_an_error() {
    let size = MAX_BODY + 1;
    let mut answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n").into_bytes();
    answer.resize(answer.len() + size, b'x');
    let (port, _server) = serve(answer).await;
    let e = request(port, &get("/metrics"), LONG).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
    assert!(e.to_string().contains("longer than 8 MiB"), "{e}");
}

#[tokio::test]
async fn garbage_is_an_error() {
    let (port, _server) = serve(b"garbage\r\n\r\n".to_vec()).await;
    assert!(request(port, &get("/"), LONG).await.is_err());
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let e = request(port, &get("/"), Duration::from_millis(200)).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
    drop(listener);
}

#[test]
fn a_path_that_is_not_http_is_refused_before_connecting() {
    let e = build(1, &get("/a path")).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("GET /a path"), "{e}");
}
