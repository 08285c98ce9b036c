//! Impact on small hand-written builds, one kind of dependency each, and on the default
//! stack as built.

use super::*;

use crate::build::Build;
use crate::diff::semantic::reading::test_build as build;

fn impacts(old: &Build, new: &Build) -> Vec<Impact> {
    super::impacts(&Reading::of(old), &Reading::of(new))
}

fn texts(old: &Build, new: &Build) -> Vec<String> {
    impacts(old, new).into_iter().map(|i| i.text).collect()
}

const DATASOURCES: &str = "datasources:
  - {name: Prometheus, uid: prom, url: 'http://prometheus:9090', isDefault: true}
  - {name: Loki, uid: logs, url: 'http://loki:3100'}
";

fn dashboard(panels: &[(&str, &str, &str)]) -> String {
    let panels: Vec<serde_json::Value> = panels
        .iter()
        .map(|(title, ds, expr)| serde_json::json!({"title": title, "type": "timeseries", "datasource": {"uid": ds}, "targets": [{"expr": expr}]}))
        .collect();
    serde_json::json!({"uid": "d", "title": "D", "panels": panels}).to_string()
}

const COLLECTOR: &str = "exporters:
  prometheus: {endpoint: '0.0.0.0:8889'}
  debug: {}
  otlp_http/loki: {endpoint: 'http://loki:3100/otlp'}
service:
  pipelines:
    metrics: {receivers: [otlp], exporters: [prometheus, debug]}
    logs: {receivers: [otlp], exporters: [otlp_http/loki]}
";

const PROMETHEUS: &str = "scrape_configs:
  - job_name: otel-collector
    static_configs: [{targets: ['otel-collector:8888']}]
  - job_name: otel-collector-exporter
    honor_labels: true
    static_configs: [{targets: ['otel-collector:8889']}]
  - job_name: node
    scrape_interval: 15s
    static_configs: [{targets: ['node:9100']}]
";

