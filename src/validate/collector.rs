//! The collector's pipelines, components and listeners, for the pinned version.

use std::collections::BTreeMap;

use super::Check;
use super::hosts::{check_target, host_port, is_loopback};
use crate::diagnostic::suggest;
use crate::model::{Collector, Entry, Pipeline, Service, Tree, Version};

/// Components removed from the collector, with the version that removed them and the fix.
const REMOVED: [(&str, Version, &str); 4] = [
    ("logging", Version::new(0, 111, 0), "use the `debug` exporter; `verbosity: \"detailed\"` prints what `loglevel: debug` did"),
    ("jaeger", Version::new(0, 85, 0), "Jaeger takes OTLP: use `otlp_grpc` with `endpoint: \"jaeger:4317\"` and `tls: #{ insecure: true }`"),
    ("jaeger_thrift", Version::new(0, 85, 0), "Jaeger takes OTLP: use `otlp_grpc` with `endpoint: \"jaeger:4317\"`"),
    ("loki", Version::new(0, 131, 0), "Loki takes OTLP: use `otlp_http` with `endpoint: \"http://loki:3100/otlp\"`"),
];

use crate::model::versions::collector::{NEWEST, RENAMES, Section};

pub fn check(check: &mut Check) {
    for s in check.stack.services.values() {
        if let crate::model::Component::Collector(c) = &s.component {
            let version = s.version.unwrap_or(NEWEST);
            components(check, s, c, version);
            pipelines(check, s, c);
            exporters(check, s, c);
            storage(check, s, c);
            listeners(check, s, c);
            memory(check, s, c);
        }
    }
}

/// A memory_limiter whose hard limit is at or above the container's memory never refuses
/// anything: the kernel kills the collector first.
fn memory(check: &mut Check, s: &Service, c: &Collector) {
    let Some(memory) = &s.memory else { return };
    let container_mib = memory.bytes() >> 20;
    for (id, e) in c.processors.iter().filter(|(id, _)| Entry::type_of(id) == "memory_limiter") {
        let Some(limit) = e.settings.get("limit_mib").and_then(Tree::as_i64) else { continue };
        if limit < container_mib {
            continue;
        }
        let d = check.error(&s.span, "memory_limit_mib", format!(
            "processor `{id}` of `{}` allows {limit} MiB, but the container has `memory: \"{}\"` ({container_mib} MiB): the kernel kills the collector before the limiter refuses any data",
            s.name, memory.text()
        ));
        *d = d.clone().help(format!(
            "leave `memory_limit_mib` out to limit at 80% of the container's memory (`limit_percentage: 80`), or set it below {container_mib}, such as {}",
            container_mib * 4 / 5
        ));
    }
}

fn components(check: &mut Check, s: &Service, c: &Collector, version: Version) {
    for (id, e) in &c.exporters {
        let kind = Entry::type_of(id);
        for (removed, since, fix) in REMOVED {
            if kind == removed && version >= since {
                let d = check.error(&e.span, id, format!("exporter `{id}` of `{}`: the `{removed}` exporter was removed in collector v{since}", s.name));
                *d = d.clone().help(fix);
            }
        }
        if contains_key(&e.settings, "loglevel") {
            let d = check.error(&e.span, "loglevel", format!("exporter `{id}` of `{}` sets `loglevel`, which became `verbosity` in v0.63.0", s.name));
            *d = d.clone().help("write `verbosity: \"detailed\"` (or \"basic\", \"normal\")");
        }
    }
    let sections: [(Section, &BTreeMap<String, Entry>); 2] = [(Section::Exporters, &c.exporters), (Section::Receivers, &c.receivers)];
    for (section, entries) in sections {
        let what = section.singular();
        for (id, e) in entries {
            let kind = Entry::type_of(id);
            // Renames are per section: `otlp` is still the receiver's name.
            for (_, new, old, since) in RENAMES.iter().filter(|(renamed, ..)| *renamed == section) {
                if kind == *old && version >= *since {
                    let renamed = id.replacen(old, new, 1);
                    let d = check.error(&e.span, id, format!("{what} `{id}` of `{}` uses the old name `{old}`, renamed `{new}` in v{since}", s.name));
                    *d = d.clone().label(format!("write `{renamed}`")).note("old names still start, but log a deprecation warning every time");
                }
            }
        }
    }
    if c.telemetry.get("metrics").and_then(|m| m.get("address")).is_some() {
        let d = check.error(&s.span, "address", format!("`service.telemetry.metrics.address` of `{}` no longer exists (ignored since v0.123.0)", s.name));
        *d = d.clone().help("use `readers: [#{ pull: #{ exporter: #{ prometheus: #{ host: \"0.0.0.0\", port: 8888 } } } }]`");
    }
}

