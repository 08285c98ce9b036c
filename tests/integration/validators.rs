//! The real validators on real output, as users get them (`check --validators`):
//! promtool, amtool and docker-compose, for every stack, and their complaints at script
//! lines. A missing validator fails the test; `tests/run.sh` and `.ci/run` install them.

use std::process::Command;

use obsbuild::model::{Component, Version};

use super::common;

/// What the tests can run here: Debian's promtool.
const PROMTOOL_VERSION: Version = Version::new(2, 42, 0);

fn check(args: &[&str], path: Option<&std::ffi::OsStr>) -> std::process::Output {
    let mut cmd = common::obsbuild();
    cmd.arg("--state-dir").arg(common::root().join("target/validators-state")).arg("--color").arg("never").arg("check").args(args);
    cmd.current_dir(common::root()).env_remove("OBSBUILD_VALIDATORS");
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    cmd.output().unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every stack of `stacks/` and `tests/stacks/`.
fn every_stack() -> Vec<String> {
    let mut stacks = Vec::new();
    for dir in ["stacks", "tests/stacks"] {
        for e in std::fs::read_dir(common::root().join(dir)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".rhai") {
                stacks.push(format!("{dir}/{name}"));
            }
        }
    }
    stacks.sort();
    stacks
}

/// The checks a stack's files need, as `check` names them on stderr.
fn expected_checks(relative: &str) -> Vec<String> {
    let built = common::build(relative);
    let stack_file = if built.evaluation.stack.engine.is_compose() { "docker-compose config -q" } else { "docker stack config" };
    let mut want = vec![format!("{stack_file} docker-compose.yml: ok")];
    if built.build.files.contains_key("apps/docker-compose.yml") {
        want.push("docker-compose config -q apps/docker-compose.yml: ok".to_owned());
    }
    for service in built.evaluation.stack.services.values() {
        match &service.component {
            Component::Prometheus(p) => {
                want.push(format!("promtool check config {}: ok", obsbuild::build::config_file(service)));
                if !p.rule_groups.is_empty() {
                    want.push(format!("promtool check rules configs/{}.rules.yml: ok", service.name));
                }
                if !p.rule_tests.is_empty() {
                    want.push(format!("promtool test rules {}: ok", obsbuild::build::rule_tests_file(service)));
                }
            }
            Component::Alertmanager(_) => want.push(format!("amtool check-config {}: ok", obsbuild::build::config_file(service))),
            _ => {}
        }
    }
    want
}

/// `check --validators require` runs every check each stack needs, and each passes. A
/// validator missing here fails the test (`tests/run.sh` and `.ci/run` install them).
#[test]
fn every_stack_passes_check_validators_require() {
    let stacks = every_stack();
    assert!(stacks.len() >= 5, "{stacks:?}");
    for stack in stacks {
        let out = check(&[&stack, "--validators", "require"], None);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{stack}:\n{err}");
        for want in expected_checks(&stack) {
            assert!(err.contains(&format!("validators: {want}\n")), "{stack}: no `{want}` in\n{err}");
        }
        assert!(!err.contains("missing") && !err.contains("failed to run"), "{stack}:\n{err}");
    }
}

/// Scripts obsbuild's own checks pass and a validator refuses: the tool's words at the
/// script line of the declaration, with the tool named. The lines saying what ran are
/// asserted, and left out of the snapshot (they name the local promtool's version).
#[test]
fn validator_complaints_land_on_the_script_line() {
    let (names, settings) = common::script_corpus("validators");
    assert!(names.len() >= 3, "{names:?}");
    let produced = names.iter().map(|n| n.trim_end_matches(".rhai").to_owned()).collect();
    settings.bind(|| {
        for name in names {
            let relative = format!("tests/validators/{name}");
            assert!(obsbuild::pipeline::build(&common::root().join(&relative), &Default::default()).is_ok(), "{name}: obsbuild's own checks must pass");
            let out = check(&[&relative, "--validators", "require"], None);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{name}:\n{err}");
            assert!(err.lines().any(|l| l.starts_with("validators: ") && l.contains(" error")), "{name}: no failed check named:\n{err}");
            let diagnostics: Vec<&str> = err.lines().filter(|l| !l.starts_with("validators: ") && !l.starts_with("  note: ")).collect();
            let text = diagnostics.join("\n");
            assert!(text.contains(&format!("--> {relative}:")), "{name}: not at the script:\n{text}");
            insta::assert_snapshot!(name.trim_end_matches(".rhai"), text);
        }
    });
    common::assert_no_orphan_snapshots("validators", "", &produced);
}

