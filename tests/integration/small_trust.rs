//! The smaller lies found on the way: each says what is true instead.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;
use std::time::SystemTime;

use obsbuild::store::{RecordMeta, Store};

use super::common;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn project() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let project = common::project(tmp.path());
    std::fs::copy(common::root().join("stacks/task-manager.rhai"), project.join("stacks/task-manager.rhai")).unwrap();
    (tmp, project)
}

/// An empty `OBSBUILD_STATE_DIR` is unset, as an empty `OBSBUILD_STACK` is; it was reported
/// as a `--state-dir` flag given without its value.
#[test]
fn an_empty_state_dir_variable_is_unset() {
    let (_tmp, project) = project();
    let out = common::obsbuild().arg("build").current_dir(&project).env("OBSBUILD_STATE_DIR", "").env_remove("OBSBUILD_STACK").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("--state-dir"), "{}", stderr(&out));
    assert!(project.join(".obsbuild/history/task-manager.json").is_file());
}

/// A state folder that cannot hold files says so, and does not send the user to `verify`.
#[test]
fn a_state_folder_that_cannot_hold_files_says_so() {
    let (_tmp, project) = project();
    let out = common::obsbuild().args(["--state-dir", "/proc", "build"]).current_dir(&project).env_remove("OBSBUILD_STACK").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("verify"), "{}", stderr(&out));
    assert!(stderr(&out).contains("check the state directory"), "{}", stderr(&out));
}

/// A generation whose store path is gone is not shown as if it were fine.
#[test]
fn generations_say_when_a_store_path_is_missing() {
    let (_tmp, project) = project();
    let built = common::build("stacks/task-manager.rhai").build;
    let state = project.join(".obsbuild");
    let store = Store::open(&state).unwrap();
    let meta = RecordMeta { time: SystemTime::now(), git: None, script: "stacks/task-manager.rhai".into() };
    let path = store.add_and_record(&built, meta, None).unwrap().path;
    let profile = store.profile("task-manager");
    let g = profile.add(&path, "2026-01-01T00:00:00Z".into(), None).unwrap();
    profile.activate(g.number).unwrap();
    std::fs::set_permissions(&path.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_dir_all(&path.dir).unwrap();
    let out = common::obsbuild().args(["generations", "task-manager"]).current_dir(&project).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(current, store path missing)"), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr(&out).contains("has lost its store path"), "{}", stderr(&out));
    let json = common::obsbuild().args(["generations", "task-manager", "--json"]).current_dir(&project).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v[0]["present"], false);
}
