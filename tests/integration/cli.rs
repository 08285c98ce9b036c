//! The command line end to end: build, history, diff, export, verify, gc, exit codes.

use std::path::Path;
use std::process::Output;

use super::common;

fn obsbuild(state: &Path, args: &[&str]) -> Output {
    common::obsbuild().arg("--state-dir").arg(state).args(args).current_dir(common::root()).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `deployment/` is the export of the default stack; this fails when it is stale.
#[test]
fn deployment_folder_is_the_export_of_the_default_stack() {
    let tmp = tempfile::tempdir().unwrap();
    let out = obsbuild(
        tmp.path(),
        &["export", "stacks/task-manager.rhai", "--out", "deployment/observability", "--apps-out", "deployment/docker-compose.yml", "--check"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "deployment/ is stale; run `cargo run -- export stacks/task-manager.rhai --out deployment/observability --apps-out deployment/docker-compose.yml`\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn build_prints_the_store_path_last_and_records_history_once() {
    let tmp = tempfile::tempdir().unwrap();
    let first = obsbuild(tmp.path(), &["build"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let path = stdout(&first).lines().last().unwrap().to_owned();
    assert!(path.ends_with("-task-manager"), "{path}");
    assert!(Path::new(&path).join("docker-compose.yml").is_file());
    assert!(stderr(&first).contains("first build of `task-manager`"));

    let again = obsbuild(tmp.path(), &["build"]);
    assert_eq!(stdout(&again).lines().last().unwrap(), path);
    assert!(stderr(&again).contains("no changes since build 1"), "{}", stderr(&again));

    let history = obsbuild(tmp.path(), &["history", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(json["task-manager"].as_array().unwrap().len(), 1, "an identical build added a record");

    let diff = obsbuild(tmp.path(), &["diff"]);
    assert_eq!(diff.status.code(), Some(0), "{}", stderr(&diff));
    assert!(stdout(&diff).is_empty());

    let verify = obsbuild(tmp.path(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

#[test]
fn exit_codes_of_diff_and_verify() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(obsbuild(tmp.path(), &["build", "stacks/task-manager.rhai"]).status.success());
    assert!(obsbuild(tmp.path(), &["build", "stacks/scaibu.rhai"]).status.success());
    let store = tmp.path().join("store");
    let mut names: Vec<String> =
        std::fs::read_dir(&store).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| !n.starts_with('.')).collect();
    names.sort();
    let d = obsbuild(tmp.path(), &["diff", &names[0], &names[1], "--stat"]);
    assert_eq!(d.status.code(), Some(1), "{}", stderr(&d));
    assert!(stdout(&d).contains("files changed"), "{}", stdout(&d));
    let same = obsbuild(tmp.path(), &["diff", &names[0], &names[0]]);
    assert_eq!(same.status.code(), Some(0));
    let bad = obsbuild(tmp.path(), &["diff", "no-such-path", &names[0]]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let missing = obsbuild(tmp.path(), &["build", "stacks/no-such-stack.rhai"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("stacks/task-manager.rhai"), "the error should list the stacks: {}", stderr(&missing));

    // Damage one file of a store path: verify names it and exits 1.
    let file = store.join(&names[0]).join("docker-compose.yml");
    let mut perms = std::fs::metadata(store.join(&names[0])).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(store.join(&names[0]), perms).unwrap();
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, "tampered\n").unwrap();
    let v = obsbuild(tmp.path(), &["verify"]);
    assert_eq!(v.status.code(), Some(1));
    assert!(stdout(&v).contains(&names[0]), "{}", stdout(&v));
}

#[test]
fn export_refuses_a_folder_it_did_not_make_and_removes_what_it_wrote_before() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("precious.txt"), "mine").unwrap();
    let refused = obsbuild(tmp.path(), &["export", "stacks/scaibu.rhai", "--out", target.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("refusing to write"), "{}", stderr(&refused));

    let fresh = tmp.path().join("fresh");
    assert!(obsbuild(tmp.path(), &["export", "stacks/task-manager.rhai", "--out", fresh.to_str().unwrap()]).status.success());
    assert!(fresh.join("apps/docker-compose.yml").is_file());
    // The same folder now gets another stack: files only the first one had are removed.
    assert!(obsbuild(tmp.path(), &["export", "stacks/scaibu.rhai", "--out", fresh.to_str().unwrap()]).status.success());
    assert!(!fresh.join("apps/docker-compose.yml").exists());
    assert!(!fresh.join("configs/grafana/provisioning/dashboards/json/task-manager-overview.json").exists());
    assert!(fresh.join("configs/alertmanager.yml").is_file());
    let check = obsbuild(tmp.path(), &["export", "stacks/scaibu.rhai", "--out", fresh.to_str().unwrap(), "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}

/// A mistyped stack name or path gets the nearest one; a name far from any lists them all.
#[test]
fn an_unknown_stack_suggests_the_nearest() {
    let tmp = tempfile::tempdir().unwrap();
    let name = obsbuild(tmp.path(), &["check", "task-manger"]);
    assert_eq!(name.status.code(), Some(2));
    assert!(stderr(&name).contains("no stack script `task-manger`; did you mean `task-manager`?"), "{}", stderr(&name));
    let path = obsbuild(tmp.path(), &["check", "stacks/scaibu.rha"]);
    assert!(stderr(&path).contains("did you mean `stacks/scaibu.rhai`?"), "{}", stderr(&path));
    let far = obsbuild(tmp.path(), &["check", "zzz"]);
    assert!(stderr(&far).contains("stacks here: stacks/scaibu-swarm.rhai, stacks/scaibu.rhai, stacks/task-manager.rhai"), "{}", stderr(&far));
}
