//! The plan: for each service the cheapest safe action, like NixOS'
//! switch-to-configuration, and every container that will be touched.

use std::collections::{BTreeMap, BTreeSet};

use crate::deployment::{Reload, Unit, label};
use crate::runtime::ContainerInfo;

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

/// Why a service gets its action: what decides what a switch does with a leftover, and
/// what the plan says to the reader ([`std::fmt::Display`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Nothing changed (with [`Action::Keep`]).
    Unchanged,
    NotRunning,
    Image { from: String, to: String },
    /// Command, environment, ports, mounts, network or address.
    Spec,
    /// A secret's value changed (values are never shown).
    Secret,
    /// A secret comes from somewhere else (the review: values are read at switch time).
    SecretSource,
    Stopped,
    /// The config files it reads changed (`known: false`: the running container's config is
    /// unknown); `reloads`: whether it takes them in place.
    Config { known: bool, reloads: bool },
    /// A container of an interrupted switch (its service is still in the stack).
    LeftOver,
    /// The service is no longer in the stack.
    Gone,
}

impl Reason {
    pub fn is_unchanged(&self) -> bool {
        *self == Reason::Unchanged
    }
}

/// As the plan prints it: JSON readers get the same sentence as people.
impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = |known: bool| if known { "config files changed" } else { "config of the running container unknown" };
        match self {
            Reason::Unchanged => Ok(()),
            Reason::NotRunning => f.write_str("not running"),
            Reason::Image { from, to } => write!(f, "image {from} → {to}"),
            Reason::Spec => f.write_str("command, environment, ports, mounts, network or address changed"),
            Reason::Secret => f.write_str("a secret changed (values are never shown)"),
            Reason::SecretSource => f.write_str("a secret's source changed; recreated if its value differs"),
            Reason::Stopped => f.write_str("stopped"),
            Reason::Config { known, reloads: true } => f.write_str(why(*known)),
            Reason::Config { known, reloads: false } => write!(f, "{}; it cannot reload", why(*known)),
            Reason::LeftOver => f.write_str("left over from an interrupted switch"),
            Reason::Gone => f.write_str("no longer in the stack"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Step {
    pub service: String,
    pub action: Action,
    pub reason: Reason,
    /// The container there now, if any.
    pub current: Option<ContainerInfo>,
    /// What the service should be; `None` for removals.
    pub desired: Option<Unit>,
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
pub fn plan(desired: &[Unit], running: &[ContainerInfo], applied: Option<&BTreeMap<String, String>>) -> Plan {
    let steps = decide(desired, running, applied)
        .into_iter()
        .map(|d| Step { service: d.service.to_owned(), action: d.action, reason: d.reason, current: d.current.cloned(), desired: d.desired.cloned() })
        .collect();
    Plan { steps }
}

/// A [`Step`] decided, before anything is copied: what an offline plan (the review's)
/// reads without the containers' specs.
#[derive(Debug)]
pub struct Decision<'a> {
    pub service: &'a str,
    pub action: Action,
    pub reason: Reason,
    pub current: Option<&'a ContainerInfo>,
    pub desired: Option<&'a Unit>,
}

/// The steps of [`plan`], in its order, borrowing what they are about.
pub fn decide<'a>(desired: &'a [Unit], running: &'a [ContainerInfo], applied: Option<&BTreeMap<String, String>>) -> Vec<Decision<'a>> {
    let mut steps = Vec::new();
    let wanted: BTreeSet<&str> = desired.iter().map(|d| d.name.as_str()).collect();
    let services: BTreeSet<&str> = desired.iter().map(|d| d.service.as_str()).collect();
    // By name, the first of each (Docker keeps names unique): a thousand services are not
    // a million comparisons.
    let mut by_name: BTreeMap<&str, &ContainerInfo> = BTreeMap::new();
    for c in running {
        by_name.entry(c.name.as_str()).or_insert(c);
    }
    for d in order(desired) {
        let current = by_name.get(d.name.as_str()).copied();
        let (action, reason) = match current {
            None => (Action::Create, Reason::NotRunning),
            Some(c) if c.label(label::SPEC) != Some(d.spec_hash.as_str()) => (Action::Recreate, recreate_reason(c, d)),
            // A container mounts a secret file by inode: a new value needs a new container.
            Some(c) if d.secrets_digest.is_some() && c.label(label::SECRETS) != d.secrets_digest.as_deref() => {
                (Action::Recreate, Reason::Secret)
            }
            Some(c) if !c.running => (Action::Restart, Reason::Stopped),
            Some(_) => match applied.and_then(|a| a.get(&d.service)) {
                Some(hash) if *hash == d.config_hash => (Action::Keep, Reason::Unchanged),
                known => {
                    let known = known.is_some();
                    match d.reload {
                        Reload::Restart => (Action::Restart, Reason::Config { known, reloads: false }),
                        _ => (Action::Reload, Reason::Config { known, reloads: true }),
                    }
                }
            },
        };
        steps.push(Decision { service: &d.service, action, reason, current, desired: Some(d) });
    }
    let mut extra: Vec<&ContainerInfo> = running.iter().filter(|c| !wanted.contains(c.name.as_str())).collect();
    extra.sort_by(|a, b| a.name.cmp(&b.name));
    for c in extra {
        let service = c.label(label::SERVICE).unwrap_or(&c.name);
        let reason = if services.contains(service) { Reason::LeftOver } else { Reason::Gone };
        steps.push(Decision { service, action: Action::Remove, reason, current: Some(c), desired: None });
    }
    steps
}

/// The container a build's service would be once switched to, as the runtime would report
/// it: what an offline plan (the review's) takes the old build's services to be.
pub fn as_running(d: &Unit) -> ContainerInfo {
    let mut labels = d.container.labels.clone();
    labels.insert(label::SPEC.to_owned(), d.spec_hash.clone());
    ContainerInfo {
        id: String::new(),
        name: d.name.clone(),
        image: d.container.image.clone(),
        labels,
        running: true,
        health: None,
        ports: Vec::new(),
        addresses: BTreeMap::new(),
        exit_code: None,
    }
}

fn recreate_reason(c: &ContainerInfo, d: &Unit) -> Reason {
    if c.image != d.container.image {
        Reason::Image { from: c.image.clone(), to: d.container.image.clone() }
    } else {
        Reason::Spec
    }
}

/// Services in an order where each comes after what it depends on (names break ties).
fn order(desired: &[Unit]) -> Vec<&Unit> {
    let by_name: BTreeMap<&str, &Unit> = desired.iter().map(|d| (d.service.as_str(), d)).collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    fn visit<'a>(name: &'a str, by_name: &BTreeMap<&'a str, &'a Unit>, done: &mut BTreeSet<&'a str>, out: &mut Vec<&'a Unit>, depth: usize) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Unit;
    use crate::model::Kind;

    fn running(u: &Unit, spec: &str) -> ContainerInfo {
        let mut c = as_running(u);
        c.labels.insert(label::SPEC.to_owned(), spec.to_owned());
        c.labels.insert(label::SERVICE.to_owned(), u.service.clone());
        c
    }

    /// Each service is matched with its own container, left-over and gone containers are
    /// told apart, and the first of two containers with one name is the one compared.
    #[test]
    fn each_service_meets_its_own_container() {
        let units: Vec<Unit> = (0..200).map(|i| Unit::for_tests("s", &format!("svc-{i:03}"), Kind::Container)).collect();
        let mut containers: Vec<ContainerInfo> = units.iter().rev().map(|u| running(u, &u.spec_hash)).collect();
        // svc-007 runs an old spec (listed before its current one); svc-008 is not running.
        containers.retain(|c| c.name != units[8].name);
        let at = containers.iter().position(|c| c.name == units[7].name).unwrap_or(0);
        containers.insert(at, running(&units[7], "old"));
        // A temporary container of svc-003 (its service label, another name), and one whose
        // service is gone.
        let mut temporary = running(&units[3], &units[3].spec_hash);
        temporary.name.push_str("-next");
        let mut gone = running(&Unit::for_tests("s", "retired", Kind::Container), "x");
        gone.name = "s-retired".to_owned();
        containers.extend([temporary, gone]);
        let applied: BTreeMap<String, String> = units.iter().map(|u| (u.service.clone(), u.config_hash.clone())).collect();

        let p = plan(&units, &containers, Some(&applied));
        let of = |s: &str, a: Action| p.steps.iter().find(|x| x.service == s && x.action == a).map(|x| x.reason.clone());
        assert_eq!(of("svc-007", Action::Recreate), Some(Reason::Spec));
        assert_eq!(of("svc-008", Action::Create), Some(Reason::NotRunning));
        assert_eq!(of("svc-003", Action::Keep), Some(Reason::Unchanged));
        assert_eq!(of("svc-003", Action::Remove), Some(Reason::LeftOver));
        assert_eq!(of("retired", Action::Remove), Some(Reason::Gone));
        // svc-007's second container has its name too: it is no left-over of another service.
        assert_eq!(p.changes().count(), 4);
        assert_eq!(p.steps.iter().filter(|s| s.action == Action::Keep).count(), 198);
    }
}
