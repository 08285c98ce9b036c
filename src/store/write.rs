//! Adding a build: the checked reuse of a path already there, and the crash-safe write of a
//! new store path.
//!
//! Order of a write, all under the exclusive lock: remove stale leftovers, write every
//! file into `.tmp-<name>-<pid>-<n>` (each fsynced, 0444), make directories 0555 and fsync
//! them deepest first, rename into place, fsync `store/`. Nix skips the fsyncs and its
//! users found zero-length files after power loss; we pay for them.

use std::collections::BTreeSet;
use std::path::Path;

use super::error::{Result, StoreError};
use super::fsutil::{self, DIR_MODE, FILE_MODE};
use super::hash::{self, MANIFEST, Manifest, TMP_PREFIX, TRASH_PREFIX};
use super::history::{Record, RecordMeta};
use super::lock::StoreLock;
use super::{Store, StorePath, exists};
use crate::build::Build;

/// What [`Store::add_and_record`] did.
#[derive(Debug)]
pub struct Added {
    pub path: StorePath,
    /// The stack's new history record; `None` when the path already was its latest build.
    pub record: Option<Record>,
    /// What was wrong with an existing copy of the path that was found damaged and
    /// written again; empty when it was intact or new.
    pub repaired: Vec<String>,
}

impl Store {
    /// Adds a build and returns its store path. A path already present is checked against
    /// the build (manifest, and every file's type, mode, size and bytes) and written again
    /// if anything is wrong with it, so a damaged path is never handed out as this build.
    pub fn add(&self, build: &Build) -> Result<StorePath, StoreError> {
        let _lock = StoreLock::exclusive(&self.state)?;
        Ok(self.add_locked(build)?.0)
    }

    /// Adds a build and records it in its stack's history under one hold of the store
    /// lock, so that no `gc` can remove the path between the two; with `root`, also roots
    /// it under that name (a switch's build stays rooted until the next switch's).
    pub fn add_and_record(&self, build: &Build, meta: RecordMeta, root: Option<&str>) -> Result<Added, StoreError> {
        let _lock = StoreLock::exclusive(&self.state)?;
        let (path, repaired) = self.add_locked(build)?;
        let record = self.record_locked(&build.stack, &path, meta)?;
        if let Some(name) = root {
            self.add_root_locked(name, &path)?;
        }
        Ok(Added { path, record, repaired })
    }

    /// [`add`](Self::add) with the exclusive lock already held; also returns what was
    /// repaired.
    fn add_locked(&self, build: &Build) -> Result<(StorePath, Vec<String>), StoreError> {
        hash::check_build(build)?;
        let full_hash = Self::hash(build);
        let path = self.store_path(&hash::path_name(&full_hash, &build.stack));
        let store = self.store_dir();
        fsutil::ensure_dir(&store)?;
        let mut repaired = Vec::new();
        if exists(&path.dir) {
            repaired = reuse_problems(&path.dir, build, &full_hash);
            if repaired.is_empty() {
                return Ok((path, repaired));
            }
            // Damaged, or a folder this store's rename did not make: move it aside rather
            // than trust or merge with it, and write the build again.
            fsutil::remove_atomically(&path.dir)?;
        }
        remove_leftovers(&store)?;

        let tmp = store.join(fsutil::unique_name(TMP_PREFIX, &path.name));
        let written = write_tree(&tmp, build, &full_hash)
            .and_then(|()| fsutil::rename(&tmp, &path.dir))
            .and_then(|()| fsutil::sync_dir(&store));
        if written.is_err() {
            // Best effort; the next writer removes whatever is left under the lock anyway.
            let _ = fsutil::remove_tree(&tmp);
        }
        written.map(|()| (path, repaired))
    }
}

/// What is wrong with the store path at `dir` as a copy of `build`; empty when it is one.
/// Checked on every reuse, because a path is only as good as its files: edited, removed,
/// cut short or replaced by a link, it must not pass for the build (the cost is one read
/// of a build's few hundred KB, see docs/BENCHMARKS.md).
fn reuse_problems(dir: &Path, build: &Build, full_hash: &str) -> Vec<String> {
    let mut problems = Vec::new();
    match crate::files::read(&dir.join(MANIFEST)).map(|bytes| serde_json::from_slice::<Manifest>(&bytes)) {
        Ok(Ok(m)) if m == Manifest::of(build, full_hash) => {}
        Ok(Ok(_)) => problems.push("its manifest does not describe this build".to_owned()),
        Ok(Err(e)) => problems.push(format!("its manifest is not valid ({e})")),
        Err(e) => problems.push(format!("its manifest cannot be read ({e})")),
    }
    let mut seen = BTreeSet::new();
    check_entries(dir, "", build, &mut seen, &mut problems);
    for missing in build.files.keys().filter(|k| !seen.contains(k.as_str())) {
        problems.push(format!("`{missing}` is missing"));
    }
    problems
}

