//! A review sees exactly the tree that would be checked out, or fails naming what it
//! cannot see; and every view and format of `diff --rev` covers every stack.

use std::path::Path;
use std::process::Output;

use super::common::{self, git};


fn obsbuild(project: &Path, args: &[&str]) -> Output {
    common::obsbuild().args(args).current_dir(project).env_remove("OBSBUILD_STACK").env("NO_COLOR", "1").output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const LOGS: &str = "import \"loki\" as loki;\nloki::server();\n";

/// A project with two stacks, `a` and `b`, committed.
fn two_stacks(dir: &Path) -> std::path::PathBuf {
    let project = common::project(dir);
    std::fs::write(project.join("stacks/a.rhai"), LOGS).unwrap();
    std::fs::write(project.join("stacks/b.rhai"), "import \"prometheus\" as p;\np::server();\n").unwrap();
    git(&project, &["init", "-q", "-b", "main"]);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "base"]);
    project
}

/// A change hidden by the revision's own `.gitattributes` (`export-ignore`, which `git
/// archive` obeys) is still reviewed: the review reads git's objects.
#[test]
fn export_ignore_cannot_hide_a_change() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_stacks(tmp.path());
    let loki = project.join("lib/loki.rhai");
    let text = std::fs::read_to_string(&loki).unwrap().replace("retention: \"720h\"", "retention: \"24h\"");
    std::fs::write(&loki, text).unwrap();
    std::fs::write(project.join(".gitattributes"), "lib/loki.rhai export-ignore\n").unwrap();
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "shorter retention, hidden"]);
    let out = obsbuild(&project, &["diff", "--rev", "HEAD~1", "--rev", "HEAD"]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("720h → 24h"), "{}", stdout(&out));
    let files = obsbuild(&project, &["diff", "--rev", "HEAD~1", "--rev", "HEAD", "--files"]);
    assert_eq!(files.status.code(), Some(1));
    assert!(stdout(&files).contains("+  retention_period: 24h"), "{}", stdout(&files));
}

/// A `lib` that is a git submodule at the revision is an error naming it, never a silent
/// fallback to obsbuild's built-in library.
#[test]
fn a_submodule_lib_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_stacks(tmp.path());
    let modules = tmp.path().join("modules");
    std::fs::create_dir_all(&modules).unwrap();
    std::fs::write(modules.join("loki.rhai"), "fn server() { service(\"loki\", #{ image: \"busybox:1.36.1\" }) }\n").unwrap();
    git(&modules, &["init", "-q", "-b", "main"]);
    git(&modules, &["add", "-A"]);
    git(&modules, &["commit", "-q", "-m", "modules"]);
    git(&project, &["rm", "-q", "-r", "lib"]);
    git(&project, &["submodule", "add", "-q", modules.to_str().unwrap(), "lib"]);
    git(&project, &["commit", "-q", "-m", "lib as a submodule"]);
    let out = obsbuild(&project, &["diff", "--rev", "HEAD~1", "--rev", "HEAD"]);
    assert_eq!(out.status.code(), Some(2), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("`lib` is a git submodule at `HEAD`"), "{}{}", stdout(&out), stderr(&out));
}

/// A `lib` link to a folder outside the project is refused in the work tree and at a
/// revision, naming the link.
#[test]
fn a_lib_link_out_of_the_project_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_stacks(tmp.path());
    let outside = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(project.join("lib/loki.rhai"), outside.join("loki.rhai")).unwrap();
    std::fs::remove_dir_all(project.join("lib")).unwrap();
    std::os::unix::fs::symlink(&outside, project.join("lib")).unwrap();
    let build = obsbuild(&project, &["check", "stacks/a.rhai"]);
    assert_eq!(build.status.code(), Some(2), "{}", stderr(&build));
    assert!(stderr(&build).contains("`lib` is a symbolic link to"), "{}", stderr(&build));
    assert!(stderr(&build).contains("outside the project"), "{}", stderr(&build));
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "lib points out"]);
    let out = obsbuild(&project, &["diff", "--rev", "HEAD~1", "--rev", "HEAD", "a"]);
    assert_eq!(out.status.code(), Some(2), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("`lib` at `HEAD` is a symbolic link"), "{}", stdout(&out));
}

/// A file the review cannot read (its object is gone from the clone) is an error naming
/// it; so is a stack script that is not UTF-8.
#[test]
fn unreadable_files_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_stacks(tmp.path());
    std::fs::write(project.join("stacks/a.rhai"), [b'\xff', b'\xfe', b'\n']).unwrap();
    git(&project, &["commit", "-q", "-am", "binary stack"]);
    let out = obsbuild(&project, &["diff", "--rev", "HEAD~1", "--rev", "HEAD", "a"]);
    assert_eq!(out.status.code(), Some(2), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("`stacks/a.rhai` at `HEAD` is not UTF-8 text"), "{}", stdout(&out));

    std::fs::write(project.join("stacks/b.rhai"), "import \"prometheus\" as p;\np::server(#{ name: \"other\" });\n").unwrap();
    git(&project, &["commit", "-q", "-am", "other"]);
    let blob = String::from_utf8(git(&project, &["rev-parse", "HEAD:stacks/b.rhai"]).stdout).unwrap();
    let blob = blob.trim();
    std::fs::remove_file(project.join(".git/objects").join(&blob[..2]).join(&blob[2..])).unwrap();
    let out = obsbuild(&project, &["diff", "--rev", "HEAD~1", "--rev", "HEAD", "b"]);
    assert_eq!(out.status.code(), Some(2), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("`stacks/b.rhai` at `HEAD` cannot be read"), "{}{}", stdout(&out), stderr(&out));
}

