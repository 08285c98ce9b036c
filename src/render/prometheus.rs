//! Prometheus' config and rule file, in the dialect of the pinned version.
//!
//! Prometheus 3.8 moved retention from flags into `storage.tsdb.retention`; 3.0 renamed the
//! OTLP receiver flag. A 2.x pin gets flags only (its `promtool` rejects the 3.x block).

use super::Doc;
use crate::build::layout::{config_file, in_container, rules_file};
use crate::model::versions::prometheus::{OUT_OF_ORDER, REMOTE_WRITE_FLAG, RETENTION_IN_CONFIG, THREE, version};
use crate::model::{Prometheus, Rule, RuleTest, Service, Stack};

/// How late a pushed sample may arrive. Pushed samples carry the sender's timestamps, and
/// a collector's batches and retries deliver them out of order, which Prometheus refuses
/// without a window; Grafana's docker-otel-lgtm (v0.31.0 `docker/prometheus.yaml`) sets 10m.
pub const OUT_OF_ORDER_WINDOW: &str = "10m";

pub fn command(_stack: &Stack, service: &Service, p: &Prometheus) -> Vec<String> {
    let v = version(service);
    let mut c = vec![
        format!("--config.file={}", in_container(&config_file(service))),
        "--storage.tsdb.path=/prometheus".to_owned(),
        // POST /-/reload, which `obsbuild switch` uses to apply rule and scrape changes.
        "--web.enable-lifecycle".to_owned(),
    ];
    if v < RETENTION_IN_CONFIG {
        if let Some(r) = &p.retention {
            c.push(format!("--storage.tsdb.retention.time={r}"));
        }
        if let Some(s) = &p.retention_size {
            c.push(format!("--storage.tsdb.retention.size={s}"));
        }
    }
    if p.otlp_receiver {
        c.push(if v >= THREE { "--web.enable-otlp-receiver" } else { "--enable-feature=otlp-write-receiver" }.to_owned());
    }
    if p.remote_write_receiver {
        c.push(if v >= REMOTE_WRITE_FLAG { "--web.enable-remote-write-receiver" } else { "--enable-feature=remote-write-receiver" }.to_owned());
    }
    c
}

pub fn config(stack: &Stack, service: &Service, p: &Prometheus) -> Doc {
    let v = version(service);
    let mut settings = p.settings.clone();
    let global = settings.as_object_mut().and_then(|m| m.remove("global"));
    let mut doc = Doc::map();
    if let Some(g) = &global {
        let mut g = Doc::from_tree(g);
        g.order_keys(&["scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels"]);
        doc.set("global", g);
    }
    if !p.rule_groups.is_empty() {
        doc.set("rule_files", Doc::strs([in_container(&rules_file(service))]));
    }
    if !p.alertmanagers.is_empty() {
        let targets: Vec<String> = p
            .alertmanagers
            .iter()
            .map(|(name, _)| {
                let port = stack.services.get(name).and_then(|s| s.endpoints.get("http").copied()).unwrap_or(9093);
                format!("{name}:{port}")
            })
            .collect();
        let static_configs = Doc::Seq(vec![Doc::map().with("targets", Doc::strs(targets))]);
        doc.set(
            "alerting",
            Doc::map().with("alertmanagers", Doc::Seq(vec![Doc::map().with("static_configs", static_configs)])),
        );
    }
    let jobs = p.scrape_jobs.iter().map(|job| {
        let mut j = Doc::map().with("job_name", &job.name);
        j = j.with_opt("metrics_path", job.metrics_path.as_ref());
        j = j.with_opt("scheme", job.scheme.as_ref());
        j = j.with_opt("scrape_interval", job.interval.as_ref());
        j = j.with_opt("scrape_timeout", job.timeout.as_ref());
        j.merge_tree(&job.settings);
        if !job.targets.is_empty() && j.get("static_configs").is_none() {
            j.set("static_configs", Doc::Seq(vec![Doc::map().with("targets", Doc::strs(job.targets.clone()))]));
        }
        j
    });
    doc.set("scrape_configs", Doc::Seq(jobs.collect()));
    let mut tsdb = Doc::map();
    if v >= RETENTION_IN_CONFIG && (p.retention.is_some() || p.retention_size.is_some()) {
        let retention = Doc::map().with_opt("time", p.retention.as_ref()).with_opt("size", p.retention_size.as_ref());
        tsdb.set("retention", retention);
    }
    if v >= OUT_OF_ORDER && (p.otlp_receiver || p.remote_write_receiver) {
        tsdb.set("out_of_order_time_window", OUT_OF_ORDER_WINDOW);
    }
    if !tsdb.is_empty_map() {
        doc.set("storage", Doc::map().with("tsdb", tsdb));
    }
    doc.merge_tree(&settings);
    doc
}

