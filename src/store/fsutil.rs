//! File-system primitives with durability built in: synced writes, directory fsyncs,
//! atomic replacement of small files, and removal of read-only trees.
//!
//! Every function maps its `io::Error` to the [`StoreError`] variant named for what it was
//! doing, so callers only add `?`.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::{Result, StoreError};

/// Mode of every file in a store path.
pub const FILE_MODE: u32 = 0o444;
/// Mode of every directory in a store path.
pub const DIR_MODE: u32 = 0o555;

/// A name for a temporary entry that no other thread or process of ours can pick:
/// `<prefix><base>-<pid>-<n>`.
pub fn unique_name(prefix: &str, base: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{base}-{}-{n}", std::process::id())
}

/// Flushes a directory's entries to disk, so a rename or create inside it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    let sync_err = |source| StoreError::Sync { path: dir.to_path_buf(), source };
    File::open(dir).map_err(sync_err)?.sync_all().map_err(sync_err)
}

/// Creates `dir` and any missing parents, fsyncing each parent that gained an entry.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_dir(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        // Another process may create it between our check and ours.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(source) => return Err(StoreError::CreateDir { path: dir.to_path_buf(), source }),
    }
    match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

/// Creates one directory that must not exist yet.
pub fn create_dir(dir: &Path) -> Result<()> {
    fs::create_dir(dir).map_err(|source| StoreError::CreateDir { path: dir.to_path_buf(), source })
}

/// Writes a new file, sets its mode and fsyncs it before returning.
pub fn write_synced(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let write_err = |source| StoreError::WriteFile { path: path.to_path_buf(), source };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(write_err)?;
    file.write_all(bytes).map_err(write_err)?;
    file.set_permissions(Permissions::from_mode(mode))
        .map_err(|source| StoreError::SetPermissions { path: path.to_path_buf(), source })?;
    file.sync_all().map_err(|source| StoreError::Sync { path: path.to_path_buf(), source })
}

/// Sets the mode of a file or directory.
pub fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, Permissions::from_mode(mode))
        .map_err(|source| StoreError::SetPermissions { path: path.to_path_buf(), source })
}

/// Renames `from` to `to` (atomic within one file system).
pub fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(|source| StoreError::Rename {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    })
}

/// Replaces `dir/name` with `bytes` atomically: a temporary in the same directory, fsync,
/// rename over the old file, fsync the directory. Readers see the old or the new file.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    ensure_dir(dir)?;
    let tmp = dir.join(unique_name(super::hash::TMP_PREFIX, name));
    let target = dir.join(name);
    let result = write_synced(&tmp, bytes, 0o644).and_then(|()| rename(&tmp, &target));
    if result.is_err() {
        // Best effort: the error that matters is the one already in `result`.
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir)
}

/// The names in a directory, sorted; a missing directory has none.
pub fn list_names(dir: &Path) -> Result<Vec<String>> {
    let read_err = |source| StoreError::ReadDir { path: dir.to_path_buf(), source };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_err(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(read_err)?;
        // Names that are not UTF-8 were not written by us; skipping them is safe.
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Total size in bytes of the regular files under `path`; 0 if it does not exist.
pub fn tree_size(path: &Path) -> Result<u64> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(source) => return Err(StoreError::ReadDir { path: path.to_path_buf(), source }),
    };
    if !meta.is_dir() {
        return Ok(if meta.is_file() { meta.len() } else { 0 });
    }
    let mut total = 0;
    for name in list_names(path)? {
        total += tree_size(&path.join(name))?;
    }
    Ok(total)
}

/// Deletes a tree whose directories may be read-only (store paths are 0555). Files need no
/// write permission to be unlinked, only their parent directory does. Missing is fine.
pub fn remove_tree(path: &Path) -> Result<()> {
    let remove_err = |source| StoreError::Remove { path: path.to_path_buf(), source };
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(remove_err(e)),
    };
    if !meta.is_dir() {
        return match fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(remove_err(e)),
            _ => Ok(()),
        };
    }
    set_mode(path, 0o755)?;
    for name in list_names(path)? {
        remove_tree(&path.join(name))?;
    }
    match fs::remove_dir(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(remove_err(e)),
        _ => Ok(()),
    }
}

/// Moves `path` aside to a `.trash-` name in the same directory (atomic), makes that
/// durable, then deletes it. A crash leaves either the whole path or a `.trash-` leftover.
pub fn remove_atomically(path: &Path) -> Result<()> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return remove_tree(path);
    };
    let trash: PathBuf = dir.join(unique_name(super::hash::TRASH_PREFIX, &name.to_string_lossy()));
    rename(path, &trash)?;
    sync_dir(dir)?;
    remove_tree(&trash)
}
