//! Panels and alert rules that select nothing the stack can produce: a `job` no scrape job
//! or pushing app of their Prometheus has, or a metric of a component the stack does not
//! run. Such a panel shows "No data" forever and such a rule never fires; both are warnings,
//! since series can still come from outside what the build shows.
//!
//! Read from the rendered files through the review's impact index, which already knows the
//! scrape jobs, the pipelines and who pushes into them, and from its PromQL selectors.

use std::collections::{BTreeMap, BTreeSet};

use super::Check;
use crate::diagnostic::Span;
use crate::diff::semantic::impact::promql::{self, Matcher, Op, Selector};
use crate::diff::semantic::impact::{self, Index};
use crate::model::{Component, Kind, Service, Stack};

/// Metric name prefixes and the component whose metrics they are.
const PREFIXES: [(&str, &str); 7] = [
    ("loki_", "Loki"),
    ("traefik_", "Traefik"),
    // Jaeger v2 is a collector too, and reports its own `otelcol_` metrics.
    ("otelcol_", "an OpenTelemetry Collector (or Jaeger v2)"),
    ("jaeger_", "Jaeger"),
    ("alertmanager_", "Alertmanager"),
    ("grafana_", "Grafana"),
    ("prometheus_", "Prometheus"),
];

/// Whether the stack runs the component a metric prefix belongs to.
fn runs(stack: &Stack, prefix: &str) -> bool {
    let kind = |k: Kind| stack.of_kind(k).next().is_some();
    match prefix {
        "loki_" => kind(Kind::Loki),
        "traefik_" => stack.services.values().any(is_traefik),
        "otelcol_" => kind(Kind::Collector) || kind(Kind::Jaeger),
        "jaeger_" => kind(Kind::Jaeger),
        "alertmanager_" => kind(Kind::Alertmanager),
        "grafana_" => kind(Kind::Grafana),
        "prometheus_" => kind(Kind::Prometheus),
        _ => true,
    }
}

fn is_traefik(s: &Service) -> bool {
    s.image.repository.rsplit('/').next() == Some("traefik")
}

/// What a query is, for the message: `panel `Latency` of dashboard `d``.
struct Reader<'a> {
    what: String,
    span: &'a Span,
    /// Where in the call the reader is written (a panel's title), if it is.
    needle: String,
    prometheus: String,
}

pub fn check(check: &mut Check, index: &Index) {
    let mut readers: Vec<(Reader, &str)> = Vec::new();
    for s in check.stack.services.values() {
        match &s.component {
            Component::Grafana(g) => {
                for d in &g.dashboards {
                    for p in &d.panels {
                        let Some(prometheus) = p.datasource.as_deref().and_then(|uid| prometheus_of(index, uid)) else { continue };
                        for q in &p.queries {
                            let what = format!("panel `{}` of dashboard `{}`", p.title, d.uid);
                            readers.push((Reader { what, span: &d.span, needle: p.title.clone(), prometheus: prometheus.clone() }, &q.expr));
                        }
                    }
                }
            }
            Component::Prometheus(p) => {
                for r in p.rule_groups.iter().flat_map(|g| &g.rules) {
                    let (kind, name) = match (&r.alert, &r.record) {
                        (Some(a), _) => ("alert rule", a),
                        (None, Some(rec)) => ("recording rule", rec),
                        _ => continue,
                    };
                    let what = format!("{kind} `{name}` of `{}`", s.name);
                    readers.push((Reader { what, span: &r.span, needle: String::new(), prometheus: s.name.clone() }, &r.expr));
                }
            }
            _ => {}
        }
    }
    // What a Prometheus has is the same for every query read from it: worked out once per
    // Prometheus, not per query, which for a fleet of N services (N rules, N panels, N
    // scrape jobs) was N^2.
    let mut known: BTreeMap<String, Known> = BTreeMap::new();
    for (reader, expr) in readers {
        let known = known.entry(reader.prometheus.clone()).or_insert_with(|| Known {
            // A scrape job that relabels `job` can give it any value: nothing to judge.
            jobs: (!rewrites_job(index, &reader.prometheus)).then(|| impact::known_jobs(index, &reader.prometheus)),
            recorded: recorded(check.stack, &reader.prometheus),
        });
        for selector in promql::selectors(expr).iter() {
            selects(check, &reader, selector, known.jobs.as_ref(), &known.recorded);
        }
    }
}