pub fn rules(p: &Prometheus) -> Doc {
    let groups = p.rule_groups.iter().map(|g| {
        Doc::map()
            .with("name", &g.name)
            .with_opt("interval", g.interval.as_ref())
            .with("rules", Doc::Seq(g.rules.iter().map(rule).collect()))
    });
    Doc::map().with("groups", Doc::Seq(groups.collect()))
}

fn rule(r: &Rule) -> Doc {
    let mut d = Doc::map().with_opt("alert", r.alert.as_ref()).with_opt("record", r.record.as_ref());
    d.set("expr", r.expr.as_str());
    d = d.with_opt("for", r.r#for.as_ref()).with_opt("keep_firing_for", r.keep_firing_for.as_ref());
    let mut labels = r.labels.clone();
    // The label the Alertmanager route for this receiver matches on.
    if let Some(receiver) = &r.receiver {
        labels.insert("receiver".to_owned(), receiver.clone());
    }
    if !labels.is_empty() {
        d.set("labels", Doc::Map(labels.into_iter().map(|(k, v)| (k, Doc::Str(v))).collect()));
    }
    if !r.annotations.is_empty() {
        d.set("annotations", Doc::Map(r.annotations.iter().map(|(k, v)| (k.clone(), Doc::Str(v.clone()))).collect()));
    }
    d
}

/// `promtool test rules` input for the rule file, evaluated as often as the server does.
pub fn rule_tests(service: &Service, p: &Prometheus) -> Doc {
    let rules = rules_file(service);
    let relative = rules.rsplit('/').next().unwrap_or(&rules);
    let every = p.settings.get("global").and_then(|g| g.get("evaluation_interval")).and_then(|v| v.as_str());
    Doc::map()
        .with("rule_files", Doc::strs([relative.to_owned()]))
        .with_opt("evaluation_interval", every)
        .with("tests", Doc::Seq(p.rule_tests.iter().map(rule_test).collect()))
}

fn rule_test(t: &RuleTest) -> Doc {
    let series = t.input_series.iter().map(|(series, values)| Doc::map().with("series", series.as_str()).with("values", values.as_str()));
    let cases = t.cases.iter().map(|c| {
        let expected = c.expected.iter().map(|e| {
            let strings = |m: &std::collections::BTreeMap<String, String>| {
                Doc::Map(m.iter().map(|(k, v)| (k.clone(), Doc::Str(v.clone()))).collect())
            };
            let mut d = Doc::map().with("exp_labels", strings(&e.labels));
            if !e.annotations.is_empty() {
                d.set("exp_annotations", strings(&e.annotations));
            }
            d
        });
        Doc::map()
            .with("eval_time", c.eval_time.text())
            .with("alertname", c.alertname.as_str())
            .with("exp_alerts", Doc::Seq(expected.collect()))
    });
    Doc::map()
        .with_opt("name", t.name.as_ref())
        .with_opt("interval", t.interval.as_ref())
        .with("input_series", Doc::Seq(series.collect()))
        .with("alert_rule_test", Doc::Seq(cases.collect()))
}
