//! A stack's host names in a hosts file: put in by `obsbuild hosts --apply`, taken out by
//! `down`. The edit is `plan::hosts::edit`; the file is written by `store`.

use std::path::{Path, PathBuf};

use crate::plan::hosts::{self, BlockError, Entries};
use crate::store::{self, Store, StoreError};

/// What happened to a hosts file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostsChange {
    /// The block was added or changed.
    Written,
    /// The block was taken out.
    Removed,
    /// The file already was as wanted; it was not written.
    Unchanged,
}

/// Why a hosts file could not be changed.
#[derive(Debug)]
pub enum HostsError {
    Store(StoreError),
    /// The file's markers of the stack do not make one block.
    Broken {
        file: PathBuf,
        stack: String,
        error: BlockError,
    },
}

impl HostsError {
    /// Whether the file may be changed by root only (the caller says how to get there).
    pub fn needs_root(&self) -> bool {
        matches!(self, HostsError::Store(StoreError::HostsFile { source, .. })
            if source.kind() == std::io::ErrorKind::PermissionDenied)
    }
}

impl std::fmt::Display for HostsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Its causes are its source's: `chain::render` prints them once.
            HostsError::Store(e) => write!(f, "{e}"),
            HostsError::Broken { file, stack, error } => {
                write!(
                    f,
                    "the hosts file `{}` has a broken block of `{stack}`: {error}",
                    file.display()
                )
            }
        }
    }
}

impl std::error::Error for HostsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HostsError::Store(e) => e.source(),
            HostsError::Broken { .. } => None,
        }
    }
}

impl From<StoreError> for HostsError {
    fn from(e: StoreError) -> Self {
        HostsError::Store(e)
    }
}

/// Makes `stack`'s block in `file` hold `entries` (taking it out when there are none),
/// writing the file only when its text changes, and records which files hold the block.
pub fn apply(
    store: &Store,
    stack: &str,
    entries: &Entries,
    file: &Path,
) -> Result<HostsChange, HostsError> {
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let _lock = store.lock_hosts()?;
    let _folder = store::lock_hosts_folder(&file)?;
    let old = store::read_hosts_file(&file)?.unwrap_or_default();
    let new = hosts::edit(&old, stack, entries).map_err(|error| HostsError::Broken {
        file: file.clone(),
        stack: stack.to_owned(),
        error,
    })?;
    let profile = store.profile(stack);
    // Recorded before the write: a crash in between leaves a record naming a file without
    // the block (harmless to `down`), never a block that no record names.
    if !entries.is_empty() {
        profile.record_hosts_file(&file, true)?;
    }
    let change = if new == old {
        HostsChange::Unchanged
    } else {
        if let Err(e) = store::write_hosts_file(&file, &new) {
            // Forget a file that never held the block; one that does stays recorded.
            let held = hosts::edit(&old, stack, &Entries::new()).map_or(true, |t| t != old);
            if !held {
                let _ = profile.record_hosts_file(&file, false);
            }
            return Err(e.into());
        }
        if entries.is_empty() {
            HostsChange::Removed
        } else {
            HostsChange::Written
        }
    };
    if entries.is_empty() {
        profile.record_hosts_file(&file, false)?;
    }
    Ok(change)
}

/// Takes `stack`'s block out of every hosts file recorded as holding it, and forgets them.
pub fn remove(store: &Store, stack: &str) -> Result<Vec<(PathBuf, HostsChange)>, HostsError> {
    let mut done = Vec::new();
    for file in store.profile(stack).hosts_files()? {
        let change = apply(store, stack, &Entries::new(), &file)?;
        done.push((file, change));
    }
    Ok(done)
}
