//! The container runtime behind one trait: Docker through bollard (`docker.rs`), and an
//! in-memory fake (`fake.rs`) for failures a real engine cannot produce on demand. The fake
//! is compiled only with the `fake-runtime` feature, which only the tests turn on.
//!
//! Everything obsbuild does to containers goes through [`Runtime`]; no other module
//! talks to Docker. HTTP probes of a container go through it too, to the port Docker
//! published for it on 127.0.0.1 (never to a container's own address), so the fake can
//! answer them as well.

pub mod docker;
#[cfg(feature = "fake-runtime")]
pub mod fake;
mod http;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

pub use http::{HttpRequest, HttpResponse, Method};

pub use crate::deployment::label;
use crate::deployment::{Container, Signal};
use crate::model::Protocol;

/// What went wrong talking to the runtime, by operation.
#[derive(Debug)]
pub enum RuntimeError {
    /// The engine could not be reached at all.
    Unreachable(String),
    /// A call failed: the operation, what it was on, and why.
    Call { operation: &'static str, target: String, message: String },
    /// A name is already taken (HTTP 409 from Docker).
    Conflict { operation: &'static str, target: String, message: String },
    /// The thing does not exist (HTTP 404 from Docker).
    NotFound { operation: &'static str, target: String },
    /// A probe or call did not answer in time.
    Timeout { operation: &'static str, target: String },
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuntimeError::Unreachable(why) => write!(
                f,
                "cannot reach the Docker engine: {why}; is it running, and may this user use its socket (/var/run/docker.sock)?"
            ),
            RuntimeError::Call { operation, target, message } => write!(f, "{operation} `{target}` failed: {message}"),
            RuntimeError::Conflict { operation, target, message } => {
                write!(f, "{operation} `{target}` failed: the name is taken ({message})")
            }
            RuntimeError::NotFound { operation, target } => write!(f, "{operation} `{target}` failed: it does not exist"),
            RuntimeError::Timeout { operation, target } => write!(f, "{operation} `{target}` did not answer in time"),
        }
    }
}

impl std::error::Error for RuntimeError {}

pub type Result<T> = std::result::Result<T, RuntimeError>;

/// The engine's version, as negotiated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineInfo {
    pub version: String,
    pub api_version: String,
}

/// Docker's view of a container's health check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Starting,
    Healthy,
    Unhealthy,
}

/// A container as the runtime reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerInfo {
    pub id: String,
    /// Without Docker's leading `/`.
    pub name: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    pub running: bool,
    /// `None` when the container has no health check.
    pub health: Option<Health>,
    /// Published ports.
    pub ports: Vec<PublishedPort>,
    /// Its address on each network, by network name.
    pub addresses: BTreeMap<String, Ipv4Addr>,
    pub exit_code: Option<i64>,
}

impl ContainerInfo {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    /// The host port Docker published for `container_port`/tcp on a loopback address.
    pub fn loopback_port(&self, container_port: u16) -> Option<u16> {
        self.ports
            .iter()
            .find(|p| p.container == container_port && p.protocol == Protocol::Tcp && p.host_ip.is_loopback())
            .map(|p| p.host)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedPort {
    pub container: u16,
    pub protocol: Protocol,
    pub host_ip: std::net::IpAddr,
    pub host: u16,
}

/// A network as the runtime reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkInfo {
    pub name: String,
    pub subnets: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Containers attached, by container id.
    pub containers: BTreeMap<String, Attached>,
}

impl NetworkInfo {
    /// Whether obsbuild created the network, and for which stack.
    pub fn created_for(&self) -> Option<&str> {
        match self.labels.get(label::CREATED_BY) {
            Some(_) => self.labels.get(label::STACK).map(String::as_str),
            None => None,
        }
    }
}

/// A container on a network, as the network reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    /// Without Docker's leading `/`.
    pub name: String,
    pub ip: Option<Ipv4Addr>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkSpec {
    pub name: String,
    pub subnet: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// The operations obsbuild needs from a container engine.
#[allow(async_fn_in_trait)]
pub trait Runtime {
    /// Checks the engine answers, negotiating the API version.
    async fn ping(&self) -> Result<EngineInfo>;
    /// Every container (running or not) carrying `obsbuild.stack=<stack>`.
    async fn containers(&self, stack: &str) -> Result<Vec<ContainerInfo>>;
    async fn inspect(&self, id: &str) -> Result<ContainerInfo>;
    /// Creates (does not start) a container named `name`; returns its id. Every mount of
    /// `container` must be placed ([`crate::deployment::Deployment::place_configs`]).
    async fn create(&self, name: &str, container: &Container) -> Result<String>;
    async fn start(&self, id: &str) -> Result<()>;
    /// Stops a container, killing it after `grace`.
    async fn stop(&self, id: &str, grace: Duration) -> Result<()>;
    /// Removes a container (stopped or not) and its anonymous volumes.
    async fn remove(&self, id: &str) -> Result<()>;
    async fn rename(&self, id: &str, name: &str) -> Result<()>;
    /// Sends a signal to the container's main process.
    async fn signal(&self, id: &str, signal: Signal) -> Result<()>;
    /// How many CPUs the engine may give containers (`None` when it does not say): Docker
    /// refuses a CPU limit above it.
    async fn cpus(&self) -> Result<Option<u32>>;
    async fn image_present(&self, image: &str) -> Result<bool>;
    /// The user an image runs as (`USER` of its Dockerfile), if it sets one.
    async fn image_user(&self, image: &str) -> Result<Option<String>>;
    /// Pulls an image from its registry.
    async fn pull(&self, image: &str) -> Result<()>;
    async fn networks(&self) -> Result<Vec<NetworkInfo>>;
    async fn create_network(&self, spec: &NetworkSpec) -> Result<()>;
    async fn remove_network(&self, name: &str) -> Result<()>;
    /// Names of every container, running or stopped, attached to the network `name`: a
    /// stopped one would fail to start again if the network went away.
    async fn network_users(&self, name: &str) -> Result<Vec<String>>;
    async fn remove_volume(&self, name: &str) -> Result<()>;
    /// An HTTP request to `container_port` of a container, through the port Docker
    /// published for it on 127.0.0.1.
    async fn request(&self, container: &ContainerInfo, container_port: u16, request: &HttpRequest, timeout: Duration)
    -> Result<HttpResponse>;

    /// A request without credentials.
    async fn http(&self, container: &ContainerInfo, container_port: u16, method: Method, path: &str, timeout: Duration)
    -> Result<HttpResponse> {
        let request = HttpRequest { method, path: path.to_owned(), basic_auth: None };
        self.request(container, container_port, &request, timeout).await
    }
    /// Runs a one-off container to completion (e.g. a config validator); returns its exit
    /// code and output, and removes it.
    async fn run(&self, name: &str, container: &Container, timeout: Duration) -> Result<(i64, String)>;
}
