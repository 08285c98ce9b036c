//! The plan: for each service the cheapest safe action, like NixOS'
//! switch-to-configuration, and every container that will be touched.

use std::collections::{BTreeMap, BTreeSet};

use super::desired::{Desired, Reload};
use crate::runtime::{ContainerInfo, label};

/// What happens to one service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Nothing changed.
    Keep,
    /// Only its config files changed and it can reload them in place.
    Reload,
    /// Its config files changed and it cannot reload, or it is stopped.
    Restart,
    /// Image, command, environment, ports, mounts, network or address changed.
    Recreate,
    /// New service.
    Create,
    /// The stack no longer has it (or it is a leftover of an interrupted switch).
    Remove,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Keep => "keep",
            Action::Reload => "reload",
            Action::Restart => "restart",
            Action::Recreate => "recreate",
            Action::Create => "create",
            Action::Remove => "remove",
        }
    }

    /// Whether the action touches a container.
    pub fn touches(self) -> bool {
        self != Action::Keep
    }
}

#[derive(Clone, Debug)]
pub struct Step {
    pub service: String,
    pub action: Action,
    pub reason: String,
    /// The container there now, if any.
    pub current: Option<ContainerInfo>,
    /// What the service should be; `None` for removals.
    pub desired: Option<Desired>,
}

#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// In the order they are applied: dependencies first, removals last.
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action.touches())
    }

    pub fn is_noop(&self) -> bool {
        self.changes().next().is_none()
    }
}

/// Compares what runs (`running`: every container labelled with the stack) with what
/// should (`desired`). `applied` is the config hash each service runs with now (from the
/// current generation), `None` when unknown: then a running service whose spec matches is
/// restarted to be sure it reads the target config.
pub fn plan(desired: &[Desired], running: &[ContainerInfo], applied: Option<&BTreeMap<String, String>>) -> Plan {
    let mut steps = Vec::new();
    let wanted: BTreeSet<&str> = desired.iter().map(|d| d.spec.name.as_str()).collect();
    for d in order(desired) {
        let current = running.iter().find(|c| c.name == d.spec.name).cloned();
        let (action, reason) = match &current {
            None => (Action::Create, "not running".to_owned()),
            Some(c) if c.label(label::SPEC) != Some(d.spec_hash.as_str()) => (Action::Recreate, recreate_reason(c, d)),
            // A container mounts a secret file by inode: a new value needs a new container.
            Some(c) if d.secrets_digest.is_some() && c.label(label::SECRETS) != d.secrets_digest.as_deref() => {
                (Action::Recreate, "a secret changed (values are never shown)".to_owned())
            }
            Some(c) if !c.running => (Action::Restart, "stopped".to_owned()),
            Some(_) => match applied.and_then(|a| a.get(&d.service)) {
                Some(hash) if *hash == d.config_hash => (Action::Keep, String::new()),
                known => {
                    let why = if known.is_some() { "config files changed" } else { "config of the running container unknown" };
                    match d.reload {
                        Reload::Restart => (Action::Restart, format!("{why}; it cannot reload")),
                        _ => (Action::Reload, why.to_owned()),
                    }
                }
            },
        };
        steps.push(Step { service: d.service.clone(), action, reason, current, desired: Some(d.clone()) });
    }
    let mut extra: Vec<&ContainerInfo> = running.iter().filter(|c| !wanted.contains(c.name.as_str())).collect();
    extra.sort_by(|a, b| a.name.cmp(&b.name));
    for c in extra {
        let service = c.label(label::SERVICE).unwrap_or(&c.name).to_owned();
        let reason = if desired.iter().any(|d| d.service == service) {
            "left over from an interrupted switch".to_owned()
        } else {
            "no longer in the stack".to_owned()
        };
        steps.push(Step { service, action: Action::Remove, reason, current: Some(c.clone()), desired: None });
    }
    Plan { steps }
}

fn recreate_reason(c: &ContainerInfo, d: &Desired) -> String {
    if c.image != d.spec.image {
        format!("image {} → {}", c.image, d.spec.image)
    } else {
        "command, environment, ports, mounts, network or address changed".to_owned()
    }
}

/// Services in an order where each comes after what it depends on (names break ties).
fn order(desired: &[Desired]) -> Vec<&Desired> {
    let by_name: BTreeMap<&str, &Desired> = desired.iter().map(|d| (d.service.as_str(), d)).collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    fn visit<'a>(name: &'a str, by_name: &BTreeMap<&'a str, &'a Desired>, done: &mut BTreeSet<&'a str>, out: &mut Vec<&'a Desired>, depth: usize) {
        if done.contains(name) || depth > by_name.len() {
            return;
        }
        let Some(d) = by_name.get(name) else { return };
        for dep in &d.depends_on {
            visit(dep, by_name, done, out, depth + 1);
        }
        if done.insert(name) {
            out.push(d);
        }
    }
    for name in by_name.keys() {
        visit(name, &by_name, &mut done, &mut out, 0);
    }
    out
}
