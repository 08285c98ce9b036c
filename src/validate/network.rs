//! Addresses, host ports, dependencies, and the apps' collector.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::Check;
use crate::diagnostic::{Span, suggest};
use crate::model::{Kind, Port};

pub fn check(check: &mut Check) {
    static_ips(check);
    host_ports(check);
    dependencies(check);
    apps(check);
}

fn static_ips(check: &mut Check) {
    let subnet = check.stack.network.subnet;
    let network = check.stack.network.name.clone();
    let mut taken: BTreeMap<std::net::Ipv4Addr, (String, Span)> = BTreeMap::new();
    for s in in_script_order(check) {
        let Some(ip) = s.ip else { continue };
        let text = ip.to_string();
        let Some(subnet) = subnet else {
            let d = check.error(&s.span, &text, format!("service `{}` has the static IP `{ip}`, but the network has no subnet", s.name));
            *d = d.clone().help(format!("give the network one: `network(\"{network}\", #{{ subnet: \"172.28.0.0/16\" }})`"));
            continue;
        };
        if !subnet.contains(ip) {
            let d = check.error(&s.span, &text, format!("static IP `{ip}` of service `{}` is outside the subnet `{subnet}`", s.name));
            *d = d.clone().label("not in the subnet");
            continue;
        }
        let reserved = if ip == subnet.network() {
            Some("the network address")
        } else if ip == subnet.gateway() {
            Some("the gateway Docker gives the bridge")
        } else if ip == subnet.broadcast() {
            Some("the broadcast address")
        } else {
            None
        };
        if let Some(what) = reserved {
            check.error(&s.span, &text, format!("static IP `{ip}` of service `{}` is {what} of `{subnet}`", s.name));
            continue;
        }
        if let Some((other, first)) = taken.get(&ip) {
            let (other, first) = (other.clone(), first.clone());
            let d = check.error(&s.span, &text, format!("services `{other}` and `{}` both have the static IP `{ip}`", s.name));
            *d = d.clone().related(&first, format!("`{other}` has it here"));
            continue;
        }
        taken.insert(ip, (s.name.clone(), s.span.clone()));
    }
}

/// Services in the order the script declared them, so "first" in a message means first in
/// the file.
fn in_script_order<'a>(check: &Check<'a>) -> Vec<&'a crate::model::Service> {
    let mut services: Vec<_> = check.stack.services.values().collect();
    services.sort_by(|a, b| a.span.cmp(&b.span));
    services
}

fn overlaps(a: &Port, b: &Port) -> bool {
    a.host == b.host && a.protocol == b.protocol && (a.host_ip == b.host_ip || a.host_ip.is_unspecified() || b.host_ip.is_unspecified())
}

fn host_ports(check: &mut Check) {
    let mut published: Vec<(String, Span, Port)> = Vec::new();
    // On Swarm every host port binds all of a node's addresses, and two services share a
    // node only where placement lets them: `swarm::shared_ports` judges services there.
    let services = in_script_order(check)
        .into_iter()
        .filter(|_| check.stack.engine.is_compose())
        .map(|s| (format!("service `{}`", s.name), &s.span, &s.ports));
    let apps = check.stack.apps.values().map(|a| (format!("app `{}`", a.name), &a.span, &a.ports));
    let mut all: Vec<_> = services.chain(apps).collect();
    all.sort_by(|a, b| a.1.cmp(b.1));
    for (owner, span, ports) in all {
        for p in ports {
            if let Some((other, first, _)) = published.iter().find(|(_, _, q)| overlaps(p, q)).cloned() {
                let addr = match p.host_ip {
                    IpAddr::V6(ip) => format!("[{ip}]"),
                    ip => ip.to_string(),
                };
                let d = check.error(span, &p.host.to_string(), format!("host port {addr}:{} is published by both {other} and {owner}", p.host));
                *d = d.clone().related(&first, format!("{other} publishes it here")).help("publish one of them on another host port, e.g. `\"3001:3000\"`");
                continue;
            }
            published.push((owner.clone(), span.clone(), p.clone()));
        }
    }
}

fn dependencies(check: &mut Check) {
    let names: Vec<String> = check.stack.services.keys().cloned().collect();
    for s in check.stack.services.values() {
        for dep in &s.depends_on {
            if dep == &s.name {
                check.error(&s.span, dep, format!("service `{}` depends on itself", s.name));
            } else if !check.stack.services.contains_key(dep) {
                let d = check.error(&s.span, dep, format!("service `{}` depends on `{dep}`, which is not a service of this stack", s.name));
                *d = d.clone().suggesting(dep, names.iter().map(String::as_str));
            }
        }
    }
    // A cycle would make compose refuse to start anything.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    for start in check.stack.services.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(check, start, &mut state, &mut path) {
            let first = cycle[0].clone();
            if let Some(s) = check.stack.services.get(&first) {
                let span = s.span.clone();
                let d = check.error(&span, "", format!("services depend on each other in a circle: {}", cycle.join(" → ")));
                *d = d.clone().help("drop one of these dependencies; wiring such as `send` and `datasource` adds them");
            }
            return;
        }
    }
}

fn visit<'a>(check: &'a Check, name: &'a str, state: &mut BTreeMap<&'a str, u8>, path: &mut Vec<String>) -> Option<Vec<String>> {
    match state.get(name) {
        Some(2) => return None,
        Some(1) => {
            let at = path.iter().position(|p| p == name).unwrap_or(0);
            let mut cycle = path[at..].to_vec();
            cycle.push(name.to_owned());
            return Some(cycle);
        }
        _ => {}
    }
    state.insert(name, 1);
    path.push(name.to_owned());
    if let Some(s) = check.stack.services.get(name) {
        for dep in &s.depends_on {
            if let Some(cycle) = visit(check, dep, state, path) {
                return Some(cycle);
            }
        }
    }
    path.pop();
    state.insert(name, 2);
    None
}

fn apps(check: &mut Check) {
    for app in check.stack.apps.values() {
        if let Some(s) = check.stack.services.get(&app.name) {
            let span = s.span.clone();
            let d = check.error(&app.span, &app.name, format!("app `{}` has the name of a service; both would answer to `{}` on the network", app.name, app.name));
            *d = d.clone().related(&span, "the service is declared here");
        }
        match check.stack.services.get(&app.collector) {
            Some(c) if c.kind() == Kind::Collector => {}
            Some(c) => {
                let kind = c.kind();
                check.error(&app.span, &app.collector, format!("app `{}` sends to `{}`, which is a {kind} service, not a collector", app.name, app.collector));
            }
            None => {
                let collectors: Vec<&str> = check.stack.of_kind(Kind::Collector).map(|c| c.name.as_str()).collect();
                let best = suggest(&app.collector, collectors.iter().copied()).map(str::to_owned);
                let d = check.error(&app.span, &app.collector, format!("app `{}` sends to `{}`, which is not a service of this stack", app.name, app.collector));
                if let Some(b) = best {
                    *d = d.clone().label(format!("did you mean `{b}`?"));
                }
            }
        }
    }
}
