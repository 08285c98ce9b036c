//! Hostile scripts: each ends in a clean error (exit code 2, never a signal) that says
//! which of the sandbox's limits stopped it (its deadline, operation count, memory, call
//! depth, string and array sizes: each script's `// expect:` line), within 512 MiB, through
//! the real binary run under an address-space limit, so that an allocation that would abort
//! does abort and fails the test instead of passing on a machine with memory to spare.
//!
//! How long a script took is no test: the sandbox's deadline is wall-clock time, and on a
//! loaded machine a script stopped by it takes what the machine gives it. The message says
//! the deadline stopped it; a generous outer limit only keeps a hang from blocking the run.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::common::{self, Measured};

/// Kills a run that is still going after this long: a hang guard, not a speed test.
const HANG: Duration = Duration::from_secs(60);
/// Most memory a hostile script may make obsbuild hold (peak resident set).
const MAX_RSS_KIB: i64 = 512 << 10;
/// Address space obsbuild runs in: room for its binary, the evaluation thread's 256 MiB
/// stack and the memory budget, not for the gigabytes a hostile script would ask for.
const ADDRESS_SPACE: u64 = 1 << 30;

/// Runs `obsbuild check SCRIPT` under `prlimit --as`, measuring its peak RSS; coreutils'
/// `timeout` ends it (exit code 124) if it outlives [`HANG`].
pub fn check_limited(script: &Path, cwd: &Path) -> Measured {
    let mut cmd = Command::new("timeout");
    cmd.arg("--kill-after=5").arg(HANG.as_secs().to_string()).arg("prlimit").arg(format!("--as={ADDRESS_SPACE}"));
    cmd.arg(env!("CARGO_BIN_EXE_obsbuild")).arg("check").arg(script).current_dir(cwd);
    common::measured(&mut cmd)
}

/// Runs `obsbuild check` on `script` and checks the outcome against `expect`, a list of
/// acceptable message fragments separated by `|`.
fn assert_clean_failure(script: &Path, expect: &str, cwd: &Path) -> Measured {
    let m = check_limited(script, cwd);
    let name = script.display();
    let stderr = &m.stderr;
    assert!(m.code != Some(124) && m.code != Some(137), "{name}: still running after {HANG:?}, so no limit of the sandbox stopped it; stderr:\n{stderr}");
    assert_eq!(m.code, Some(2), "{name}: not a clean error exit (code {:?}, signal {:?}); stderr:\n{stderr}", m.code, m.signal);
    assert!(expect.split('|').any(|e| stderr.contains(e)), "{name}: expected `{expect}` in:\n{stderr}");
    assert!(m.max_rss_kib < MAX_RSS_KIB, "{name}: held {} KiB", m.max_rss_kib);
    assert!(!stderr.contains("panicked"), "{name}: panicked:\n{stderr}");
    m
}

#[test]
fn every_hostile_script_is_stopped_by_a_limit_of_the_sandbox() {
    let dir = common::root().join("tests/hostile");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .collect();
    scripts.push(dir.join("cycle/a.rhai"));
    scripts.sort();
    assert!(scripts.len() >= 45, "the hostile corpus shrank");
    // The figures of every script, for the record: `cargo test hostile -- --nocapture`.
    let mut table = String::from("| script | exit | time | max RSS |\n|---|---|---|---|\n");
    for script in scripts {
        let text = std::fs::read(&script).unwrap();
        let first = String::from_utf8_lossy(&text[..text.iter().position(|b| *b == b'\n').unwrap_or(text.len())]).into_owned();
        let expect = first.strip_prefix("// expect: ").unwrap_or_else(|| panic!("{} has no `// expect:` line", script.display()));
        let m = assert_clean_failure(&script, expect, &common::root());
        let name = script.strip_prefix(&dir).unwrap_or(&script).display().to_string();
        table.push_str(&format!("| {name} | {:?} | {} ms | {} MiB |\n", m.code.unwrap_or(-1), m.elapsed.as_millis(), m.max_rss_kib >> 10));
    }
    println!("{table}");
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
    // The stack itself: a hostile commit's `stacks/x.rhai` linking to a file elsewhere
    // would have it read and shown line by line in a diagnostic (in a CI log, say).
    assert_clean_failure(&project.join("stacks/harmless.rhai"), "outside its project", &project);
    let shown = check_limited(&project.join("stacks/harmless.rhai"), &project).stderr;
    assert!(!shown.contains("stolen"), "the file outside was shown:\n{shown}");
}

/// A script that prints in a loop is stopped by its deadline and does not grow memory
/// without bound: at most a thousand trace lines are kept.
#[test]
fn printing_does_not_reach_stdout() {
    let out = common::obsbuild().arg("check").arg("tests/hostile/print-flood.rhai").current_dir(common::root()).output().unwrap();
    assert!(out.stdout.is_empty(), "a script printed to stdout");
}