const RULES: &str = "groups:
  - name: g
    rules:
      - record: job:requests:rate5m
        expr: sum by (job) (rate(http_requests_total{job=\"app\"}[5m]))
      - alert: CollectorDown
        expr: up{job=\"otel-collector\"} == 0
        labels: {severity: critical}
      - alert: NodeDown
        expr: up{job=\"node\"} == 0
        labels: {severity: warning}
      - alert: SlowApp
        expr: job:requests:rate5m{job=\"app\"} < 1
        labels: {severity: warning}
      - alert: AppErrors
        expr: rate(http_requests_total{job=\"app\", code=~\"5..\"}[5m]) > 0
        labels: {severity: critical}
";

const PANELS: &[(&str, &str, &str)] = &[
    ("App requests", "prom", "sum(rate(http_requests_total{job=\"app\"}[$__rate_interval]))"),
    ("Recorded", "prom", "job:requests:rate5m"),
    ("Node up", "prom", "up{job=~\"node|other\"}"),
    ("Targets up", "prom", "sum(up)"),
    ("Memory", "prom", "process_resident_memory_bytes"),
    ("Firing", "prom", "ALERTS{alertname=\"NodeDown\"}"),
    ("Logs", "logs", "{service_name=\"app\"}"),
];

fn base() -> Vec<(&'static str, String)> {
    vec![
        ("configs/otel-collector.yaml", COLLECTOR.to_owned()),
        ("configs/prometheus.yml", PROMETHEUS.to_owned()),
        ("configs/prometheus.rules.yml", RULES.to_owned()),
        ("configs/grafana/provisioning/datasources/datasources.yml", DATASOURCES.to_owned()),
        ("configs/grafana/provisioning/dashboards/json/d.json", dashboard(PANELS)),
    ]
}

/// A file and how to edit its text.
type Edit<'a> = (&'a str, &'a dyn Fn(&str) -> String);

/// The base build with each file's text edited.
fn with(edits: &[Edit]) -> Build {
    let files: Vec<(&str, String)> =
        base().into_iter().map(|(p, t)| (p, edits.iter().filter(|(e, _)| *e == p).fold(t, |t, (_, f)| f(&t)))).collect();
    build(&files.iter().map(|(p, t)| (*p, t.as_str())).collect::<Vec<_>>())
}

#[test]
fn an_exporter_leaving_the_metrics_pipeline_starves_what_it_carried() {
    let old = with(&[]);
    let new = with(&[("configs/otel-collector.yaml", &|t| t.replace("[prometheus, debug]", "[debug]"))]);
    assert_eq!(
        texts(&old, &new),
        [
            "metrics stop reaching prometheus (exporter prometheus left pipeline metrics of otel-collector): 2 panels of dashboard d (App requests, Recorded) and alert rules SlowApp, AppErrors lose their data",
            // It selects no job: Prometheus's own scrape jobs may serve it too.
            "metrics stop reaching prometheus (exporter prometheus left pipeline metrics of otel-collector): 1 panel of dashboard d (Memory) may lose its data (its queries select no job)",
        ]
    );
    let i = &impacts(&old, &new)[0];
    assert_eq!(i.effect, Effect::LosesData);
    assert_eq!(losses(&impacts(&old, &new)).as_deref(), Some("2 panels and 2 alert rules lose data"));
}

#[test]
fn rewiring_that_still_delivers_is_no_loss() {
    let old = with(&[]);
    // The same metrics now pushed by a second exporter: Prometheus is still fed.
    let new = with(&[(
        "configs/otel-collector.yaml",
        &|t| t.replace("[prometheus, debug]", "[prometheusremotewrite]").replace("  debug: {}", "  prometheusremotewrite: {endpoint: 'http://prometheus:9090/api/v1/write'}"),
    )]);
    assert_eq!(texts(&old, &new), Vec::<String>::new());
}

#[test]
fn a_pipeline_without_receivers_or_a_removed_scrape_job_carries_nothing() {
    let old = with(&[]);
    let no_receivers = with(&[("configs/otel-collector.yaml", &|t| t.replace("logs: {receivers: [otlp]", "logs: {receivers: []"))]);
    assert_eq!(
        texts(&old, &no_receivers),
        ["logs stop reaching loki (pipeline logs of otel-collector has no receivers): 1 panel of dashboard d (Logs) loses its data"]
    );
    let no_job = with(&[("configs/prometheus.yml", &|t| t.replace("  - job_name: otel-collector-exporter\n    honor_labels: true\n    static_configs: [{targets: ['otel-collector:8889']}]\n", ""))]);
    assert_eq!(
        texts(&old, &no_job)[0],
        "metrics stop reaching prometheus (scrape job otel-collector-exporter of prometheus removed): 2 panels of dashboard d (App requests, Recorded) and alert rules SlowApp, AppErrors lose their data"
    );
}

#[test]
fn scrape_jobs_removed_or_changed_reach_what_selects_them() {
    let old = with(&[]);
    let removed = with(&[("configs/prometheus.yml", &|t| t.replace("  - job_name: node\n    scrape_interval: 15s\n    static_configs: [{targets: ['node:9100']}]\n", ""))]);
    assert_eq!(
        texts(&old, &removed),
        ["scrape job node removed: 1 panel of dashboard d (Node up) and alert rule NodeDown lose their data"]
    );
    let changed = with(&[("configs/prometheus.yml", &|t| t.replace("scrape_interval: 15s", "scrape_interval: 1m"))]);
    assert_eq!(
        texts(&old, &changed),
        ["scrape job node changed (scrape_interval): 1 panel of dashboard d (Node up) and alert rule NodeDown read it"]
    );
}

/// `job="x"` is looked up, not scanned for: the other `job` matchers beside it still judge
/// it, and a job of that name on another Prometheus is not it.
#[test]
fn an_exact_job_matcher_is_judged_with_the_matchers_beside_it() {
    let panels = [
        ("Exact", "prom", "up{job=\"node\"}"),
        ("Excluded again", "prom", "up{job=\"node\", job!~\"no.*\"}"),
        ("Kept", "prom", "up{job=\"node\", job=~\"node|x\"}"),
        ("Unknown job", "prom", "up{job=\"nobody\"}"),
    ];
    let old = with(&[("configs/grafana/provisioning/dashboards/json/d.json", &|_| dashboard(&panels))]);
    let new = with(&[
        ("configs/grafana/provisioning/dashboards/json/d.json", &|_| dashboard(&panels)),
        ("configs/prometheus.yml", &|t| t.replace("scrape_interval: 15s", "scrape_interval: 1m")),
    ]);
    assert_eq!(texts(&old, &new), ["scrape job node changed (scrape_interval): 2 panels of dashboard d (Exact, Kept) and alert rule NodeDown read it"]);
}

#[test]
fn rules_reach_the_queries_of_their_output() {
    let old = with(&[]);
    let renamed = with(&[("configs/prometheus.rules.yml", &|t| t.replace("record: job:requests:rate5m", "record: job:requests:rate1m"))]);
    assert_eq!(
        texts(&old, &renamed),
        ["recording rule job:requests:rate5m removed: 1 panel of dashboard d (Recorded) and alert rule SlowApp lose their data"]
    );
    let edited = with(&[("configs/prometheus.rules.yml", &|t| t.replace("[5m]))\n", "[1m]))\n"))]);
    assert_eq!(
        texts(&old, &edited),
        ["recording rule job:requests:rate5m changed: 1 panel of dashboard d (Recorded) and alert rule SlowApp read it"]
    );
    let gone = with(&[("configs/prometheus.rules.yml", &|t| t.replace("      - alert: NodeDown\n        expr: up{job=\"node\"} == 0\n        labels: {severity: warning}\n", ""))]);
    assert_eq!(texts(&old, &gone), ["alert rule NodeDown removed: 1 panel of dashboard d (Firing) loses its data"]);
}

#[test]
fn datasources_removed_changed_or_left_without_their_service() {
    let old = with(&[]);
    let removed = with(&[("configs/grafana/provisioning/datasources/datasources.yml", &|t| t.replace("  - {name: Loki, uid: logs, url: 'http://loki:3100'}\n", ""))]);
    assert_eq!(texts(&old, &removed), ["datasource logs removed: 1 panel of dashboard d (Logs) loses its data"]);
    let moved = with(&[("configs/grafana/provisioning/datasources/datasources.yml", &|t| t.replace("http://loki:3100", "http://loki-2:3100"))]);
    assert_eq!(texts(&old, &moved), ["datasource logs changed (url): 1 panel of dashboard d (Logs) reads it"]);

    // Services as the deployment document lists them.
    let services = |names: &[&str]| {
        use crate::deployment::{Deployment, Unit};
        use crate::model::Kind;
        let kind = |n: &str| match n {
            "otel-collector" => Kind::Collector,
            "prometheus" => Kind::Prometheus,
            "loki" => Kind::Loki,
            _ => Kind::Jaeger,
        };
        let units = names.iter().map(|n| Unit::for_tests("test", n, kind(n))).collect();
        Some(Deployment { schema: crate::deployment::SCHEMA, stack: "test".into(), services: units, ..Deployment::default() })
    };
    let traces = "  - {name: Jaeger, uid: traces, url: 'http://jaeger:16686'}\n";
    let panels = [PANELS, &[("Traces", "traces", "")]].concat();
    let (datasources, dashboard) = (format!("{DATASOURCES}{traces}"), dashboard(&panels));
    let edits: [Edit; 2] = [
        ("configs/grafana/provisioning/datasources/datasources.yml", &|_| datasources.clone()),
        ("configs/grafana/provisioning/dashboards/json/d.json", &|_| dashboard.clone()),
    ];
    let mut old = with(&edits);
    old.deployment = services(&["otel-collector", "prometheus", "loki", "jaeger"]);
    let mut new = old.clone();
    new.deployment = services(&["otel-collector", "prometheus", "loki"]);
    assert_eq!(texts(&old, &new), ["datasource traces points at jaeger, which is removed: 1 panel of dashboard d (Traces) loses its data"]);
    // Loki is fed by the logs pipeline: its removal is that pipeline's loss, said once.
    new.deployment = services(&["otel-collector", "prometheus", "jaeger"]);
    assert_eq!(texts(&old, &new), ["logs stop reaching loki (loki removed): 1 panel of dashboard d (Logs) loses its data"]);
}

#[test]
fn alerts_routed_elsewhere_and_new_alerts_say_where_they_go() {
    let am = "route:\n  receiver: default\n  routes:\n    - receiver: pager\n      matchers: ['severity=\"critical\"']\nreceivers:\n  - name: default\n  - name: pager\n";
    let old = build(&[("configs/prometheus.rules.yml", RULES), ("configs/alertmanager.yml", am)]);
    let relabelled = RULES.replace("labels: {severity: warning}\n      - alert: SlowApp", "labels: {severity: critical}\n      - alert: SlowApp")
        + "      - alert: New\n        expr: vector(1)\n        labels: {severity: critical}\n";
    let new = build(&[("configs/prometheus.rules.yml", &relabelled), ("configs/alertmanager.yml", am)]);
    assert_eq!(texts(&old, &new), ["alert rule NodeDown now goes to pager (was default)", "alert rule New (new) goes to pager"]);
    let rerouted = build(&[("configs/prometheus.rules.yml", RULES), ("configs/alertmanager.yml", &am.replace("critical", "page"))]);
    assert_eq!(
        texts(&old, &rerouted),
        ["alert rule CollectorDown now goes to default (was pager)", "alert rule AppErrors now goes to default (was pager)"]
    );
}

/// The default stack, built twice: dropping the collector's metrics leaves the overview's
/// three metric panels without data, and neither the logs and traces panels nor
/// CollectorDown (which reads the collector's own scrape job).
#[test]
fn the_default_stack_without_its_metrics_pipeline() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read_to_string(root.join("stacks/task-manager.rhai")).unwrap_or_default();
    let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("temp dir: {e}"));
    let built = |text: &str| {
        let path = tmp.path().join("task-manager.rhai");
        std::fs::write(&path, text).unwrap_or_else(|e| unreachable!("write: {e}"));
        match crate::pipeline::build(&path, &Default::default()) {
            Ok(b) => b.build,
            Err(_) => unreachable!("the default stack builds"),
        }
    };
    let old = built(&script);
    let new = built(&script.replace("hub.send(\"metrics\", metrics);", ""));
    assert_eq!(
        texts(&old, &new),
        ["metrics stop reaching prometheus (pipeline metrics of otel-collector removed): 3 panels of dashboard task-manager-overview (Request rate, Error ratio (5xx), Latency) lose their data"]
    );
}
