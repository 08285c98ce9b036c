//! The Docker engine through bollard: the only module that talks to Docker.
//!
//! bollard's models follow the newest API, but the engines obsbuild meets may be older
//! (Debian's docker.io 20.10 speaks API 1.41), so the version is negotiated on connect and
//! only fields old engines know are sent (see `convert`). bollard's errors become
//! [`RuntimeError`]s by HTTP status: 404 is `NotFound`, 409 on a name is `Conflict`, a
//! failed connection is `Unreachable`.

mod convert;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    KillContainerOptionsBuilder, ListContainersOptionsBuilder, ListNetworksOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::{
    ContainerInfo, EngineInfo, HttpRequest, HttpResponse, NetworkInfo, NetworkSpec, Result, Runtime, RuntimeError, label,
};
use crate::deployment::{Container, Signal};

/// bollard's own limit on a call (it has no way to say "no limit"); calls that may take
/// longer (stopping with a long grace period) raise it for themselves.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// A connection to a Docker engine, its API version negotiated.
#[derive(Clone, Debug)]
pub struct Docker {
    api: bollard::Docker,
}

impl Docker {
    /// Connects to the local engine: `DOCKER_HOST` when it is a `unix://` address, else
    /// `/var/run/docker.sock`; then negotiates the API version.
    pub async fn connect() -> Result<Docker> {
        let api = bollard::Docker::connect_with_local_defaults().map_err(|e| RuntimeError::Unreachable(crate::chain::render(&e)))?;
        Self::negotiate(api).await
    }

    /// Connects to the engine listening on a unix socket (`/run/docker.sock` or
    /// `unix:///run/docker.sock`), whatever `DOCKER_HOST` says.
    pub async fn connect_with_socket(path: &Path) -> Result<Docker> {
        let path = path
            .to_str()
            .ok_or_else(|| RuntimeError::Unreachable(format!("the socket path {} is not UTF-8", path.display())))?;
        let api = bollard::Docker::connect_with_unix(path, CALL_TIMEOUT.as_secs(), bollard::API_DEFAULT_VERSION)
            .map_err(|e| RuntimeError::Unreachable(crate::chain::render(&e)))?;
        Self::negotiate(api).await
    }

    async fn negotiate(api: bollard::Docker) -> Result<Docker> {
        // Whatever stops the negotiation (no socket, no permission, not a Docker engine)
        // means there is no engine to talk to.
        let api = tokio::time::timeout(CALL_TIMEOUT, api.negotiate_version())
            .await
            .map_err(|_| RuntimeError::Unreachable("the engine did not answer GET /version in time".to_owned()))?
            .map_err(|e| RuntimeError::Unreachable(crate::chain::render(&e)))?;
        Ok(Docker { api })
    }

    /// The API version in use: the engine's when it is older than bollard's.
    pub fn api_version(&self) -> String {
        self.api.client_version().to_string()
    }

    /// Waits for a started container to exit; its exit code.
    async fn wait_exit(&self, id: &str) -> Result<i64> {
        let mut waits = std::pin::pin!(self.api.wait_container(id, None));
        match waits.next().await {
            Some(Ok(answer)) => Ok(answer.status_code),
            // bollard turns a non-zero exit code into an error.
            Some(Err(BollardError::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) => Err(fail("wait for", id, e)),
            None => Err(RuntimeError::Call {
                operation: "wait for",
                target: id.to_owned(),
                message: "the engine closed the answer without an exit code".to_owned(),
            }),
        }
    }

    /// A container's stdout and stderr so far, interleaved as the engine stored them.
    async fn output(&self, id: &str) -> Result<String> {
        let options = LogsOptionsBuilder::new().stdout(true).stderr(true).build();
        let mut output = Vec::new();
        let mut logs = std::pin::pin!(self.api.logs(id, Some(options)));
        while let Some(chunk) = logs.next().await {
            output.extend_from_slice(chunk.map_err(|e| fail("read the logs of", id, e))?.as_ref());
        }
        Ok(String::from_utf8_lossy(&output).into_owned())
    }

    /// `run` once the container exists: start, wait, collect.
    async fn run_created(&self, id: &str, name: &str, timeout: Duration) -> Result<(i64, String)> {
        let deadline = tokio::time::Instant::now() + timeout;
        self.start(id).await?;
        let code = match tokio::time::timeout_at(deadline, self.wait_exit(id)).await {
            Ok(code) => code?,
            Err(_) => {
                // Best effort: the caller removes it (forcefully) anyway.
                let _ = self.signal(id, Signal::Kill).await;
                return Err(RuntimeError::Timeout { operation: "run", target: name.to_owned() });
            }
        };
        // The logs are complete once the engine reports the exit; reading them is quick,
        // but bound it too.
        let output = tokio::time::timeout(CALL_TIMEOUT, self.output(id))
            .await
            .map_err(|_| RuntimeError::Timeout { operation: "read the logs of", target: name.to_owned() })??;
        Ok((code, output))
    }
}

impl Runtime for Docker {
    async fn ping(&self) -> Result<EngineInfo> {
        let version = self.api.version().await.map_err(|e| fail("ask the version of", "the engine", e))?;
        Ok(EngineInfo { version: version.version.unwrap_or_default(), api_version: self.api_version() })
    }

