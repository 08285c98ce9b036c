//! `obsbuild diff --rev A --rev B` end to end: a git repository whose commits each make one
//! kind of change, and the review of each commit against its parent (snapshots of the text,
//! Markdown and JSON views).

use std::path::Path;
use std::process::Output;

use super::common::{self, git};

/// The stack every commit edits: each change below is one textual replacement of it.
const STACK: &str = r#"import "otel-collector" as otel;
import "loki" as loki;
import "prometheus" as prometheus;
import "grafana" as grafana;

stack("review");
network("review");

let logs = loki::server();
let archive = loki::server(#{ name: "loki-archive", ports: ["3101:3100"] });
let metrics = prometheus::server(#{ scrape_interval: "15s" });
let hub = otel::collector();
hub.send("logs", logs);
hub.send("metrics", metrics);
metrics.scrape(hub);
metrics.alert("CollectorDown", #{
    expr: `up{job="otel-collector"} == 0`, "for": "1m", severity: "critical", summary: "the collector is down",
});

let ui = grafana::server(#{
    version: "13.2.0",
    datasources: [metrics, logs],
    admin_password: secret_env("REVIEW_GRAFANA_PASSWORD"),
});
ui.dashboard(#{ uid: "review", title: "Review", panels: [
    #{ title: "Targets up", type: "stat", datasource: "prometheus", query: "sum(up)" },
    #{ title: "Targets down", type: "stat", datasource: "prometheus", query: "count(up == 0)" },
    #{ title: "App requests", datasource: "prometheus", query: `sum(rate(http_server_request_duration_seconds_count{job="app"}[$__rate_interval]))` },
]});
"#;