/// The `job` values a Prometheus has series of (none when a scrape job may rewrite them),
/// and the metrics its recording rules write.
struct Known {
    jobs: Option<BTreeSet<String>>,
    recorded: BTreeSet<String>,
}

/// Whether some job in `jobs` passes every matcher: looked up when one matcher names the
/// job exactly, the usual `job="x"`, else tried on each.
fn any_job(jobs: &BTreeSet<String>, judged: &[&Matcher]) -> bool {
    match judged.iter().find(|m| m.op == Op::Eq) {
        Some(exact) => jobs.contains(&exact.value) && judged.iter().all(|m| m.accepts(&exact.value)),
        None => jobs.iter().any(|j| judged.iter().all(|m| m.accepts(j))),
    }
}

fn rewrites_job(index: &Index, prometheus: &str) -> bool {
    let sets_job = |rules: Option<&serde_json::Value>| {
        rules.and_then(serde_json::Value::as_array).into_iter().flatten().any(|r| r.get("target_label").and_then(serde_json::Value::as_str) == Some("job"))
    };
    index.jobs.iter().filter(|j| j.prometheus == prometheus).any(|j| sets_job(j.value.get("relabel_configs")) || sets_job(j.value.get("metric_relabel_configs")))
}

/// The Prometheus service a data source UID reads, if it is one of the stack's.
fn prometheus_of(index: &Index, uid: &str) -> Option<String> {
    let d = index.datasources.get(uid)?;
    (d.value.get("type").and_then(serde_json::Value::as_str) == Some("prometheus")).then(|| d.service.clone()).flatten()
}

/// Metric names the recording rules of `prometheus` write.
fn recorded(stack: &Stack, prometheus: &str) -> BTreeSet<String> {
    let Some(Component::Prometheus(p)) = stack.services.get(prometheus).map(|s| &s.component) else { return BTreeSet::new() };
    p.rule_groups.iter().flat_map(|g| &g.rules).filter_map(|r| r.record.clone()).collect()
}

fn selects(check: &mut Check, reader: &Reader, selector: &Selector, jobs: Option<&BTreeSet<String>>, recorded: &BTreeSet<String>) {
    let metric = selector.metric.as_deref().unwrap_or_default();
    // Grafana fills template variables in at query time: nothing to judge before then.
    let judged: Vec<&Matcher> = selector.on("job").filter(|m| !m.value.contains('$')).collect();
    let written = text(selector);
    if let Some(jobs) = jobs
        && !judged.is_empty()
        && !recorded.contains(metric)
        && !any_job(jobs, &judged)
    {
        let needle = if reader.needle.is_empty() { judged[0].value.clone() } else { reader.needle.clone() };
        let known: Vec<&str> = jobs.iter().map(String::as_str).collect();
        let d = check.warning(reader.span, &needle, format!(
            "{} selects `{written}`, but no scrape job of `{}` and no app pushing to it has that `job`: it gets no data",
            reader.what, reader.prometheus
        ));
        *d = d.clone().help(if known.is_empty() {
            format!("`{}` has no series with a `job` label", reader.prometheus)
        } else {
            format!("jobs with series in `{}`: `{}`", reader.prometheus, known.join("`, `"))
        });
        *d = d.clone().note("an app outside the stack that sends its metrics through a collector is not known here: declare it with `app(...)`");
    }
    if let Some((prefix, component)) = PREFIXES.iter().find(|(p, _)| metric.starts_with(p))
        && !recorded.contains(metric)
        && !runs(check.stack, prefix)
    {
        let needle = if reader.needle.is_empty() { metric.to_owned() } else { reader.needle.clone() };
        let d = check.warning(reader.span, &needle, format!(
            "{} selects `{written}`, a metric of {component}, which the stack does not run: it gets no data",
            reader.what
        ));
        *d = d.clone().help("add the component to the stack, or drop the query");
    }
}

/// A selector as PromQL: `up{job="x"}`.
fn text(selector: &Selector) -> String {
    let metric = selector.metric.as_deref().unwrap_or_default();
    let matchers: Vec<String> = selector
        .matchers
        .iter()
        .filter(|m| !(m.label == "__name__" && m.op == Op::Eq && m.value == metric))
        .map(|m| {
            let op = match m.op {
                Op::Eq => "=",
                Op::Ne => "!=",
                Op::Re => "=~",
                Op::NotRe => "!~",
            };
            format!("{}{op}{:?}", m.label, m.value)
        })
        .collect();
    if matchers.is_empty() { metric.to_owned() } else { format!("{metric}{{{}}}", matchers.join(", ")) }
}
