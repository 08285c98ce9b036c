//! GC roots (`<state>/roots/<name>`) and garbage collection.
//!
//! Live paths are those named by a history record or a root; everything else under
//! `store/` that looks like a store path is removed, as are `.tmp-`/`.trash-` leftovers.
//! Each removal renames to `.trash-` first, so a crash never leaves a half-deleted path
//! under a valid name.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::PathBuf;

use serde::Serialize;

use super::error::{Result, StoreError};
use super::hash::{self, MANIFEST, TMP_PREFIX, TRASH_PREFIX};
use super::lock::StoreLock;
use super::write::remove_leftovers;
use super::{Store, StorePath, fsutil};

/// What [`Store::gc`] removed (or, in a dry run, would remove).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    /// Names of the store paths removed, sorted.
    pub removed: Vec<String>,
    /// `.tmp-`/`.trash-` leftovers removed.
    pub temporaries: Vec<String>,
    /// Bytes of file content freed, leftovers included.
    pub bytes_freed: u64,
    /// History records dropped by `keep`.
    pub records_pruned: usize,
    /// Store paths still present afterwards.
    pub kept: usize,
    pub dry_run: bool,
}

impl Store {
    fn roots_dir(&self) -> PathBuf {
        self.state.join("roots")
    }

    /// Protects `path` from GC under `name`, replacing any root of that name.
    pub fn add_root(&self, name: &str, path: &StorePath) -> Result<(), StoreError> {
        let _lock = StoreLock::exclusive(&self.state)?;
        self.add_root_locked(name, path)
    }

    /// [`add_root`](Self::add_root) with the exclusive lock already held.
    pub(super) fn add_root_locked(&self, name: &str, path: &StorePath) -> Result<(), StoreError> {
        hash::check_name("root name", name)?;
        if !path.dir.join(MANIFEST).is_file() || hash::parse_path_name(&path.name).is_none() {
            return Err(StoreError::NotFound {
                what: format!("store path `{}`", path.name),
                store: self.store_dir(),
            });
        }
        fsutil::write_atomic(&self.roots_dir(), name, format!("{}\n", path.name).as_bytes())
    }

    /// Removes the root `name`; the path it named becomes collectable unless otherwise used.
    pub fn remove_root(&self, name: &str) -> Result<(), StoreError> {
        hash::check_name("root name", name)?;
        let _lock = StoreLock::exclusive(&self.state)?;
        let path = self.roots_dir().join(name);
        match fs::remove_file(&path) {
            Ok(()) => fsutil::sync_dir(&self.roots_dir()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NotFound {
                what: format!("GC root `{name}`"),
                store: self.store_dir(),
            }),
            Err(source) => Err(StoreError::Remove { path, source }),
        }
    }

    /// Every root as `(root name, store path name)`, sorted by root name.
    pub fn roots(&self) -> Result<Vec<(String, String)>, StoreError> {
        let dir = self.roots_dir();
        let mut roots = Vec::new();
        for name in fsutil::list_names(&dir)? {
            if name.starts_with('.') {
                continue;
            }
            let path = dir.join(&name);
            let read_err = |source| StoreError::ReadRoot { path: path.clone(), source };
            // A root is a file naming the path; a symlink into the store (made by hand)
            // names it by its last component.
            let meta = fs::symlink_metadata(&path).map_err(read_err)?;
            let target = if meta.file_type().is_symlink() {
                let link = fs::read_link(&path).map_err(read_err)?;
                link.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
            } else {
                crate::files::read_to_string(&path).map_err(read_err)?.trim().to_string()
            };
            if hash::parse_path_name(&target).is_none() {
                return Err(StoreError::InvalidRoot { path, content: target });
            }
            roots.push((name, target));
        }
        Ok(roots)
    }

    /// Removes every store path not named by a record or a root. With `keep: Some(n)`,
    /// first prunes each stack's history to its last `n` records. `dry_run` changes
    /// nothing and reports what would happen.
    pub fn gc(&self, keep: Option<usize>, dry_run: bool) -> Result<GcReport, StoreError> {
        let _lock = StoreLock::exclusive(&self.state)?;
        let mut report = GcReport { dry_run, ..GcReport::default() };

        let mut live = BTreeSet::new();
        for stack in self.stacks()? {
            let mut file = self.read_history(&stack)?;
            if let Some(n) = keep.filter(|&n| file.records.len() > n) {
                let pruned = file.records.len() - n;
                file.records.drain(..pruned);
                report.records_pruned += pruned;
                if !dry_run {
                    self.write_history(&stack, &file)?;
                }
            }
            live.extend(file.records.into_iter().map(|r| r.path));
        }
        live.extend(self.roots()?.into_iter().map(|(_, target)| target));

        let store = self.store_dir();
        for path in self.list()? {
            if live.contains(&path.name) {
                report.kept += 1;
                continue;
            }
            report.bytes_freed += fsutil::tree_size(&path.dir)?;
            if !dry_run {
                fsutil::remove_atomically(&path.dir)?;
            }
            report.removed.push(path.name);
        }

        let is_leftover = |n: &String| n.starts_with(TMP_PREFIX) || n.starts_with(TRASH_PREFIX);
        for name in fsutil::list_names(&store)?.into_iter().filter(is_leftover) {
            report.bytes_freed += fsutil::tree_size(&store.join(&name))?;
            report.temporaries.push(name);
        }
        if !dry_run {
            remove_leftovers(&store)?;
            // Interrupted atomic writes of history files and roots.
            for dir in [self.history_dir(), self.roots_dir()] {
                for name in
                    fsutil::list_names(&dir)?.into_iter().filter(|n| n.starts_with(TMP_PREFIX))
                {
                    fsutil::remove_tree(&dir.join(name))?;
                }
            }
        }
        Ok(report)
    }
}