/// Each commit after the first: its name and the one replacement it makes.
const COMMITS: &[(&str, &str, &str)] = &[
    ("scrape-interval", r#"scrape_interval: "15s""#, r#"scrape_interval: "30s""#),
    (
        "new-alert-rule",
        "metrics.scrape(hub);\n",
        "metrics.scrape(hub);\nmetrics.alert(\"LokiDown\", #{ expr: `up{job=\"loki\"} == 0`, severity: \"warning\", summary: \"Loki is down\" });\n",
    ),
    ("panel-query-edit", r#"query: "sum(up)""#, r#"query: "sum by (job) (up)""#),
    (
        "moved-panel",
        "    #{ title: \"Targets up\", type: \"stat\", datasource: \"prometheus\", query: \"sum by (job) (up)\" },\n    #{ title: \"Targets down\", type: \"stat\", datasource: \"prometheus\", query: \"count(up == 0)\" },\n",
        "    #{ title: \"Targets down\", type: \"stat\", datasource: \"prometheus\", query: \"count(up == 0)\" },\n    #{ title: \"Targets up\", type: \"stat\", datasource: \"prometheus\", query: \"sum by (job) (up)\" },\n",
    ),
    ("image-bump", r#"version: "13.2.0""#, r#"version: "13.2.1""#),
    ("pipeline-rewiring", "hub.send(\"logs\", logs);\n", "hub.send(\"logs\", logs);\nhub.send(\"logs\", archive);\n"),
    ("secret-reference", "REVIEW_GRAFANA_PASSWORD", "REVIEW_GRAFANA_ADMIN_PASSWORD"),
    // The app's metrics no longer reach Prometheus: the impact names the panel that reads them.
    ("drop-metrics-pipeline", "hub.send(\"metrics\", metrics);\n", ""),
];

/// Values of the secret the stack names, before and after `secret-reference`: present in
/// the environment of every review, and never in its output.
const CANARIES: [(&str, &str); 2] =
    [("REVIEW_GRAFANA_PASSWORD", "canary-old-7f3a9c"), ("REVIEW_GRAFANA_ADMIN_PASSWORD", "canary-new-2b81d4")];


/// A repository with the base stack committed as `base`, then one commit per [`COMMITS`]
/// entry, each tagged with its name.
fn repository(dir: &Path) -> std::path::PathBuf {
    let project = common::project(dir);
    std::fs::write(project.join("stacks/review.rhai"), STACK).unwrap();
    git(&project, &["init", "-q", "-b", "main"]);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "base"]);
    git(&project, &["tag", "base"]);
    let mut text = STACK.to_owned();
    for (name, from, to) in COMMITS {
        assert!(text.contains(from), "{name}: the stack has no `{from}`");
        text = text.replacen(from, to, 1);
        std::fs::write(project.join("stacks/review.rhai"), &text).unwrap();
        git(&project, &["commit", "-q", "-am", name]);
        git(&project, &["tag", name]);
    }
    project
}

fn diff(project: &Path, args: &[&str]) -> Output {
    common::obsbuild()
        .args(["diff"])
        .args(args)
        .current_dir(project)
        .env_remove("OBSBUILD_STACK")
        .env("NO_COLOR", "1")
        .envs(CANARIES)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn review_each_kind_of_change() {
    let tmp = tempfile::tempdir().unwrap();
    let project = repository(tmp.path());
    let mut produced = std::collections::BTreeSet::new();
    for (name, _, _) in COMMITS {
        let parent = format!("{name}^");
        let expected = if *name == "moved-panel" { 0 } else { 1 };
        let snapshot = format!("review_{}", name.replace('-', "_"));
        for (format, suffix) in [("text", ""), ("markdown", "_md"), ("json", "_json")] {
            let out = diff(&project, &["--rev", &parent, "--rev", name, "--format", format]);
            let stdout = text(&out);
            assert_eq!(out.status.code(), Some(expected), "{name} ({format}):\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
            for (_, value) in CANARIES {
                assert!(!stdout.contains(value), "{name} ({format}) shows a secret's value:\n{stdout}");
            }
            if format == "json" {
                let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
                assert_eq!((v["schema"].as_u64(), v["changed"].as_bool()), (Some(1), Some(expected == 1)), "{name}");
            }
            insta::assert_snapshot!(format!("{snapshot}{suffix}"), stdout);
            produced.insert(format!("integration__review__{snapshot}{suffix}"));
        }
    }
    common::assert_no_orphan_snapshots("", "integration__review__", &produced);
}

#[test]
fn review_moved_panel_shows_only_with_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let project = repository(tmp.path());
    let quiet = diff(&project, &["--rev", "moved-panel^", "--rev", "moved-panel"]);
    assert!(text(&quiet).starts_with("review: no change (dashboard layout only"), "{}", text(&quiet));
    assert!(!text(&quiet).contains("\n    "), "no change is listed: {}", text(&quiet));
    let loud = diff(&project, &["--rev", "moved-panel^", "--rev", "moved-panel", "--layout"]);
    // The build differs (panel positions), so --layout shows the move.
    assert!(text(&loud).contains("> dashboard review: panel Targets up moved: gridPos.x 0 → 12"), "{}", text(&loud));
    assert_eq!(loud.status.code(), Some(1));
}

#[test]
fn review_formats_exit_codes_and_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let project = repository(tmp.path());
    let md = diff(&project, &["--rev", "image-bump^", "--rev", "image-bump", "--format", "markdown"]);
    assert!(text(&md).starts_with("**obsbuild diff** `image-bump^` → `image-bump`: 1 of 1 stacks changed (review)\n"), "{}", text(&md));
    assert!(text(&md).contains("<details><summary><b>review</b>"), "{}", text(&md));

    let json = diff(&project, &["--rev", "base", "--rev", "image-bump", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["stacks"][0]["status"], "changed");
    assert!(v["stacks"][0]["plan"].as_array().unwrap().iter().any(|s| s["action"] == "recreate" && s["service"] == "grafana"));

    assert_eq!(diff(&project, &["--rev", "base", "--rev", "base"]).status.code(), Some(0));
    assert_eq!(diff(&project, &["--rev", "base", "--rev", "image-bump", "--exit-zero"]).status.code(), Some(0));
    let files = diff(&project, &["--rev", "image-bump^", "--rev", "image-bump", "--files"]);
    assert!(text(&files).contains("+    image: grafana/grafana:13.2.1"), "{}", text(&files));
    let bad = diff(&project, &["--rev", "no-such-rev"]);
    assert_eq!(bad.status.code(), Some(2));

    // A stack only in the work tree is added; a script that does not evaluate is reported.
    std::fs::write(project.join("stacks/broken.rhai"), "stack(\"broken\");\nnot_a_function();\n").unwrap();
    std::fs::copy(project.join("stacks/review.rhai"), project.join("stacks/copy.rhai")).unwrap();
    let out = diff(&project, &["--rev", "HEAD"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("broken: does not build at the new revision"), "{t}");
    assert!(t.contains("copy: added"), "{t}");
    assert!(t.contains("review: no change"), "{t}");

    std::fs::remove_file(project.join("stacks/review.rhai")).unwrap();
    let gone = diff(&project, &["--rev", "HEAD", "review"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(text(&gone).starts_with("review: removed; switch: remove "), "{}", text(&gone));
}
