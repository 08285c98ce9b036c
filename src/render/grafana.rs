//! Grafana provisioning: data sources with fixed UIDs and their trace ↔ logs links, the
//! dashboard provider, and one JSON file per dashboard.

use std::collections::BTreeMap;

use super::dashboard;
use crate::build::layout::{in_container, service_dir};
use super::{Doc, File};
use crate::build::FileKind;
use crate::model::{Datasource, Grafana, Service, Stack, Version};

/// Grafana 11.1 added `prune`: data sources removed from the files are deleted.
const PRUNE: Version = Version::new(11, 1, 0);

fn provisioning(service: &Service) -> String {
    format!("{}/provisioning", service_dir(service))
}

/// Variables pointing Grafana at the provisioning folder inside the mounted configs.
pub fn environment(service: &Service) -> BTreeMap<String, String> {
    BTreeMap::from([("GF_PATHS_PROVISIONING".to_owned(), in_container(&provisioning(service)))])
}

/// Paths of the provisioning files of `service`, relative to the build root.
pub fn datasources_file(service: &Service) -> String {
    format!("{}/datasources/datasources.yml", provisioning(service))
}

pub fn dashboards_dir(service: &Service) -> String {
    format!("{}/dashboards/json", provisioning(service))
}

pub(crate) fn files(stack: &Stack, service: &Service, g: &Grafana, header: &[String]) -> Vec<File> {
    let lines: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    let prune = service.version.is_none_or(|v| v >= PRUNE);
    let mut sources = Doc::map().with("apiVersion", 1i64);
    if prune {
        sources.set("prune", true);
    }
    sources.set("datasources", Doc::Seq(g.datasources.iter().map(datasource).collect()));
    // Provisioning files expand `$VAR`; `$$` is a literal dollar, which link templates such
    // as `${__value.raw}` need.
    sources.map_strings(&|s| s.replace('$', "$$"));
    out.push(yaml(datasources_file(service), FileKind::GrafanaDatasources, sources, &lines));

    // Grafana reads every kind of provisioning under its path and logs `level=error` for
    // each folder that is missing; these say "nothing to provision".
    for kind in ["alerting", "plugins"] {
        let empty = Doc::map().with("apiVersion", 1i64);
        out.push(yaml(format!("{}/{kind}/{kind}.yml", provisioning(service)), FileKind::GrafanaProvisioning, empty, &lines));
    }

    if !g.dashboards.is_empty() {
        let provider = Doc::map()
            .with("name", "obsbuild")
            .with("orgId", 1i64)
            .with("type", "file")
            .with("disableDeletion", false)
            // Grafana re-reads the JSON files on this period: dashboard edits need no restart.
            .with("updateIntervalSeconds", 30i64)
            .with("allowUiUpdates", false)
            .with("options", Doc::map().with("path", in_container(&dashboards_dir(service))));
        let mut providers = Doc::map().with("apiVersion", 1i64).with("providers", Doc::Seq(vec![provider]));
        providers.map_strings(&|s| s.replace('$', "$$"));
        out.push(yaml(format!("{}/dashboards/dashboards.yml", provisioning(service)), FileKind::GrafanaProvider, providers, &lines));
        for d in &g.dashboards {
            let doc = dashboard::dashboard(stack, d, &g.datasources);
            let path = format!("{}/{}.json", dashboards_dir(service), d.uid);
            out.push(File { path, text: doc.to_json(), kind: FileKind::GrafanaDashboard, tree: Some(doc.into_tree()) });
        }
    }
    out
}

fn yaml(path: String, kind: FileKind, doc: Doc, header: &[&str]) -> File {
    File { path, text: crate::yaml::emit(&doc, header), kind, tree: Some(doc.into_tree()) }
}

fn datasource(d: &Datasource) -> Doc {
    let mut json = Doc::from_tree(&d.json_data);
    if !json.is_empty_map() || d.traces.is_some() || d.logs.is_some() {
        links(&mut json, d);
    }
    let mut doc = Doc::map()
        .with("name", &d.name)
        .with("type", &d.r#type)
        .with("uid", &d.uid)
        .with("access", "proxy")
        .with("url", &d.url)
        .with("isDefault", d.is_default)
        .with("editable", false);
    if !json.is_empty_map() {
        doc.set("jsonData", json);
    }
    doc
}

/// The LogQL a span opens its logs with. Jaeger hands `service.name` over as the process
/// name, not a tag, so the query finds logs by trace id alone; the suffix match tolerates
/// trace ids printed without leading zeros.
pub const TRACES_TO_LOGS: &str = "{service_name=~\".+\"} | trace_id=~\".*${__span.traceId}\"";

/// The settings that make a data source link to another: trace ids in logs (and, when a
/// script links a Prometheus source to traces itself, exemplars) open the traces source;
/// spans open their logs. An empty UID means "no link".
fn links(json: &mut Doc, d: &Datasource) {
    let traces = d.traces.as_deref().filter(|t| !t.is_empty());
    let logs = d.logs.as_deref().filter(|l| !l.is_empty());
    match (d.r#type.as_str(), traces, logs) {
        ("loki", Some(traces), _) if json.get("derivedFields").is_none() => {
            // OTLP logs carry trace_id as structured metadata, not in the line.
            let field = Doc::map()
                .with("name", "TraceID")
                .with("matcherType", "label")
                .with("matcherRegex", "trace_id")
                .with("datasourceUid", traces)
                .with("url", "${__value.raw}")
                .with("urlDisplayLabel", "View trace");
            json.set("derivedFields", Doc::Seq(vec![field]));
        }
        ("prometheus", Some(traces), _) if json.get("exemplarTraceIdDestinations").is_none() => {
            let dest = Doc::map().with("name", "trace_id").with("datasourceUid", traces);
            json.set("exemplarTraceIdDestinations", Doc::Seq(vec![dest]));
        }
        ("jaeger" | "tempo" | "zipkin", _, Some(logs)) if json.get("tracesToLogsV2").is_none() => {
            let query = TRACES_TO_LOGS;
            let v2 = Doc::map()
                .with("datasourceUid", logs)
                .with("spanStartTimeShift", "-5m")
                .with("spanEndTimeShift", "5m")
                .with("filterByTraceID", false)
                .with("filterBySpanID", false)
                .with("customQuery", true)
                .with("query", query);
            json.set("tracesToLogsV2", v2);
            if json.get("nodeGraph").is_none() {
                json.set("nodeGraph", Doc::map().with("enabled", true));
            }
        }
        _ => {}
    }
}
