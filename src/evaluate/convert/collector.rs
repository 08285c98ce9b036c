//! OpenTelemetry Collector settings → typed components and pipelines; `send` wiring.

use std::collections::BTreeMap;

use super::{Cx, common};
use crate::diagnostic::Span;
use crate::evaluate::builder::{Op, Section, ServiceDecl};
use crate::model::{Collector, Component, Entry, Ingest, Pipeline, PushReceiver, ScrapeJob, Service, Signal, Tree};

const TOP_LEVEL: [&str; 6] = ["receivers", "processors", "exporters", "connectors", "extensions", "service"];
const SERVICE_KEYS: [&str; 3] = ["pipelines", "telemetry", "extensions"];

pub fn collector(cx: &mut Cx, decl: &ServiceDecl) -> Collector {
    let settings = common::settings(cx, decl);
    let span = &decl.span;
    let mut c = Collector { telemetry: common::empty(), ..Default::default() };
    let Tree::Object(top) = settings else { return c };
    for (key, value) in &top {
        if !TOP_LEVEL.contains(&key.as_str()) {
            let at = cx.find(span, key);
            let d = cx.error(&at, format!("unknown collector setting `{key}` in service `{}`", decl.name));
            *d = d.clone().suggesting(key, TOP_LEVEL).help("the collector's top-level keys are receivers, processors, exporters, connectors, extensions and service");
            continue;
        }
        if key == "service" {
            service_section(cx, decl, value, &mut c);
            continue;
        }
        let Some(section) = Section::ALL.into_iter().find(|s| s.key() == key) else { continue };
        let Tree::Object(entries) = value else {
            let at = cx.find(span, key);
            cx.error(&at, format!("collector `{key}` of service `{}` must be a map of id to settings", decl.name));
            continue;
        };
        for (id, settings) in entries {
            let settings = if settings.is_null() { common::empty() } else { settings.clone() };
            section_map(&mut c, section).insert(id.clone(), Entry { settings, span: span.clone() });
        }
    }
    for op in &decl.ops {
        match op {
            Op::Component { section, id, settings, span } => {
                let map = section_map(&mut c, *section);
                match map.get_mut(id) {
                    Some(existing) => {
                        crate::model::merge(&mut existing.settings, settings);
                        existing.span = span.clone();
                    }
                    None => {
                        map.insert(id.clone(), Entry { settings: settings.clone(), span: span.clone() });
                    }
                }
            }
            Op::Pipeline { id, spec, span } => {
                c.pipelines.insert(id.clone(), Pipeline {
                    receivers: spec.receivers.clone(),
                    processors: spec.processors.clone(),
                    exporters: spec.exporters.clone(),
                    span: span.clone(),
                });
            }
            _ => {}
        }
    }
    c
}

fn service_section(cx: &mut Cx, decl: &ServiceDecl, value: &Tree, c: &mut Collector) {
    let span = &decl.span;
    let Tree::Object(service) = value else {
        cx.error(span, format!("collector `service` of `{}` must be a map", decl.name));
        return;
    };
    for (key, value) in service {
        match key.as_str() {
            "telemetry" => c.telemetry = value.clone(),
            // Every declared extension is enabled; the list is derived when rendering.
            "extensions" => {}
            "pipelines" => {
                let Tree::Object(pipelines) = value else { continue };
                for (id, p) in pipelines {
                    let list = |k: &str| -> Vec<String> {
                        p.get(k)
                            .and_then(Tree::as_array)
                            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                            .unwrap_or_default()
                    };
                    c.pipelines.insert(id.clone(), Pipeline {
                        receivers: list("receivers"),
                        processors: list("processors"),
                        exporters: list("exporters"),
                        span: span.clone(),
                    });
                }
            }
            other => {
                let at = cx.find(span, other);
                let d = cx.error(&at, format!("unknown collector setting `service.{other}` in `{}`", decl.name));
                *d = d.clone().suggesting(other, SERVICE_KEYS);
            }
        }
    }
}

fn section_map(c: &mut Collector, section: Section) -> &mut BTreeMap<String, Entry> {
    match section {
        Section::Receivers => &mut c.receivers,
        Section::Processors => &mut c.processors,
        Section::Exporters => &mut c.exporters,
        Section::Connectors => &mut c.connectors,
        Section::Extensions => &mut c.extensions,
    }
}

/// The processors of a new pipeline in the order the collector's docs recommend:
/// `memory_limiter` first, `batch` last, the rest by name between them.
pub fn processor_chain(processors: &BTreeMap<String, Entry>) -> Vec<String> {
    let rank = |id: &str| match Entry::type_of(id) {
        "memory_limiter" => 0,
        "batch" => 2,
        _ => 1,
    };
    let mut ids: Vec<String> = processors.keys().cloned().collect();
    ids.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    ids
}

