//! Unit tests of the store against a temporary state directory: add and read, read-only
//! files, resolve and errors here; verify and history/GC in their own files.

mod gc;
mod verify;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::*;

pub(super) fn build(stack: &str, files: &[(&str, &str)]) -> Build {
    Build::new(stack, files.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())).collect())
}

pub(super) fn sample(n: u32) -> Build {
    build(
        "demo",
        &[
            ("docker-compose.yml", &format!("services: {{}}\n# {n}\n")),
            ("configs/loki/loki.yaml", "auth_enabled: false\n"),
            ("configs/otel.yaml", "receivers: {}\n"),
        ],
    )
}

pub(super) fn meta(script: &str) -> RecordMeta {
    RecordMeta {
        time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        git: Some(GitInfo { commit: "abc123".into(), dirty: false }),
        script: script.into(),
    }
}

pub(super) fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state")).unwrap();
    (dir, store)
}

/// Makes a store path writable again so a test can damage it.
pub(super) fn unlock_tree(path: &Path) {
    if path.is_dir() {
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
        for entry in fs::read_dir(path).unwrap() {
            unlock_tree(&entry.unwrap().path());
        }
    } else {
        fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
    }
}

pub(super) fn problems(store: &Store, name: &str) -> Vec<String> {
    let report = store.verify().unwrap();
    report.damaged.into_iter().find(|d| d.name == name).map(|d| d.problems).unwrap_or_default()
}

#[test]
fn open_touches_nothing_and_refuses_files() {
    let (dir, store) = store();
    assert!(!dir.path().join("state").exists());
    assert!(store.list().unwrap().is_empty());
    assert!(store.verify().unwrap().is_ok());
    fs::write(dir.path().join("file"), "").unwrap();
    assert!(matches!(Store::open(&dir.path().join("file")), Err(StoreError::NotADirectory { .. })));
}

#[test]
fn add_is_idempotent_and_read_round_trips() {
    let (_dir, store) = store();
    let b = sample(1);
    let p = store.add(&b).unwrap();
    assert_eq!(p.name, format!("{}-demo", &Store::hash(&b)[..32]));
    assert_eq!(p.name, Store::path_name(&b));
    assert_eq!(p.dir, store.store_dir().join(&p.name));
    assert_eq!(p.stack(), "demo");
    let manifest_before = fs::read(p.dir.join(MANIFEST)).unwrap();
    let mtime = fs::metadata(p.dir.join(MANIFEST)).unwrap().modified().unwrap();

    assert_eq!(store.add(&b).unwrap(), p);
    assert_eq!(fs::read(p.dir.join(MANIFEST)).unwrap(), manifest_before);
    assert_eq!(fs::metadata(p.dir.join(MANIFEST)).unwrap().modified().unwrap(), mtime);
    assert_eq!(store.read(&p).unwrap(), b);
    assert_eq!(store.list().unwrap(), vec![p.clone()]);

    let manifest: Manifest = serde_json::from_slice(&manifest_before).unwrap();
    assert_eq!(manifest.hash, Store::hash(&b));
    assert_eq!(manifest.stack, "demo");
    assert_eq!(manifest.files.len(), 3);
    assert_eq!(manifest.files["configs/otel.yaml"].size, 14);

    // Same files, another stack: another path, same hash prefix.
    let other = store.add(&Build { stack: "other".into(), ..b.clone() }).unwrap();
    assert_ne!(other, p);
    assert_eq!(other.name[..32], p.name[..32]);
}

#[test]
fn files_and_dirs_are_read_only() {
    let (_dir, store) = store();
    let p = store.add(&sample(1)).unwrap();
    let mode = |rel: &str| fs::metadata(p.dir.join(rel)).unwrap().permissions().mode() & 0o777;
    for file in ["docker-compose.yml", "configs/loki/loki.yaml", MANIFEST] {
        assert_eq!(mode(file), 0o444, "{file}");
    }
    for dir in ["", "configs", "configs/loki"] {
        assert_eq!(mode(dir), 0o555, "{dir}");
    }
    // No leftovers of the write.
    let names: Vec<_> =
        fs::read_dir(store.store_dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from(&p.name)]);
}

#[test]
fn invalid_builds_are_refused() {
    let (_dir, store) = store();
    assert!(matches!(
        store.add(&build("demo", &[("../x", "")])),
        Err(StoreError::InvalidBuild { .. })
    ));
    assert!(matches!(store.add(&build("a/b", &[("x", "")])), Err(StoreError::InvalidName { .. })));
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn resolve_accepts_names_store_prefixed_names_and_paths() {
    let (dir, store) = store();
    let p = store.add(&sample(1)).unwrap();
    assert_eq!(store.resolve(&p.name).unwrap(), p);
    assert_eq!(store.resolve(&format!("store/{}", p.name)).unwrap(), p);
    assert_eq!(store.resolve(&format!("{}/", p.name)).unwrap(), p);
    assert_eq!(store.resolve(p.dir.to_str().unwrap()).unwrap(), p);
    let inner = p.dir.join("configs/otel.yaml");
    assert_eq!(store.resolve(inner.to_str().unwrap()).unwrap(), p);
    let missing = format!("{}-demo", "0".repeat(32));
    assert!(matches!(store.resolve(&missing), Err(StoreError::NotFound { .. })));
    assert!(store.resolve(dir.path().to_str().unwrap()).is_err());
    assert!(store.resolve("nonsense").is_err());
}

#[test]
fn errors_name_the_path_and_keep_the_cause_in_source() {
    use std::error::Error;
    let (dir, _) = store();
    let file = dir.path().join("blocker");
    fs::write(&file, "").unwrap();
    // The state directory's parent is a file, so creating anything under it fails.
    let store = Store::open(&file.join("state")).unwrap();
    let err = store.add(&sample(1)).unwrap_err();
    let message = err.to_string();
    assert!(message.contains(&file.display().to_string()), "{message}");
    let cause = err.source().unwrap().to_string();
    assert!(!message.contains(&cause), "{message} repeats {cause}");
}

#[test]
fn add_removes_stale_leftovers_and_replaces_a_path_without_manifest() {
    let (_dir, store) = store();
    let first = store.add(&sample(1)).unwrap();
    let stale = store.store_dir().join(".tmp-dead-1-0/configs");
    fs::create_dir_all(&stale).unwrap();
    fs::write(stale.join("half.yaml"), "x").unwrap();
    fs::set_permissions(&stale, fs::Permissions::from_mode(0o555)).unwrap();
    // A directory under the final name but without a manifest: an interrupted copy by hand.
    let b = sample(2);
    let target = store.store_dir().join(Store::path_name(&b));
    fs::create_dir(&target).unwrap();
    fs::write(target.join("docker-compose.yml"), "garbage").unwrap();

    let p = store.add(&b).unwrap();
    assert_eq!(p.dir, target);
    assert_eq!(store.read(&p).unwrap(), b);
    let report = store.verify().unwrap();
    assert!(report.temporaries.is_empty(), "{report:?}");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.ok.len(), 2);
    assert!(first.dir.exists());
}

#[test]
fn error_messages_read_well() {
    let (_dir, store) = store();
    let err = store.resolve("0123").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("store path `0123` not found in the store `{}`", store.store_dir().display())
    );
    let err = StoreError::WriteFile {
        path: "/s/store/x".into(),
        source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
    };
    assert_eq!(
        err.to_string(),
        "cannot write `/s/store/x`; check that you own the state directory and may write to it"
    );
}
