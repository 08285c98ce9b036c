//! The store lock: `flock` on `<state>/store.lock`, exclusive for writers (add, record,
//! roots, gc) and shared for `verify`.
//!
//! `flock` belongs to the open file, so the kernel drops it when the holder exits or is
//! killed; a lock directory (mkdir) would outlive a crash and block every later build.

use std::fs::{File, OpenOptions};
use std::path::Path;

use super::error::{Result, StoreError};
use super::fsutil;

/// File name of the lock inside the state directory.
pub const LOCK_FILE: &str = "store.lock";

/// Holds the store lock until dropped (closing the file releases it).
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

impl StoreLock {
    /// Blocks until this process is the only writer.
    pub fn exclusive(state: &Path) -> Result<StoreLock> {
        Self::take(state, true)
    }

    /// Blocks until no writer holds the lock; other readers may hold it too.
    pub fn shared(state: &Path) -> Result<StoreLock> {
        Self::take(state, false)
    }

    fn take(state: &Path, exclusive: bool) -> Result<StoreLock> {
        fsutil::ensure_dir(state)?;
        let path = state.join(LOCK_FILE);
        let lock_err = |source| StoreError::Lock { path: path.clone(), source };
        // Opened for writing so that an exclusive lock works on any file system; the
        // content is never used. A reader without write access (verify on a read-only
        // state directory) can still take a shared lock on an existing file.
        let file = crate::files::open_with(&path, OpenOptions::new().read(true).write(true).create(true).truncate(false))
            .or_else(|e| if exclusive { Err(e) } else { crate::files::open(&path).map_err(|_| e) })
            .map_err(lock_err)?;
        if exclusive { file.lock() } else { file.lock_shared() }.map_err(lock_err)?;
        Ok(StoreLock { _file: file })
    }
}