/// A folder of links to the named validators only, as a PATH.
fn path_with(tools: &[&str]) -> (tempfile::TempDir, std::ffi::OsString) {
    let dir = tempfile::tempdir().unwrap();
    for tool in tools {
        let real = std::env::split_paths(&std::env::var_os("PATH").unwrap()).map(|d| d.join(tool)).find(|p| p.is_file()).unwrap();
        std::os::unix::fs::symlink(real, dir.path().join(tool)).unwrap();
    }
    let path = dir.path().as_os_str().to_owned();
    (dir, path)
}

/// `require` with promtool missing fails with the documented code and names it; nothing
/// is stored by `build`.
#[test]
fn require_fails_when_a_validator_is_missing() {
    let (_bin, path) = path_with(&["amtool", "docker-compose"]);
    let out = check(&["stacks/scaibu.rhai", "--validators", "require"], Some(&path));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(i32::from(obsbuild::exit::VALIDATOR_MISSING)), "{err}");
    assert!(err.contains("error: --validators require: not on PATH: promtool;"), "{err}");
    assert!(err.contains("validators: amtool check-config configs/alertmanager.yml: ok"), "{err}");
    assert!(err.contains("not checked: promtool check config configs/prometheus.yml, promtool check rules"), "{err}");

    let state = tempfile::tempdir().unwrap();
    let built = common::obsbuild()
        .arg("--state-dir")
        .arg(state.path())
        .args(["build", "stacks/scaibu.rhai", "--validators", "require"])
        .current_dir(common::root())
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(built.status.code(), Some(i32::from(obsbuild::exit::VALIDATOR_MISSING)), "{}", stderr(&built));
    assert!(!state.path().join("store").exists() || std::fs::read_dir(state.path().join("store")).unwrap().next().is_none(), "a build that was not checked was stored");
}

/// `auto` with no validator on PATH lists every one as missing and still passes a valid
/// stack; `off` (flag or `OBSBUILD_VALIDATORS`) says it ran none.
#[test]
fn auto_lists_the_missing_and_off_runs_none() {
    let (_bin, path) = path_with(&[]);
    let out = check(&["stacks/scaibu.rhai", "--validators", "auto"], Some(&path));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("validators: missing (not on PATH): promtool, amtool, docker-compose; not checked: "), "{err}");
    assert!(!err.contains(": ok"), "{err}");

    let off = check(&["stacks/scaibu.rhai", "--validators", "off"], None);
    assert_eq!(off.status.code(), Some(0));
    assert!(stderr(&off).contains("validators: off, none ran (--validators off)"), "{}", stderr(&off));
    let by_env = common::obsbuild()
        .args(["--state-dir", "target/validators-state", "check", "stacks/scaibu.rhai"])
        .current_dir(common::root())
        .env("OBSBUILD_VALIDATORS", "off")
        .output()
        .unwrap();
    assert!(stderr(&by_env).contains("validators: off, none ran"), "{}", stderr(&by_env));
}

/// A 3.x pin renders 3.x forms that promtool 2.42 cannot read: `check` says it checked
/// the config as rendered for promtool's version, and that is a config promtool accepts.
#[test]
fn an_older_promtool_checks_its_own_dialect_and_says_so() {
    let built = common::build("stacks/task-manager.rhai");
    let pinned = obsbuild::model::versions::prometheus::version(&built.evaluation.stack.services["prometheus"]);
    assert!(pinned >= Version::new(3, 8, 0), "the default stack no longer pins a 3.x dialect: {pinned}");
    let out = check(&["stacks/task-manager.rhai", "--validators", "require"], None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let note = format!("note: promtool {PROMTOOL_VERSION} is older than the pinned Prometheus {pinned}: it checked configs/prometheus.yml as rendered for Prometheus {PROMTOOL_VERSION}");
    assert!(err.contains(&note), "{err}");
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
