//! Prometheus and Alertmanager settings → scrape jobs, rules, receivers and routes.

use std::collections::BTreeMap;

use super::{Cx, common};
use crate::diagnostic::Span;
use crate::evaluate::builder::{Op, ServiceDecl};
use crate::evaluate::spec::{RawRuleSpec, RuleGroupSpec};
use crate::evaluate::value;
use crate::model::{
    self, AlertCase, Alertmanager, Component, Dialect, Entry, ExpectedAlert, Prometheus, PrometheusSize, Route, Rule,
    RuleGroup, RuleTest, ScrapeJob, Service, Tree,
};

const DEFAULT_ALERT_GROUP: &str = "alerts";
const DEFAULT_RECORD_GROUP: &str = "records";

pub fn prometheus(cx: &mut Cx, decl: &ServiceDecl) -> Prometheus {
    let spec = &decl.spec;
    let span = &decl.span;
    let mut settings = common::settings(cx, decl);
    let mut p = Prometheus {
        retention: spec.retention.as_deref().and_then(|r| common::duration(cx, span, &format!("`retention` of service `{}`", decl.name), "retention", r, Dialect::Prometheus)),
        retention_size: spec.retention_size.as_deref().and_then(|r| match PrometheusSize::parse(r) {
            Ok(size) => Some(size),
            Err(e) => {
                let at = cx.find_value(span, "retention_size", r);
                cx.error(&at, format!("`retention_size` of service `{}`: {e}", decl.name));
                None
            }
        }),
        otlp_receiver: spec.otlp_receiver.unwrap_or(false),
        remote_write_receiver: spec.remote_write_receiver.unwrap_or(false),
        ..Default::default()
    };
    if let Some(Tree::Array(configs)) = settings.as_object_mut().and_then(|m| m.remove("scrape_configs")) {
        for config in configs {
            if let Some(job) = scrape_config(cx, span, &decl.name, config) {
                p.scrape_jobs.push(job);
            }
        }
    }
    p.settings = settings;

    let mut groups: Vec<RuleGroup> = Vec::new();
    for raw in &spec.rules {
        match value::from_tree::<RuleGroupSpec>(raw.clone()) {
            Ok(g) => {
                let rules = g.rules.into_iter().map(|r| raw_rule(cx, r, span)).collect();
                group(&mut groups, &g.name).rules.extend::<Vec<Rule>>(rules);
                if let Some(i) = g.interval.as_deref().and_then(|i| common::duration(cx, span, &format!("rule group `{}`", g.name), "interval", i, Dialect::Prometheus)) {
                    group(&mut groups, &g.name).interval = Some(i);
                }
            }
            Err(e) => {
                let what = match &e.problem {
                    value::Problem::UnknownField { field, .. } => format!("unknown field `{field}`"),
                    value::Problem::Other(o) => o.clone(),
                };
                let at = cx.find(span, "rules");
                cx.error(&at, format!("invalid rule group in `rules` of `{}` at `{}`: {what}", decl.name, e.path));
            }
        }
    }
    for op in &decl.ops {
        match op {
            Op::Scrape { job, targets, spec, span } => p.scrape_jobs.push(ScrapeJob {
                name: job.clone(),
                targets: targets.clone(),
                metrics_path: spec.metrics_path.clone(),
                interval: prometheus_duration(cx, span, &format!("scrape job `{job}` of `{}`", decl.name), "interval", spec.interval.as_deref()),
                timeout: prometheus_duration(cx, span, &format!("scrape job `{job}` of `{}`", decl.name), "timeout", spec.timeout.as_deref()),
                scheme: spec.scheme.clone(),
                settings: spec.settings.clone().unwrap_or_else(common::empty),
                span: span.clone(),
            }),
            Op::Alert { name, spec, span } => {
                let mut labels = common::strings(&spec.labels);
                if let Some(s) = &spec.severity {
                    labels.insert("severity".to_owned(), s.clone());
                }
                let mut annotations = common::strings(&spec.annotations);
                if let Some(s) = &spec.summary {
                    annotations.insert("summary".to_owned(), s.clone());
                }
                if let Some(d) = &spec.description {
                    annotations.insert("description".to_owned(), d.clone());
                }
                let owner = format!("alert `{name}`");
                let name_of_group = spec.group.clone().unwrap_or_else(|| DEFAULT_ALERT_GROUP.to_owned());
                group(&mut groups, &name_of_group).rules.push(Rule {
                    alert: Some(name.clone()),
                    record: None,
                    expr: spec.expr.clone(),
                    r#for: prometheus_duration(cx, span, &owner, "for", spec.r#for.as_deref()),
                    keep_firing_for: prometheus_duration(cx, span, &owner, "keep_firing_for", spec.keep_firing_for.as_deref()),
                    labels,
                    annotations,
                    receiver: spec.receiver.clone(),
                    span: span.clone(),
                });
            }
            Op::Record { name, expr, group: g, span } => {
                if !metric_name(name) {
                    let at = cx.find(span, name);
                    cx.error(&at, format!("recording rule name `{name}` is not a metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`)"));
                }
                let name_of_group = g.clone().unwrap_or_else(|| DEFAULT_RECORD_GROUP.to_owned());
                group(&mut groups, &name_of_group).rules.push(Rule {
                    alert: None,
                    record: Some(name.clone()),
                    expr: expr.clone(),
                    r#for: None,
                    keep_firing_for: None,
                    labels: BTreeMap::new(),
                    annotations: BTreeMap::new(),
                    receiver: None,
                    span: span.clone(),
                });
            }
            Op::AlertTest { spec, span } => p.rule_tests.push(RuleTest {
                name: spec.name.clone(),
                interval: prometheus_duration(cx, span, &format!("an alert test of `{}`", decl.name), "interval", spec.interval.as_deref()),
                input_series: spec.input_series.iter().map(|i| (i.series.clone(), i.values.clone())).collect(),
                cases: spec
                    .alert_rule_test
                    .iter()
                    .map(|t| AlertCase {
                        // An invalid time is reported; the case stays, so its other mistakes are too.
                        eval_time: prometheus_duration(cx, span, &format!("an alert test of `{}`", decl.name), "eval_time", Some(&t.eval_time))
                            .unwrap_or_else(|| model::Duration::from_secs(0)),
                        alertname: t.alertname.clone(),
                        expected: t
                            .exp_alerts
                            .iter()
                            .map(|e| ExpectedAlert { labels: common::strings(&e.exp_labels), annotations: common::strings(&e.exp_annotations) })
                            .collect(),
                    })
                    .collect(),
                span: span.clone(),
            }),
            _ => {}
        }
    }
    p.rule_groups = groups;
    p
}

