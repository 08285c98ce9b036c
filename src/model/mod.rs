//! The typed stack: what a script described, after its values were checked for shape.
//!
//! Pure data. `evaluate` builds it, `validate` checks its cross-references, `render` turns
//! it into files. Every declaration keeps the [`Span`] of the script call that made it.

mod collector;
mod grafana;
mod hosts;
mod image;
mod net;
mod placement;
mod prometheus;
mod secret;
mod service;
mod units;
pub mod versions;

pub use collector::{Collector, Entry, Pipeline, Signal};
pub use grafana::{Dashboard, Datasource, Grafana, Panel, PanelKind, PanelLink, Query};
pub use hosts::{HostEntry, Hosts, host_name_problem};
pub use image::{Image, ImageProblem, Version};
pub use net::{Network, Port, Protocol, Subnet};
pub use placement::{Attribute, Constraint, Engine, Mode, Placement, UpdateOrder, monitor, pin_label};
pub use prometheus::{
    AlertCase, Alertmanager, ExpectedAlert, Prometheus, Route, Rule, RuleGroup, RuleTest, ScrapeJob, is_label_name,
    MatcherOp, parse_matcher,
};
pub use secret::{SECRETS_MOUNT, Secret, looks_secret};
pub use units::{Cpus, Dialect, Duration, MIN_MEMORY, Memory, PrometheusSize};
pub use service::{
    App, Component, Container, File, FileFormat, Healthcheck, Ingest, Kind, Probe, PushReceiver,
    Restart, Service, Volume,
};

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diagnostic::Span;

/// A stack: one Docker network, its services, and the instrumented apps that feed it.
#[derive(Clone, Debug, Serialize)]
pub struct Stack {
    /// Names the store path and the compose project; `[a-z0-9][a-z0-9-]*`.
    pub name: String,
    /// Where `stack(...)` was called, if it was.
    pub span: Option<Span>,
    /// What the build is for; `engine_span` is where the script said so, if it did.
    pub engine: Engine,
    pub engine_span: Option<Span>,
    pub network: Network,
    pub services: BTreeMap<String, Service>,
    pub apps: BTreeMap<String, App>,
    /// `hosts_entry(address, name)` declarations, for the machine's hosts file.
    pub hosts: Hosts,
}

impl Stack {
    /// The engine's name of a named volume of the stack.
    pub fn volume_name(&self, volume: &str) -> String {
        format!("{}-{volume}", self.name)
    }

    /// Services of one kind, in name order.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Service> {
        self.services.values().filter(move |s| s.kind() == kind)
    }

    /// The hosts file entries: name → address (call after validation).
    pub fn host_addresses(&self) -> BTreeMap<String, std::net::IpAddr> {
        hosts::addresses(&self.hosts)
    }

    /// The collector apps send to when they do not name one: the only collector.
    pub fn sole_collector(&self) -> Option<&Service> {
        let mut collectors = self.of_kind(Kind::Collector);
        let first = collectors.next()?;
        collectors.next().is_none().then_some(first)
    }
}

/// A generic settings tree (a component's YAML), keys sorted for determinism.
pub type Tree = serde_json::Value;

/// Sets `value` at the dotted `path` inside `tree`, creating maps on the way.
pub fn set_path(tree: &mut Tree, path: &[&str], value: Tree) {
    let Some((last, parents)) = path.split_last() else {
        *tree = value;
        return;
    };
    let mut node = tree;
    for key in parents {
        if !node.is_object() {
            *node = Tree::Object(Default::default());
        }
        let Tree::Object(map) = node else { return };
        node = map.entry((*key).to_owned()).or_insert_with(|| Tree::Object(Default::default()));
    }
    if !node.is_object() {
        *node = Tree::Object(Default::default());
    }
    if let Tree::Object(map) = node {
        map.insert((*last).to_owned(), value);
    }
}

/// Deep merge: maps merge key by key, anything else in `over` replaces what is in `base`.
/// `null` in `over` deletes the key, so a user can remove a default setting.
pub fn merge(base: &mut Tree, over: &Tree) {
    match (base, over) {
        (Tree::Object(b), Tree::Object(o)) => {
            for (k, v) in o {
                if v.is_null() {
                    b.remove(k);
                } else {
                    merge(b.entry(k.clone()).or_insert(Tree::Null), v);
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_is_deep_and_null_deletes() {
        let mut base = json!({"a": {"b": 1, "c": 2}, "d": [1]});
        merge(&mut base, &json!({"a": {"b": 5, "c": null}, "d": [2, 3]}));
        assert_eq!(base, json!({"a": {"b": 5}, "d": [2, 3]}));
    }

    #[test]
    fn set_path_creates_maps() {
        let mut t = json!({});
        set_path(&mut t, &["limits_config", "retention_period"], json!("168h"));
        assert_eq!(t, json!({"limits_config": {"retention_period": "168h"}}));
    }
}
