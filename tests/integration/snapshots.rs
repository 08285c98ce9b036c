//! Every rendered file of the shipped stacks and of the stack that uses every option,
//! as reviewed snapshots (`cargo insta review` after a deliberate change).

use super::common;

fn snapshot_stack(relative: &str, prefix: &str) {
    snapshot_built(&common::build(relative), prefix);
}

fn snapshot_built(built: &obsbuild::pipeline::Built, prefix: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/files");
    settings.set_prepend_module_to_snapshot(false);
    let mut produced = std::collections::BTreeSet::new();
    settings.bind(|| {
        for (path, bytes) in &built.build.files {
            let text = String::from_utf8(bytes.clone()).expect("rendered files are UTF-8");
            let name = format!("{prefix}__{}", path.replace('/', "__"));
            insta::assert_snapshot!(name.clone(), text);
            produced.insert(name);
        }
    });
    // A file the stack no longer renders leaves its snapshot behind.
    common::assert_no_orphan_snapshots("files", &format!("{prefix}__"), &produced);
}

#[test]
fn task_manager_files() {
    snapshot_stack("stacks/task-manager.rhai", "task-manager");
}

#[test]
fn scaibu_files() {
    snapshot_stack("stacks/scaibu.rhai", "scaibu");
}

#[test]
fn scaibu_swarm_files() {
    snapshot_stack("stacks/scaibu-swarm.rhai", "scaibu-swarm");
}

/// Seed 000's script as it is, built with `--engine swarm`.
#[test]
fn task_manager_swarm_files() {
    let path = common::root().join("stacks/task-manager.rhai");
    let built = obsbuild::pipeline::build_for(&path, &Default::default(), Some(obsbuild::model::Engine::Swarm)).unwrap();
    snapshot_built(&built, "task-manager-swarm");
}

#[test]
fn every_option_files() {
    snapshot_stack("tests/stacks/everything.rhai", "everything");
}

/// Dollar signs in script values: the compose files carry them doubled (escaped for
/// compose's interpolation), every other file as written.
#[test]
fn dollar_sign_files() {
    snapshot_stack("tests/stacks/dollars.rhai", "dollars");
}

/// The default stack reproduces seed 000's layout, file for file.
#[test]
fn task_manager_has_the_seed_layout() {
    let built = common::build("stacks/task-manager.rhai");
    for path in [
        "docker-compose.yml",
        "configs/otel-collector.yaml",
        "configs/loki.yaml",
        "configs/prometheus.yml",
        "configs/grafana/provisioning/datasources/datasources.yml",
        "configs/grafana/provisioning/dashboards/dashboards.yml",
        "configs/grafana/provisioning/dashboards/json/task-manager-overview.json",
        "README.md",
        "apps/docker-compose.yml",
    ] {
        assert!(built.build.files.contains_key(path), "missing {path}");
    }
}

/// Settings current releases removed (components reference, §1) appear in no build.
#[test]
fn no_removed_settings_in_any_build() {
    let removed = [
        "loglevel", "logging:", "shared_store", "boltdb-shipper", "jaegertracing/all-in-one", "COLLECTOR_OTLP_ENABLED",
        "GF_INSTALL_PLUGINS", "grafana-oss", "version: '3", "localhost:4317", "localhost:4318",
        "tracesToLogs:", "web.console",
    ];
    for stack in common::all_stacks() {
        let built = common::build(&stack);
        for (path, bytes) in &built.build.files {
            let text = String::from_utf8_lossy(bytes);
            for r in removed {
                assert!(!text.contains(r), "{stack}: {path} contains removed setting `{r}`");
            }
            // The test stack runs one `:latest` app on purpose (`allow_latest`) and pins
            // Prometheus 2.x, whose OTLP receiver is still a feature flag.
            if stack.starts_with("stacks/") {
                for r in [":latest", "--enable-feature=otlp-write-receiver", "--enable-feature=remote-write-receiver"] {
                    assert!(!text.contains(r), "{stack}: {path} contains `{r}`");
                }
            }
        }
    }
}
