//! `docker-compose.yml` of the stack, in the compose spec's form: no `version:` key, a
//! healthcheck wherever the image can run one, named volumes for data, limits where set.

use crate::build::FileKind;
use crate::build::layout::{CONFIG_DIR, CONFIG_MOUNT};
use super::{Doc, alertmanager, collector, grafana, jaeger, loki, prometheus};
use crate::model::{Component, Port, Protocol, Service, Stack, Volume};

/// The text of a compose file (this stack's, or the apps'), with `header` as comments.
///
/// Compose interpolates every string value of the file, at any depth and in every section
/// (`$VAR`, `${VAR}`, `${VAR:-default}`, ...; a `$` followed by anything else is an error),
/// and reads `$$` as one `$`; keys it reads as they are. So every string value, the
/// script's and obsbuild's alike, is written with each `$` doubled, and keys are not: what
/// a script says reaches the container unchanged, never the environment of whoever runs
/// `docker compose`. `obsbuild switch` gives Docker the values themselves, unescaped.
pub(crate) fn file(path: &str, kind: FileKind, mut doc: Doc, header: &[&str]) -> super::File {
    doc.map_strings(&|s| s.replace('$', "$$"));
    super::File { path: path.to_owned(), text: crate::yaml::emit(&doc, header), kind, tree: Some(doc.into_tree()) }
}

/// The stack's compose document, its values as the containers get them (unescaped: see
/// [`file`]).
pub fn compose(stack: &Stack) -> Doc {
    // Names are the keys of `stack.services`, so each is new: `set` would look for it
    // among all before it, quadratic in a fleet.
    let services = Doc::Map(stack.services.values().map(|s| (s.name.clone(), service_doc(stack, s))).collect());
    let mut network = Doc::map().with("name", &stack.network.name);
    if stack.network.external {
        // Compose refuses any other key (ipam, driver) beside `external`: the subnet is
        // in the header comment and `obsbuild switch` gives it (see `header`).
        network.set("external", true);
    } else {
        network.set("driver", "bridge");
        if let Some(subnet) = &stack.network.subnet {
            network.set(
                "ipam",
                Doc::map().with("config", Doc::Seq(vec![Doc::map().with("subnet", subnet.to_string())])),
            );
        }
    }
    let mut doc = Doc::map()
        .with("services", services)
        .with("networks", Doc::map().with(&stack.network.name, network));
    let volumes = volumes(stack);
    if !volumes.is_empty_map() {
        doc.set("volumes", volumes);
    }
    let secrets = secrets(stack);
    if !secrets.is_empty_map() {
        doc.set("secrets", secrets);
    }
    doc
}

/// Where the export expects a secret's file, relative to the compose file: `obsbuild
/// switch` writes the same files into the state dir, outside the store.
pub fn secret_file(service: &str, file: &str) -> String {
    format!("./secrets/{service}/{file}")
}

/// Compose's name for one file of a secret.
fn secret_key(service: &str, file: &str) -> String {
    format!("{service}-{file}")
}

/// Every secret file, by compose name; compose mounts each at `/run/secrets/<target>`.
pub(crate) fn secrets(stack: &Stack) -> Doc {
    let mut doc = Doc::map();
    for s in stack.services.values() {
        for (name, secret) in &s.secrets {
            for file in secret.files(name) {
                doc.set(&secret_key(&s.name, &file), Doc::map().with("file", secret_file(&s.name, &file)));
            }
        }
    }
    doc
}

/// Comment lines for the top of the compose file: how an external network comes to be,
/// since compose neither creates it nor can say its subnet.
pub fn header(stack: &Stack) -> Vec<String> {
    let network = &stack.network;
    if !network.external {
        return Vec::new();
    }
    let subnet = network.subnet.map(|s| format!(" with subnet {s}")).unwrap_or_default();
    let flag = network.subnet.map(|s| format!(" --subnet {s}")).unwrap_or_default();
    vec![
        String::new(),
        format!("The network `{}` is external: compose joins it but neither creates nor", network.name),
        format!("removes it. `obsbuild switch` creates it{subnet} when it is missing;"),
        "without obsbuild, create it once before `docker compose up`:".to_owned(),
        format!("  docker network create --driver bridge{flag} {}", network.name),
    ]
}

/// Named volumes get an explicit name, `<stack>-<volume>`: compose would otherwise prefix
/// the folder the file sits in, and data would change hands when the folder is renamed.
pub(crate) fn volumes(stack: &Stack) -> Doc {
    let mut names: Vec<&str> = stack.services.values().flat_map(Service::named_volumes).collect();
    names.sort_unstable();
    names.dedup();
    let mut doc = Doc::map();
    for name in names {
        doc.set(name, Doc::map().with("name", stack.volume_name(name)));
    }
    doc
}

