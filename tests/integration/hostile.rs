//! Hostile scripts: each ends in a clean error (exit code 2, never a signal), says what
//! went wrong, and does so within two seconds, through the real binary.

use std::path::Path;
use std::time::{Duration, Instant};

use super::common;

const LIMIT: Duration = Duration::from_secs(2);

/// Runs `obsbuild check` on `script` and checks the outcome against `expect`, a list of
/// acceptable message fragments separated by `|`.
fn assert_clean_failure(script: &Path, expect: &str, cwd: &Path) {
    let started = Instant::now();
    let out = common::obsbuild().arg("check").arg(script).current_dir(cwd).output().unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = script.display();
    assert_eq!(out.status.code(), Some(2), "{name}: not a clean error exit ({}); stderr:\n{stderr}", out.status);
    assert!(expect.split('|').any(|e| stderr.contains(e)), "{name}: expected `{expect}` in:\n{stderr}");
    assert!(elapsed < LIMIT, "{name}: took {elapsed:?}");
    assert!(!stderr.contains("panicked"), "{name}: panicked:\n{stderr}");
}

#[test]
fn every_hostile_script_fails_cleanly_and_quickly() {
    let dir = common::root().join("tests/hostile");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .collect();
    scripts.push(dir.join("cycle/a.rhai"));
    scripts.sort();
    assert!(scripts.len() >= 30, "the hostile corpus shrank");
    for script in scripts {
        let text = std::fs::read(&script).unwrap();
        let first = String::from_utf8_lossy(&text[..text.iter().position(|b| *b == b'\n').unwrap_or(text.len())]).into_owned();
        let expect = first.strip_prefix("// expect: ").unwrap_or_else(|| panic!("{} has no `// expect:` line", script.display()));
        assert_clean_failure(&script, expect, &common::root());
    }
}

/// A symlink inside the stack's folder that points outside the project is refused, even
/// though its name looks harmless.
#[test]
fn symlinks_out_of_the_project_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("stacks")).unwrap();
    std::fs::create_dir_all(project.join("lib")).unwrap();
    std::fs::write(tmp.path().join("secret.rhai"), "let stolen = 1;\n").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("secret.rhai"), project.join("stacks/harmless.rhai")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("secret.rhai"), project.join("lib/component.rhai")).unwrap();
    let stack = project.join("stacks/main.rhai");
    std::fs::write(&stack, "import \"./harmless\" as h;\n").unwrap();
    assert_clean_failure(&stack, "outside the stack's folder and `lib/`", &project);
    std::fs::write(&stack, "import \"component\" as c;\n").unwrap();
    assert_clean_failure(&stack, "outside the stack's folder and `lib/`", &project);
}

/// A script that prints in a loop is stopped by its deadline and does not grow memory
/// without bound: at most a thousand trace lines are kept.
#[test]
fn printing_does_not_reach_stdout() {
    let out = common::obsbuild().arg("check").arg("tests/hostile/print-flood.rhai").current_dir(common::root()).output().unwrap();
    assert!(out.stdout.is_empty(), "a script printed to stdout");
}