    async fn containers(&self, stack: &str) -> Result<Vec<ContainerInfo>> {
        let filters = HashMap::from([("label", vec![format!("{}={stack}", label::STACK)])]);
        let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
        let listed =
            self.api.list_containers(Some(options)).await.map_err(|e| fail("list the containers of", stack, e))?;
        // The list has no health status: inspect each.
        let mut containers = Vec::with_capacity(listed.len());
        for id in listed.into_iter().filter_map(|c| c.id) {
            match self.inspect(&id).await {
                Ok(info) => containers.push(info),
                // Removed since it was listed.
                Err(RuntimeError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(containers)
    }

    async fn inspect(&self, id: &str) -> Result<ContainerInfo> {
        let answer = self.api.inspect_container(id, None).await.map_err(|e| fail("inspect", id, e))?;
        convert::container_info(answer).ok_or_else(|| RuntimeError::Call {
            operation: "inspect",
            target: id.to_owned(),
            message: "the engine's answer has no container id".to_owned(),
        })
    }

    async fn create(&self, name: &str, spec: &Container) -> Result<String> {
        let body = convert::create_body(spec).map_err(|message| RuntimeError::Call {
            operation: "create",
            target: name.to_owned(),
            message,
        })?;
        let options = bollard::query_parameters::CreateContainerOptionsBuilder::new().name(name).build();
        match self.api.create_container(Some(options), body).await {
            Ok(created) => Ok(created.id),
            // A 404 says what is missing only in its text: the image or the network.
            Err(BollardError::DockerResponseServerError { status_code: 404, message }) => {
                let target = if message.contains("image") {
                    &spec.image
                } else if message.contains("network") {
                    &spec.network
                } else {
                    name
                };
                Err(RuntimeError::NotFound { operation: "create", target: target.to_owned() })
            }
            Err(e) => Err(fail_naming("create", name, name, e)),
        }
    }

    async fn start(&self, id: &str) -> Result<()> {
        self.api.start_container(id, None).await.map_err(|e| fail("start", id, e))
    }

    async fn stop(&self, id: &str, grace: Duration) -> Result<()> {
        // Whole seconds, rounded up: stopping early would cut the grace short.
        let seconds = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
        let options = StopContainerOptionsBuilder::new().t(i32::try_from(seconds).unwrap_or(i32::MAX)).build();
        // The engine answers only once the container stopped: allow for the grace period.
        let api = self.api.clone().with_timeout(CALL_TIMEOUT + Duration::from_secs(seconds));
        api.stop_container(id, Some(options)).await.map_err(|e| fail("stop", id, e))
    }

    async fn remove(&self, id: &str) -> Result<()> {
        let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        self.api.remove_container(id, Some(options)).await.map_err(|e| fail("remove", id, e))
    }

    async fn rename(&self, id: &str, name: &str) -> Result<()> {
        let options = RenameContainerOptionsBuilder::new().name(name).build();
        self.api.rename_container(id, options).await.map_err(|e| fail_naming("rename", id, name, e))
    }

    async fn signal(&self, id: &str, signal: Signal) -> Result<()> {
        let options = KillContainerOptionsBuilder::new().signal(signal.name()).build();
        self.api.kill_container(id, Some(options)).await.map_err(|e| fail("signal", id, e))
    }

    async fn cpus(&self) -> Result<Option<u32>> {
        let info = self.api.info().await.map_err(|e| fail("ask the CPU count of", "the engine", e))?;
        Ok(info.ncpu.and_then(|n| u32::try_from(n).ok()))
    }

    async fn image_present(&self, image: &str) -> Result<bool> {
        match self.api.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(BollardError::DockerResponseServerError { status_code: 404, .. }) => Ok(false),
            Err(e) => Err(fail("inspect the image", image, e)),
        }
    }

    async fn image_user(&self, image: &str) -> Result<Option<String>> {
        let inspected = self.api.inspect_image(image).await.map_err(|e| fail("inspect the image", image, e))?;
        Ok(inspected.config.and_then(|c| c.user).filter(|u| !u.is_empty()))
    }

    async fn pull(&self, image: &str) -> Result<()> {
        let options = bollard::query_parameters::CreateImageOptionsBuilder::default().from_image(image).build();
        let mut progress = self.api.create_image(Some(options), None, None);
        while let Some(step) = progress.next().await {
            step.map_err(|e| fail("pull", image, e))?;
        }
        Ok(())
    }

    async fn networks(&self) -> Result<Vec<NetworkInfo>> {
        let listed = self.api.list_networks(None).await.map_err(|e| fail("list", "networks", e))?;
        // The list has no containers: inspect each.
        let mut networks = Vec::with_capacity(listed.len());
        for id in listed.into_iter().filter_map(|n| n.id) {
            match self.api.inspect_network(&id, None).await {
                Ok(network) => networks.push(convert::network_info(network)),
                Err(BollardError::DockerResponseServerError { status_code: 404, .. }) => {}
                Err(e) => return Err(fail("inspect the network", &id, e)),
            }
        }
        networks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(networks)
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<()> {
        let taken = |message: String| RuntimeError::Conflict {
            operation: "create the network",
            target: spec.name.clone(),
            message,
        };
        // Engines before API 1.44 create a second network of the same name unless asked
        // not to (`CheckDuplicate`, which bollard's model no longer has): look first...
        let filters = HashMap::from([("name", vec![spec.name.clone()])]);
        let options = ListNetworksOptionsBuilder::new().filters(&filters).build();
        let same_name = self.api.list_networks(Some(options)).await.map_err(|e| fail("list", "networks", e))?;
        if let Some(existing) = same_name.iter().find(|n| n.name.as_deref() == Some(spec.name.as_str())) {
            return Err(taken(format!("network {} exists", existing.id.as_deref().unwrap_or("?"))));
        }
        let created = self
            .api
            .create_network(convert::network_request(spec))
            .await
            .map_err(|e| fail_naming("create the network", &spec.name, &spec.name, e))?;
        // ...and undo a duplicate that raced in between: those engines only warn.
        if created.warning.contains("already exists") {
            let _ = self.api.remove_network(&created.id).await;
            return Err(taken(created.warning));
        }
        Ok(())
    }

    async fn remove_network(&self, name: &str) -> Result<()> {
        self.api.remove_network(name).await.map_err(|e| fail("remove the network", name, e))
    }

    async fn network_users(&self, name: &str) -> Result<Vec<String>> {
        // The network's own answer lists only running containers; the `network` filter
        // of the container list sees stopped ones too.
        let filters = HashMap::from([("network", vec![name.to_owned()])]);
        let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
        let listed =
            self.api.list_containers(Some(options)).await.map_err(|e| fail("list the containers on the network", name, e))?;
        let mut names: Vec<String> = listed
            .into_iter()
            .map(|c| {
                let first = c.names.and_then(|n| n.into_iter().next());
                first.map(|n| n.trim_start_matches('/').to_owned()).or(c.id).unwrap_or_default()
            })
            .collect();
        names.sort();
        Ok(names)
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        self.api
            .remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>)
            .await
            .map_err(|e| fail("remove the volume", name, e))
    }

    async fn request(
        &self,
        container: &ContainerInfo,
        container_port: u16,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse> {
        let target = format!("{}:{container_port}{}", container.name, request.path);
        // Only ever the loopback port Docker published, never the container's address.
        let Some(port) = container.loopback_port(container_port) else {
            return Err(RuntimeError::Call {
                operation: "probe",
                target,
                message: format!("port {container_port}/tcp is not published on 127.0.0.1"),
            });
        };
        super::http::request(port, request, timeout).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut => RuntimeError::Timeout { operation: "probe", target },
            _ => RuntimeError::Call { operation: "probe", target, message: e.to_string() },
        })
    }

    async fn run(&self, name: &str, spec: &Container, timeout: Duration) -> Result<(i64, String)> {
        let id = self.create(name, spec).await?;
        let outcome = self.run_created(&id, name, timeout).await;
        // Removed whatever happened, forcefully if it still runs.
        let removed = self.remove(&id).await;
        let outcome = outcome?;
        removed?;
        Ok(outcome)
    }
}

/// A bollard error as a [`RuntimeError`] of `operation` on `target`.
fn fail(operation: &'static str, target: &str, error: BollardError) -> RuntimeError {
    match error {
        BollardError::DockerResponseServerError { status_code: 404, .. } => {
            RuntimeError::NotFound { operation, target: target.to_owned() }
        }
        // A 409 elsewhere is a state conflict ("is not running", "is in use"), not a name
        // taken: a plain failure, with Docker's words.
        BollardError::DockerResponseServerError { status_code, message } => RuntimeError::Call {
            operation,
            target: target.to_owned(),
            message: format!("{message} (HTTP {status_code})"),
        },
        BollardError::RequestTimeoutError => RuntimeError::Timeout { operation, target: target.to_owned() },
        e if unreachable(&e) => RuntimeError::Unreachable(crate::chain::render(&e)),
        e => RuntimeError::Call { operation, target: target.to_owned(), message: crate::chain::render(&e) },
    }
}

/// [`fail`] for a call that names something: a 409 there means `name` is taken.
fn fail_naming(operation: &'static str, target: &str, name: &str, error: BollardError) -> RuntimeError {
    match error {
        BollardError::DockerResponseServerError { status_code: 409, message } => {
            RuntimeError::Conflict { operation, target: name.to_owned(), message }
        }
        e => fail(operation, target, e),
    }
}

/// Whether an error means the engine cannot be talked to at all.
fn unreachable(error: &BollardError) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionRefused, ConnectionReset, NotFound, PermissionDenied};
    match error {
        BollardError::SocketNotFoundError(_) => true,
        BollardError::HyperLegacyError { err } => err.is_connect(),
        BollardError::IOError { err } => {
            matches!(err.kind(), BrokenPipe | ConnectionRefused | ConnectionReset | NotFound | PermissionDenied)
        }
        _ => false,
    }
}

