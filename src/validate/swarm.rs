//! What a stack asks that its engine cannot do. For Swarm: fixed addresses, start order,
//! host files and local data that not every node has, host ports two tasks would share,
//! and update orders that would run two tasks side by side on one volume or port.
//! For compose: `deploy` settings one host cannot honour.

use std::net::IpAddr;

use super::Check;
use crate::model::{Constraint, Engine, Mode, Placement, Service, UpdateOrder, Volume, pin_label};

/// Host paths every Docker node has: a bind mount of one of them (or below it) means the
/// same thing wherever the task runs.
pub const ENGINE_PATHS: [&str; 6] =
    ["/var/run/docker.sock", "/var/lib/docker/containers", "/var/log", "/proc", "/sys", "/etc/machine-id"];

pub fn check(check: &mut Check) {
    match check.stack.engine {
        Engine::Compose => compose(check),
        Engine::Swarm => swarm(check),
    }
}

fn services<'a>(check: &Check<'a>) -> Vec<&'a Service> {
    let mut services: Vec<&Service> = check.stack.services.values().collect();
    services.sort_by(|a, b| a.span.cmp(&b.span));
    services
}

/// One host runs one container per service: more replicas are a Swarm setting. Global
/// mode and constraints mean nothing more on one host, so they pass.
fn compose(check: &mut Check) {
    for s in services(check) {
        let Some(Placement { mode: Mode::Replicated { replicas }, span, .. }) = &s.placement else { continue };
        if *replicas > 1 {
            let d = check.warning(span, "replicas", format!("service `{}` asks for {replicas} replicas; compose runs one container", s.name));
            d.help = Some("`replicas` applies when the stack is built for Swarm (`stack(name, #{ engine: \"swarm\" })` or `--engine swarm`)".to_owned());
        }
    }
}

fn swarm(check: &mut Check) {
    let all: Vec<(&Service, Placement)> = services(check).into_iter().map(|s| (s, check.stack.placement(s))).collect();
    for (s, placement) in &all {
        static_ip(check, s);
        start_order(check, s);
        binds(check, s, placement);
        data(check, s, placement);
        update_order(check, s, placement);
        port_addresses(check, s);
    }
    shared_ports(check, &all);
}

fn static_ip(check: &mut Check, s: &Service) {
    let Some(ip) = s.ip else { return };
    let d = check.error(&s.span, &ip.to_string(), format!("Swarm cannot give service `{}` the static IP `{ip}`", s.name));
    d.help = Some(format!(
        "remove `ip`: on an overlay network Swarm chooses every task's address, and others reach the service by its name `{}`",
        s.name
    ));
}

fn start_order(check: &mut Check, s: &Service) {
    if !s.depends_on_declared {
        return;
    }
    let d = check.error(&s.span, "depends_on", format!("Swarm has no start order for `depends_on` of service `{}`", s.name));
    d.help = Some("remove `depends_on`: Swarm starts and restarts each service on its own, so the service must retry its connections until the others answer (the components obsbuild configures do)".to_owned());
}

fn engine_path(path: &str) -> bool {
    ENGINE_PATHS.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
}

/// The fix that pins `s` to one node, as a `deploy` to write.
fn pin_help(check: &Check, s: &Service) -> String {
    let label = pin_label(&check.stack.name, &s.name);
    format!(
        "pin it to one node: `deploy: #{{ constraints: [\"node.labels.{label} == true\"] }}`, then label that node with `docker node update --label-add {label}=true <node>`"
    )
}

fn binds(check: &mut Check, s: &Service, placement: &Placement) {
    if placement.on_one_node() {
        return;
    }
    for v in &s.volumes {
        let Volume::Bind { source, .. } = v else { continue };
        if engine_path(source) {
            continue;
        }
        let help = pin_help(check, s);
        let d = check.error(&s.span, source, format!("host path `{source}` of service `{}` may not exist on every node its tasks can run on", s.name));
        d.help = Some(format!("{help}; or put the file in the build (a `container` service's `files`), which Swarm hands to every task as a config"));
    }
}

