//! History numbering, roots and garbage collection.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{meta, sample, store};
use crate::store::{GitInfo, StoreError, StorePath};

#[test]
fn history_numbers_and_dedups() {
    let (_dir, store) = store();
    let p1 = store.add(&sample(1)).unwrap();
    let p2 = store.add(&sample(2)).unwrap();
    let r1 = store.record("demo", &p1, meta("stacks/demo.rhai")).unwrap().unwrap();
    assert_eq!((r1.number, r1.path.as_str()), (1, p1.name.as_str()));
    assert_eq!(r1.time, "2023-11-14T22:13:20Z");
    assert_eq!(r1.git, Some(GitInfo { commit: "abc123".into(), dirty: false }));
    assert!(store.record("demo", &p1, meta("stacks/demo.rhai")).unwrap().is_none());
    assert_eq!(store.record("demo", &p2, meta("x")).unwrap().unwrap().number, 2);
    // Going back to an older build is a new record.
    assert_eq!(store.record("demo", &p1, meta("x")).unwrap().unwrap().number, 3);
    let numbers: Vec<_> = store.history("demo").unwrap().iter().map(|r| r.number).collect();
    assert_eq!(numbers, vec![1, 2, 3]);
    assert!(store.history("never-built").unwrap().is_empty());
    store.record("alpha", &p2, meta("y")).unwrap();
    assert_eq!(store.stacks().unwrap(), vec!["alpha".to_string(), "demo".to_string()]);

    let gone =
        StorePath { name: format!("{}-demo", "0".repeat(32)), dir: store.store_dir().join("x") };
    assert!(matches!(store.record("demo", &gone, meta("x")), Err(StoreError::NotFound { .. })));
}

#[test]
fn gc_keeps_rooted_and_recorded_paths() {
    let (_dir, store) = store();
    let recorded = store.add(&sample(1)).unwrap();
    let rooted = store.add(&sample(2)).unwrap();
    let garbage = store.add(&sample(3)).unwrap();
    store.record("demo", &recorded, meta("s")).unwrap();
    store.add_root("pinned", &rooted).unwrap();
    assert_eq!(store.roots().unwrap(), vec![("pinned".to_string(), rooted.name.clone())]);
    fs::create_dir_all(store.store_dir().join(".trash-old-1-0/sub")).unwrap();

    let report = store.gc(None, false).unwrap();
    assert_eq!(report.removed, vec![garbage.name.clone()]);
    assert_eq!(report.temporaries, vec![".trash-old-1-0".to_string()]);
    assert_eq!(report.kept, 2);
    assert!(report.bytes_freed > 0);
    assert!(!garbage.dir.exists());
    assert!(recorded.dir.exists() && rooted.dir.exists());
    assert!(store.verify().unwrap().temporaries.is_empty());

    store.remove_root("pinned").unwrap();
    assert!(matches!(store.remove_root("pinned"), Err(StoreError::NotFound { .. })));
    assert_eq!(store.gc(None, false).unwrap().removed, vec![rooted.name.clone()]);
    assert_eq!(store.list().unwrap(), vec![recorded]);
}

#[test]
fn gc_keep_prunes_history_first() {
    let (_dir, store) = store();
    let paths: Vec<_> = (1..=4).map(|n| store.add(&sample(n)).unwrap()).collect();
    for p in &paths {
        store.record("demo", p, meta("s")).unwrap();
    }
    let report = store.gc(Some(2), false).unwrap();
    assert_eq!(report.records_pruned, 2);
    let mut removed = vec![paths[0].name.clone(), paths[1].name.clone()];
    removed.sort();
    assert_eq!(report.removed, removed);
    let numbers: Vec<_> = store.history("demo").unwrap().iter().map(|r| r.number).collect();
    assert_eq!(numbers, vec![3, 4]);
    // Numbering continues after pruning.
    let again = store.add(&sample(1)).unwrap();
    assert_eq!(store.record("demo", &again, meta("s")).unwrap().unwrap().number, 5);
}

#[test]
fn gc_dry_run_touches_nothing() {
    let (dir, store) = store();
    let paths: Vec<_> = (1..=3).map(|n| store.add(&sample(n)).unwrap()).collect();
    for p in &paths {
        store.record("demo", p, meta("s")).unwrap();
    }
    fs::create_dir(store.store_dir().join(".tmp-left-1-0")).unwrap();
    let before = snapshot(dir.path());
    let report = store.gc(Some(1), true).unwrap();
    assert!(report.dry_run);
    assert_eq!(report.records_pruned, 2);
    assert_eq!(report.removed.len(), 2);
    assert_eq!(report.temporaries, vec![".tmp-left-1-0".to_string()]);
    assert_eq!(snapshot(dir.path()), before);
}

/// Every entry under `root` with its size and mode, to compare before and after.
fn snapshot(root: &Path) -> Vec<(String, u64, u32)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let m = fs::symlink_metadata(&p).unwrap();
        out.push((
            p.display().to_string(),
            if m.is_file() { m.len() } else { 0 },
            m.permissions().mode(),
        ));
        if m.is_dir() {
            stack.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    out.sort();
    out
}