fn contains_key(tree: &Tree, key: &str) -> bool {
    match tree {
        Tree::Object(m) => m.contains_key(key) || m.values().any(|v| contains_key(v, key)),
        Tree::Array(a) => a.iter().any(|v| contains_key(v, key)),
        _ => false,
    }
}

fn pipelines(check: &mut Check, s: &Service, c: &Collector) {
    if c.pipelines.is_empty() {
        let d = check.error(&s.span, "", format!("collector `{}` has no pipelines; it would not start", s.name));
        *d = d.clone().help("wire a backend: `hub.send(\"logs\", loki)`, or declare one with `pipeline(...)`");
    }
    for (id, p) in &c.pipelines {
        if Pipeline::signal(id).is_none() {
            let d = check.error(&p.span, id, format!("pipeline `{id}` of `{}` does not start with a signal", s.name));
            *d = d.clone().help("name pipelines `traces`, `metrics` or `logs`, optionally followed by `/name`");
        }
        let owner = format!("pipeline `{id}` of `{}`", s.name);
        refs(check, p, &owner, "receiver", &p.receivers, &[&c.receivers, &c.connectors]);
        refs(check, p, &owner, "processor", &p.processors, &[&c.processors]);
        refs(check, p, &owner, "exporter", &p.exporters, &[&c.exporters, &c.connectors]);
        if p.receivers.is_empty() {
            check.error(&p.span, id, format!("{owner} has no receivers"));
        }
        if p.exporters.is_empty() {
            check.error(&p.span, id, format!("{owner} has no exporters"));
        }
        let first = p.processors.first().map(|x| Entry::type_of(x));
        if first != Some("memory_limiter") {
            let has = c.processors.keys().find(|k| Entry::type_of(k) == "memory_limiter").cloned();
            let d = check.error(&p.span, id, format!("{owner} does not start with `memory_limiter`"));
            *d = match has {
                Some(ml) => d.clone().help(format!("put `{ml}` first in its processors, before anything that buffers or transforms")),
                None => d.clone().help("add a `memory_limiter` processor and put it first: without it the collector buffers until it is killed"),
            };
        }
    }
}

fn refs(check: &mut Check, p: &Pipeline, owner: &str, what: &str, names: &[String], known: &[&BTreeMap<String, Entry>]) {
    for name in names {
        if known.iter().any(|k| k.contains_key(name)) {
            continue;
        }
        let candidates: Vec<&str> = known.iter().flat_map(|k| k.keys().map(String::as_str)).collect();
        let d = check.error(&p.span, name, format!("{owner} names {what} `{name}`, which is not declared"));
        *d = match suggest(name, candidates.iter().copied()) {
            Some(b) => d.clone().label(format!("did you mean `{b}`?")),
            None if candidates.is_empty() => d.clone().help(format!("declare it with `{what}(\"{name}\", #{{ ... }})`")),
            None => d.clone().help(format!("declared {what}s: `{}`", candidates.join("`, `"))),
        };
    }
}

const ENDPOINT_KEYS: [&str; 4] = ["endpoint", "traces_endpoint", "metrics_endpoint", "logs_endpoint"];

