//! An in-memory runtime for failure paths the real engine cannot produce on demand: the
//! daemon dropping mid-switch, name conflicts, a health check that never passes.
//!
//! It keeps containers, networks and volumes in memory, answers probes with a scripted
//! responder, and fails calls on request.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use super::{
    Attached, ContainerInfo, EngineInfo, Health, HttpRequest, HttpResponse, Method, NetworkInfo, NetworkSpec, PublishedPort, Result,
    Runtime, RuntimeError,
};
use crate::deployment::{Container, Signal};

/// A failure to inject: the next call of `operation` whose target contains `target`.
#[derive(Clone, Debug)]
pub struct Failure {
    pub operation: &'static str,
    pub target: String,
    pub kind: FailureKind,
    /// Fail every matching call, not just the next one.
    pub sticky: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    Conflict,
    NotFound,
    Call,
    Unreachable,
    /// The client is gone mid-request (killed, or the connection dropped) but the daemon
    /// carries the create out: the caller sees the daemon unreachable from then on, and
    /// the container shows up only after two more listings.
    Late,
}

type Responder = Box<dyn Fn(&ContainerInfo, u16, Method, &str) -> Option<HttpResponse> + Send + Sync>;

/// Says, given a call's operation and target, whether the client dies before making it.
pub type Killer = Box<dyn Fn(&str, &str) -> bool + Send + Sync>;

#[derive(Default)]
struct State {
    containers: BTreeMap<String, (ContainerInfo, Container)>,
    networks: BTreeMap<String, NetworkSpec>,
    volumes: BTreeSet<String>,
    images: BTreeSet<String>,
    /// Images a pull would fetch.
    pullable: BTreeSet<String>,
    failures: Vec<Failure>,
    /// After this many more calls the daemon "goes away": every call is Unreachable.
    calls_left: Option<usize>,
    /// Images whose containers never become healthy.
    unhealthy: BTreeSet<String>,
    /// The engine's CPU count, when it says one.
    cpus: Option<u32>,
    next_id: u64,
    next_port: u16,
    /// Containers created by a `Late` call, by id, with how many listings still miss them.
    landing: BTreeMap<String, usize>,
    /// The `USER` of images that set one.
    users: BTreeMap<String, String>,
    /// Set by a `Late` failure: the call is carried out, its answer lost.
    lost_answer: bool,
    /// Every call, in order, as `operation target` (for assertions).
    log: Vec<String>,
    signals: Vec<(String, String)>,
}

/// The fake engine.
pub struct Fake {
    state: Mutex<State>,
    responder: Mutex<Option<Responder>>,
    killer: Mutex<Option<Killer>>,
    /// Set once the killer struck: every call hangs, as a dead process makes none.
    dead: std::sync::atomic::AtomicBool,
    death: tokio::sync::Notify,
}

impl Default for Fake {
    fn default() -> Self {
        Fake {
            state: Mutex::new(State { next_port: 40000, ..Default::default() }),
            responder: Mutex::new(None),
            killer: Mutex::new(None),
            dead: std::sync::atomic::AtomicBool::new(false),
            death: tokio::sync::Notify::new(),
        }
    }
}

