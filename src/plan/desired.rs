//! The deployment document of a build: the container each service should be, and how a
//! config change reaches it. Pure: from the model and the rendered build.

use std::collections::BTreeMap;

use crate::build::Build;
use crate::build::layout::{CONFIG_MOUNT, reads};
use crate::deployment::{
    Container, Deployment, Healthcheck, Mount, Network, Port, Reload, SCHEMA, Signal, Strategy, Unit, container_name, label,
    spec_hash,
};
use crate::model::{Component, Protocol, SECRETS_MOUNT, Service, Stack, Volume};

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

/// The deployment document of a stack; `build` must be the stack's build just rendered (it
/// holds the config files and each service's [`crate::build::Launch`]).
pub fn deployment(stack: &Stack, build: &Build) -> Deployment {
    let configs = config_hashes(stack.services.keys().map(String::as_str), build);
    let mut volumes: Vec<String> =
        stack.services.values().flat_map(|s| s.named_volumes().map(|v| stack.volume_name(v))).collect();
    volumes.sort();
    volumes.dedup();
    Deployment {
        schema: SCHEMA,
        stack: stack.name.clone(),
        engine: stack.engine,
        network: Network {
            name: stack.network.name.clone(),
            subnet: stack.network.subnet.map(|s| s.to_string()),
            external: stack.network.external,
        },
        volumes,
        services: stack.services.values().map(|s| unit(stack, s, build, &configs)).collect(),
        hosts: stack.host_addresses(),
    }
}

fn unit(stack: &Stack, s: &Service, build: &Build, configs: &BTreeMap<String, String>) -> Unit {
    let launch = build.launch.get(&s.name).cloned().unwrap_or_default();
    let mut mounts = Vec::new();
    if s.mounts_configs() {
        mounts.push(Mount::Configs { target: CONFIG_MOUNT.to_owned() });
    }
    for v in &s.volumes {
        mounts.push(match v {
            Volume::Named { name, target } => {
                Mount::Volume { source: stack.volume_name(name), target: target.clone(), read_only: false }
            }
            Volume::Bind { source, target } => Mount::Bind { source: source.clone(), target: target.clone(), read_only: true },
        });
    }
    let mut ports: Vec<Port> = s
        .ports
        .iter()
        .map(|p| Port { container: p.container, protocol: p.protocol, host_ip: p.host_ip, host: Some(p.host) })
        .collect();
    let reload = reload(s, &launch.command);
    // Probes and reloads go to ports published on 127.0.0.1: the ones the stack publishes,
    // or ones the engine picks.
    let mut needed: Vec<u16> = s.probe.iter().map(|p| p.port).collect();
    if let Reload::Http { port, .. } | Reload::Grafana { port, .. } = &reload {
        needed.push(*port);
    }
    for port in needed {
        let published = s.ports.iter().any(|p| p.container == port && (p.host_ip.is_loopback() || p.host_ip.is_unspecified()));
        if !published && !ports.iter().any(|b| b.container == port && b.host.is_none()) {
            ports.push(Port { container: port, protocol: Protocol::Tcp, host_ip: std::net::Ipv4Addr::LOCALHOST.into(), host: None });
        }
    }
    let healthcheck = s.healthcheck.as_ref().map(|h| Healthcheck {
        test: h.test.clone(),
        interval_ns: nanos(h.interval.value()),
        timeout_ns: nanos(h.timeout.value()),
        retries: h.retries,
        start_period_ns: nanos(h.start_period.value()),
    });
    let mut labels = s.labels.clone();
    labels.insert(label::STACK.to_owned(), stack.name.clone());
    labels.insert(label::SERVICE.to_owned(), s.name.clone());
    let fixed_host_ports = s.ports.iter().any(|p| p.host != 0);
    let container = Container {
        image: s.image.reference.clone(),
        entrypoint: s.entrypoint.clone(),
        command: launch.command,
        env: launch.environment,
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
        restart: Some(s.restart),
    };
    Unit {
        service: s.name.clone(),
        kind: s.kind(),
        name: container_name(&stack.name, &s.name),
        spec_hash: spec_hash(&container),
        config_hash: configs.get(&s.name).cloned().unwrap_or_default(),
        probe: s.probe.clone(),
        reload,
        strategy: if s.ip.is_some() || fixed_host_ports { Strategy::StopFirst } else { Strategy::StartFirst },
        depends_on: s.depends_on.iter().cloned().collect(),
        secrets: s.secrets.clone(),
        secrets_digest: None,
        container,
    }
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn reload(s: &Service, command: &Option<Vec<String>>) -> Reload {
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
            validate.extend(command.clone().unwrap_or_default());
            Reload::Signal { signal: Signal::Hup, validate }
        }
        // The admin password is a secret file the service mounts, or Grafana's default; a
        // `__FILE` pointing anywhere else is out of obsbuild's sight: restart instead.
        (Component::Grafana(_), port) => {
            let password_secret = match s.environment.get("GF_SECURITY_ADMIN_PASSWORD__FILE") {
                None => None,
                Some(path) => match path.strip_prefix(&format!("{SECRETS_MOUNT}/")) {
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
