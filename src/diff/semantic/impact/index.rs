//! What reads what in one build: Grafana panels and their queries, Prometheus rules and
//! scrape jobs, the collector's pipelines and where each exporter delivers. Read from the
//! documents of the build's files (as its renderer recorded them, or parsed from a stored
//! build's bytes), so it sees exactly what the running stack would.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use super::super::Reading;
use super::promql::{Selector, selectors};
use crate::build::FileKind;

#[derive(Clone, Debug, PartialEq)]
pub struct Datasource {
    pub name: String,
    /// The service its URL names (`http://prometheus:9090` → `prometheus`).
    pub service: Option<String>,
    pub value: Value,
}

/// One query of a panel, with the data source it runs on.
#[derive(Clone, Debug)]
pub struct Query {
    pub datasource: Option<String>,
    pub expr: String,
    /// What `expr` selects, read once: on the thread that built the index, whose PromQL
    /// readings validation has made already.
    pub selectors: Arc<[Selector]>,
}

#[derive(Clone, Debug)]
pub struct Panel {
    /// The dashboard's UID.
    pub dashboard: String,
    pub title: String,
    pub queries: Vec<Query>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The Prometheus service that evaluates it.
    pub prometheus: String,
    pub name: String,
    pub alert: bool,
    pub expr: String,
    /// As for [`Query::selectors`].
    pub selectors: Arc<[Selector]>,
    pub labels: BTreeMap<String, String>,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub prometheus: String,
    pub name: String,
    /// `host:port` of its static targets.
    pub targets: Vec<String>,
    pub value: Value,
}

/// A signal one collector pipeline delivers to one backend service.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Feed {
    pub signal: String,
    pub backend: String,
    pub collector: String,
    pub pipeline: String,
    pub exporter: String,
    /// The scrape job that collects it, for the `prometheus` exporter (pulled, not pushed).
    pub job: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Index {
    pub datasources: BTreeMap<String, Datasource>,
    pub default_datasource: Option<String>,
    pub panels: Vec<Panel>,
    pub rules: Vec<Rule>,
    pub jobs: Vec<Job>,
    pub feeds: BTreeSet<Feed>,
    /// Alertmanager's route tree.
    pub route: Option<Value>,
    /// The services of the stack (from its deployment document).
    pub services: BTreeSet<String>,
    /// Collector configs by service.
    pub collectors: BTreeMap<String, Value>,
    /// The `service.name` of each app that sends OTLP to a collector, by collector (from
    /// the apps' compose file): the `job` its metrics arrive under.
    pub pushers: BTreeMap<String, BTreeSet<String>>,
}

impl Index {
    #[must_use]
    pub fn of(build: &Reading) -> Index {
        let mut index = Index::default();
        let mut dashboards = Vec::new();
        if let Ok(d) = &build.deployment {
            index.services = d.services.iter().map(|u| u.service.clone()).collect();
        }
        for read in build.files.values() {
            let Some(value) = read.tree.as_deref() else { continue };
            let service = read.service.as_deref().unwrap_or_default();
            match read.kind {
                FileKind::AppsCompose => index.pushers(value),
                FileKind::PrometheusRules => index.rules.extend(rules(service, value)),
                FileKind::PrometheusConfig => index.jobs.extend(jobs(service, value)),
                FileKind::AlertmanagerConfig => index.route = value.get("route").cloned(),
                FileKind::CollectorConfig | FileKind::JaegerConfig => {
                    index.collectors.insert(service.to_owned(), value.clone());
                }
                FileKind::GrafanaDatasources => index.datasources(value),
                FileKind::GrafanaDashboard => dashboards.push(value),
                _ => {}
            }
        }
        for d in &dashboards {
            let uid = d.get("uid").and_then(Value::as_str).unwrap_or("(no uid)").to_owned();
            index.panels(&uid, d, None);
        }
        // An exporter whose endpoint names no service of the stack delivers nowhere the
        // stack can see (an outside host, or a service that is gone).
        let known = |f: &Feed| index.services.is_empty() || index.services.contains(&f.backend);
        index.feeds = index.collectors.iter().flat_map(|(service, config)| feeds(service, config, &index.jobs)).filter(|f| known(f)).collect();
        index
    }

    /// The UID a panel's `datasource` names: `{uid}`, a UID, or (older dashboards) a name.
    fn datasource_uid(&self, v: Option<&Value>) -> Option<String> {
        match v? {
            Value::Object(o) => o.get("uid").and_then(Value::as_str).map(str::to_owned),
            Value::String(s) => Some(self.datasources.iter().find(|(_, d)| d.name == *s).map_or_else(|| s.clone(), |(uid, _)| uid.clone())),
            _ => None,
        }
    }