impl Fake {
    pub fn new() -> Fake {
        Fake::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Makes `image` present.
    pub fn add_image(&self, image: &str) {
        self.with(|s| s.images.insert(image.to_owned()));
    }

    /// `image` is not present but a pull would fetch it.
    pub fn add_pullable(&self, image: &str) {
        self.with(|s| s.pullable.insert(image.to_owned()));
    }

    /// Containers of `image` never pass their health check.
    /// Makes `image` run as `user`, as a Dockerfile's `USER` does.
    pub fn set_image_user(&self, image: &str, user: &str) {
        self.with(|s| s.users.insert(image.to_owned(), user.to_owned()));
    }

    pub fn make_unhealthy(&self, image: &str) {
        self.with(|s| s.unhealthy.insert(image.to_owned()));
    }

    /// The engine has `n` CPUs.
    pub fn set_cpus(&self, n: u32) {
        self.with(|s| s.cpus = Some(n));
    }

    pub fn inject(&self, failure: Failure) {
        self.with(|s| s.failures.push(failure));
    }

    /// The daemon answers `n` more calls, then is gone.
    pub fn drop_after(&self, n: usize) {
        self.with(|s| s.calls_left = Some(n));
    }

    /// Kills the client, as a crash would, just before the first call `when` picks: that
    /// call and every later one never return (so no undo runs), and [`Fake::killed`]
    /// completes. The daemon keeps what the calls before did.
    pub fn kill_when(&self, when: Killer) {
        if let Ok(mut g) = self.killer.lock() {
            *g = Some(when);
        }
    }

    /// Completes once the client was killed; drop the switch's future then.
    pub async fn killed(&self) {
        self.death.notified().await;
    }

    /// A new client after a kill: calls answer again.
    pub fn revive(&self) {
        if let Ok(mut g) = self.killer.lock() {
            *g = None;
        }
        self.dead.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn set_responder(&self, r: Responder) {
        if let Ok(mut g) = self.responder.lock() {
            *g = Some(r);
        }
    }

    /// Every call made, as `operation target`.
    pub fn log(&self) -> Vec<String> {
        self.with(|s| s.log.clone())
    }

    /// Signals sent, as (container name, signal).
    pub fn signals(&self) -> Vec<(String, String)> {
        self.with(|s| s.signals.clone())
    }

    /// A container created outside obsbuild (no labels), to check it is never touched.
    pub fn add_foreign(&self, name: &str, image: &str) -> String {
        let spec = Container { image: image.to_owned(), ..Default::default() };
        self.with(|s| {
            s.next_id += 1;
            let id = format!("foreign{:04}", s.next_id);
            let info = info(&id, name, &spec, true, None, Vec::new());
            s.containers.insert(id.clone(), (info, spec));
            id
        })
    }

    /// A running container created outside obsbuild (no labels) on `network`, as a stack
    /// sharing an external network, or someone's debugging shell, would have.
    pub fn add_foreign_on(&self, name: &str, image: &str, network: &str) -> String {
        let spec = Container { image: image.to_owned(), network: network.to_owned(), ..Default::default() };
        self.with(|s| {
            s.next_id += 1;
            let id = format!("foreign{:04}", s.next_id);
            let info = info(&id, name, &spec, true, None, Vec::new());
            s.containers.insert(id.clone(), (info, spec));
            id
        })
    }

    /// The spec a container was created from, by container name.
    pub fn spec_of(&self, name: &str) -> Option<Container> {
        self.with(|s| s.containers.values().find(|(i, _)| i.name == name).map(|(_, spec)| spec.clone()))
    }

    /// Every network, as created.
    pub fn network_specs(&self) -> Vec<NetworkSpec> {
        self.with(|s| s.networks.values().cloned().collect())
    }

    /// All containers, by name.
    pub fn all(&self) -> Vec<ContainerInfo> {
        self.with(|s| s.containers.values().map(|(i, _)| i.clone()).collect())
    }

    /// Creates a container as the daemon does once a create request has reached it.
    fn create_now(&self, name: &str, spec: &Container) -> Result<String> {
        self.with(|s| {
            if s.containers.values().any(|(i, _)| i.name == name) {
                return Err(RuntimeError::Conflict { operation: "create", target: name.to_owned(), message: "name in use".into() });
            }
            if !s.images.contains(&spec.image) {
                return Err(not_found("create", &spec.image));
            }
            s.next_id += 1;
            let id = format!("fake{:04}", s.next_id);
            let mut ports = Vec::new();
            for p in &spec.ports {
                let host = p.host.unwrap_or_else(|| {
                    s.next_port += 1;
                    s.next_port
                });
                ports.push(PublishedPort { container: p.container, protocol: p.protocol, host_ip: p.host_ip, host });
            }
            let container = info(&id, name, spec, false, None, ports);
            s.containers.insert(id.clone(), (container, spec.clone()));
            Ok(id)
        })
    }

    /// Enters a call: hangs if the client is dead, else records it and applies injected
    /// failures and the daemon's absence.
    async fn call(&self, operation: &'static str, target: &str) -> Result<()> {
        use std::sync::atomic::Ordering;
        let dies = self.dead.load(Ordering::SeqCst)
            || self.killer.lock().ok().and_then(|k| k.as_ref().map(|k| k(operation, target))).unwrap_or(false);
        if dies {
            if !self.dead.swap(true, Ordering::SeqCst) {
                self.death.notify_one();
            }
            std::future::pending::<()>().await;
        }
        self.with(|s| {
            s.log.push(format!("{operation} {target}"));
            if let Some(left) = s.calls_left.as_mut() {
                if *left == 0 {
                    return Err(RuntimeError::Unreachable("the daemon went away".into()));
                }
                *left -= 1;
            }
            let hit = s.failures.iter().position(|f| f.operation == operation && target.contains(&f.target));
            let Some(at) = hit else { return Ok(()) };
            let f = s.failures[at].clone();
            if !f.sticky {
                s.failures.remove(at);
            }
            let target = target.to_owned();
            Err(match f.kind {
                FailureKind::Conflict => RuntimeError::Conflict { operation, target, message: "injected".into() },
                FailureKind::NotFound => RuntimeError::NotFound { operation, target },
                FailureKind::Call => RuntimeError::Call { operation, target, message: "injected".into() },
                FailureKind::Unreachable => RuntimeError::Unreachable("injected".into()),
                FailureKind::Late => {
                    s.calls_left = Some(0);
                    s.lost_answer = true;
                    RuntimeError::Unreachable("injected: the client went away mid-request".into())
                }
            })
        })
    }
}

fn info(id: &str, name: &str, spec: &Container, running: bool, health: Option<Health>, ports: Vec<PublishedPort>) -> ContainerInfo {
    let mut addresses = BTreeMap::new();
    if let Some(ip) = spec.ip {
        addresses.insert(spec.network.clone(), ip);
    }
    ContainerInfo {
        id: id.to_owned(),
        name: name.to_owned(),
        image: spec.image.clone(),
        labels: spec.labels.clone(),
        running,
        health,
        ports,
        addresses,
        exit_code: if running { None } else { Some(0) },
    }
}

fn not_found(operation: &'static str, target: &str) -> RuntimeError {
    RuntimeError::NotFound { operation, target: target.to_owned() }
}

impl Runtime for Fake {
    async fn ping(&self) -> Result<EngineInfo> {
        self.call("ping", "").await?;
        Ok(EngineInfo { version: "fake".into(), api_version: "1.41".into() })
    }

    async fn containers(&self, stack: &str) -> Result<Vec<ContainerInfo>> {
        self.call("containers", stack).await?;
        Ok(self.with(|s| {
            let listed = s
                .containers
                .values()
                .filter(|(i, _)| i.label(super::label::STACK) == Some(stack) && s.landing.get(&i.id).is_none_or(|n| *n == 0))
                .map(|(i, _)| i.clone())
                .collect();
            s.landing.values_mut().for_each(|n| *n = n.saturating_sub(1));
            listed
        }))
    }

    async fn inspect(&self, id: &str) -> Result<ContainerInfo> {
        self.call("inspect", id).await?;
        self.with(|s| s.containers.get(id).map(|(i, _)| i.clone())).ok_or_else(|| not_found("inspect", id))
    }

    async fn create(&self, name: &str, spec: &Container) -> Result<String> {
        let late = match self.call("create", name).await {
            Err(e) if self.with(|s| std::mem::take(&mut s.lost_answer)) => Some(e),
            Err(e) => return Err(e),
            Ok(()) => None,
        };
        let created = self.create_now(name, spec);
        match (late, created) {
            (Some(e), Ok(id)) => {
                self.with(|s| s.landing.insert(id, 2));
                Err(e)
            }
            (Some(e), Err(_)) => Err(e),
            (None, created) => created,
        }
    }

    async fn start(&self, id: &str) -> Result<()> {
        self.call("start", id).await?;
        self.with(|s| {
            let unhealthy = s.unhealthy.clone();
            let (i, spec) = s.containers.get_mut(id).ok_or_else(|| not_found("start", id))?;
            i.running = true;
            i.exit_code = None;
            i.health = spec.healthcheck.as_ref().map(|_| if unhealthy.contains(&spec.image) { Health::Unhealthy } else { Health::Healthy });
            Ok(())
        })
    }

    async fn stop(&self, id: &str, _grace: Duration) -> Result<()> {
        self.call("stop", id).await?;
        self.with(|s| {
            let (i, _) = s.containers.get_mut(id).ok_or_else(|| not_found("stop", id))?;
            i.running = false;
            i.health = None;
            i.exit_code = Some(0);
            Ok(())
        })
    }

    async fn remove(&self, id: &str) -> Result<()> {
        self.call("remove", id).await?;
        self.with(|s| s.containers.remove(id).map(|_| ()).ok_or_else(|| not_found("remove", id)))
    }

    async fn rename(&self, id: &str, name: &str) -> Result<()> {
        self.call("rename", id).await?;
        self.with(|s| {
            if s.containers.values().any(|(i, _)| i.name == name) {
                return Err(RuntimeError::Conflict { operation: "rename", target: name.to_owned(), message: "name in use".into() });
            }
            let (i, _) = s.containers.get_mut(id).ok_or_else(|| not_found("rename", id))?;
            i.name = name.to_owned();
            Ok(())
        })
    }

    async fn signal(&self, id: &str, signal: Signal) -> Result<()> {
        self.call("signal", id).await?;
        self.with(|s| {
            let name = s.containers.get(id).map(|(i, _)| i.name.clone()).ok_or_else(|| not_found("signal", id))?;
            s.signals.push((name, signal.name().to_owned()));
            Ok(())
        })
    }

    async fn cpus(&self) -> Result<Option<u32>> {
        self.call("cpus", "").await?;
        Ok(self.with(|s| s.cpus))
    }

    async fn image_present(&self, image: &str) -> Result<bool> {
        self.call("image_present", image).await?;
        Ok(self.with(|s| s.images.contains(image)))
    }

    async fn image_user(&self, image: &str) -> Result<Option<String>> {
        self.call("image_user", image).await?;
        self.with(|s| if s.images.contains(image) { Ok(s.users.get(image).cloned()) } else { Err(not_found("image_user", image)) })
    }

    async fn pull(&self, image: &str) -> Result<()> {
        self.call("pull", image).await?;
        self.with(|s| {
            if s.pullable.remove(image) {
                s.images.insert(image.to_owned());
                Ok(())
            } else {
                Err(RuntimeError::Call { operation: "pull", target: image.to_owned(), message: "no such image in the registry".into() })
            }
        })
    }

    async fn networks(&self) -> Result<Vec<NetworkInfo>> {
        self.call("networks", "").await?;
        Ok(self.with(|s| {
            s.networks
                .values()
                .map(|n| NetworkInfo {
                    name: n.name.clone(),
                    subnets: n.subnet.iter().cloned().collect(),
                    labels: n.labels.clone(),
                    containers: s
                        .containers
                        .values()
                        .filter(|(i, sp)| i.running && sp.network == n.name)
                        .map(|(i, sp)| (i.id.clone(), Attached { name: i.name.clone(), ip: sp.ip }))
                        .collect(),
                })
                .collect()
        }))
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<()> {
        self.call("create_network", &spec.name).await?;
        self.with(|s| {
            if s.networks.contains_key(&spec.name) {
                return Err(RuntimeError::Conflict { operation: "create_network", target: spec.name.clone(), message: "exists".into() });
            }
            s.networks.insert(spec.name.clone(), spec.clone());
            Ok(())
        })
    }

    async fn remove_network(&self, name: &str) -> Result<()> {
        self.call("remove_network", name).await?;
        self.with(|s| {
            // As Docker: not while a running container is attached.
            if s.containers.values().any(|(i, sp)| i.running && sp.network == name) {
                let message = format!("error while removing network: network {name} has active endpoints (HTTP 403)");
                return Err(RuntimeError::Call { operation: "remove the network", target: name.to_owned(), message });
            }
            s.networks.remove(name).map(|_| ()).ok_or_else(|| not_found("remove_network", name))
        })
    }

    async fn network_users(&self, name: &str) -> Result<Vec<String>> {
        self.call("network_users", name).await?;
        Ok(self.with(|s| s.containers.values().filter(|(_, sp)| sp.network == name).map(|(i, _)| i.name.clone()).collect()))
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        self.call("remove_volume", name).await?;
        self.with(|s| {
            s.volumes.remove(name);
            Ok(())
        })
    }

    async fn request(&self, container: &ContainerInfo, port: u16, req: &HttpRequest, _timeout: Duration) -> Result<HttpResponse> {
        let (method, path) = (req.method, req.path.as_str());
        if let Some((user, password)) = &req.basic_auth {
            self.with(|s| s.log.push(format!("auth {user}:{password} {} {method} {path}", container.name)));
        }
        self.call("http", &format!("{} {method} {path}", container.name)).await?;
        let current = self.with(|s| s.containers.get(&container.id).map(|(i, _)| i.clone()));
        let Some(current) = current.filter(|c| c.running) else {
            return Err(RuntimeError::Call { operation: "http", target: container.name.clone(), message: "connection refused".into() });
        };
        if let Ok(r) = self.responder.lock()
            && let Some(answer) = r.as_ref().and_then(|f| f(&current, port, method, path)) {
                return Ok(answer);
            }
        let unhealthy = self.with(|s| s.unhealthy.contains(&current.image));
        Ok(HttpResponse { status: if unhealthy { 503 } else { 200 }, body: "ok".into() })
    }

    async fn run(&self, name: &str, spec: &Container, _timeout: Duration) -> Result<(i64, String)> {
        self.call("run", name).await?;
        let present = self.with(|s| s.images.contains(&spec.image));
        if present { Ok((0, String::new())) } else { Err(not_found("run", &spec.image)) }
    }
}
