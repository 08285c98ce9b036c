use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use serde::Serialize;

use super::{Collector, Cpus, Duration, Grafana, Image, Memory, Port, Prometheus, Signal, Tree};
use crate::diagnostic::Span;
use crate::model::prometheus::Alertmanager;

/// The components obsbuild knows how to configure; everything else is a `Container`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    #[serde(rename = "otel-collector")]
    Collector,
    Loki,
    Prometheus,
    Alertmanager,
    Jaeger,
    Grafana,
    Container,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Collector,
        Kind::Loki,
        Kind::Prometheus,
        Kind::Alertmanager,
        Kind::Jaeger,
        Kind::Grafana,
        Kind::Container,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Collector => "otel-collector",
            Kind::Loki => "loki",
            Kind::Prometheus => "prometheus",
            Kind::Alertmanager => "alertmanager",
            Kind::Jaeger => "jaeger",
            Kind::Grafana => "grafana",
            Kind::Container => "container",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == text)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One container of the stack.
#[derive(Clone, Debug, Serialize)]
pub struct Service {
    pub name: String,
    /// The declaration: where the user's script asked for this service.
    pub span: Span,
    pub image: Image,
    /// The component version configs are rendered for: `version` if the script gave one,
    /// else the image tag's. `None` renders for the newest version obsbuild knows.
    pub version: Option<super::Version>,
    /// Replaces the command the component would run.
    pub command: Option<Vec<String>>,
    /// Appended to the component's command.
    pub args: Vec<String>,
    pub entrypoint: Option<Vec<String>>,
    pub environment: BTreeMap<String, String>,
    /// Ports published on the host.
    pub ports: Vec<Port>,
    /// Ports the service listens on inside the network, by name (`http`, `otlp-grpc`, ...).
    pub endpoints: BTreeMap<String, u16>,
    pub volumes: Vec<Volume>,
    pub ip: Option<Ipv4Addr>,
    pub healthcheck: Option<Healthcheck>,
    /// How obsbuild itself tells the service is ready (used by `switch`).
    pub probe: Option<Probe>,
    pub depends_on: BTreeSet<String>,
    /// Whether the script wrote `depends_on` itself (wiring adds to it too): Swarm has no
    /// start order to give it.
    #[serde(skip)]
    pub depends_on_declared: bool,
    /// `deploy: #{ ... }`, for Swarm.
    pub placement: Option<super::Placement>,
    pub memory: Option<Memory>,
    pub cpus: Option<Cpus>,
    pub user: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Files under `/run/secrets/`, by name; values never enter the build.
    pub secrets: BTreeMap<String, super::Secret>,
    pub restart: Restart,
    /// Telemetry this service takes in, and how a collector sends it (see `Collector::send`).
    pub accepts: BTreeMap<Signal, Ingest>,
    /// How Grafana reaches this service as a data source, if it is one.
    pub datasource: Option<super::Datasource>,
    pub component: Component,
}

impl Service {
    pub fn kind(&self) -> Kind {
        match &self.component {
            Component::Collector(_) => Kind::Collector,
            Component::Loki(_) => Kind::Loki,
            Component::Prometheus(_) => Kind::Prometheus,
            Component::Alertmanager(_) => Kind::Alertmanager,
            Component::Jaeger(_) => Kind::Jaeger,
            Component::Grafana(_) => Kind::Grafana,
            Component::Container(_) => Kind::Container,
        }
    }

    /// Whether the service reads files from the build's `configs/` folder.
    pub fn mounts_configs(&self) -> bool {
        match &self.component {
            Component::Container(c) => !c.files.is_empty(),
            _ => true,
        }
    }

    /// Named data volumes this service owns (`<name>` in the compose file).
    pub fn named_volumes(&self) -> impl Iterator<Item = &str> {
        self.volumes.iter().filter_map(|v| match v {
            Volume::Named { name, .. } => Some(name.as_str()),
            Volume::Bind { .. } => None,
        })
    }
}