/// `collector.send(signal, backend)`: an exporter for the backend, added to the signal's
/// pipeline (made if missing); for pull backends, a scrape job on the backend instead of a push.
/// `via` picks one of the backend's other ways of taking the signal.
pub fn send(
    cx: &mut Cx,
    services: &mut [Service],
    index: usize,
    signal: Signal,
    backend: usize,
    via: Option<&str>,
    span: &Span,
) {
    let backend_name = services[backend].name.clone();
    let collector_name = services[index].name.clone();
    let Some(accepts) = services[backend].accepts.get(&signal) else { return };
    let Some(ingest) = via.map_or(Some(accepts), |v| accepts.via.get(v)).cloned() else { return };
    let id_of = |i: &Ingest| {
        if i.exporter == backend_name { i.exporter.clone() } else { format!("{}/{backend_name}", i.exporter) }
    };
    let id = id_of(&ingest);
    let others: Vec<String> = std::iter::once(accepts).chain(accepts.via.values()).map(id_of).filter(|o| *o != id).collect();
    if let Component::Collector(c) = &services[index].component
        && let Some((other, first)) = others.iter().find_map(|o| c.exporters.get(o).map(|e| (o, e.span.clone())))
        && c.pipelines.iter().any(|(pid, p)| Pipeline::signal(pid) == Some(signal) && p.exporters.contains(other))
    {
        let d = cx.error(span, format!("`{collector_name}` already sends {signal} to `{backend_name}` (exporter `{other}`); a second way would store everything twice", signal = signal.name()));
        *d = d.clone().related(&first, "sent here first").help("send each signal to a backend one way; pick it with `via`");
        return;
    }
    if let Some(receiver) = ingest.enables
        && let Component::Prometheus(p) = &mut services[backend].component
    {
        match receiver {
            PushReceiver::Otlp => p.otlp_receiver = true,
            PushReceiver::RemoteWrite => p.remote_write_receiver = true,
        }
    }
    let mut settings = ingest.settings.clone();
    if let Some(port) = ingest.scrape_port
        && settings.get("endpoint").is_none() {
            crate::model::set_path(&mut settings, &["endpoint"], Tree::String(format!("0.0.0.0:{port}")));
        }
    {
        let service = &mut services[index];
        let Component::Collector(c) = &mut service.component else { return };
        c.exporters.entry(id.clone()).or_insert_with(|| Entry { settings, span: span.clone() });
        let receivers: Vec<String> = if c.receivers.contains_key("otlp") {
            vec!["otlp".to_owned()]
        } else {
            c.receivers.keys().cloned().collect()
        };
        let chain = processor_chain(&c.processors);
        let signal_name = signal.name();
        c.pipelines.entry(signal_name.to_owned()).or_insert_with(|| Pipeline {
            receivers,
            processors: chain,
            exporters: Vec::new(),
            span: span.clone(),
        });
        // Every pipeline of the signal (`logs`, `logs/docker`, ...) goes to the backend.
        for (pid, pipeline) in c.pipelines.iter_mut() {
            if Pipeline::signal(pid) == Some(signal) && !pipeline.exporters.contains(&id) {
                pipeline.exporters.push(id.clone());
            }
        }
        match ingest.scrape_port {
            Some(port) => {
                service.endpoints.entry("prometheus-exporter".to_owned()).or_insert(port);
            }
            None => {
                service.depends_on.insert(backend_name.clone());
            }
        }
    }
    if let Some(port) = ingest.scrape_port {
        let target = format!("{collector_name}:{port}");
        match &mut services[backend].component {
            Component::Prometheus(p) => {
                if !cx.scrapes(backend, &p.scrape_jobs, &target) {
                    // The exporter relays the apps' series with their own `job` label (their
                    // service.name); `honor_labels` keeps it instead of this job's name.
                    let mut settings = common::empty();
                    crate::model::set_path(&mut settings, &["honor_labels"], Tree::Bool(true));
                    p.scrape_jobs.push(ScrapeJob {
                        name: format!("{collector_name}-exporter"),
                        targets: vec![target],
                        metrics_path: None,
                        interval: None,
                        timeout: None,
                        scheme: None,
                        settings,
                        span: span.clone(),
                    });
                }
            }
            other => {
                let kind = match other {
                    Component::Container(_) => "container",
                    _ => "component",
                };
                cx.error(span, format!("`{backend_name}` asks to scrape the collector (`scrape_port`), but only a Prometheus can scrape; it is a {kind}"));
            }
        }
    }
}
