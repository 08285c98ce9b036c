//! What a build wants running, in terms of no engine: the deployment document.
//!
//! A build carries it as [`FILE`] (like the activation script of a NixOS system), so
//! `switch`, `rollback` and recovery work from store paths alone. The planner makes it from
//! the model and the rendered files; each engine's adapter (`runtime/docker`, the fake)
//! converts it into its own calls. Nothing here names an engine's types.
//!
//! Two promises keep store paths and running containers stable across obsbuild releases:
//! - the document is versioned ([`SCHEMA`]) and [`load`] refuses a version it does not
//!   know, or migrates one it does (`v1.rs`), never misreads one;
//! - it is written, and each container's spec hashed, in a canonical encoding
//!   (`canonical.rs`): keys sorted, and a field at its default left out, so a field added
//!   later with its default changes no byte of an existing build and no spec hash.

mod canonical;
mod sorted_json;
mod v1;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use canonical::{encode, spec_hash};

use crate::model::{Kind, Probe, Protocol, Restart, Secret};

/// The version of the document this obsbuild writes. Bump it only when a field changes
/// meaning or a required field is added, and teach [`load`] to migrate the old one.
pub const SCHEMA: u32 = 2;

/// Path of the document in a build.
pub const FILE: &str = ".obsbuild/deployment.json";
/// Where a build made before schema 2 kept its deployment (its activation document).
pub const V1_FILE: &str = v1::FILE;

/// Labels obsbuild puts on everything it creates; containers without them are never touched.
pub mod label {
    pub const STACK: &str = "obsbuild.stack";
    pub const SERVICE: &str = "obsbuild.service";
    pub const GENERATION: &str = "obsbuild.generation";
    /// Hash of the container's spec: a container whose spec hash differs is recreated.
    pub const SPEC: &str = "obsbuild.spec";
    /// The switch that created the container, so an interrupted one can be undone.
    pub const SWITCH: &str = "obsbuild.switch";
    /// Keyed digest of the container's secret values: another digest means a secret changed.
    pub const SECRETS: &str = "obsbuild.secrets";
    /// On a network obsbuild created (with [`STACK`] naming the stack it was created for):
    /// `down` removes only networks carrying both, never one made by hand.
    pub const CREATED_BY: &str = "obsbuild.created-by";
    /// The value of [`CREATED_BY`].
    pub const CREATOR: &str = "obsbuild switch";
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Everything a switch needs to run a build.
///
/// Every field of every type here is left out of the encoding at its default
/// (`skip_serializing_if`), and read back as its default when absent (`serde(default)`):
/// a test holds each type's default to an empty encoding.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deployment {
    pub schema: u32,
    pub stack: String,
    /// What the build is for; absent for compose, so that builds for one host read as they
    /// always have.
    #[serde(skip_serializing_if = "crate::model::Engine::is_compose")]
    pub engine: crate::model::Engine,
    pub network: Network,
    /// Engine names of the stack's named volumes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Unit>,
    /// Host names for the machine's hosts file (`obsbuild hosts`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub hosts: BTreeMap<String, IpAddr>,
}

/// The network every container of the stack joins.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// Shared beyond the stack (`external: true`): never created or removed by obsbuild.
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
}

/// One service of the stack as the engine should run it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub service: String,
    pub kind: Kind,
    /// The name the engine knows the container by ([`container_name`]).
    pub name: String,
    pub container: Container,
    /// [`spec_hash`] of `container`: a running container with another hash is recreated.
    pub spec_hash: String,
    /// Hash of the config files the service reads.
    pub config_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Probe>,
    pub reload: Reload,
    #[serde(default, skip_serializing_if = "Strategy::is_start_first")]
    pub strategy: Strategy,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Files under `/run/secrets/`, by secret name: where each value comes from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, Secret>,
    /// Keyed digest of the secret values, filled in at switch time (never in a build): a
    /// running container with another one is recreated.
    #[serde(skip)]
    pub secrets_digest: Option<String>,
}

#[cfg(test)]
impl Unit {
    /// A unit that runs the image `<service>:test` and nothing else.
    pub(crate) fn for_tests(stack: &str, service: &str, kind: Kind) -> Unit {
        let container = Container { image: format!("{service}:test"), ..Container::default() };
        Unit {
            service: service.to_owned(),
            kind,
            name: container_name(stack, service),
            spec_hash: spec_hash(&container),
            container,
            config_hash: String::new(),
            probe: None,
            reload: Reload::Restart,
            strategy: Strategy::default(),
            depends_on: Vec::new(),
            secrets: BTreeMap::new(),
            secrets_digest: None,
        }
    }
}

/// A container, as any engine can create it. Its name is the engine's business (a switch
/// creates the new one under a temporary name first).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Container {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// The command; `None` runs the image's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    /// The network it joins; empty for none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub network: String,
    /// Names other containers reach it by on the network (the service name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nano_cpus: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<Restart>,
}

/// What a container mounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Mount {
    /// The build's config files, wherever the switch keeps the live copy: [`load`] turns
    /// it into a [`Mount::Bind`] of that folder (a build cannot hold a host path).
    Configs { target: String },
    /// A host path.
    Bind {
        source: String,
        target: String,
        #[serde(default, skip_serializing_if = "is_false")]
        read_only: bool,
    },
    /// A named volume.
    Volume {
        source: String,
        target: String,
        #[serde(default, skip_serializing_if = "is_false")]
        read_only: bool,
    },
}

impl Mount {
    pub fn target(&self) -> &str {
        match self {
            Mount::Configs { target } | Mount::Bind { target, .. } | Mount::Volume { target, .. } => target,
        }
    }
}

