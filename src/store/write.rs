//! Adding a build: the fast no-op path, and the crash-safe write of a new store path.
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
use super::lock::StoreLock;
use super::{Store, StorePath, exists};
use crate::render::Build;

impl Store {
    /// Adds a build and returns its store path. A build already present costs one hash and
    /// one `stat`, and writes nothing.
    pub fn add(&self, build: &Build) -> Result<StorePath, StoreError> {
        hash::check_build(build)?;
        let full_hash = Self::hash(build);
        let path = self.store_path(&hash::path_name(&full_hash, &build.stack));
        // A path is renamed into place only once complete, so its manifest existing means
        // the whole path does.
        if path.dir.join(MANIFEST).is_file() {
            return Ok(path);
        }

        let _lock = StoreLock::exclusive(&self.state)?;
        let store = self.store_dir();
        fsutil::ensure_dir(&store)?;
        // Another writer may have added it while we waited for the lock.
        if path.dir.join(MANIFEST).is_file() {
            return Ok(path);
        }
        remove_leftovers(&store)?;
        if exists(&path.dir) {
            // A directory without a manifest was not made by this store's rename; move it
            // aside rather than trust or merge with it.
            fsutil::remove_atomically(&path.dir)?;
        }

        let tmp = store.join(fsutil::unique_name(TMP_PREFIX, &path.name));
        let written = write_tree(&tmp, build, &full_hash)
            .and_then(|()| fsutil::rename(&tmp, &path.dir))
            .and_then(|()| fsutil::sync_dir(&store));
        if written.is_err() {
            // Best effort; the next writer removes whatever is left under the lock anyway.
            let _ = fsutil::remove_tree(&tmp);
        }
        written.map(|()| path)
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
