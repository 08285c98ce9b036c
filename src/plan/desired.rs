//! The container each service should be, and how a config change reaches it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{Component, Kind, Probe, Service, Stack, Volume};
use crate::render::compose;
use crate::render::layout::CONFIG_MOUNT;
use crate::render::Build;
use crate::runtime::{ContainerSpec, HealthcheckSpec, Mount, MountKind, PortBinding, label};

/// How a service takes a config change without being recreated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "lowercase")]
pub enum Reload {
    /// `POST <path>` on the container's HTTP port, verified by a metric (Prometheus,
    /// Alertmanager).
    Http { port: u16, path: String, metric: String },
    /// A signal after validating the new config in a one-off container (collector).
    Signal { signal: String, validate: Vec<String> },
    /// Grafana's admin API reloads its provisioning (data sources and dashboards); it
    /// takes the server admin's credentials: the password is the service's secret
    /// `password_secret`, read at switch time (never part of a build), or Grafana's
    /// default when the stack sets none.
    Grafana {
        port: u16,
        user: String,
        password_secret: Option<String>,
        #[serde(skip)]
        password: Option<String>,
    },
    /// No reload: the container is restarted.
    Restart,
}

/// Whether the new container may run beside the old one while it proves healthy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Start the new container, check it, then stop the old one.
    StartFirst,
    /// Fixed host ports or a static IP cannot be held twice (Docker frees an IP only when
    /// its container stops): stop the old one, start the new, check, and on failure remove
    /// the new one and start the old one again.
    StopFirst,
}

/// A service as a container.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Desired {
    pub service: String,
    pub kind: Kind,
    pub spec: ContainerSpec,
    /// Hash of `spec` (name and obsbuild's own labels aside): a running container with
    /// another hash is recreated.
    pub spec_hash: String,
    /// Hash of the config files the service reads.
    pub config_hash: String,
    pub probe: Option<Probe>,
    pub reload: Reload,
    pub strategy: Strategy,
    pub depends_on: Vec<String>,
    /// Files under `/run/secrets/`, by secret name: where each value comes from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, crate::model::Secret>,
    /// Keyed digest of the secret values, filled in at switch time (never in a build): a
    /// running container with another one is recreated.
    #[serde(skip)]
    pub secrets_digest: Option<String>,
}

/// The container name of a service.
pub fn container_name(stack: &str, service: &str) -> String {
    format!("{stack}-{service}")
}

/// The build paths a service reads: `configs/<name>.*` and `configs/<name>/...` (service
/// names have no dots, so `prometheus` and `prometheus-2` never share a file). A change in
/// one of them is a config change of that service.
fn reads(service: &str, path: &str) -> bool {
    let dir = crate::render::layout::CONFIG_DIR;
    path.starts_with(&format!("{dir}/{service}.")) || path.starts_with(&format!("{dir}/{service}/"))
}

/// Hash of the config files each of `services` reads.
pub fn config_hashes<'a>(services: impl Iterator<Item = &'a str>, build: &Build) -> BTreeMap<String, String> {
    services
        .map(|name| {
            let mut h = blake3::Hasher::new();
            for (path, bytes) in build.files.iter().filter(|(p, _)| reads(name, p)) {
                h.update(&(path.len() as u64).to_le_bytes());
                h.update(path.as_bytes());
                h.update(&(bytes.len() as u64).to_le_bytes());
                h.update(bytes);
            }
            (name.to_owned(), h.finalize().to_hex()[..16].to_owned())
        })
        .collect()
}

/// Stands for the host folder containers mount as `/etc/obsbuild`; a build cannot hold
/// the real path (it depends on the machine), so activation puts it in.
pub const CONFIGS: &str = "@configs@";

/// Path of the activation document in a build.
pub const ACTIVATION: &str = ".obsbuild/activation.json";

