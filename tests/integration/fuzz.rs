//! Property test over the whole pure pipeline: generated scripts (library constructors and
//! `service` calls with odd values, wiring, overrides) → evaluate → convert → validate →
//! render → activation and store hash → the review's comparison. Every script either
//! builds or fails with diagnostics; nothing panics, and nothing is an internal error.
//!
//! Bounded for CI: `PROPTEST_CASES` cases (1000 by default), each under the sandbox's
//! deadline. `PROPTEST_CASES=5000 cargo test --release fuzz` runs longer.

use std::collections::BTreeMap;
use std::sync::Arc;

use obsbuild::evaluate::source::Entry;
use obsbuild::evaluate::GitTree;
use proptest::prelude::*;

/// A Rhai string literal of `text`.
fn quoted(text: &str) -> String {
    format!("{text:?}")
}

/// Values a script could pass anywhere: numbers at their edges, durations, sizes and
/// addresses that nearly parse, strings with interpolation characters.
fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        (-1e18f64..1e18).prop_map(|f| format!("{f:.3}")),
        Just("()".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        "[0-9]{1,25}(ns|us|ms|s|m|h|d|w|y|){1,3}".prop_map(|t| quoted(&t)),
        "[0-9]{1,22}[bkmgq]?".prop_map(|t| quoted(&t)),
        "[0-9]{1,4}(\\.[0-9]{1,3}){0,4}(/[0-9]{1,3})?".prop_map(|t| quoted(&t)),
        "[0-9]{1,6}(:[0-9]{1,6}){0,2}(/udp)?".prop_map(|t| quoted(&t)),
        "[a-z0-9$@:./{}\\-_ ]{0,16}".prop_map(|t| quoted(&t)),
        prop::sample::select(vec!["CMD", "NONE", "grafana/grafana:13.2.0", "busybox:1.36.1", "busybox:latest", "loki", "metrics", "logs", "traces"])
            .prop_map(quoted),
    ]
}

/// Field names of services and library options, and a few that are none.
const KEYS: &[&str] = &[
    "name", "image", "version", "ports", "endpoints", "volumes", "binds", "ip", "healthcheck", "test", "interval", "timeout",
    "retries", "start_period", "probe", "port", "path", "depends_on", "memory", "cpus", "user", "labels", "environment",
    "restart", "settings", "files", "retention", "retention_size", "memory_limit_mib", "docker_logs", "scrape_interval",
    "anonymous", "datasources", "admin_password", "domain", "routes", "allow_latest", "command", "args", "kind", "accepts",
    "exporter", "datasource", "type", "url", "uid", "otlp_receiver", "remote_write_receiver", "limits_config", "x-unknown",
];

fn value() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::btree_map(prop::sample::select(KEYS), inner, 0..5).prop_map(|m| {
                let fields: Vec<String> = m.into_iter().map(|(k, v)| format!("{}: {v}", quoted(k))).collect();
                format!("#{{{}}}", fields.join(", "))
            }),
        ]
    })
}

fn options() -> impl Strategy<Value = String> {
    let some = prop::collection::btree_map(prop::sample::select(KEYS), value(), 1..4).prop_map(|m| {
        let fields: Vec<String> = m.into_iter().map(|(k, v)| format!("{}: {v}", quoted(k))).collect();
        format!("#{{{}}}", fields.join(", "))
    });
    // Often none, so that more scripts get past evaluation to rendering.
    prop_oneof![2 => Just("#{}".to_owned()), 1 => some]
}

