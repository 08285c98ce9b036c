//! Settings current releases removed, per component (see the components reference, §1).

use super::Check;
use crate::model::{Component, Kind, Service, Tree, Version};

/// Loki 3.6.5 and 3.7.0 added `loki -health`; images from 3.5.8 have no shell for any
/// other in-container check.
const LOKI_HEALTH: Version = Version::new(3, 6, 5);

pub fn check(check: &mut Check) {
    for s in check.stack.services.values() {
        match &s.component {
            Component::Loki(settings) => loki(check, s, settings),
            Component::Jaeger(settings) => {
                jaeger(check, s);
                jaeger_memory(check, s, settings);
            }
            Component::Grafana(_) => grafana(check, s),
            _ => {}
        }
        if s.kind() != Kind::Container && s.image.repository.is_empty() {
            check.error(&s.span, "", format!("service `{}` has no image", s.name));
        }
    }
}

fn find_key(tree: &Tree, key: &str, path: &str) -> Option<String> {
    match tree {
        Tree::Object(m) => m.iter().find_map(|(k, v)| {
            let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            if k == key { Some(here) } else { find_key(v, key, &here) }
        }),
        Tree::Array(a) => a.iter().enumerate().find_map(|(i, v)| find_key(v, key, &format!("{path}[{i}]"))),
        _ => None,
    }
}

fn loki(check: &mut Check, s: &Service, settings: &Tree) {
    if let Some(path) = find_key(settings, "shared_store", "") {
        let d = check.error(&s.span, "shared_store", format!("`{path}` of `{}` was removed in Loki 3.0", s.name));
        *d = d.clone().help("delete it: the store is the `object_store` of each schema period");
    }
    let configs = settings.get("schema_config").and_then(|c| c.get("configs")).and_then(Tree::as_array);
    let structured = settings.get("limits_config").and_then(|l| l.get("allow_structured_metadata")).and_then(Tree::as_bool) != Some(false);
    for period in configs.into_iter().flatten() {
        let store = period.get("store").and_then(Tree::as_str).unwrap_or("");
        let schema = period.get("schema").and_then(Tree::as_str).unwrap_or("");
        if structured && (store != "tsdb" || schema != "v13") {
            let needle = if store != "tsdb" { store } else { schema };
            let d = check.error(&s.span, needle, format!("schema period of `{}` uses `{store}` with `{schema}`; Loki 3 refuses to start with structured metadata on (which OTLP logs need) unless it is `tsdb` with `v13`", s.name));
            *d = d.clone().help("write `store: \"tsdb\"` and `schema: \"v13\"`, with `index: #{ period: \"24h\" }`");
        }
    }
    let compactor = settings.get("compactor");
    let retention = compactor.and_then(|c| c.get("retention_enabled")).and_then(Tree::as_bool) == Some(true);
    if retention && compactor.and_then(|c| c.get("delete_request_store")).is_none() {
        let d = check.error(&s.span, "retention_enabled", format!("the compactor of `{}` has retention on but no `delete_request_store`; Loki refuses to start", s.name));
        *d = d.clone().help("add `delete_request_store: \"filesystem\"` (the store the chunks are in)");
    }
    let health = s.healthcheck.as_ref().is_some_and(|h| h.test.iter().any(|t| t == "-health"));
    if let (true, Some(v)) = (health, s.version)
        && v < LOKI_HEALTH {
            let d = check.error(&s.span, &s.image.reference, format!("Loki {v} of `{}` has no `-health` flag for its healthcheck (added in {LOKI_HEALTH})", s.name));
            *d = d.clone().help("pin Loki 3.6.5 or later, or give the service a healthcheck of its own");
        }
}

fn jaeger(check: &mut Check, s: &Service) {
    if s.image.repository.ends_with("jaegertracing/all-in-one") {
        let d = check.error(&s.span, &s.image.reference, format!("`{}` uses `jaegertracing/all-in-one`, a Jaeger v1 image no longer published since v2.14.0", s.name));
        *d = d.clone().help("use `jaegertracing/jaeger` (v2), which takes OTLP with no settings");
    }
    for var in ["COLLECTOR_OTLP_ENABLED", "COLLECTOR_OTLP_HTTP_PORT", "COLLECTOR_OTLP_GRPC_PORT"] {
        if s.environment.contains_key(var) {
            let d = check.error(&s.span, var, format!("`{var}` of `{}` is a Jaeger v1 setting; v2 ignores it", s.name));
            *d = d.clone().help("delete it: OTLP is on by default");
        }
    }
}

/// A `max_traces` the container's memory cannot hold by the rule that sizes it when unset
/// (`model::versions::jaeger::BYTES_PER_TRACE` a trace): Jaeger is killed when the store fills.
fn jaeger_memory(check: &mut Check, s: &Service, settings: &Tree) {
    let Some(memory) = &s.memory else { return };
    let fits = crate::model::versions::jaeger::max_traces(s);
    let backends = settings.get("extensions").and_then(|e| e.get("jaeger_storage")).and_then(|j| j.get("backends")).and_then(Tree::as_object);
    for (name, backend) in backends.into_iter().flatten() {
        let Some(max) = backend.get("memory").and_then(|m| m.get("max_traces")).and_then(Tree::as_i64) else { continue };
        if max > fits {
            let d = check.warning(&s.span, "max_traces", format!(
                "`max_traces: {max}` of `{}` (backend `{name}`) may not fit in `memory: \"{}\"`: at about {} KiB a trace it holds {fits}",
                s.name, memory.text(), crate::model::versions::jaeger::BYTES_PER_TRACE >> 10
            ));
            *d = d.clone().help(format!("leave `max_traces` out to size it from `memory` ({fits}), or give the container more `memory`"));
        }
    }
}

fn grafana(check: &mut Check, s: &Service) {
    if s.image.repository.ends_with("grafana/grafana-oss") {
        let d = check.error(&s.span, &s.image.reference, format!("`{}` uses `grafana/grafana-oss`, which gets no new images since 12.4.0", s.name));
        *d = d.clone().help("use `grafana/grafana`");
    }
    if s.environment.contains_key("GF_INSTALL_PLUGINS") {
        let d = check.error(&s.span, "GF_INSTALL_PLUGINS", format!("`GF_INSTALL_PLUGINS` of `{}` is deprecated", s.name));
        *d = d.clone().help("use `GF_PLUGINS_PREINSTALL`; the Jaeger data source is built in and needs no plugin");
    }
}