/// The command a component runs: the script's `command` if it gave one, else the
/// component's (which points it at its config), followed by the script's `args`.
pub fn command(stack: &Stack, service: &Service) -> Option<Vec<String>> {
    if let Some(c) = &service.command {
        return Some(c.clone());
    }
    let base = match &service.component {
        Component::Collector(_) => Some(collector::command(service)),
        Component::Jaeger(_) => Some(jaeger::command(service)),
        Component::Loki(_) => Some(loki::command(service)),
        Component::Prometheus(p) => Some(prometheus::command(stack, service, p)),
        Component::Alertmanager(_) => Some(alertmanager::command(service)),
        Component::Grafana(_) | Component::Container(_) => None,
    };
    match (base, service.args.is_empty()) {
        (base, true) => base,
        (Some(mut b), false) => {
            b.extend(service.args.iter().cloned());
            Some(b)
        }
        (None, false) => Some(service.args.clone()),
    }
}

/// A service's environment: the component's own variables first, so the script's can
/// override them.
pub fn environment(service: &Service) -> std::collections::BTreeMap<String, String> {
    let mut environment = match &service.component {
        Component::Grafana(_) => grafana::environment(service),
        Component::Collector(_) => collector::environment(service),
        _ => Default::default(),
    };
    environment.extend(service.environment.clone());
    environment
}

pub fn port(p: &Port) -> String {
    let host = match p.host_ip {
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let proto = if p.protocol == Protocol::Udp { "/udp" } else { "" };
    format!("{host}:{}:{}{proto}", p.host, p.container)
}

/// What a service runs, the same for every engine: image, command, entrypoint, user and
/// environment.
pub(crate) fn process(stack: &Stack, service: &Service) -> Doc {
    let mut doc = Doc::map().with("image", &service.image.reference);
    if let Some(c) = command(stack, service) {
        doc.set("command", Doc::strs(c));
    }
    if let Some(e) = &service.entrypoint {
        doc.set("entrypoint", Doc::strs(e.clone()));
    }
    if let Some(u) = &service.user {
        doc.set("user", u.as_str());
    }
    let environment = environment(service);
    if !environment.is_empty() {
        doc.set("environment", Doc::Map(environment.into_iter().map(|(k, v)| (k, Doc::Str(v))).collect()));
    }
    doc
}

pub(crate) fn healthcheck(h: &crate::model::Healthcheck) -> Doc {
    Doc::map()
        .with("test", Doc::strs(h.test.clone()))
        .with("interval", h.interval.text())
        .with("timeout", h.timeout.text())
        .with("retries", h.retries)
        .with("start_period", h.start_period.text())
}

/// obsbuild's labels (which stack and service a container is), then the script's.
pub(crate) fn labels(stack: &Stack, service: &Service) -> Doc {
    let mut labels = Doc::map()
        .with("obsbuild.stack", &stack.name)
        .with("obsbuild.service", &service.name);
    for (k, v) in &service.labels {
        labels.set(k, v.as_str());
    }
    labels
}

/// Compose's name for the secret file `file` of `service`.
pub(crate) fn secret_mounts(service: &Service) -> Vec<Doc> {
    service
        .secrets
        .iter()
        .flat_map(|(name, secret)| secret.files(name))
        .map(|file| Doc::map().with("source", secret_key(&service.name, &file)).with("target", file))
        .collect()
}

fn service_doc(stack: &Stack, service: &Service) -> Doc {
    let mut doc = process(stack, service);
    if !service.ports.is_empty() {
        doc.set("ports", Doc::strs(service.ports.iter().map(port)));
    }
    let mut volumes = Vec::new();
    if service.mounts_configs() {
        volumes.push(format!("./{CONFIG_DIR}:{CONFIG_MOUNT}:ro"));
    }
    for v in &service.volumes {
        volumes.push(match v {
            Volume::Named { name, target } => format!("{name}:{target}"),
            Volume::Bind { source, target } => format!("{source}:{target}:ro"),
        });
    }
    if !volumes.is_empty() {
        doc.set("volumes", Doc::strs(volumes));
    }
    let secrets = secret_mounts(service);
    if !secrets.is_empty() {
        doc.set("secrets", Doc::Seq(secrets));
    }
    let network = &stack.network.name;
    match service.ip {
        Some(ip) => doc.set("networks", Doc::map().with(network, Doc::map().with("ipv4_address", ip.to_string()))),
        None => doc.set("networks", Doc::strs([network.as_str()])),
    }
    if let Some(h) = &service.healthcheck {
        doc.set("healthcheck", healthcheck(h));
    }
    if !service.depends_on.is_empty() {
        let mut deps = Doc::map();
        for dep in &service.depends_on {
            let healthy = stack.services.get(dep).is_some_and(|d| d.healthcheck.is_some());
            let condition = if healthy { "service_healthy" } else { "service_started" };
            deps.set(dep, Doc::map().with("condition", condition));
        }
        doc.set("depends_on", deps);
    }
    if let Some(m) = &service.memory {
        doc.set("mem_limit", m.text());
    }
    if let Some(c) = &service.cpus {
        doc.set("cpus", c.count());
    }
    doc.set("labels", labels(stack, service));
    doc.set("restart", service.restart.name());
    doc
}
