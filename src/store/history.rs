//! Build history: `<state>/history/<stack>.json`, the numbered store paths a stack was
//! built to. Records are GC roots.
//!
//! A file is rewritten whole and atomically (temporary, fsync, rename, directory fsync)
//! under the exclusive store lock, so readers need no lock and never see half a file.

use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use super::hash::{self, MANIFEST};
use super::lock::StoreLock;
use super::{Store, StorePath, fsutil};

/// Version of the history file format.
const HISTORY_FORMAT: u32 = 1;

/// What a caller knows about a build besides its store path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordMeta {
    pub time: SystemTime,
    /// The project's git state, when it is a git checkout.
    pub git: Option<GitInfo>,
    /// The stack script, as shown to the user (e.g. `stacks/prod.rhai`).
    pub script: String,
}

/// The commit a build was made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitInfo {
    pub commit: String,
    /// Whether the working tree had uncommitted changes.
    pub dirty: bool,
}

/// One numbered build of a stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// 1, 2, ...: never reused, also after pruning.
    pub number: u64,
    /// The store path name.
    pub path: String,
    /// RFC 3339 UTC, to the second.
    pub time: String,
    pub git: Option<GitInfo>,
    pub script: String,
}

/// The content of `history/<stack>.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryFile {
    format: u32,
    stack: String,
    pub(crate) records: Vec<Record>,
}

impl Store {
    pub(super) fn history_dir(&self) -> PathBuf {
        self.state.join("history")
    }

    fn history_file(&self, stack: &str) -> PathBuf {
        self.history_dir().join(format!("{stack}.json"))
    }

    /// Appends a record for `path` unless it is already the stack's latest build; returns
    /// the new record, or `None` when nothing changed.
    pub fn record(
        &self,
        stack: &str,
        path: &StorePath,
        meta: RecordMeta,
    ) -> Result<Option<Record>, StoreError> {
        let _lock = StoreLock::exclusive(&self.state)?;
        self.record_locked(stack, path, meta)
    }

    /// [`record`](Self::record) with the exclusive lock already held.
    pub(super) fn record_locked(&self, stack: &str, path: &StorePath, meta: RecordMeta) -> Result<Option<Record>, StoreError> {
        hash::check_name("stack name", stack)?;
        // Under the lock, so a concurrent gc cannot remove the path between check and write.
        if !path.dir.join(MANIFEST).is_file() || hash::parse_path_name(&path.name).is_none() {
            return Err(StoreError::NotFound {
                what: format!("store path `{}`", path.name),
                store: self.store_dir(),
            });
        }
        let mut file = self.read_history(stack)?;
        let last = file.records.last();
        if last.is_some_and(|r| r.path == path.name) {
            return Ok(None);
        }
        let record = Record {
            number: last.map_or(1, |r| r.number + 1),
            path: path.name.clone(),
            time: humantime::format_rfc3339_seconds(meta.time).to_string(),
            git: meta.git,
            script: meta.script,
        };
        file.records.push(record.clone());
        self.write_history(stack, &file)?;
        Ok(Some(record))
    }

    /// The records of a stack, oldest first; empty if it was never built.
    pub fn history(&self, stack: &str) -> Result<Vec<Record>, StoreError> {
        hash::check_name("stack name", stack)?;
        Ok(self.read_history(stack)?.records)
    }

    /// Every stack with a history, sorted.
    pub fn stacks(&self) -> Result<Vec<String>, StoreError> {
        Ok(fsutil::list_names(&self.history_dir())?
            .into_iter()
            .filter_map(|name| name.strip_suffix(".json").map(str::to_string))
            .filter(|stack| hash::check_name("stack name", stack).is_ok())
            .collect())
    }

    pub(crate) fn read_history(&self, stack: &str) -> Result<HistoryFile> {
        let path = self.history_file(stack);
        let bytes = match crate::files::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(HistoryFile {
                    format: HISTORY_FORMAT,
                    stack: stack.to_string(),
                    records: Vec::new(),
                });
            }
            Err(source) => return Err(StoreError::ReadHistory { path, source }),
        };
        serde_json::from_slice(&bytes).map_err(|source| StoreError::ParseHistory { path, source })
    }

    /// Rewrites a stack's history atomically; the caller holds the exclusive lock.
    pub(crate) fn write_history(&self, stack: &str, file: &HistoryFile) -> Result<()> {
        let path = self.history_file(stack);
        let mut json = serde_json::to_vec_pretty(file)
            .map_err(|source| StoreError::Serialize { path: path.clone(), source })?;
        json.push(b'\n');
        fsutil::write_atomic(&self.history_dir(), &format!("{stack}.json"), &json)
    }
}