fn exporters(check: &mut Check, s: &Service, c: &Collector) {
    for (id, e) in &c.exporters {
        let kind = Entry::type_of(id);
        // The prometheus exporter's endpoint is where it listens, not where it sends.
        if kind == "prometheus" {
            continue;
        }
        for key in ENDPOINT_KEYS {
            let Some(endpoint) = e.settings.get(key).and_then(Tree::as_str) else { continue };
            let owner = format!("exporter `{id}` of `{}`", s.name);
            check_target(check, &e.span, &owner, &format!("`{key}`"), endpoint, false);
            if key == "endpoint" && ["otlp_http", "otlphttp"].contains(&kind) {
                for signal in ["/v1/logs", "/v1/metrics", "/v1/traces"] {
                    if endpoint.trim_end_matches('/').ends_with(signal) {
                        let base = endpoint.trim_end_matches('/').trim_end_matches(signal);
                        let d = check.error(&e.span, endpoint, format!("{owner} has `{endpoint}` as its base `endpoint`; the exporter appends `{signal}` itself"));
                        *d = d.clone().label(format!("write `{base}`"));
                    }
                }
            }
            let scheme = endpoint.contains("://");
            let insecure = e.settings.get("tls").and_then(|t| t.get("insecure")).and_then(Tree::as_bool) == Some(true);
            if ["otlp_grpc", "otlp"].contains(&kind) && !scheme && !insecure {
                let d = check.error(&e.span, endpoint, format!("{owner} connects to `{endpoint}` with TLS (the default without `http://`)"));
                *d = d.clone().help("inside the stack, set `tls: #{ insecure: true }` (or write `http://` in front)");
            }
        }
    }
}

/// `storage` (a receiver's offsets, an exporter's `sending_queue`) names a storage
/// extension; the collector refuses to start when it is not declared.
fn storage(check: &mut Check, s: &Service, c: &Collector) {
    let declared: Vec<&str> = c.extensions.keys().map(String::as_str).collect();
    for (section, entries) in [("receiver", &c.receivers), ("exporter", &c.exporters)] {
        for (id, e) in entries {
            let named = [e.settings.get("storage"), e.settings.get("sending_queue").and_then(|q| q.get("storage"))];
            for ext in named.into_iter().flatten().filter_map(Tree::as_str) {
                if declared.contains(&ext) {
                    continue;
                }
                let d = check.error(&e.span, ext, format!("{section} `{id}` of `{}` keeps its state in extension `{ext}`, which is not declared", s.name));
                *d = match suggest(ext, declared.iter().copied()) {
                    Some(b) => d.clone().label(format!("did you mean `{b}`?")),
                    None => d.clone().help(format!("declare it: `extension(\"{ext}\", #{{ directory: \"/var/lib/otelcol/file_storage\" }})` with a volume there")),
                };
            }
        }
    }
}

/// Receivers and extensions must listen on 0.0.0.0: since v0.104.0 the default is
/// localhost, which no other container can reach.
fn listeners(check: &mut Check, s: &Service, c: &Collector) {
    for (section, entries) in [(Section::Receivers, &c.receivers), (Section::Extensions, &c.extensions)] {
        let (one, key) = (section.singular(), section.key());
        for (id, e) in entries {
            let mut found = Vec::new();
            endpoints(&e.settings, "", &mut found);
            for (path, endpoint) in found {
                if let Some((host, _)) = host_port(&endpoint)
                    && (is_loopback(&host) || host.is_empty()) {
                        let port = endpoint.rsplit(':').next().unwrap_or("");
                        let d = check.error(&e.span, &endpoint, format!("{one} `{id}` of `{}` listens on `{endpoint}`, which other containers cannot reach", s.name));
                        *d = d.clone().label(format!("write `0.0.0.0:{port}`")).note(format!("at `{key}.{id}{path}`"));
                    }
            }
            if section == Section::Receivers && Entry::type_of(id) == "otlp"
                && let Some(protocols) = e.settings.get("protocols").and_then(Tree::as_object) {
                    for (proto, cfg) in protocols {
                        if cfg.get("endpoint").is_none() {
                            let port = if proto == "grpc" { 4317 } else { 4318 };
                            let d = check.error(&e.span, proto, format!("receiver `{id}` of `{}`: protocol `{proto}` has no `endpoint`, so it listens on localhost only", s.name));
                            *d = d.clone().help(format!("write `endpoint: \"0.0.0.0:{port}\"`"));
                        }
                    }
                }
        }
    }
}

fn endpoints(tree: &Tree, path: &str, out: &mut Vec<(String, String)>) {
    if let Tree::Object(m) = tree {
        for (k, v) in m {
            let p = format!("{path}.{k}");
            match v {
                Tree::String(s) if k == "endpoint" => out.push((p, s.clone())),
                Tree::Object(_) => endpoints(v, &p, out),
                _ => {}
            }
        }
    }
}
