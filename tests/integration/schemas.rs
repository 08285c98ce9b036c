//! Every key obsbuild writes is in its component's schema, and what no schema covers is
//! listed by `check`, never passed as checked.

use super::common;
use obsbuild::model::Kind;

/// Renders every stack (`stacks/`, `tests/stacks/`) and walks each component's rendered
/// config file, library defaults and obsbuild's own keys included, against its schema.
#[test]
fn every_rendered_key_is_in_its_schema() {
    let mut stacks = common::all_stacks();
    for extra in ["tests/stacks/blackbox.rhai"] {
        if !stacks.iter().any(|s| s == extra) {
            stacks.push(extra.to_owned());
        }
    }
    let mut walked = 0;
    let mut problems = Vec::new();
    for stack in &stacks {
        let built = common::build(stack);
        for s in built.evaluation.stack.services.values() {
            if matches!(s.kind(), Kind::Grafana | Kind::Container) {
                continue;
            }
            let path = obsbuild::build::layout::config_file(s);
            let bytes = built.build.files.get(&path).unwrap_or_else(|| panic!("{stack}: no {path}"));
            let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{stack}: {path}: {e}"));
            let tree = obsbuild::yaml::parse(text).unwrap_or_else(|e| panic!("{stack}: {path}: {e}"));
            walked += 1;
            for p in obsbuild::validate::schema::rendered(s.kind(), s.version, &tree) {
                problems.push(format!("{stack}: {path}: {p}"));
            }
        }
        // Traefik, a plain container: its flags and dynamic files go through the checks.
        assert!(built.not_checked.iter().all(|n| !n.reason.contains("does not load")), "{stack}: {:?}", built.not_checked);
    }
    assert!(walked >= 12, "only {walked} config files walked");
    assert!(problems.is_empty(), "rendered keys missing from their schemas:\n{}", problems.join("\n"));
}

/// The walk reports what it should on a rendered file: the coverage test above would pass
/// vacuously if `rendered` found nothing ever.
#[test]
fn the_coverage_walk_finds_a_key_missing_from_the_schema() {
    let tree = serde_json::json!({ "limits_config": { "retention_perod": "1h" }, "server": { "http_listen_port": "x" } });
    let problems = obsbuild::validate::schema::rendered(Kind::Loki, obsbuild::model::Version::parse("3.7.6"), &tree);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("retention_perod") && problems[1].contains("http_listen_port"), "{problems:?}");
}

/// A contrib component no schema covers, and a Loki outside every schema's range, are
/// listed as not checked: on stderr after the verdict, and in `check --json`.
#[test]
fn unschemad_components_are_listed_as_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("partial.rhai");
    std::fs::write(
        &script,
        r#"import "otel-collector" as otel;
import "loki" as loki;
let logs = loki::server(#{ version: "3.6.5" });
let hub = otel::collector();
hub.processor("transform/redact", #{ log_statements: [#{ context: "log", statements: ["set(body, \"x\")"] }] });
hub.send("logs", logs);
hub.pipeline("logs", #{ receivers: ["otlp"], processors: ["memory_limiter", "transform/redact", "batch"] });
"#,
    )
    .unwrap();
    let out = common::obsbuild().arg("check").arg("--json").arg(&script).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], true);
    let listed = json["not_checked"].as_array().unwrap();
    let find = |service: &str, what: &str| listed.iter().find(|n| n["service"] == service && n["what"] == what);
    let transform = find("otel-collector", "processor `transform/redact`").unwrap_or_else(|| panic!("{listed:?}"));
    assert!(transform["reason"].as_str().unwrap().contains("no schema"), "{transform}");
    let loki = find("loki", "settings").unwrap_or_else(|| panic!("{listed:?}"));
    assert!(loki["reason"].as_str().unwrap().contains("3.6.5"), "{loki}");
    assert!(json["files"].as_array().unwrap().iter().any(|f| f == "configs/loki.yaml"));

    let text = common::obsbuild().arg("check").arg(&script).output().unwrap();
    let stderr = String::from_utf8_lossy(&text.stderr);
    let verdict = stderr.find("is valid").unwrap_or_else(|| panic!("{stderr}"));
    let listed_at = stderr.find("not checked").unwrap_or_else(|| panic!("{stderr}"));
    assert!(verdict < listed_at, "the list comes after the verdict:\n{stderr}");
    assert!(stderr.contains("otel-collector: processor `transform/redact`"), "{stderr}");
}

/// The default stack checks clean with nothing left unchecked.
#[test]
fn the_default_stack_is_checked_in_full() {
    let built = common::build("stacks/task-manager.rhai");
    assert!(built.not_checked.is_empty(), "{:?}", built.not_checked);
}
