//! Alertmanager's config: the route tree, with a route for every receiver an alert rule
//! names, ahead of the routes the script wrote.

use std::collections::BTreeSet;

use super::Doc;
use crate::build::layout::{config_file, in_container};
use crate::model::{Alertmanager, Component, Service, Stack};


pub fn command(service: &Service) -> Vec<String> {
    vec![
        format!("--config.file={}", in_container(&config_file(service))),
        "--storage.path=/alertmanager".to_owned(),
        // One instance: no HA gossip on 9094.
        "--cluster.listen-address=".to_owned(),
    ]
}

/// Receivers named by alert rules of Prometheus servers of the stack, in name order.
pub fn rule_receivers(stack: &Stack) -> BTreeSet<String> {
    stack
        .services
        .values()
        .filter_map(|s| match &s.component {
            Component::Prometheus(p) => Some(p),
            _ => None,
        })
        .flat_map(|p| p.rule_groups.iter().flat_map(|g| g.rules.iter().filter_map(|r| r.receiver.clone())))
        .collect()
}

pub fn config(stack: &Stack, am: &Alertmanager) -> Doc {
    let mut settings = am.settings.clone();
    let route_settings = settings.as_object_mut().and_then(|m| m.remove("route"));
    let mut doc = Doc::map();
    if let Some(global) = settings.as_object_mut().and_then(|m| m.remove("global")) {
        doc.set("global", Doc::from_tree(&global));
    }

    let default = am.root_receiver();
    let mut route = Doc::map().with("receiver", default);
    if let Some(r) = &route_settings {
        route.merge_tree(r);
    }
    route.order_keys(&["receiver", "group_by", "group_wait", "group_interval", "repeat_interval"]);
    let mut routes = Vec::new();
    for receiver in rule_receivers(stack).into_iter().filter(|r| am.receivers.contains_key(r)) {
        routes.push(
            Doc::map()
                .with("receiver", receiver.as_str())
                .with("matchers", Doc::strs([format!("receiver=\"{receiver}\"")])),
        );
    }
    for r in &am.routes {
        let mut d = Doc::map().with("receiver", &r.receiver);
        if !r.matchers.is_empty() {
            d.set("matchers", Doc::strs(r.matchers.clone()));
        }
        d.merge_tree(&r.settings);
        routes.push(d);
    }
    if !routes.is_empty() {
        route.set("routes", Doc::Seq(routes));
    }
    doc.set("route", route);

    let receivers = am.receivers.iter().map(|(name, e)| {
        let mut d = Doc::map().with("name", name.as_str());
        d.merge_tree(&e.settings);
        d
    });
    doc.set("receivers", Doc::Seq(receivers.collect()));
    doc.merge_tree(&settings);
    doc
}