/// Walks the path's folder: every entry a read-only folder or a read-only regular file of
/// the build with its bytes.
fn check_entries(dir: &Path, prefix: &str, build: &Build, seen: &mut BTreeSet<String>, problems: &mut Vec<String>) {
    use std::os::unix::fs::PermissionsExt;
    let names = match fsutil::list_names(dir) {
        Ok(names) => names,
        Err(e) => return problems.push(format!("`{}` cannot be listed ({e})", if prefix.is_empty() { "." } else { prefix })),
    };
    for name in names {
        let rel = format!("{prefix}{name}");
        if rel == MANIFEST {
            continue;
        }
        let path = dir.join(&name);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) => {
                problems.push(format!("`{rel}` cannot be read ({e})"));
                continue;
            }
        };
        if meta.permissions().mode() & 0o222 != 0 {
            problems.push(format!("`{rel}` is writable"));
        }
        if meta.is_dir() {
            check_entries(&path, &format!("{rel}/"), build, seen, problems);
            continue;
        }
        let Some(want) = build.files.get(&rel) else {
            problems.push(format!("`{rel}` is not part of the build"));
            continue;
        };
        if !meta.is_file() {
            problems.push(format!("`{rel}` is not a regular file"));
        } else if meta.len() != want.len() as u64 {
            problems.push(format!("`{rel}` has {} bytes, the build {}", meta.len(), want.len()));
        } else {
            match crate::files::read(&path) {
                Ok(bytes) if bytes == *want => {}
                Ok(_) => problems.push(format!("`{rel}` was changed")),
                Err(e) => problems.push(format!("`{rel}` cannot be read ({e})")),
            }
        }
        seen.insert(rel);
    }
}

/// Removes `.tmp-*` and `.trash-*` entries under `store/`. Only the lock holder writes
/// there, so with the lock held every such entry belongs to a writer that died.
pub(crate) fn remove_leftovers(store: &Path) -> Result<Vec<String>> {
    let leftovers: Vec<String> = fsutil::list_names(store)?
        .into_iter()
        .filter(|name| name.starts_with(TMP_PREFIX) || name.starts_with(TRASH_PREFIX))
        .collect();
    for name in &leftovers {
        fsutil::remove_tree(&store.join(name))?;
    }
    Ok(leftovers)
}

/// Writes the whole store path under `root` (which must not exist), durable and read-only.
fn write_tree(root: &Path, build: &Build, full_hash: &str) -> Result<()> {
    fsutil::create_dir(root)?;
    // Every directory a file lives in, relative to the root; "" is the root itself.
    let mut dirs = BTreeSet::from([String::new()]);
    for rel in build.files.keys() {
        for (i, _) in rel.match_indices('/') {
            dirs.insert(rel[..i].to_string());
        }
    }
    // Sorted order creates parents before children.
    for dir in dirs.iter().filter(|d| !d.is_empty()) {
        fsutil::create_dir(&root.join(dir))?;
    }
    for (rel, content) in &build.files {
        fsutil::write_synced(&root.join(rel), content, FILE_MODE)?;
    }
    let manifest = Manifest::of(build, full_hash);
    let manifest_path = root.join(MANIFEST);
    let mut json = serde_json::to_vec_pretty(&manifest)
        .map_err(|source| StoreError::Serialize { path: manifest_path.clone(), source })?;
    json.push(b'\n');
    fsutil::write_synced(&manifest_path, &json, FILE_MODE)?;
    // Reverse sorted order visits children before their parents, so each directory is
    // synced after everything inside it.
    for dir in dirs.iter().rev() {
        let dir = root.join(dir);
        fsutil::set_mode(&dir, DIR_MODE)?;
        fsutil::sync_dir(&dir)?;
    }
    Ok(())
}