/// Kind-specific configuration.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Component {
    Collector(Collector),
    Loki(Settings),
    Prometheus(Prometheus),
    Alertmanager(Alertmanager),
    Jaeger(Settings),
    Grafana(Grafana),
    Container(Container),
}

/// A component configured by one settings tree (Loki, Jaeger).
pub type Settings = Tree;

/// A container obsbuild does not know: it carries its own config files.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Container {
    /// Files by path relative to the service's config folder.
    pub files: BTreeMap<String, File>,
}

#[derive(Clone, Debug, Serialize)]
pub struct File {
    pub format: FileFormat,
    pub content: Tree,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Yaml,
    Json,
    /// `content` is a string, written as it is.
    Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Volume {
    /// A named Docker volume for data that outlives containers.
    Named { name: String, target: String },
    /// A host path (the Docker socket, container logs); always read-only.
    Bind { source: String, target: String },
}

/// A Docker healthcheck, run inside the container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Healthcheck {
    pub test: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
}

/// When the engine starts a container again after it stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    No,
    Always,
    OnFailure,
    /// Compose's and obsbuild's default.
    #[default]
    UnlessStopped,
}

impl Restart {
    pub const ALL: [Restart; 4] = [Restart::No, Restart::Always, Restart::OnFailure, Restart::UnlessStopped];

    /// As compose files and engines write it.
    pub fn name(self) -> &'static str {
        match self {
            Restart::No => "no",
            Restart::Always => "always",
            Restart::OnFailure => "on-failure",
            Restart::UnlessStopped => "unless-stopped",
        }
    }

    pub fn parse(text: &str) -> Option<Restart> {
        Restart::ALL.into_iter().find(|r| r.name() == text)
    }
}

/// An HTTP readiness endpoint: `GET http://<service>:<port><path>` answers 2xx when ready.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Probe {
    pub port: u16,
    pub path: String,
}

/// How a collector hands one signal to this service.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ingest {
    /// Collector exporter type (`otlp_http`, `otlp_grpc`, `prometheus`, ...).
    pub exporter: String,
    /// The exporter's settings (`endpoint`, `tls`, ...).
    pub settings: Tree,
    /// Pull instead of push: the collector serves metrics on this port and the service
    /// scrapes it (Prometheus' classic model).
    pub scrape_port: Option<u16>,
    /// The receiver this way needs on the receiving service; `send` turns it on, so a
    /// service listens only for what is actually sent to it.
    pub enables: Option<PushReceiver>,
    /// Other ways the service takes the same signal, by name (`remote_write`), chosen with
    /// `send(signal, backend, #{ via: name })`. Empty inside a way.
    pub via: BTreeMap<String, Ingest>,
}

/// A receiver of a Prometheus that is off unless something pushes to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PushReceiver {
    /// `/api/v1/otlp`
    Otlp,
    /// `/api/v1/write`
    RemoteWrite,
}

impl PushReceiver {
    pub const ALL: [PushReceiver; 2] = [PushReceiver::Otlp, PushReceiver::RemoteWrite];

    /// The service field that turns it on by hand.
    pub fn name(self) -> &'static str {
        match self {
            PushReceiver::Otlp => "otlp_receiver",
            PushReceiver::RemoteWrite => "remote_write_receiver",
        }
    }

    pub fn parse(text: &str) -> Option<PushReceiver> {
        PushReceiver::ALL.into_iter().find(|r| r.name() == text)
    }
}

/// An instrumented application: not part of the observability stack, but wired to it.
/// Apps go to their own compose file and join the stack's network.
#[derive(Clone, Debug, Serialize)]
pub struct App {
    pub name: String,
    pub span: Span,
    pub image: Image,
    pub command: Option<Vec<String>>,
    pub environment: BTreeMap<String, String>,
    pub ports: Vec<Port>,
    /// The collector this app sends OTLP to.
    pub collector: String,
    /// `grpc` or `http/protobuf`.
    pub protocol: String,
    pub resource_attributes: BTreeMap<String, String>,
    pub memory: Option<Memory>,
    pub cpus: Option<Cpus>,
    pub labels: BTreeMap<String, String>,
}
