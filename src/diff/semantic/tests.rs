//! One test per component differ, on small hand-written builds.

use super::*;

use reading::test_build as build;

fn lines(old: &[(&str, &str)], new: &[(&str, &str)], layout: bool) -> Vec<String> {
    let (old, new) = (build(old), build(new));
    changes(&Reading::of(&old), &Reading::of(&new), Options { layout })
        .iter()
        .map(|c| format!("{} | {} | {} | {}", c.component, c.kind.as_str(), c.subject, render::line_for_tests(c)))
        .collect()
}

#[test]
fn prometheus_scrape_jobs_and_rules() {
    let old = "scrape_configs:\n  - job_name: loki\n    scrape_interval: 15s\n  - job_name: old\n";
    let new = "scrape_configs:\n  - job_name: new\n  - job_name: loki\n    scrape_interval: 30s\n";
    assert_eq!(
        lines(&[("configs/prometheus.yml", old)], &[("configs/prometheus.yml", new)], false),
        [
            "prometheus | changed | scrape job loki | scrape job loki: scrape_interval 15s → 30s",
            "prometheus | removed | scrape job old | scrape job old removed",
            "prometheus | added | scrape job new | scrape job new added",
        ]
    );
    let old = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n";
    let new = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up < 1\n        for: 1m\n      - record: r\n        expr: sum(up)\n";
    assert_eq!(
        lines(&[("configs/prometheus.rules.yml", old)], &[("configs/prometheus.rules.yml", new)], false),
        [
            "prometheus | changed | alert rule A (group g) | alert rule A (group g): expr up == 0 → up < 1",
            "prometheus | added | alert rule A (group g) | alert rule A (group g): for added (1m)",
            "prometheus | added | recording rule r (group g) | recording rule r (group g) added",
        ]
    );
}

#[test]
fn alertmanager_routes_receivers_inhibit_rules() {
    let old = "route:\n  receiver: default\n  routes:\n    - receiver: oncall\n      matchers: [a=\"1\"]\nreceivers:\n  - name: default\n";
    let new = "route:\n  receiver: default\n  routes:\n    - receiver: oncall\n      matchers: [a=\"2\"]\nreceivers:\n  - name: default\n  - name: oncall\ninhibit_rules:\n  - equal: [job]\n";
    assert_eq!(
        lines(&[("configs/alertmanager.yml", old)], &[("configs/alertmanager.yml", new)], false),
        [
            "alertmanager | added | receiver oncall | receiver oncall added",
            "alertmanager | changed | route to oncall | route to oncall: matchers [a=\"1\"] → [a=\"2\"]",
            "alertmanager | added | inhibit_rules | inhibit_rules added",
        ]
    );
}

#[test]
fn collector_components_and_pipeline_wiring() {
    let old = "exporters:\n  loki: {}\nservice:\n  pipelines:\n    logs:\n      exporters: [loki]\n";
    let new = "exporters:\n  loki: {}\n  debug: {}\nservice:\n  pipelines:\n    logs:\n      exporters: [loki, debug]\n";
    assert_eq!(
        lines(&[("configs/otel-collector.yaml", old)], &[("configs/otel-collector.yaml", new)], false),
        [
            "collector | added | exporter debug | exporter debug added",
            "collector | changed | pipeline logs | pipeline logs: exporters [loki] → [loki, debug]",
        ]
    );
}

#[test]
fn loki_retention_and_schema_periods() {
    let old = "schema_config:\n  configs:\n    - from: \"2024-04-01\"\n      schema: v13\nlimits_config:\n  retention_period: 720h\n";
    let new = "schema_config:\n  configs:\n    - from: \"2024-04-01\"\n      schema: v13\n    - from: \"2026-01-01\"\n      schema: v14\nlimits_config:\n  retention_period: 168h\n";
    assert_eq!(
        lines(&[("configs/loki.yaml", old)], &[("configs/loki.yaml", new)], false),
        [
            "loki | changed | limits | limits: retention_period 720h → 168h",
            "loki | added | schema period from 2026-01-01 | schema period from 2026-01-01 added",
        ]
    );
}