fn group<'a>(groups: &'a mut Vec<RuleGroup>, name: &str) -> &'a mut RuleGroup {
    let at = match groups.iter().position(|g| g.name == name) {
        Some(i) => i,
        None => {
            groups.push(RuleGroup { name: name.to_owned(), interval: None, rules: Vec::new() });
            groups.len() - 1
        }
    };
    &mut groups[at]
}

/// A Prometheus duration, if one is given; an error at its text when it is none.
fn prometheus_duration(cx: &mut Cx, span: &Span, owner: &str, field: &str, text: Option<&str>) -> Option<model::Duration> {
    common::duration(cx, span, owner, field, text?, Dialect::Prometheus)
}

fn raw_rule(cx: &mut Cx, r: RawRuleSpec, span: &Span) -> Rule {
    let receiver = r.labels.get("receiver").map(|v| v.clone().into_string());
    let owner = format!("rule `{}`", r.alert.as_deref().or(r.record.as_deref()).unwrap_or(""));
    Rule {
        r#for: prometheus_duration(cx, span, &owner, "for", r.r#for.as_deref()),
        keep_firing_for: prometheus_duration(cx, span, &owner, "keep_firing_for", r.keep_firing_for.as_deref()),
        alert: r.alert,
        record: r.record,
        expr: r.expr,
        labels: common::strings(&r.labels),
        annotations: common::strings(&r.annotations),
        receiver,
        span: span.clone(),
    }
}

pub fn metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// One `scrape_configs` entry written in Prometheus' own format.
fn scrape_config(cx: &mut Cx, span: &Span, service: &str, config: Tree) -> Option<ScrapeJob> {
    let Tree::Object(mut map) = config else {
        let at = cx.find(span, "scrape_configs");
        cx.error(&at, format!("each of `scrape_configs` of `{service}` must be a map"));
        return None;
    };
    let text = |map: &mut serde_json::Map<String, Tree>, k: &str| {
        map.remove(k).and_then(|v| v.as_str().map(str::to_owned))
    };
    let Some(name) = text(&mut map, "job_name") else {
        let at = cx.find(span, "scrape_configs");
        cx.error(&at, format!("a scrape config of `{service}` has no `job_name`"));
        return None;
    };
    let mut targets = Vec::new();
    let only_targets = map
        .get("static_configs")
        .and_then(Tree::as_array)
        .is_some_and(|list| list.iter().all(|c| c.as_object().is_some_and(|o| o.keys().all(|k| k == "targets"))));
    if let Some(list) = map.get("static_configs").and_then(Tree::as_array) {
        for c in list {
            if let Some(t) = c.get("targets").and_then(Tree::as_array) {
                targets.extend(t.iter().filter_map(|v| v.as_str().map(str::to_owned)));
            }
        }
    }
    if only_targets {
        map.remove("static_configs");
    }
    let owner = format!("scrape job `{name}` of `{service}`");
    Some(ScrapeJob {
        interval: prometheus_duration(cx, span, &owner, "scrape_interval", text(&mut map, "scrape_interval").as_deref()),
        timeout: prometheus_duration(cx, span, &owner, "scrape_timeout", text(&mut map, "scrape_timeout").as_deref()),
        name,
        targets,
        metrics_path: text(&mut map, "metrics_path"),
        scheme: text(&mut map, "scheme"),
        settings: Tree::Object(map),
        span: span.clone(),
    })
}

