//! The real validators on real output: promtool, amtool and docker-compose, for every
//! stack. A missing validator fails the test; `.ci/run` installs them.

use std::path::Path;
use std::process::Command;

use obsbuild::model::{Component, Version};

use super::common;

/// What the tests can run here: Debian's promtool.
const PROMTOOL_VERSION: Version = Version::new(2, 42, 0);

/// Containers see the build's `configs/` at /etc/obsbuild; promtool runs on the host,
/// so the config it checks gets the folder's real path in its place, exactly what the
/// bind mount does at run time.
fn promtool_check(dir: &Path, config: &str, what: &str) {
    let original = std::fs::read_to_string(dir.join(config)).unwrap();
    let configs = dir.join("configs");
    let localized = original.replace(obsbuild::render::CONFIG_MOUNT, configs.to_str().unwrap());
    let copy = dir.join("promtool-check.yml");
    std::fs::write(&copy, localized).unwrap();
    common::run_ok(Command::new("promtool").arg("check").arg("config").arg(&copy), what);
}

fn validate_stack(relative: &str) {
    let built = common::build(relative);
    let tmp = tempfile::tempdir().unwrap();
    common::write_files(&built.build.files, tmp.path());

    common::run_ok(
        Command::new("docker-compose").arg("-f").arg(tmp.path().join("docker-compose.yml")).args(["config", "-q"]),
        &format!("{relative}: docker-compose config"),
    );
    if tmp.path().join("apps/docker-compose.yml").exists() {
        common::run_ok(
            Command::new("docker-compose").arg("-f").arg(tmp.path().join("apps/docker-compose.yml")).args(["config", "-q"]),
            &format!("{relative}: docker-compose config (apps)"),
        );
    }

    let mut prometheus_3 = false;
    for service in built.evaluation.stack.services.values() {
        match &service.component {
            Component::Prometheus(p) => {
                let config = obsbuild::render::config_file(service);
                if !p.rule_groups.is_empty() {
                    let rules = tmp.path().join(format!("configs/{}.rules.yml", service.name));
                    common::run_ok(Command::new("promtool").arg("check").arg("rules").arg(rules), &format!("{relative}: promtool check rules"));
                }
                if !p.rule_tests.is_empty() {
                    let tests = tmp.path().join(obsbuild::render::rule_tests_file(service));
                    common::run_ok(Command::new("promtool").args(["test", "rules"]).arg(tests), &format!("{relative}: promtool test rules"));
                }
                if obsbuild::render::prometheus_dialect::version(service) < Version::new(3, 0, 0) {
                    promtool_check(tmp.path(), &config, &format!("{relative}: promtool check config"));
                } else {
                    prometheus_3 = true;
                }
            }
            Component::Alertmanager(_) => {
                let config = tmp.path().join(obsbuild::render::config_file(service));
                common::run_ok(Command::new("amtool").arg("check-config").arg(config), &format!("{relative}: amtool check-config"));
            }
            _ => {}
        }
    }

    // A 3.x pin renders 3.x forms that promtool 2.42 cannot read; the same stack pinned to
    // the version promtool is must render a config promtool accepts.
    if prometheus_3 {
        let mut stack = built.evaluation.stack.clone();
        for s in stack.services.values_mut() {
            if matches!(s.component, Component::Prometheus(_)) {
                s.version = Some(PROMTOOL_VERSION);
            }
        }
        let old = obsbuild::render::render(&stack);
        let dir = tempfile::tempdir().unwrap();
        common::write_files(&old.files, dir.path());
        for s in stack.services.values().filter(|s| matches!(s.component, Component::Prometheus(_))) {
            promtool_check(dir.path(), &obsbuild::render::config_file(s), &format!("{relative} pinned to Prometheus {PROMTOOL_VERSION}: promtool check config"));
        }
    }
}

#[test]
fn every_stack_passes_the_real_validators() {
    for stack in common::all_stacks() {
        validate_stack(&stack);
    }
}

/// Prometheus 3.8+ keeps retention in the config; older versions get the flag.
#[test]
fn prometheus_retention_follows_the_version() {
    let built = common::build("stacks/task-manager.rhai");
    let text = String::from_utf8(built.build.files["configs/prometheus.yml"].clone()).unwrap();
    assert!(text.contains("retention:\n      time: 200h"), "{text}");
    let compose = String::from_utf8(built.build.files["docker-compose.yml"].clone()).unwrap();
    assert!(!compose.contains("--storage.tsdb.retention"), "3.x must not get the deprecated flag");

    let mut stack = built.evaluation.stack.clone();
    stack.services.get_mut("prometheus").unwrap().version = Some(PROMTOOL_VERSION);
    let old = obsbuild::render::render(&stack);
    let text = String::from_utf8(old.files["configs/prometheus.yml"].clone()).unwrap();
    assert!(!text.contains("retention"), "2.x must not get the 3.8 block:\n{text}");
    let compose = String::from_utf8(old.files["docker-compose.yml"].clone()).unwrap();
    assert!(compose.contains("--storage.tsdb.retention.time=200h"), "{compose}");
}

/// The alert tests can fail: with a rule loosened (`>` to `>=`, `for: 1m` to `30s`), the
/// same tests report the alerts that fire too early.
#[test]
fn alert_tests_catch_a_changed_rule() {
    let built = common::build("stacks/scaibu.rhai");
    assert!(built.build.files.contains_key("configs/prometheus.rules.test.yml"), "scaibu has alert tests");
    let tmp = tempfile::tempdir().unwrap();
    common::write_files(&built.build.files, tmp.path());
    let rules = tmp.path().join("configs/prometheus.rules.yml");
    let text = std::fs::read_to_string(&rules).unwrap();
    let loosened = text.replace("test_gauge > 5", "test_gauge >= 5").replace("for: 1m", "for: 30s");
    assert_ne!(text, loosened);
    std::fs::write(&rules, loosened).unwrap();
    let out = Command::new("promtool").args(["test", "rules"]).arg(tmp.path().join("configs/prometheus.rules.test.yml")).output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "loosened rules passed their tests:\n{report}");
    for alert in ["alertname: TestAlert", "alertname: ServiceDown"] {
        assert!(report.contains(alert), "no failure for {alert}:\n{report}");
    }
}
