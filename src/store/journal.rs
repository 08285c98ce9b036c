//! The switch journal: every step written and fsynced before it is taken, so a switch
//! killed at any point can be finished or undone by the next run.

use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Store;
use super::error::{Result, StoreError};
use super::fsutil;

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Entry {
    /// Switch `switch` from generation `from` (store path `from_path`) to generation
    /// `to` (store path `to_path`) began. Containers it creates carry the switch's id.
    Begin { switch: String, from: Option<u64>, from_path: Option<String>, to: u64, to_path: String },
    /// A step is about to be taken.
    Step { service: String, step: String, container: Option<String> },
    /// Every service is on the target and healthy; the switch is being committed.
    Commit,
}

pub struct Journal {
    path: PathBuf,
}

impl Store {
    fn journal_path(&self, stack: &str) -> PathBuf {
        self.state_dir().join("profiles").join(stack).join("switch.journal")
    }

    /// The journal of an interrupted switch of `stack`, if one was left.
    pub fn interrupted(&self, stack: &str) -> Result<Option<Vec<Entry>>> {
        let path = self.journal_path(stack);
        let text = match crate::files::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::ReadHistory { path, source }),
        };
        // A line cut short by a crash is the step that was being written: not taken.
        Ok(Some(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()))
    }

    /// Starts a journal for `stack`, replacing any previous one.
    pub fn begin_journal(&self, stack: &str, begin: Entry) -> Result<Journal> {
        let path = self.journal_path(stack);
        if let Some(parent) = path.parent() {
            fsutil::ensure_dir(parent)?;
        }
        let _ = std::fs::remove_file(&path);
        let journal = Journal { path };
        journal.append(&begin)?;
        Ok(journal)
    }
}

impl Journal {
    /// Appends an entry and fsyncs it before returning.
    pub fn append(&self, entry: &Entry) -> Result<()> {
        let err = |source| StoreError::WriteFile { path: self.path.clone(), source };
        let mut line = serde_json::to_vec(entry).map_err(|source| StoreError::Serialize { path: self.path.clone(), source })?;
        line.push(b'\n');
        let mut file = crate::files::open_with(&self.path, std::fs::OpenOptions::new().create(true).append(true)).map_err(err)?;
        file.write_all(&line).map_err(err)?;
        file.sync_all().map_err(|source| StoreError::Sync { path: self.path.clone(), source })?;
        if let Some(parent) = self.path.parent() {
            fsutil::sync_dir(parent)?;
        }
        Ok(())
    }

    /// The switch is over (done or undone): the journal goes.
    pub fn finish(self) -> Result<()> {
        std::fs::remove_file(&self.path).map_err(|source| StoreError::Remove { path: self.path.clone(), source })?;
        if let Some(parent) = self.path.parent() {
            fsutil::sync_dir(parent)?;
        }
        Ok(())
    }
}

impl Store {
    /// Drops the journal of `stack` (after recovering from it).
    pub fn clear_journal(&self, stack: &str) -> Result<()> {
        let path = self.journal_path(stack);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Remove { path, source }),
        }
    }
}