/// A port to publish; `host: None` lets the engine pick a free one (used for probes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    pub container: u16,
    #[serde(default, skip_serializing_if = "Protocol::is_tcp")]
    pub protocol: Protocol,
    pub host_ip: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<u16>,
}

/// A health check the engine runs inside the container. Durations in nanoseconds, as
/// engines take them, so nothing is rounded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Healthcheck {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub interval_ns: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub timeout_ns: u64,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub retries: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub start_period_ns: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

/// A signal obsbuild sends to a container's main process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signal {
    /// Reload the config (the collector).
    #[serde(rename = "HUP")]
    Hup,
    /// End a one-off container that ran past its time.
    #[serde(rename = "KILL")]
    Kill,
}

impl Signal {
    /// The name engines take (`docker kill --signal HUP`).
    pub fn name(self) -> &'static str {
        match self {
            Signal::Hup => "HUP",
            Signal::Kill => "KILL",
        }
    }
}

/// How a service takes a config change without being recreated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "lowercase", deny_unknown_fields)]
pub enum Reload {
    /// `POST <path>` on the container's HTTP port, verified by a metric (Prometheus,
    /// Alertmanager).
    Http { port: u16, path: String, metric: String },
    /// A signal after validating the new config in a one-off container (collector).
    Signal { signal: Signal, validate: Vec<String> },
    /// Grafana's admin API reloads its provisioning (data sources and dashboards); it
    /// takes the server admin's credentials: the password is the service's secret
    /// `password_secret`, read at switch time (never part of a build), or Grafana's
    /// default when the stack sets none.
    Grafana {
        port: u16,
        user: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password_secret: Option<String>,
        #[serde(skip)]
        password: Option<String>,
    },
    /// No reload: the container is restarted.
    Restart,
}

/// Whether the new container may run beside the old one while it proves healthy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Start the new container, check it, then stop the old one.
    #[default]
    StartFirst,
    /// Fixed host ports or a static IP cannot be held twice (Docker frees an IP only when
    /// its container stops): stop the old one, start the new, check, and on failure remove
    /// the new one and start the old one again.
    StopFirst,
}

impl Strategy {
    fn is_start_first(&self) -> bool {
        *self == Strategy::StartFirst
    }
}

/// The container name of a service.
pub fn container_name(stack: &str, service: &str) -> String {
    format!("{stack}-{service}")
}

/// Why a build's deployment document cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub enum LoadError {
    Missing { stack: String },
    Unreadable { stack: String, file: &'static str, why: String },
    Newer { stack: String, schema: u32 },
    Unknown { stack: String, schema: u32 },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Missing { stack } => write!(f, "the build of `{stack}` has no {FILE}; rebuild it with this obsbuild"),
            LoadError::Unreadable { stack, file, why } => write!(f, "{file} of `{stack}` is unreadable: {why}"),
            LoadError::Newer { stack, schema } => write!(
                f,
                "the build of `{stack}` was made by a newer obsbuild (deployment schema {schema}; this one reads up to {SCHEMA}): switch it with that obsbuild, or rebuild it with this one"
            ),
            LoadError::Unknown { stack, schema } => {
                write!(f, "{FILE} of `{stack}` has deployment schema {schema}, which no obsbuild wrote; rebuild it")
            }
        }
    }
}

impl std::error::Error for LoadError {}

impl Deployment {
    /// The document as a build holds it: canonical JSON, pretty-printed, ending in a newline.
    pub fn to_file(&self) -> String {
        let mut text = canonical::pretty(self);
        text.push('\n');
        text
    }

    /// Reads the document of a build from its files: this schema, or one [`load`] migrates.
    pub fn from_files(stack: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<Deployment, LoadError> {
        if let Some(bytes) = files.get(FILE) {
            return parse(stack, bytes);
        }
        if let Some(bytes) = files.get(v1::FILE) {
            return v1::migrate(bytes).map_err(|why| LoadError::Unreadable { stack: stack.to_owned(), file: v1::FILE, why });
        }
        Err(LoadError::Missing { stack: stack.to_owned() })
    }

    /// Points every [`Mount::Configs`] at `live`, the folder the switch keeps the build's
    /// config files in.
    pub fn place_configs(&mut self, live: &Path) {
        for unit in &mut self.services {
            for m in &mut unit.container.mounts {
                if let Mount::Configs { target } = m {
                    *m = Mount::Bind { source: live.display().to_string(), target: std::mem::take(target), read_only: true };
                }
            }
        }
    }
}

fn parse(stack: &str, bytes: &[u8]) -> Result<Deployment, LoadError> {
    let unreadable = |why: String| LoadError::Unreadable { stack: stack.to_owned(), file: FILE, why };
    // The version first, so a newer document is named as such instead of failing on a
    // field this obsbuild does not know.
    #[derive(Deserialize)]
    struct Version {
        schema: Option<u32>,
    }
    let version: Version = serde_json::from_slice(bytes).map_err(|e| unreadable(e.to_string()))?;
    match version.schema {
        Some(SCHEMA) => serde_json::from_slice(bytes).map_err(|e| unreadable(e.to_string())),
        Some(n) if n > SCHEMA => Err(LoadError::Newer { stack: stack.to_owned(), schema: n }),
        Some(n) => Err(LoadError::Unknown { stack: stack.to_owned(), schema: n }),
        None => Err(unreadable("it has no `schema`".to_owned())),
    }
}

/// Reads a build's deployment document and points its config mounts at `live`.
pub fn load(stack: &str, files: &BTreeMap<String, Vec<u8>>, live: &Path) -> Result<Deployment, LoadError> {
    let mut d = Deployment::from_files(stack, files)?;
    d.place_configs(live);
    Ok(d)
}

#[cfg(test)]
mod tests;
