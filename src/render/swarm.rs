//! The stack file for Swarm (`docker stack deploy -c docker-compose.yml <stack>`): every
//! config file a Swarm config named by its content, so a changed file is a new object and
//! a service update, never Swarm's "only updates to Labels are allowed"; placement, update
//! order and monitor in each service's `deploy`; ports in host mode and DNS round robin,
//! which need neither the ingress routing mesh nor virtual IPs.

use std::collections::BTreeMap;

use super::compose;
use crate::build::layout::{CONFIG_DIR, in_container, reads};
use crate::doc::Doc;
use crate::model::{Mode, Protocol, Restart, Service, Stack, Volume, monitor};

/// Swarm refuses longer object names.
const MAX_NAME: usize = 64;

/// The Swarm config name of the build file `path` with `bytes`: `<stack>-<file>-<hash>`,
/// the hash that of the content (12 hex digits of BLAKE3), the file name cut to fit.
pub fn config_name(stack: &str, path: &str, bytes: &[u8]) -> String {
    let hash = &blake3::hash(bytes).to_hex()[..12];
    let file: String = path
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    let room = MAX_NAME.saturating_sub(stack.len() + hash.len() + 2);
    let file: String = file.chars().take(room).collect();
    let file = file.trim_matches(|c| c == '.' || c == '-' || c == '_');
    if file.is_empty() { format!("{stack}-{hash}") } else { format!("{stack}-{file}-{hash}") }
}

/// The stack file's document; `files` are the build's files rendered so far (every config
/// file: each service's `configs` name them by content).
pub fn stack(stack: &Stack, files: &BTreeMap<String, Vec<u8>>) -> Doc {
    let mut configs = Doc::map();
    let services = Doc::Map(
        stack
            .services
            .values()
            .map(|s| {
                let mut mounts = Vec::new();
                for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with(CONFIG_DIR) && reads(&s.name, p)) {
                    let name = config_name(&stack.name, path, bytes);
                    configs.set(&name, Doc::map().with("name", name.as_str()).with("file", format!("./{path}")));
                    mounts.push(Doc::map().with("source", name).with("target", in_container(path)));
                }
                (s.name.clone(), service(stack, s, mounts))
            })
            .collect(),
    );
    let mut network = Doc::map().with("name", &stack.network.name);
    if stack.network.external {
        network.set("external", true);
    } else {
        network.set("driver", "overlay");
        // Apps in their own compose file join it from the manager.
        network.set("attachable", true);
        if let Some(subnet) = &stack.network.subnet {
            network.set("ipam", Doc::map().with("config", Doc::Seq(vec![Doc::map().with("subnet", subnet.to_string())])));
        }
    }
    let mut doc = Doc::map().with("services", services).with("networks", Doc::map().with(&stack.network.name, network));
    let volumes = compose::volumes(stack);
    if !volumes.is_empty_map() {
        doc.set("volumes", volumes);
    }
    if !configs.is_empty_map() {
        doc.set("configs", configs);
    }
    let secrets = compose::secrets(stack);
    if !secrets.is_empty_map() {
        doc.set("secrets", secrets);
    }
    doc
}

fn service(stack: &Stack, s: &Service, configs: Vec<Doc>) -> Doc {
    let mut doc = compose::process(stack, s);
    if !s.ports.is_empty() {
        let ports = s.ports.iter().map(|p| {
            let protocol = if p.protocol == Protocol::Udp { "udp" } else { "tcp" };
            Doc::map()
                .with("target", p.container)
                .with("published", p.host)
                .with("protocol", protocol)
                .with("mode", "host")
        });
        doc.set("ports", Doc::Seq(ports.collect()));
    }
    let volumes: Vec<String> = s
        .volumes
        .iter()
        .map(|v| match v {
            Volume::Named { name, target } => format!("{name}:{target}"),
            Volume::Bind { source, target } => format!("{source}:{target}:ro"),
        })
        .collect();
    if !volumes.is_empty() {
        doc.set("volumes", Doc::strs(volumes));
    }
    if !configs.is_empty() {
        doc.set("configs", Doc::Seq(configs));
    }
    let secrets = compose::secret_mounts(s);
    if !secrets.is_empty() {
        doc.set("secrets", Doc::Seq(secrets));
    }
    doc.set("networks", Doc::strs([stack.network.name.as_str()]));
    if let Some(h) = &s.healthcheck {
        doc.set("healthcheck", compose::healthcheck(h));
    }
    doc.set("labels", compose::labels(stack, s));
    doc.set("deploy", deploy(stack, s));
    doc
}

fn deploy(stack: &Stack, s: &Service) -> Doc {
    let placement = stack.placement(s);
    let mut doc = Doc::map().with("endpoint_mode", "dnsrr");
    match placement.mode {
        Mode::Global => doc.set("mode", "global"),
        Mode::Replicated { replicas } => {
            doc.set("mode", "replicated");
            doc.set("replicas", replicas);
        }
    }
    let mut place = Doc::map();
    if !placement.constraints.is_empty() {
        place.set("constraints", Doc::strs(placement.constraints.iter().map(|c| c.text())));
    }
    // Two tasks on one node would both bind the host port.
    if matches!(placement.mode, Mode::Replicated { replicas } if replicas > 1) && !s.ports.is_empty() {
        place.set("max_replicas_per_node", 1_u32);
    }
    if !place.is_empty_map() {
        doc.set("placement", place);
    }
    let order = stack.update_order(s).name();
    let mut update = Doc::map().with("order", order).with("failure_action", "rollback");
    let mut rollback = Doc::map().with("order", order);
    if let Some(h) = &s.healthcheck {
        let monitor = format!("{}s", monitor(h).as_secs());
        update.set("monitor", monitor.as_str());
        rollback.set("monitor", monitor);
    }
    doc.set("update_config", update);
    doc.set("rollback_config", rollback);
    let condition = match s.restart {
        Restart::No => "none",
        Restart::OnFailure => "on-failure",
        Restart::Always | Restart::UnlessStopped => "any",
    };
    doc.set("restart_policy", Doc::map().with("condition", condition));
    let mut limits = Doc::map();
    if let Some(c) = &s.cpus {
        limits.set("cpus", c.text());
    }
    if let Some(m) = &s.memory {
        limits.set("memory", m.text());
    }
    if !limits.is_empty_map() {
        doc.set("resources", Doc::map().with("limits", limits));
    }
    doc.set("labels", compose::labels(stack, s));
    doc
}

#[cfg(test)]
mod tests {
    use super::config_name;

    #[test]
    fn config_names_fit_swarm_and_change_with_content() {
        let a = config_name("task-manager", "configs/prometheus.yml", b"a");
        assert!(a.starts_with("task-manager-prometheus.yml-") && a.len() == "task-manager-prometheus.yml-".len() + 12, "{a}");
        assert_ne!(a, config_name("task-manager", "configs/prometheus.yml", b"b"));
        let long = config_name(&"s".repeat(40), &format!("configs/{}.json", "d".repeat(100)), b"x");
        assert!(long.len() <= 64, "{long}");
        let odd = config_name("s", "configs/grafana/dash board (copy).json", b"x");
        assert!(odd.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')), "{odd}");
        // A name with no room for the file keeps stack and hash.
        let tight = config_name(&"s".repeat(51), "configs/x.yml", b"x");
        assert!(tight.len() <= 64 && !tight.contains("--"), "{tight}");
    }
}