    fn pushers(&mut self, compose: &Value) {
        for app in compose.get("services").and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
            let env = app.get("environment");
            let var = |k: &str| env.and_then(|e| e.get(k)).and_then(Value::as_str);
            let (Some(name), Some(collector)) = (var("OTEL_SERVICE_NAME"), var("OTEL_EXPORTER_OTLP_ENDPOINT").and_then(host)) else { continue };
            self.pushers.entry(collector).or_default().insert(name.to_owned());
        }
    }

    fn datasources(&mut self, v: &Value) {
        for d in v.get("datasources").and_then(Value::as_array).into_iter().flatten() {
            let Some(uid) = d.get("uid").and_then(Value::as_str) else { continue };
            let url = d.get("url").and_then(Value::as_str).unwrap_or_default();
            let name = d.get("name").and_then(Value::as_str).unwrap_or(uid).to_owned();
            if d.get("isDefault").and_then(Value::as_bool).unwrap_or(false) {
                self.default_datasource = Some(uid.to_owned());
            }
            self.datasources.insert(uid.to_owned(), Datasource { name, service: host(url), value: d.clone() });
        }
    }

    fn panels(&mut self, dashboard: &str, holder: &Value, inherited: Option<&Value>) {
        for p in holder.get("panels").and_then(Value::as_array).into_iter().flatten() {
            let own = p.get("datasource").or(inherited);
            if p.get("type").and_then(Value::as_str) == Some("row") {
                // A collapsed row holds its panels.
                self.panels(dashboard, p, own);
                continue;
            }
            let panel_ds = self.datasource_uid(own).or_else(|| self.default_datasource.clone());
            let mut queries: Vec<Query> = p
                .get("targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| {
                    let expr = ["expr", "query"].iter().find_map(|k| t.get(*k).and_then(Value::as_str)).unwrap_or_default();
                    Query { datasource: self.datasource_uid(t.get("datasource")).or_else(|| panel_ds.clone()), expr: expr.to_owned(), selectors: selectors(expr) }
                })
                .collect();
            if queries.is_empty() && panel_ds.is_some() {
                queries.push(Query { datasource: panel_ds, expr: String::new(), selectors: Arc::new([]) });
            }
            let title = p.get("title").and_then(Value::as_str).unwrap_or("(untitled)").to_owned();
            self.panels.push(Panel { dashboard: dashboard.to_owned(), title, queries });
        }
    }

    /// Whether a collector pipeline delivers `signal` to `backend`.
    pub fn fed(&self, signal: &str, backend: &str) -> bool {
        self.feeds.iter().any(|f| f.signal == signal && f.backend == backend)
    }

    /// The collector pipeline named `name` of `collector`: (receivers, exporters).
    pub fn pipeline(&self, collector: &str, name: &str) -> Option<(Vec<String>, Vec<String>)> {
        let p = self.collectors.get(collector)?.get("service")?.get("pipelines")?.get(name)?;
        Some((names(p.get("receivers")), names(p.get("exporters"))))
    }

    /// Where an exporter of `collector` delivers, if it is defined.
    pub fn exporter_target(&self, collector: &str, exporter: &str) -> Option<Option<String>> {
        let e = self.collectors.get(collector)?.get("exporters")?.get(exporter)?;
        Some(endpoint(e).and_then(|u| host(&u)))
    }
}

/// The host of a URL or `host:port`: the service it names on the stack's network.
fn host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    (!host.is_empty()).then(|| host.to_owned())
}

fn names(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

fn endpoint(exporter: &Value) -> Option<String> {
    exporter.get("endpoint").and_then(Value::as_str).map(str::to_owned)
}

fn rules(prometheus: &str, v: &Value) -> Vec<Rule> {
    let mut out = Vec::new();
    for g in v.get("groups").and_then(Value::as_array).into_iter().flatten() {
        for r in g.get("rules").and_then(Value::as_array).into_iter().flatten() {
            let (name, alert) = match (r.get("alert").and_then(Value::as_str), r.get("record").and_then(Value::as_str)) {
                (Some(a), _) => (a, true),
                (None, Some(rec)) => (rec, false),
                _ => continue,
            };
            let labels = r
                .get("labels")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect();
            let expr = r.get("expr").and_then(Value::as_str).unwrap_or_default();
            let selectors = selectors(expr);
            out.push(Rule { prometheus: prometheus.to_owned(), name: name.to_owned(), alert, expr: expr.to_owned(), selectors, labels, value: r.clone() });
        }
    }
    out
}

fn jobs(prometheus: &str, v: &Value) -> Vec<Job> {
    v.get("scrape_configs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|j| {
            let name = j.get("job_name")?.as_str()?.to_owned();
            let targets = j
                .get("static_configs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|s| names(s.get("targets")))
                .collect();
            Some(Job { prometheus: prometheus.to_owned(), name, targets, value: j.clone() })
        })
        .collect()
}

/// What each pipeline of a collector delivers where. A pipeline without receivers carries
/// nothing. The `prometheus` exporter is pulled: it feeds the Prometheus whose scrape job
/// targets its port on the collector.
fn feeds(collector: &str, config: &Value, jobs: &[Job]) -> Vec<Feed> {
    let mut out = Vec::new();
    let pipelines = config.get("service").and_then(|s| s.get("pipelines")).and_then(Value::as_object);
    for (pipeline, p) in pipelines.into_iter().flatten() {
        if names(p.get("receivers")).is_empty() {
            continue;
        }
        let signal = pipeline.split('/').next().unwrap_or(pipeline).to_owned();
        for exporter in names(p.get("exporters")) {
            let Some(e) = config.get("exporters").and_then(|x| x.get(&exporter)) else { continue };
            let feed = |backend: String, job: Option<String>| Feed {
                signal: signal.clone(),
                backend,
                collector: collector.to_owned(),
                pipeline: pipeline.clone(),
                exporter: exporter.clone(),
                job,
            };
            if exporter.split('/').next() == Some("prometheus") {
                let port = endpoint(e).and_then(|u| u.rsplit(':').next().map(str::to_owned)).unwrap_or_default();
                let wanted = format!("{collector}:{port}");
                for j in jobs.iter().filter(|j| j.targets.contains(&wanted)) {
                    out.push(feed(j.prometheus.clone(), Some(j.name.clone())));
                }
            } else if let Some(backend) = endpoint(e).and_then(|u| host(&u)) {
                out.push(feed(backend, None));
            }
        }
    }
    out
}