/// A revision a shallow clone lacks gets the way to fetch it.
#[test]
fn a_shallow_clone_is_told_to_unshallow() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_stacks(tmp.path());
    std::fs::write(project.join("stacks/a.rhai"), format!("{LOGS}// two\n")).unwrap();
    git(&project, &["commit", "-q", "-am", "second"]);
    let clone = tmp.path().join("clone");
    let url = format!("file://{}", project.display());
    git(tmp.path(), &["clone", "-q", "--depth", "1", &url, clone.to_str().unwrap()]);
    let out = obsbuild(&clone, &["diff", "--rev", "HEAD~1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("git fetch --unshallow"), "{}", stderr(&out));
}

/// A revision that names no commit (unknown, a tree, a file, an option) is refused by name,
/// before anything is built; a tag of a commit is read as its commit.
#[test]
fn a_revision_that_is_no_commit_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_stacks(tmp.path());
    git(&project, &["tag", "v1"]);
    for rev in ["nope", "HEAD^{tree}", "HEAD:stacks/a.rhai"] {
        let out = obsbuild(&project, &["diff", "--rev", rev, "--rev", "HEAD"]);
        assert_eq!(out.status.code(), Some(2), "{rev}: {}{}", stdout(&out), stderr(&out));
        assert!(stderr(&out).contains(&format!("`{rev}` is not a commit of the repository at")), "{rev}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{rev}: {}", stdout(&out));
    }
    let out = obsbuild(&project, &["diff", "--rev=-p", "--rev", "HEAD"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("`-p` is not a revision"), "{}", stderr(&out));
    let out = obsbuild(&project, &["diff", "--rev", "v1", "--rev", "HEAD"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
}

/// The review reads only `stacks/` and `lib/`: a large file elsewhere in the repository
/// costs it nothing (unpacking the whole tree cost 591 MB for a 300 MB file).
#[test]
fn a_large_file_elsewhere_is_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_stacks(tmp.path());
    let big = std::fs::File::create(project.join("big.bin")).unwrap();
    big.set_len(256 << 20).unwrap();
    git(&project, &["add", "big.bin"]);
    git(&project, &["commit", "-q", "-m", "a large file"]);
    let m = common::measured(common::obsbuild().args(["diff", "--rev", "HEAD", "--rev", "HEAD~1"]).current_dir(&project));
    assert_eq!(m.code, Some(0), "{}{}", m.stdout, m.stderr);
    assert!(m.max_rss_kib < 128 << 10, "the review held {} MiB", m.max_rss_kib >> 10);
}

/// With `--rev`, `--json`, `--files` and `--stat` without a stack cover every stack: a
/// change to the second stack alone is a change (it was `{"equal": true}`, exit 0).
#[test]
fn every_view_and_format_covers_every_stack() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_stacks(tmp.path());
    std::fs::write(project.join("stacks/b.rhai"), "import \"prometheus\" as p;\np::server(#{ retention: \"30d\" });\n").unwrap();
    for args in [
        &["--json"][..],
        &["--format", "json"],
        &["--files"],
        &["--stat"],
        &["--files", "--json"],
        &["--stat", "--format", "json"],
        &["--format", "markdown", "--files"],
        &[],
        &["--format", "markdown"],
    ] {
        let mut all = vec!["diff", "--rev", "HEAD"];
        all.extend_from_slice(args);
        let out = obsbuild(&project, &all);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}{}", stdout(&out), stderr(&out));
        let text = stdout(&out);
        assert!(text.contains('b'), "{args:?}: {text}");
        if args.contains(&"--json") || args.contains(&"json") {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["changed"], true, "{args:?}: {text}");
            let stacks: Vec<&str> = v["stacks"].as_array().unwrap().iter().map(|s| s["stack"].as_str().unwrap()).collect();
            assert_eq!(stacks, ["a", "b"], "{args:?}");
            assert_eq!(v["stacks"][1]["status"], "changed", "{args:?}");
        }
    }
    // `--json` is `--format json`.
    let a = obsbuild(&project, &["diff", "--rev", "HEAD", "--json"]);
    let b = obsbuild(&project, &["diff", "--rev", "HEAD", "--format", "json"]);
    assert_eq!(stdout(&a), stdout(&b));
    let both = obsbuild(&project, &["diff", "--rev", "HEAD", "--json", "--format", "text"]);
    assert_eq!(both.status.code(), Some(2));
    // Named stacks only, and an unknown name is an error that lists the stacks.
    let one = obsbuild(&project, &["diff", "--rev", "HEAD", "a", "--json"]);
    assert_eq!(one.status.code(), Some(0), "{}", stdout(&one));
    let unknown = obsbuild(&project, &["diff", "--rev", "HEAD", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("stacks there: a, b"), "{}", stderr(&unknown));
}
