//! The store never hands out a damaged or vanished path: a reused path is checked and
//! written again when damaged, `gc` beside builds never takes a path a build just wrote,
//! and special files in the state folder are refused at once instead of hanging.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::common;

fn obsbuild(dir: &Path, args: &[&str]) -> Command {
    let mut c = common::obsbuild();
    c.args(args).current_dir(dir).env_remove("OBSBUILD_STACK").env_remove("OBSBUILD_STATE_DIR");
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The store path a build in `project` printed last.
fn built_path(project: &Path, o: &Output) -> PathBuf {
    let text = String::from_utf8_lossy(&o.stdout);
    project.join(text.lines().last().unwrap_or_else(|| panic!("no store path printed: {}", stderr(o))))
}

/// Makes a store path's folder and files writable, so a test can damage them.
fn unlock(dir: &Path) {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            unlock(&p);
        } else {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
}

fn project(tmp: &Path) -> PathBuf {
    let project = common::project(tmp);
    std::fs::copy(common::root().join("stacks/task-manager.rhai"), project.join("stacks/task-manager.rhai")).unwrap();
    project
}

#[test]
fn a_damaged_path_is_written_again_not_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let project = project(tmp.path());
    let first = obsbuild(&project, &["build"]).output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let path = built_path(&project, &first);
    let pristine = std::fs::read(path.join("configs/loki.yaml")).unwrap();
    type Damage = fn(&Path);
    let damages: [(&str, Damage); 6] = [
        ("edited", |p| std::fs::write(p.join("configs/loki.yaml"), "auth_enabled: true\n").unwrap()),
        ("same size, other bytes", |p| {
            let mut b = std::fs::read(p.join("configs/loki.yaml")).unwrap();
            b[0] ^= 1;
            std::fs::write(p.join("configs/loki.yaml"), b).unwrap();
        }),
        ("removed", |p| std::fs::remove_file(p.join("configs/loki.yaml")).unwrap()),
        ("manifest cut short", |p| {
            let m = std::fs::read(p.join(".manifest.json")).unwrap();
            std::fs::write(p.join(".manifest.json"), &m[..m.len() / 2]).unwrap();
        }),
        ("a link instead", |p| {
            std::fs::remove_file(p.join("configs/loki.yaml")).unwrap();
            std::os::unix::fs::symlink("/etc/hostname", p.join("configs/loki.yaml")).unwrap();
        }),
        ("an extra file", |p| std::fs::write(p.join("configs/extra.yaml"), "x: 1\n").unwrap()),
    ];
    for (what, damage) in damages {
        unlock(&path);
        damage(&path);
        let again = obsbuild(&project, &["build"]).output().unwrap();
        assert!(again.status.success(), "{what}: {}", stderr(&again));
        assert!(stderr(&again).contains("was damaged"), "{what}: {}", stderr(&again));
        assert_eq!(built_path(&project, &again), path, "{what}");
        assert_eq!(std::fs::read(path.join("configs/loki.yaml")).unwrap(), pristine, "{what}");
        let verify = obsbuild(&project, &["verify"]).output().unwrap();
        assert_eq!(verify.status.code(), Some(0), "{what}: {}{}", String::from_utf8_lossy(&verify.stdout), stderr(&verify));
        // Intact now: the next build reuses it without a word.
        let quiet = obsbuild(&project, &["build"]).output().unwrap();
        assert!(!stderr(&quiet).contains("damaged"), "{what}: {}", stderr(&quiet));
    }
}

/// Eight builds at once with `gc --keep 2` beside them, 20 rounds: no build fails, and every
/// stack keeps a latest build whose path is intact.
#[test]
fn gc_beside_parallel_builds_never_takes_a_fresh_path() {
    let tmp = tempfile::tempdir().unwrap();
    let project = common::project(tmp.path());
    let stacks: Vec<String> = (0..8).map(|i| format!("s{i}")).collect();
    let (mut builds, mut gcs) = (0, 0);
    for round in 0..20 {
        for s in &stacks {
            let text = format!("stack(\"{s}\");\nservice(\"app\", #{{ image: \"busybox:1.36.1\", labels: #{{ round: \"{round}\" }} }});\n");
            std::fs::write(project.join(format!("stacks/{s}.rhai")), text).unwrap();
        }
        let spawn = |args: &[&str]| -> Child { obsbuild(&project, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap() };
        let mut children: Vec<(String, Child)> = stacks.iter().map(|s| (format!("build {s}"), spawn(&["build", s]))).collect();
        children.push(("gc".to_owned(), spawn(&["gc", "--keep", "2"])));
        children.push(("gc".to_owned(), spawn(&["gc", "--keep", "2"])));
        for (what, child) in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}, {what}: {}", stderr(&out));
            if what == "gc" { gcs += 1 } else { builds += 1 }
        }
        let store = obsbuild::store::Store::open(&project.join(".obsbuild")).unwrap();
        for s in &stacks {
            let last = store.history(s).unwrap().pop().unwrap_or_else(|| panic!("round {round}: `{s}` has no builds"));
            let path = store.resolve(&last.path).unwrap_or_else(|e| panic!("round {round}: {s}'s latest build is gone: {e}"));
            store.read(&path).unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        assert!(store.verify().unwrap().is_ok(), "round {round}");
    }
    eprintln!("{builds} builds and {gcs} gc runs, none failed");
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Runs a command that must end within `limit`; a hang fails the test (and is unblocked).
fn bounded(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if !common::wait_until(limit, || child.try_wait().unwrap().is_some()) {
        let _ = child.kill();
        panic!("{cmd:?} hung for {limit:?}");
    }
    child.wait_with_output().unwrap()
}

#[test]
fn special_files_in_the_state_folder_are_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let project = project(tmp.path());
    let built = obsbuild(&project, &["build"]).output().unwrap();
    let path = built_path(&project, &built);
    let state = project.join(".obsbuild");
    let limit = Duration::from_secs(10);

    // The stack's history.
    let history = state.join("history/task-manager.json");
    std::fs::rename(&history, state.join("history.bak")).unwrap();
    mkfifo(&history);
    for args in [&["history", "task-manager"][..], &["build"], &["gc"]] {
        let out = bounded(obsbuild(&project, args), limit);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("history/task-manager.json") && stderr(&out).contains("FIFO"), "{args:?}: {}", stderr(&out));
    }
    std::fs::remove_file(&history).unwrap();
    std::fs::rename(state.join("history.bak"), &history).unwrap();

    // A store path's manifest: `verify` must not hang holding its lock.
    unlock(&path);
    std::fs::remove_file(path.join(".manifest.json")).unwrap();
    mkfifo(&path.join(".manifest.json"));
    let out = bounded(obsbuild(&project, &["verify"]), limit);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FIFO"), "{}", String::from_utf8_lossy(&out.stdout));

    // The lock itself, and a generation record.
    std::fs::remove_file(state.join("store.lock")).unwrap();
    mkfifo(&state.join("store.lock"));
    let out = bounded(obsbuild(&project, &["gc"]), limit);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("store.lock"), "{}", stderr(&out));
    mkfifo(&state.join("profiles/task-manager/generations.json"));
    let out = bounded(obsbuild(&project, &["generations", "task-manager"]), limit);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("generations.json"), "{}", stderr(&out));
}