/// `prometheus.scrape(service)`: the service's `metrics` endpoint, as a job named after it.
pub fn scrape_service(cx: &mut Cx, services: &mut [Service], index: usize, target: usize, span: &Span) {
    let name = services[target].name.clone();
    let Some(port) = services[target].endpoints.get("metrics").copied() else {
        let d = cx.error(span, format!("`{name}` has no `metrics` endpoint to scrape"));
        *d = d.clone().help(format!("declare it on `{name}` (`endpoints: #{{ metrics: 8080 }}`), or scrape an address: `scrape(\"{name}\", \"{name}:PORT\")`"));
        return;
    };
    if let Component::Prometheus(p) = &mut services[index].component {
        let target = format!("{name}:{port}");
        if !cx.scrapes(index, &p.scrape_jobs, &target) {
            p.scrape_jobs.push(ScrapeJob {
                name,
                targets: vec![target],
                metrics_path: None,
                interval: None,
                timeout: None,
                scheme: None,
                settings: common::empty(),
                span: span.clone(),
            });
        }
    }
}

pub fn alertmanager(cx: &mut Cx, decl: &ServiceDecl) -> Alertmanager {
    let span = &decl.span;
    let mut settings = common::settings(cx, decl);
    let mut am = Alertmanager::default();
    if let Some(map) = settings.as_object_mut() {
        if let Some(Tree::Array(list)) = map.remove("receivers") {
            for r in list {
                let Some(name) = r.get("name").and_then(Tree::as_str).map(str::to_owned) else {
                    let at = cx.find(span, "receivers");
                    cx.error(&at, format!("a receiver of `{}` has no `name`", decl.name));
                    continue;
                };
                let mut r = r;
                if let Some(o) = r.as_object_mut() {
                    o.remove("name");
                }
                am.receivers.insert(name, Entry { settings: r, span: span.clone() });
            }
        }
        if let Some(Tree::Object(route)) = map.get_mut("route") {
            if let Some(Tree::String(r)) = route.remove("receiver") {
                am.default_receiver = Some((r, span.clone()));
            }
            if let Some(Tree::Array(children)) = route.remove("routes") {
                for child in children {
                    let Tree::Object(mut child) = child else { continue };
                    let receiver = child.remove("receiver").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                    let matchers = child
                        .remove("matchers")
                        .and_then(|v| v.as_array().cloned())
                        .map(|a| a.into_iter().filter_map(|m| m.as_str().map(str::to_owned)).collect())
                        .unwrap_or_default();
                    am.routes.push(Route { receiver, matchers, settings: Tree::Object(child), span: span.clone() });
                }
            }
        }
    }
    am.settings = settings;
    for op in &decl.ops {
        match op {
            Op::AmReceiver { name, settings, span } => {
                am.receivers.insert(name.clone(), Entry { settings: settings.clone(), span: span.clone() });
            }
            Op::Route { spec, span } => {
                let mut rest = serde_json::Map::new();
                if let Some(g) = &spec.group_by {
                    rest.insert("group_by".into(), Tree::from(g.clone()));
                }
                for (k, v) in [("group_wait", &spec.group_wait), ("group_interval", &spec.group_interval), ("repeat_interval", &spec.repeat_interval)] {
                    if let Some(v) = v {
                        common::duration(cx, span, "a route", k, v, Dialect::Prometheus);
                        rest.insert(k.into(), Tree::String(v.clone()));
                    }
                }
                if let Some(c) = spec.r#continue {
                    rest.insert("continue".into(), Tree::Bool(c));
                }
                am.routes.push(Route {
                    receiver: spec.receiver.clone(),
                    matchers: spec.matchers.clone(),
                    settings: Tree::Object(rest),
                    span: span.clone(),
                });
            }
            _ => {}
        }
    }
    am
}
