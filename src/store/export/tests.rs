//! Writes and checks of small builds, and folders as a killed export leaves them.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::marker::{MARKER, Marker, TMP_PREFIX};
use super::*;

fn build(stack: &str, files: &[(&str, &str)]) -> Build {
    Build::new(stack, files.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())).collect())
}

fn export(stack: &str, files: &[(&str, &str)]) -> Export {
    Export::of(&build(stack, files), None).unwrap()
}

/// Every file under `dir` (links and special files included), by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                todo.push(e.path());
                files.insert(format!("{rel}/"), Vec::new());
            } else if t.is_file() {
                files.insert(rel, fs::read(e.path()).unwrap());
            } else {
                files.insert(rel, b"<special>".to_vec());
            }
        }
    }
    files
}

/// What a folder holding exactly `e` looks like, folders included.
fn exactly(e: &Export) -> BTreeMap<String, Vec<u8>> {
    let mut want = BTreeMap::new();
    for (path, bytes) in &e.files {
        want.insert(path.clone(), bytes.clone());
        let mut dir = path.as_str();
        while let Some((parent, _)) = dir.rsplit_once('/') {
            want.insert(format!("{parent}/"), Vec::new());
            dir = parent;
        }
    }
    want.insert(MARKER.to_owned(), e.marker(true, None).to_text().into_bytes());
    want
}

fn up_to_date(e: &Export, out: &Path) -> bool {
    let c = e.check(out).unwrap();
    c.have == c.want && !c.unfinished
}

const A: &[(&str, &str)] = &[("docker-compose.yml", "a\n"), ("configs/loki.yaml", "l\n"), ("configs/only-a/x.yaml", "x\n")];
const B: &[(&str, &str)] = &[("docker-compose.yml", "b\n"), ("configs/loki.yaml", "l\n"), ("README.md", "r\n")];

#[test]
fn a_second_export_removes_what_only_the_first_wrote_and_leaves_unchanged_files_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (a, b) = (export("a", A), export("b", B));
    assert!(!up_to_date(&a, &out), "a missing folder is stale");
    assert_eq!(a.write(&out).unwrap(), ExportReport { files: 3, written: 3, removed: 0 });
    assert_eq!(tree(&out), exactly(&a));
    assert!(up_to_date(&a, &out));
    assert!(!up_to_date(&b, &out));

    let loki = out.join("configs/loki.yaml");
    let before = fs::metadata(&loki).unwrap().modified().unwrap();
    assert_eq!(b.write(&out).unwrap(), ExportReport { files: 3, written: 2, removed: 1 });
    assert_eq!(tree(&out), exactly(&b), "`configs/only-a/` is gone with its file");
    assert_eq!(fs::metadata(&loki).unwrap().modified().unwrap(), before, "an unchanged file is not rewritten");
    assert_eq!(b.write(&out).unwrap().written, 0);
    assert!(up_to_date(&b, &out));
}

#[test]
fn a_folder_export_did_not_make_is_refused_but_one_with_only_temporaries_is_not() {
    let tmp = tempfile::tempdir().unwrap();
    let a = export("a", A);
    fs::write(tmp.path().join("precious"), "mine").unwrap();
    let e = a.write(tmp.path()).unwrap_err().to_string();
    assert!(e.starts_with("refusing to write into"), "{e}");
    assert_eq!(fs::read_to_string(tmp.path().join("precious")).unwrap(), "mine");

    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join(format!("{TMP_PREFIX}1-0")), "a killed export's marker").unwrap();
    a.write(&out).unwrap();
    assert_eq!(tree(&out), exactly(&a));
}

#[test]
fn a_killed_export_is_repaired_at_whatever_step_it_stopped() {
    let (a, b) = (export("a", A), export("b", B));
    let union = b.marker(false, Some(&a.marker(true, None).files));
    // Each step of a write by `b` over `a`'s export, as a kill would leave the folder.
    let steps: [&dyn Fn(&Path); 5] = [
        // Killed writing the unfinished marker: its temporary only.
        &|out| fs::write(out.join(format!("{TMP_PREFIX}7-0")), union.to_text()).unwrap(),
        // Killed after it, writing the first file.
        &|out| {
            fs::write(out.join(MARKER), union.to_text()).unwrap();
            fs::write(out.join(format!("{TMP_PREFIX}7-1")), "half").unwrap();
        },
        // Killed with the new files in place, before the old ones went.
        &|out| {
            fs::write(out.join(MARKER), union.to_text()).unwrap();
            fs::write(out.join("docker-compose.yml"), "b\n").unwrap();
            fs::write(out.join("README.md"), "r\n").unwrap();
        },
        // Killed after removing `configs/only-a/x.yaml`, before its folder.
        &|out| {
            fs::write(out.join(MARKER), union.to_text()).unwrap();
            fs::remove_file(out.join("configs/only-a/x.yaml")).unwrap();
        },
        // Killed writing the last marker, a temporary in a folder that is gone next.
        &|out| {
            fs::write(out.join(MARKER), union.to_text()).unwrap();
            fs::write(out.join(format!("configs/only-a/{TMP_PREFIX}7-3")), "").unwrap();
        },
    ];
    for (i, step) in steps.iter().enumerate() {
        for next in [&a, &b] {
            let tmp = tempfile::tempdir().unwrap();
            let out = tmp.path().join("out");
            a.write(&out).unwrap();
            step(&out);
            assert!(!up_to_date(next, &out), "step {i}: a check sees what the kill left");
            next.write(&out).unwrap_or_else(|e| panic!("step {i}, then {}: {e}", next.stack));
            assert_eq!(tree(&out), exactly(next), "step {i}, then {}", next.stack);
            assert!(up_to_date(next, &out), "step {i}, then {}", next.stack);
        }
    }
}

