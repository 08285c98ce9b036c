//! Schema 1 of the deployment document (`.obsbuild/activation.json`, `"format": 1`), as
//! obsbuild wrote it until the document had a schema of its own. Frozen: these types are
//! what those builds hold, so a rollback to a generation built before the upgrade still
//! loads. Each service keeps the spec hash it was built with, which is the hash on the
//! containers that generation runs.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::Deserialize;

use super::{Container, Deployment, Healthcheck, Mount, Network, Port, Reload, SCHEMA, Signal, Strategy, Unit};
use crate::model::{Kind, Probe, Protocol, Restart, Secret};

/// Where schema 1 lived in a build.
pub(crate) const FILE: &str = ".obsbuild/activation.json";
/// The host folder of config mounts, which schema 1 wrote as a bind source.
const CONFIGS: &str = "@configs@";

#[derive(Deserialize)]
struct Activation {
    format: u32,
    stack: String,
    network: String,
    subnet: Option<String>,
    #[serde(default)]
    external: bool,
    volumes: Vec<String>,
    services: Vec<Desired>,
    #[serde(default)]
    hosts: BTreeMap<String, IpAddr>,
}

#[derive(Deserialize)]
struct Desired {
    service: String,
    kind: Kind,
    spec: ContainerSpec,
    spec_hash: String,
    config_hash: String,
    probe: Option<Probe>,
    reload: OldReload,
    strategy: Strategy,
    depends_on: Vec<String>,
    #[serde(default)]
    secrets: BTreeMap<String, Secret>,
}

#[derive(Deserialize)]
#[serde(tag = "how", rename_all = "lowercase")]
enum OldReload {
    Http { port: u16, path: String, metric: String },
    Signal { signal: String, validate: Vec<String> },
    Grafana { port: u16, user: String, password_secret: Option<String> },
    Restart,
}

#[derive(Deserialize)]
struct ContainerSpec {
    name: String,
    image: String,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    env: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    user: Option<String>,
    mounts: Vec<OldMount>,
    ports: Vec<PortBinding>,
    network: String,
    aliases: Vec<String>,
    ip: Option<Ipv4Addr>,
    healthcheck: Option<HealthcheckSpec>,
    memory_bytes: Option<i64>,
    nano_cpus: Option<i64>,
    restart: String,
}

#[derive(Deserialize)]
struct OldMount {
    kind: String,
    source: String,
    target: String,
    read_only: bool,
}

#[derive(Deserialize)]
struct PortBinding {
    container: u16,
    protocol: String,
    host_ip: String,
    host: Option<u16>,
}

#[derive(Deserialize)]
struct HealthcheckSpec {
    test: Vec<String>,
    interval: Duration,
    timeout: Duration,
    retries: u32,
    start_period: Duration,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A schema-1 document as the current one.
pub(super) fn migrate(bytes: &[u8]) -> Result<Deployment, String> {
    let a: Activation = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if a.format != 1 {
        return Err(format!("it has `format: {}`, which no obsbuild wrote", a.format));
    }
    let services = a.services.into_iter().map(unit).collect::<Result<Vec<_>, String>>()?;
    Ok(Deployment {
        schema: SCHEMA,
        stack: a.stack,
        engine: crate::model::Engine::Compose,
        network: Network { name: a.network, subnet: a.subnet, external: a.external },
        volumes: a.volumes,
        services,
        hosts: a.hosts,
    })
}

fn unit(d: Desired) -> Result<Unit, String> {
    let service = d.service.clone();
    let reload = match d.reload {
        OldReload::Http { port, path, metric } => Reload::Http { port, path, metric },
        OldReload::Signal { signal, validate } if signal == "HUP" => Reload::Signal { signal: Signal::Hup, validate },
        OldReload::Signal { signal, .. } => return Err(format!("service `{service}` reloads with signal `{signal}`, which obsbuild never sent")),
        OldReload::Grafana { port, user, password_secret } => Reload::Grafana { port, user, password_secret, password: None },
        OldReload::Restart => Reload::Restart,
    };
    Ok(Unit {
        name: d.spec.name.clone(),
        container: container(&service, d.spec)?,
        service: d.service,
        kind: d.kind,
        spec_hash: d.spec_hash,
        config_hash: d.config_hash,
        probe: d.probe,
        reload,
        strategy: d.strategy,
        depends_on: d.depends_on,
        secrets: d.secrets,
        secrets_digest: None,
    })
}

fn container(service: &str, s: ContainerSpec) -> Result<Container, String> {
    let mounts = s
        .mounts
        .into_iter()
        .map(|m| match (m.kind.as_str(), m.source.as_str()) {
            ("bind", CONFIGS) => Ok(Mount::Configs { target: m.target }),
            ("bind", _) => Ok(Mount::Bind { source: m.source, target: m.target, read_only: m.read_only }),
            ("volume", _) => Ok(Mount::Volume { source: m.source, target: m.target, read_only: m.read_only }),
            (other, _) => Err(format!("service `{service}` has a mount of kind `{other}`")),
        })
        .collect::<Result<Vec<_>, String>>()?;
    let ports = s
        .ports
        .into_iter()
        .map(|p| {
            let protocol = match p.protocol.as_str() {
                "" | "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                other => return Err(format!("service `{service}` publishes a port over `{other}`")),
            };
            let host_ip = p.host_ip.parse().map_err(|_| format!("service `{service}` publishes on `{}`", p.host_ip))?;
            Ok(Port { container: p.container, protocol, host_ip, host: p.host })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let restart = match s.restart.as_str() {
        "" => None,
        other => Some(Restart::parse(other).ok_or_else(|| format!("service `{service}` has restart policy `{other}`"))?),
    };
    Ok(Container {
        image: s.image,
        entrypoint: s.entrypoint,
        command: s.cmd,
        env: s.env,
        labels: s.labels,
        user: s.user,
        mounts,
        ports,
        network: s.network,
        aliases: s.aliases,
        ip: s.ip,
        healthcheck: s.healthcheck.map(|h| Healthcheck {
            test: h.test,
            interval_ns: nanos(h.interval),
            timeout_ns: nanos(h.timeout),
            retries: h.retries,
            start_period_ns: nanos(h.start_period),
        }),
        memory_bytes: s.memory_bytes,
        nano_cpus: s.nano_cpus,
        restart,
    })
}