#[test]
fn grafana_panels_by_title_ignore_layout_unless_asked() {
    let old = r#"{"uid": "d", "version": 1, "panels": [
        {"id": 1, "title": "A", "gridPos": {"x": 0}, "targets": [{"refId": "A", "expr": "up"}]},
        {"id": 2, "title": "B", "gridPos": {"x": 6}}]}"#;
    let moved = r#"{"uid": "d", "version": 2, "panels": [
        {"id": 1, "title": "B", "gridPos": {"x": 0}},
        {"id": 2, "title": "A", "gridPos": {"x": 6}, "targets": [{"refId": "A", "expr": "up"}]}]}"#;
    let path = "configs/grafana/provisioning/dashboards/json/d.json";
    assert!(lines(&[(path, old)], &[(path, moved)], false).is_empty());
    let with_layout = lines(&[(path, old)], &[(path, moved)], true);
    assert!(with_layout.contains(&"grafana | moved | dashboard d: panel A | dashboard d: panel A moved: gridPos.x 0 → 6".to_owned()), "{with_layout:?}");
    let edited = old.replace("\"up\"", "\"sum(up)\"");
    assert_eq!(
        lines(&[(path, old)], &[(path, &edited)], false),
        ["grafana | changed | dashboard d: panel A | dashboard d: panel A: targets[refId=A].expr up → sum(up)"]
    );
    let renamed = lines(&[(path, old)], &[("configs/grafana/provisioning/dashboards/json/e.json", &edited)], false);
    assert_eq!(
        renamed,
        [
            "grafana | moved | dashboard d | dashboard d moved: file configs/grafana/provisioning/dashboards/json/d.json → configs/grafana/provisioning/dashboards/json/e.json",
            "grafana | changed | dashboard d: panel A | dashboard d: panel A: targets[refId=A].expr up → sum(up)",
        ]
    );
    let ds_old = "datasources:\n  - uid: loki\n    url: http://loki:3100\n";
    let ds_new = "datasources:\n  - uid: loki\n    url: http://loki:3101\n";
    assert_eq!(
        lines(&[("configs/grafana/provisioning/datasources/datasources.yml", ds_old)], &[("configs/grafana/provisioning/datasources/datasources.yml", ds_new)], false),
        ["grafana | changed | datasource loki | datasource loki: url http://loki:3100 → http://loki:3101"]
    );
}

#[test]
fn compose_services_and_secret_references() {
    let old = "services:\n  loki:\n    image: grafana/loki:3.7.5\nsecrets:\n  grafana-admin_password:\n    environment: A\n";
    let new = "services:\n  loki:\n    image: grafana/loki:3.7.6\nsecrets:\n  grafana-admin_password:\n    environment: B\n";
    assert_eq!(
        lines(&[("docker-compose.yml", old)], &[("docker-compose.yml", new)], false),
        [
            "services | changed | secret grafana-admin_password | secret grafana-admin_password: environment A → B",
            "services | changed | service loki | service loki: image grafana/loki:3.7.5 → grafana/loki:3.7.6",
        ]
    );
}

#[test]
fn unknown_files_fall_back_to_paths_or_lines() {
    let old = [("configs/x.yaml", "a:\n  b: 1\n"), ("README.md", "one\n"), (crate::deployment::FILE, "{}")];
    let new = [("configs/x.yaml", "a:\n  b: 2\n"), ("README.md", "two\n"), (crate::deployment::FILE, "{\"x\": 1}")];
    assert_eq!(
        lines(&old, &new, false),
        ["file | changed | README.md | README.md: changed (+1 −1 lines)", "file | changed | configs/x.yaml | configs/x.yaml: a.b 1 → 2"]
    );
}

#[test]
fn review_renderings_summarise_first_and_colour_only_when_asked() {
    use render::{Review, Side};
    let old = Side::Built(Box::new(build(&[("configs/loki.yaml", "limits_config:\n  retention_period: 720h\n")])), None);
    let new = Side::Built(Box::new(build(&[("configs/loki.yaml", "limits_config:\n  retention_period: 168h\n")])), None);
    let review = Review {
        old: "main".to_owned(),
        new: "work tree".to_owned(),
        stacks: vec![
            render::stack("a", &old, &new, Options::default()),
            render::stack("b", &Side::Absent, &Side::Failed("error: boom".to_owned()), Options::default()),
            render::stack("c", &old, &Side::Absent, Options::default()),
        ],
    };
    assert!(review.has_changes() && review.has_failures());
    let plain = render::text(&review, crate::diff::Style::Plain);
    assert!(!plain.contains('\x1b'));
    assert!(plain.contains("    ~ limits: retention_period 720h → 168h\n"), "{plain}");
    assert!(plain.contains("b: does not build at the new revision\n    error: boom\n"), "{plain}");
    assert!(plain.contains("c: removed; no plan: "), "no deployment document, so no plan: {plain}");
    assert!(render::text(&review, crate::diff::Style::Color).contains("\x1b[1ma\x1b[0m"));
    let md = render::markdown(&review);
    assert!(md.starts_with("**obsbuild diff** `main` → `work tree`: 3 of 3 stacks changed (a, b, c)\n"), "{md}");
    assert_eq!(md.matches("<details>").count(), 3);
    let json = render::json(&review);
    assert_eq!(json["schema"], 1);
    assert_eq!(json["stacks"][0]["changes"][0]["old"], "720h");
    assert_eq!(json["stacks"][1]["failure"]["side"], "new");
    assert_eq!(json["stacks"][2]["status"], "removed");
    assert!(json["stacks"][2]["plan_error"].is_string());
}

#[test]
fn templated_strings_are_values_not_maps() {
    let old = "groups:\n  - name: g\n    rules:\n      - alert: A\n        annotations:\n          summary: \"{{ $labels.job }} is down\"\n";
    let new = old.replace("is down", "is not answering");
    assert_eq!(
        lines(&[("configs/prometheus.rules.yml", old)], &[("configs/prometheus.rules.yml", &new)], false),
        ["prometheus | changed | alert rule A (group g) | alert rule A (group g): annotations.summary {{ $labels.job }} is down → {{ $labels.job }} is not answering"]
    );
}