/// Everything a switch needs to run a build, carried by the build itself (like the
/// activation script of a NixOS system), so `rollback` and recovery work from store paths
/// alone, without the scripts that made them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Activation {
    pub format: u32,
    pub stack: String,
    pub network: String,
    pub subnet: Option<String>,
    /// The network is shared beyond the stack (`external: true`). Left out when false, so
    /// builds of stacks without it keep their bytes and store hashes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
    /// Docker names of the stack's named volumes.
    pub volumes: Vec<String>,
    pub services: Vec<Desired>,
    /// Host names for the machine's hosts file (`obsbuild hosts`). Absent when there are
    /// none, so builds without entries are unchanged and older builds still load.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hosts: BTreeMap<String, IpAddr>,
}

/// The activation document of a stack; `build` must hold its rendered `configs/`.
pub fn activation(stack: &Stack, build: &Build) -> Activation {
    let configs = config_hashes(stack.services.keys().map(String::as_str), build);
    let mut volumes: Vec<String> = stack
        .services
        .values()
        .flat_map(|s| s.named_volumes().map(|v| compose::volume_name(stack, v)))
        .collect();
    volumes.sort();
    volumes.dedup();
    Activation {
        format: 1,
        stack: stack.name.clone(),
        network: stack.network.name.clone(),
        subnet: stack.network.subnet.map(|s| s.to_string()),
        external: stack.network.external,
        volumes,
        services: stack.services.values().map(|s| one(stack, s, &configs)).collect(),
        hosts: stack.host_addresses(),
    }
}

/// Reads a build's activation document and points its config mounts at `live`.
pub fn load(build: &Build, live: &Path) -> Result<Activation, String> {
    let bytes = build
        .files
        .get(ACTIVATION)
        .ok_or_else(|| format!("the build of `{}` has no {ACTIVATION}; rebuild it with this obsbuild", build.stack))?;
    let mut a: Activation =
        serde_json::from_slice(bytes).map_err(|e| format!("{ACTIVATION} of `{}` is unreadable: {e}", build.stack))?;
    for d in &mut a.services {
        for m in &mut d.spec.mounts {
            if m.source == CONFIGS {
                m.source = live.display().to_string();
            }
        }
    }
    Ok(a)
}

fn one(stack: &Stack, s: &Service, configs: &BTreeMap<String, String>) -> Desired {
    let mut mounts = Vec::new();
    if compose::mounts_configs(s) {
        mounts.push(Mount { kind: MountKind::Bind, source: CONFIGS.to_owned(), target: CONFIG_MOUNT.to_owned(), read_only: true });
    }
    for v in &s.volumes {
        mounts.push(match v {
            Volume::Named { name, target } => Mount {
                kind: MountKind::Volume,
                source: compose::volume_name(stack, name),
                target: target.clone(),
                read_only: false,
            },
            Volume::Bind { source, target } => {
                Mount { kind: MountKind::Bind, source: source.clone(), target: target.clone(), read_only: true }
            }
        });
    }
    let mut ports: Vec<PortBinding> = s
        .ports
        .iter()
        .map(|p| PortBinding {
            container: p.container,
            protocol: format!("{:?}", p.protocol).to_lowercase(),
            host_ip: p.host_ip.to_string(),
            host: Some(p.host),
        })
        .collect();
    let reload = reload(stack, s);
    // Probes and reloads go to ports published on 127.0.0.1: the ones the stack publishes,
    // or ones Docker picks.
    let mut needed: Vec<u16> = s.probe.iter().map(|p| p.port).collect();
    if let Reload::Http { port, .. } | Reload::Grafana { port, .. } = &reload {
        needed.push(*port);
    }
    for port in needed {
        let published = s.ports.iter().any(|p| p.container == port && (p.host_ip.is_loopback() || p.host_ip.is_unspecified()));
        if !published && !ports.iter().any(|b| b.container == port && b.host.is_none()) {
            ports.push(PortBinding { container: port, protocol: "tcp".into(), host_ip: "127.0.0.1".into(), host: None });
        }
    }
    let healthcheck = s.healthcheck.as_ref().map(|h| HealthcheckSpec {
        test: h.test.clone(),
        interval: h.interval.value(),
        timeout: h.timeout.value(),
        retries: h.retries,
        start_period: h.start_period.value(),
    });
    let mut labels = s.labels.clone();
    labels.insert(label::STACK.to_owned(), stack.name.clone());
    labels.insert(label::SERVICE.to_owned(), s.name.clone());
    let fixed_host_ports = s.ports.iter().any(|p| p.host != 0);
    let spec = ContainerSpec {
        name: container_name(&stack.name, &s.name),
        image: s.image.reference.clone(),
        entrypoint: s.entrypoint.clone(),
        cmd: compose::command(stack, s),
        env: compose::environment(s),
        labels,
        user: s.user.clone(),
        mounts,
        ports,
        network: stack.network.name.clone(),
        aliases: vec![s.name.clone()],
        ip: s.ip,
        healthcheck,
        memory_bytes: s.memory.as_ref().map(crate::model::Memory::bytes),
        nano_cpus: s.cpus.as_ref().map(crate::model::Cpus::nanos),
        restart: s.restart.clone(),
    };
    let spec_hash = spec_hash(&spec);
    Desired {
        service: s.name.clone(),
        kind: s.kind(),
        spec_hash,
        config_hash: configs.get(&s.name).cloned().unwrap_or_default(),
        probe: s.probe.clone(),
        reload,
        strategy: if s.ip.is_some() || fixed_host_ports { Strategy::StopFirst } else { Strategy::StartFirst },
        depends_on: s.depends_on.iter().cloned().collect(),
        secrets: s.secrets.clone(),
        secrets_digest: None,
        spec,
    }
}