#[test]
fn files_and_folders_of_an_earlier_export_may_trade_places() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let file = export("a", &[("configs/x", "file\n"), ("configs/y/z", "z\n")]);
    let folder = export("b", &[("configs/x/inner.yaml", "inner\n"), ("configs/y", "now a file\n")]);
    file.write(&out).unwrap();
    folder.write(&out).unwrap();
    assert_eq!(tree(&out), exactly(&folder));
    file.write(&out).unwrap();
    assert_eq!(tree(&out), exactly(&file));

    // A file of the user's in such a folder is not export's to remove.
    fs::remove_file(out.join("configs/x")).unwrap();
    fs::create_dir(out.join("configs/x")).unwrap();
    fs::write(out.join("configs/x/mine"), "mine").unwrap();
    let e = export("c", &[("configs/x", "file\n")]).write(&out).unwrap_err().to_string();
    assert!(e.contains("`") && e.contains("configs/x` is a folder"), "{e}");
    assert_eq!(fs::read_to_string(out.join("configs/x/mine")).unwrap(), "mine");
}

#[test]
fn listed_folders_and_paths_through_files_remove_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let a = export("a", A);
    a.write(&out).unwrap();
    fs::write(out.join("configs/mine.yaml"), "mine").unwrap();
    let hostile = Marker {
        stack: "a".into(),
        finished: true,
        files: ["configs", "docker-compose.yml/x", "configs/loki.yaml/y", "configs/mine.yaml/z"].iter().map(|s| s.to_string()).collect(),
    };
    fs::write(out.join(MARKER), hostile.to_text()).unwrap();
    let b = export("b", B);
    assert_eq!(b.write(&out).unwrap().removed, 0);
    assert_eq!(fs::read_to_string(out.join("configs/mine.yaml")).unwrap(), "mine");
    assert!(out.join("configs/only-a/x.yaml").is_file(), "not listed, so not export's to remove");
}

#[test]
fn apps_go_to_their_own_file_which_must_be_outside_and_regular() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let files = [("docker-compose.yml", "s\n"), ("apps/docker-compose.yml", "apps\n"), (".obsbuild/deployment.json", "{}")];
    let apps = tmp.path().join("deploy/apps.yml");
    let e = Export::of(&build("s", &files), Some(&apps)).unwrap();
    assert_eq!(e.len(), 2);
    e.write(&out).unwrap();
    assert_eq!(fs::read_to_string(&apps).unwrap(), "apps\n");
    assert!(!out.join("apps").exists() && !out.join(".obsbuild").exists());
    assert!(up_to_date(&e, &out));
    fs::write(&apps, "changed\n").unwrap();
    assert!(!up_to_date(&e, &out));
    assert_eq!(e.write(&out).unwrap().written, 1);
    assert_eq!(fs::read_dir(apps.parent().unwrap()).unwrap().count(), 1, "no temporary beside the apps file");

    for inside in [out.join(MARKER), out.join("docker-compose.yml")] {
        let e = Export::of(&build("s", &files), Some(&inside)).unwrap();
        let msg = e.write(&out).unwrap_err().to_string();
        assert!(msg.contains("is a file export writes inside --out"), "{msg}");
    }
    let dir = Export::of(&build("s", &files), Some(&tmp.path().join("deploy/"))).unwrap();
    assert!(dir.write(&out).unwrap_err().to_string().contains("names no file"));
}

#[test]
fn out_may_be_a_link_the_user_chose_but_not_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    fs::create_dir(&real).unwrap();
    std::os::unix::fs::symlink(&real, tmp.path().join("link")).unwrap();
    let a = export("a", A);
    a.write(&tmp.path().join("link")).unwrap();
    assert_eq!(tree(&real), exactly(&a));
    fs::write(tmp.path().join("file"), "").unwrap();
    let e = a.write(&tmp.path().join("file")).unwrap_err().to_string();
    assert!(e.contains("is not a folder"), "{e}");
}

#[test]
fn a_build_path_export_would_not_write_is_an_error() {
    for bad in [MARKER, "configs/.obsbuild-export-tmp-1-1", "configs/a\nREADME.md"] {
        assert!(Export::of(&build("s", &[(bad, "")]), None).is_err(), "{bad}");
    }
}
