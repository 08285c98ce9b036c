//! Checks before anything is touched: images present, host ports free, static addresses
//! free or ours, and a network this stack may use or create (`network.rs`).

use std::net::{IpAddr, TcpListener, UdpSocket};

use crate::deployment::Deployment;
use crate::model::Protocol;
use crate::plan::{Action, Plan};
use crate::runtime::{ContainerInfo, Runtime, label};

/// Every problem found; empty means go.
pub async fn check<R: Runtime>(
    rt: &R,
    a: &Deployment,
    plan: &Plan,
    running: &[ContainerInfo],
    live: &std::path::Path,
    pull: bool,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    if let Some(p) = unreadable(live) {
        problems.push(p);
    }
    let mut seen_images = std::collections::BTreeSet::new();
    for step in plan.changes().filter(|s| matches!(s.action, Action::Create | Action::Recreate)) {
        let Some(d) = &step.desired else { continue };
        if seen_images.insert(d.container.image.clone()) && !rt.image_present(&d.container.image).await.map_err(|e| e.to_string())? {
            // Pulling is asked for, never implicit: a switch should not depend on a registry
            // being up unless the user said so.
            if !pull {
                problems.push(format!(
                    "image `{}` of `{}` is not on this machine; pass `--pull` to pull it, or `docker pull`/`docker load` it first",
                    d.container.image, step.service
                ));
            } else if let Err(e) = rt.pull(&d.container.image).await {
                problems.push(format!("image `{}` of `{}` is not on this machine and cannot be pulled: {e}", d.container.image, step.service));
            }
        }
        for p in &d.container.ports {
            let Some(host) = p.host else { continue };
            // A port the service's own container holds now is freed when it is replaced.
            let ours = step.current.as_ref().is_some_and(|c| c.ports.iter().any(|q| q.host == host && q.protocol == p.protocol));
            let held_by_stack = running.iter().any(|c| c.ports.iter().any(|q| q.host == host && q.protocol == p.protocol));
            if ours || (held_by_stack && step.action == Action::Recreate) {
                continue;
            }
            if held_by_stack {
                problems.push(format!("host port {host}/{} for `{}` is published by another container of this stack", p.protocol, step.service));
                continue;
            }
            let ip: IpAddr = p.host_ip;
            let free = if p.protocol == Protocol::Udp { UdpSocket::bind((ip, host)).is_ok() } else { TcpListener::bind((ip, host)).is_ok() };
            if !free {
                problems.push(format!(
                    "host port {}:{host}/{} for `{}` is in use by another program; stop it or publish `{}` on another port",
                    p.host_ip, p.protocol, step.service, step.service
                ));
            }
        }
    }

    problems.extend(cpu_limits(rt, plan).await?);
    let networks = rt.networks().await.map_err(|e| e.to_string())?;
    problems.extend(super::network::problems(a, &networks));
    let ours: std::collections::BTreeSet<&str> = running.iter().map(|c| c.id.as_str()).collect();
    if let Some(net) = networks.iter().find(|n| n.name == a.network.name) {
        for d in &a.services {
            let Some(ip) = d.container.ip else { continue };
            for (id, held) in &net.containers {
                if held.ip == Some(ip) && !ours.contains(id.as_str()) {
                    problems.push(format!(
                        "static IP {ip} of `{}` is held by the container `{}`, which is not part of this stack; give `{}` another address, or stop that container",
                        d.service, held.name, d.service
                    ));
                }
            }
        }
    }
    for c in running.iter().filter(|c| c.label(label::STACK) != Some(a.stack.as_str())) {
        problems.push(format!("container `{}` is not labelled for this stack", c.name));
    }
    Ok(problems)
}

/// CPU limits the engine can give: a build cannot know the machine, and Docker would
/// refuse the container half way through the switch.
async fn cpu_limits<R: Runtime>(rt: &R, plan: &Plan) -> Result<Vec<String>, String> {
    let limited: Vec<(&str, i64)> = plan
        .changes()
        .filter(|s| matches!(s.action, Action::Create | Action::Recreate))
        .filter_map(|s| Some((s.service.as_str(), s.desired.as_ref()?.container.nano_cpus?)))
        .collect();
    if limited.is_empty() {
        return Ok(Vec::new());
    }
    let Some(cpus) = rt.cpus().await.map_err(|e| e.to_string())? else {
        return Ok(Vec::new());
    };
    Ok(limited
        .into_iter()
        .filter(|(_, nanos)| *nanos > i64::from(cpus) * 1_000_000_000)
        .map(|(service, nanos)| {
            format!(
                "`cpus` of `{service}` is {}, but the Docker engine has {cpus} CPU{}; lower it in the stack script to {cpus} or less",
                nanos as f64 / 1e9,
                if cpus == 1 { "" } else { "s" }
            )
        })
        .collect())
}

/// Images often run as an unprivileged user (Prometheus and Alertmanager as `nobody`):
/// every folder above the live config folder must let others through.
fn unreadable(live: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let absolute = std::path::absolute(live).ok()?;
    let mut dir = absolute.parent();
    while let Some(d) = dir {
        if let Ok(meta) = std::fs::metadata(d)
            && meta.permissions().mode() & 0o001 == 0 {
                return Some(format!(
                    "containers that run as another user cannot reach their config files: `{}` does not let others through; `chmod o+x {}` (or use a --state-dir elsewhere)",
                    d.display(),
                    d.display()
                ));
            }
        dir = d.parent();
    }
    None
}
