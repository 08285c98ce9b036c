//! Warnings of the scripts in `tests/warnings/`, as snapshots (they build, and say what
//! will not work), and the shipped stacks' dashboards and rules select what they run.

use super::common;

#[test]
fn every_warning_script_gives_its_reviewed_warnings() {
    let dir = common::root().join("tests/warnings");
    let (names, settings) = common::script_corpus("warnings");
    assert!(!names.is_empty(), "no warning scripts in {}", dir.display());
    let produced = names.iter().map(|n| n.trim_end_matches(".rhai").to_owned()).collect();
    settings.bind(|| {
        for name in names {
            let built = common::build(&format!("tests/warnings/{name}"));
            assert!(!built.warnings.is_empty(), "tests/warnings/{name} gave no warning");
            assert!(built.warnings.iter().all(obsbuild::diagnostic::Diagnostic::is_warning));
            let text = obsbuild::diagnostic::render_all(&built.warnings, &built.evaluation.sources, obsbuild::diagnostic::Paint::Plain);
            assert!(text.contains(&format!("tests/warnings/{name}:")), "{name}: no location in\n{text}");
            insta::assert_snapshot!(name.trim_end_matches(".rhai"), text);
        }
    });
    common::assert_no_orphan_snapshots("warnings", "", &produced);
}

/// A panel selecting `job="nope"` is warned about at the panel's own line.
#[test]
fn a_panel_selecting_an_unknown_job_is_warned_about_at_its_line() {
    let built = common::build("tests/warnings/selects-nothing.rhai");
    let script = std::fs::read_to_string(common::root().join("tests/warnings/selects-nothing.rhai")).unwrap();
    let line = script.lines().position(|l| l.contains("job=\"nope\"")).unwrap() + 1;
    let w = built.warnings.iter().find(|w| w.message.contains("job=\"nope\"")).expect("a warning about job=\"nope\"");
    assert!(w.message.contains("panel `Nope up` of dashboard `dead`"), "{}", w.message);
    assert_eq!(w.span.as_ref().map(|s| s.line as usize), Some(line));
    // A regular expression that can match a job there is, and a template variable, are fine.
    for title in ["Prometheus up", "Templated"] {
        assert!(!built.warnings.iter().any(|w| w.message.contains(&format!("`{title}`"))), "{title} was warned about");
    }
    assert!(!built.warnings.iter().any(|w| w.message.contains("SelfDown")));
}

/// The library's dashboards and the seed stacks' rules select only series their stack has.
#[test]
fn the_seed_stacks_select_what_they_run() {
    for stack in ["stacks/task-manager.rhai", "stacks/scaibu.rhai"] {
        let built = common::build(stack);
        let dead: Vec<&str> = built.warnings.iter().filter(|w| w.message.contains("it gets no data")).map(|w| w.message.as_str()).collect();
        assert!(dead.is_empty(), "{stack}: {dead:#?}");
        assert!(!built.build.files.is_empty());
    }
}

/// A scrape job that relabels `job` can give it any value: its Prometheus' `job`
/// matchers are not judged.
#[test]
fn a_relabelled_job_is_not_judged() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("stacks")).unwrap();
    let script = r#"import "prometheus" as prometheus;
import "grafana" as grafana;
let m = prometheus::server();
m.scrape("discovered", [], #{ settings: #{ relabel_configs: [#{ source_labels: ["__address__"], target_label: "job" }] } });
let ui = grafana::server(#{ datasources: [m] });
ui.dashboard(#{ uid: "d", title: "D", panels: [#{ title: "Any job", datasource: "prometheus", query: `up{job="whatever"}` }] });
"#;
    let path = tmp.path().join("stacks/case.rhai");
    std::fs::write(&path, script).unwrap();
    let built = obsbuild::pipeline::build(&path, &Default::default()).unwrap_or_else(|f| {
        panic!("{}", obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain))
    });
    assert!(!built.warnings.iter().any(|w| w.message.contains("it gets no data")), "{:#?}", built.warnings);
    // Without the relabelling the same panel is warned about.
    std::fs::write(&path, script.replace("target_label: \"job\"", "target_label: \"instance\"")).unwrap();
    let built = obsbuild::pipeline::build(&path, &Default::default()).unwrap();
    assert!(built.warnings.iter().any(|w| w.message.contains("`Any job`")), "{:#?}", built.warnings);
}