/// One statement: a declaration bound to `v<i>`, or a method on an earlier one.
fn statement(i: usize) -> impl Strategy<Value = String> {
    // Named after the statement, so that two of one kind are not the same service, unless
    // the options name one.
    let named = move |call: &str, o: String| format!("{call}(merge(#{{ name: \"v{i}\" }}, {o}))");
    let declare = prop_oneof![
        options().prop_map(move |o| named("otel::collector", o)),
        options().prop_map(move |o| named("loki::server", o)),
        options().prop_map(move |o| named("prometheus::server", o)),
        options().prop_map(move |o| named("alertmanager::server", o)),
        options().prop_map(move |o| named("jaeger::server", o)),
        options().prop_map(move |o| named("grafana::server", o)),
        Just("otel::collector()".to_owned()),
        Just("loki::server()".to_owned()),
        options().prop_map(move |o| format!("service(\"v{i}\", merge(#{{ image: \"busybox:1.36.1\" }}, {o}))")),
    ];
    let earlier = 0..i.max(1);
    let method = (earlier.clone(), earlier, prop::sample::select(vec!["logs", "metrics", "traces", "x"]), value(), options()).prop_map(
        |(a, b, signal, v, o)| {
            let calls = [
                format!("v{a}.send({}, v{b})", quoted(signal)),
                format!("v{a}.scrape(v{b})"),
                format!("v{a}.set(\"limits_config.retention_period\", {v})"),
                format!("v{a}.label(\"k\", {v})"),
                format!("v{a}.datasource(v{b})"),
                format!("v{a}.alert(\"A\", {o})"),
                format!("v{a}.alerts_to(v{b})"),
                format!("v{a}.file(\"f.json\", {v})"),
            ];
            calls[(a + b + signal.len()) % calls.len()].clone()
        },
    );
    if i == 0 { declare.prop_map(|d| format!("let v0 = {d};")).boxed() } else {
        prop_oneof![declare.prop_map(move |d| format!("let v{i} = {d};")), method.prop_map(move |m| format!("let v{i} = {m};"))].boxed()
    }
}

/// Half the scripts start from a stack that builds (a collector sending logs to Loki), so
/// that generated values reach rendering and the plan, not only evaluation.
fn script() -> impl Strategy<Value = String> {
    (any::<bool>(), 1usize..8).prop_flat_map(|(base, n)| {
        let first = if base { 2 } else { 0 };
        (first..first + n).map(statement).collect::<Vec<_>>().prop_map(move |lines| {
            let imports = "import \"otel-collector\" as otel;\nimport \"loki\" as loki;\nimport \"prometheus\" as prometheus;\n\
                           import \"alertmanager\" as alertmanager;\nimport \"jaeger\" as jaeger;\nimport \"grafana\" as grafana;\n";
            let preamble = if base { "let v0 = otel::collector();\nlet v1 = loki::server();\nv0.send(\"logs\", v1);\n" } else { "" };
            format!("{imports}{preamble}{}\n", lines.join("\n"))
        })
    })
}

fn source(text: &str) -> Arc<GitTree> {
    let entries = BTreeMap::from([("stacks/fuzz.rhai".to_owned(), Entry::File(text.as_bytes().to_vec()))]);
    Arc::new(GitTree { rev: "fuzz".to_owned(), entries })
}

/// One generated script through the pipeline; `Ok(true)` when it built.
fn one(text: &str) -> Result<bool, TestCaseError> {
    match obsbuild::pipeline::build_source(source(text), "stacks/fuzz.rhai", &Default::default()) {
        Err(f) => {
            let shown = obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain);
            prop_assert!(!shown.contains("internal error"), "{text}\n{shown}");
            prop_assert!(!f.diagnostics.0.is_empty(), "a failure without a diagnostic:\n{text}");
            Ok(false)
        }
        Ok(built) => {
            let build = built.build;
            let activation = obsbuild::deployment::load(&build.stack, &build.files, std::path::Path::new("/configs"));
            prop_assert!(activation.is_ok(), "{text}\n{activation:?}");
            prop_assert_eq!(obsbuild::store::Store::hash(&build).len(), 64);
            // What the renderer recorded is what a reader of the bytes gets back.
            let stored = obsbuild::build::Build::new(build.stack.clone(), build.files.clone());
            let (rendered, read) = (obsbuild::diff::semantic::Reading::of(&build), obsbuild::diff::semantic::Reading::of(&stored));
            prop_assert_eq!(&rendered.files, &read.files, "{}", text);
            prop_assert_eq!(&rendered.deployment, &read.deployment, "{}", text);
            let side = obsbuild::diff::semantic::render::Side::Built(Box::new(build.clone()), None);
            let absent = obsbuild::diff::semantic::render::Side::Absent;
            let review = obsbuild::diff::semantic::render::stack("fuzz", &absent, &side, Default::default());
            prop_assert_eq!(review.status, obsbuild::diff::semantic::render::Status::Added);
            Ok(true)
        }
    }
}

#[test]
fn generated_scripts_build_or_fail_cleanly() {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000);
    let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let built = std::sync::atomic::AtomicU32::new(0);
    let result = runner.run(&script(), |text| {
        if one(&text)? {
            built.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator must reach rendering and the plan, not only evaluation's errors.
    let built = built.into_inner();
    assert!(built * 50 >= cases, "only {built} of {cases} generated scripts built");
}
