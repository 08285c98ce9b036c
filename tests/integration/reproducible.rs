//! The same script gives the same store path and the same bytes, wherever and whenever it
//! is built: another project folder, another working directory, another environment,
//! another clock.

use std::path::Path;
use std::process::Command;

use super::common;

/// Copies the project's `stacks/`, `lib/` and `tests/stacks/` into `dir`.
fn copy_project(dir: &Path) {
    for folder in ["stacks", "lib", "tests/stacks"] {
        let from = common::root().join(folder);
        let to = dir.join(folder);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
    }
}

/// Builds `stack` of the project in `project`, run from `cwd` with `env`, under `clock`
/// (a faketime spec), into `state`; returns the store path printed last.
fn build(project: &Path, cwd: &Path, stack: &str, state: &Path, clock: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("faketime");
    // `-f` with an absolute time stops the clock there; without it the clock starts at the
    // time and runs on, so a slow run records a later second.
    cmd.args(["-m", "-f", clock])
        .arg(env!("CARGO_BIN_EXE_obsbuild"))
        .arg("--state-dir")
        .arg(state)
        .arg("build")
        .arg(project.join(stack))
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = common::run_ok(&mut cmd, &format!("faketime build of {stack}"));
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_owned()
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push((p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn same_script_same_bytes_anywhere_anytime() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let project_a = a.path().join("p");
    let project_b = b.path().join("deeper/elsewhere/checkout");
    copy_project(&project_a);
    copy_project(&project_b);
    std::fs::create_dir_all(b.path().join("cwd")).unwrap();
    for stack in ["stacks/task-manager.rhai", "stacks/scaibu.rhai", "tests/stacks/everything.rhai"] {
        let one = build(
            &project_a,
            &project_a,
            stack,
            &a.path().join("state"),
            "2001-02-03 04:05:06",
            &[("TZ", "UTC"), ("LANG", "C"), ("HOME", "/nonexistent"), ("USER", "alice")],
        );
        let two = build(
            &project_b,
            &b.path().join("cwd"),
            stack,
            &b.path().join("state-2"),
            "2038-01-01 23:59:59",
            &[("TZ", "Pacific/Kiritimati"), ("LANG", "de_DE.UTF-8"), ("HOME", "/tmp"), ("USER", "bob"), ("OBSBUILD_STACK", "x"), ("SOURCE_DATE_EPOCH", "1")],
        );
        let name = |p: &str| Path::new(p).file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name(&one), name(&two), "{stack}: store paths differ");
        assert_eq!(tree(Path::new(&one)), tree(Path::new(&two)), "{stack}: store contents differ");
    }
    // The clocks really differed: the history records them.
    let history = |state: &Path| std::fs::read_to_string(state.join("history/task-manager.json")).unwrap();
    let (first, second) = (history(&a.path().join("state")), history(&b.path().join("state-2")));
    assert!(first.contains("2001-02-03T04:05:06Z"), "{first}");
    assert!(second.contains("\"2038-01-01T"), "{second}");
}