/// The hash of a spec, without its name (a new container is created under another name
/// first) and without the labels obsbuild adds per generation.
pub fn spec_hash(spec: &ContainerSpec) -> String {
    let mut s = spec.clone();
    s.name.clear();
    s.labels.remove(label::GENERATION);
    s.labels.remove(label::SPEC);
    let bytes = serde_json::to_vec(&s).unwrap_or_default();
    blake3::hash(&bytes).to_hex()[..16].to_owned()
}

fn reload(stack: &Stack, s: &Service) -> Reload {
    let http = s.endpoints.get("http").copied();
    match (&s.component, http) {
        (Component::Prometheus(_), port) => Reload::Http {
            port: port.unwrap_or(9090),
            path: "/-/reload".to_owned(),
            metric: "prometheus_config_last_reload_successful".to_owned(),
        },
        (Component::Alertmanager(_), port) => Reload::Http {
            port: port.unwrap_or(9093),
            path: "/-/reload".to_owned(),
            metric: "alertmanager_config_last_reload_successful".to_owned(),
        },
        // A collector whose new config fails to build exits on SIGHUP, so the config is
        // validated first, by the same image.
        (Component::Collector(_), _) => {
            let mut validate = vec!["validate".to_owned()];
            validate.extend(compose::command(stack, s).unwrap_or_default());
            Reload::Signal { signal: "HUP".to_owned(), validate }
        }
        // The admin password is a secret file the service mounts, or Grafana's default; a
        // `__FILE` pointing anywhere else is out of obsbuild's sight: restart instead.
        (Component::Grafana(_), port) => {
            let password_secret = match s.environment.get("GF_SECURITY_ADMIN_PASSWORD__FILE") {
                None => None,
                Some(path) => match path.strip_prefix(&format!("{}/", crate::model::SECRETS_MOUNT)) {
                    Some(file) if s.secrets.iter().any(|(n, secret)| secret.files(n).iter().any(|f| f == file)) => {
                        Some(file.to_owned())
                    }
                    _ => return Reload::Restart,
                },
            };
            Reload::Grafana {
                port: port.unwrap_or(3000),
                user: s.environment.get("GF_SECURITY_ADMIN_USER").cloned().unwrap_or_else(|| "admin".to_owned()),
                password_secret,
                password: None,
            }
        }
        _ => Reload::Restart,
    }
}