fn data(check: &mut Check, s: &Service, placement: &Placement) {
    let Some(volume) = s.named_volumes().next() else { return };
    let at = s.placement.as_ref().map(|p| p.span.clone()).unwrap_or_else(|| s.span.clone());
    match placement.mode {
        // One task per node, each with its node's own volume: per-node state (read offsets).
        Mode::Global => {}
        Mode::Replicated { replicas } if replicas > 1 => {
            let d = check.error(&at, "replicas", format!("{replicas} tasks of service `{}` would share or split its local volume `{volume}`", s.name));
            d.help = Some("a service keeping data in a local volume runs one task: remove `replicas`, or make it `global` if each node keeps its own".to_owned());
        }
        Mode::Replicated { .. } if placement.pin().is_none() => {
            let help = pin_help(check, s);
            let d = check.error(&at, "deploy", format!("service `{}` keeps data in the local volume `{volume}`, but may run on any node", s.name));
            d.help = Some(help);
            d.notes.push("a task started on another node would start with an empty volume".to_owned());
        }
        Mode::Replicated { .. } if s.placement.is_none() => {
            let label = pin_label(&check.stack.name, &s.name);
            let d = check.warning(&at, "", format!("service `{}` keeps data in the local volume `{volume}`, so it runs only on the node labelled `{label}=true`", s.name));
            d.help = Some(format!("label the node that keeps its data: `docker node update --label-add {label}=true <node>`; or choose one with `deploy: #{{ constraints: [...] }}`"));
            d.notes.push("until one node has the label, Swarm leaves its task pending (\"no suitable node\")".to_owned());
        }
        Mode::Replicated { .. } => {}
    }
}

fn update_order(check: &mut Check, s: &Service, placement: &Placement) {
    if placement.order != Some(UpdateOrder::StartFirst) {
        return;
    }
    let Some(what) = check.stack.single_writer(s) else { return };
    let d = check.error(&placement.span, "start-first", format!("`start-first` would run two tasks of service `{}` at once on {what}", s.name));
    d.help = Some("remove `order` (obsbuild then chooses `stop-first` for it) or write `order: \"stop-first\"`".to_owned());
}

/// Swarm publishes a host-mode port on every address of the node: it has no host address
/// to bind. Loopback ports (the default) are one warning per service.
fn port_addresses(check: &mut Check, s: &Service) {
    let loopback: Vec<&crate::model::Port> = s.ports.iter().filter(|p| p.host_ip.is_loopback()).collect();
    if let Some(first) = loopback.first() {
        let numbers: Vec<String> = loopback.iter().map(|p| p.host.to_string()).collect();
        let (what, numbers_text) = match numbers.as_slice() {
            [one] => ("port", one.clone()),
            [rest @ .., last] => ("ports", format!("{} and {last}", rest.join(", "))),
            [] => ("port", String::new()),
        };
        let rewritten: Vec<String> = loopback.iter().map(|p| format!("\"0.0.0.0:{}:{}\"", p.host, p.container)).collect();
        let d = check.warning(&s.span, &first.host.to_string(), format!(
            "Swarm publishes {what} {numbers_text} of service `{}` on every address of its node, not only on {}",
            s.name, shown(first.host_ip)
        ));
        d.help = Some(format!(
            "write {} to say so, and let the node's firewall decide who reaches it; or leave it out and reach the service through a proxy",
            rewritten.join(", ")
        ));
    }
    for p in s.ports.iter().filter(|p| !p.host_ip.is_loopback() && !p.host_ip.is_unspecified()) {
        let message = format!("Swarm cannot publish port {} of service `{}` on the address {} alone", p.host, s.name, shown(p.host_ip));
        let d = check.error(&s.span, &p.host.to_string(), message);
        d.help = Some(format!("write `\"0.0.0.0:{}:{}\"`: a host-mode port answers on every address of the node", p.host, p.container));
    }
}

fn shown(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

/// The node a pin names, if it names one by id or hostname: two services pinned to
/// different ones never share a node.
fn pinned_node(placement: &Placement) -> Option<&Constraint> {
    use crate::model::Attribute;
    placement.constraints.iter().find(|c| c.equals && matches!(c.attribute, Attribute::NodeId | Attribute::Hostname))
}

/// A host port two services publish: on one node, the second task cannot start.
fn shared_ports(check: &mut Check, all: &[(&Service, Placement)]) {
    let mut seen: Vec<(&Service, &Placement, u16, crate::model::Protocol)> = Vec::new();
    for (s, placement) in all {
        for p in &s.ports {
            let clash = seen.iter().find(|(other, theirs, port, protocol)| {
                *port == p.host
                    && *protocol == p.protocol
                    && other.name != s.name
                    && !matches!((pinned_node(theirs), pinned_node(placement)), (Some(a), Some(b)) if a.attribute == b.attribute && a.value != b.value)
            });
            if let Some((other, ..)) = clash {
                let (other_name, other_span) = (other.name.clone(), other.span.clone());
                let d = check.error(&s.span, &p.host.to_string(), format!(
                    "services `{other_name}` and `{}` both publish host port {} in host mode; on one node the second cannot start",
                    s.name, p.host
                ));
                *d = d.clone().related(&other_span, format!("`{other_name}` publishes it here")).help(
                    "publish one of them on another host port, or pin them to different nodes (`deploy: #{ constraints: [\"node.hostname == <node>\"] }`)",
                );
                continue;
            }
            seen.push((s, placement, p.host, p.protocol));
        }
    }
}
