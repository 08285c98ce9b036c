//! `verify`: re-hashes every store path and says what is wrong with each damaged one.
//!
//! A path is accepted only if its manifest parses, every file matches its manifest entry,
//! no file is missing or extra, everything is read-only, and the hash recomputed from the
//! files on disk matches both the manifest and the directory name.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde::Serialize;

use super::error::{Result, StoreError};
use super::hash::{self, FORMAT_VERSION, MANIFEST, TMP_PREFIX, TRASH_PREFIX};
use super::lock::StoreLock;
use super::{Store, fsutil, read_manifest};

/// The outcome of [`Store::verify`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Store paths found intact, by name.
    pub ok: Vec<String>,
    /// Store paths (or entries that look like one) with problems.
    pub damaged: Vec<Damaged>,
    /// `.tmp-`/`.trash-` leftovers of interrupted writes; harmless, removed by the next
    /// write or `gc`.
    pub temporaries: Vec<String>,
}

impl VerifyReport {
    /// Whether no store path is damaged (leftovers do not count).
    pub fn is_ok(&self) -> bool {
        self.damaged.is_empty()
    }
}

/// One damaged entry of `store/` and everything wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Damaged {
    pub name: String,
    /// Human-readable problems, one a line, e.g. "`a.yaml`: content does not match".
    pub problems: Vec<String>,
}

impl fmt::Display for Damaged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.problems.join("; "))
    }
}

impl Store {
    /// Checks every store path; see the module docs for what is checked. Takes the shared
    /// lock so that no path appears or disappears half-way.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let store = self.store_dir();
        let mut report = VerifyReport::default();
        if !store.is_dir() {
            return Ok(report);
        }
        let _lock = StoreLock::shared(&self.state)?;
        for name in fsutil::list_names(&store)? {
            if name.starts_with(TMP_PREFIX) || name.starts_with(TRASH_PREFIX) {
                report.temporaries.push(name);
                continue;
            }
            let problems = check_path(&store.join(&name), &name)?;
            if problems.is_empty() {
                report.ok.push(name);
            } else {
                report.damaged.push(Damaged { name, problems });
            }
        }
        Ok(report)
    }
}

/// Everything wrong with one entry of `store/`; empty when it is intact.
fn check_path(dir: &Path, name: &str) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let Some((name_hash, name_stack)) = hash::parse_path_name(name) else {
        problems.push("not a store path name (`<32 hex>-<stack>`)".to_string());
        return Ok(problems);
    };
    let meta = fs::symlink_metadata(dir)
        .map_err(|source| StoreError::ReadDir { path: dir.to_path_buf(), source })?;
    if !meta.is_dir() {
        problems.push("not a directory".to_string());
        return Ok(problems);
    }

    let mut on_disk = BTreeMap::new();
    walk(dir, "", &mut on_disk, &mut problems);
    on_disk.remove(MANIFEST);

    let manifest = match read_manifest(dir) {
        Ok(m) => Some(m),
        Err(StoreError::ReadManifest { source, .. }) => {
            problems.push(format!("manifest `{MANIFEST}` cannot be read ({source})"));
            None
        }
        Err(StoreError::ParseManifest { source, .. }) => {
            problems.push(format!("manifest `{MANIFEST}` is invalid ({source})"));
            None
        }
        Err(e) => return Err(e),
    };
    if let Some(m) = &manifest {
        check_against_manifest(m, &on_disk, name_stack, &mut problems);
    }

    let actual =
        hash::hash_files(on_disk.iter().map(|(p, c)| (p.as_str(), c.as_slice())), on_disk.len());
    if !actual.starts_with(name_hash) {
        let actual_prefix = &actual[..hash::NAME_HASH_LEN.min(actual.len())];
        problems
            .push(format!("the files hash to `{actual_prefix}`, but the name says `{name_hash}`"));
    }
    if let Some(m) = manifest.filter(|m| m.hash != actual && actual.starts_with(name_hash)) {
        problems.push(format!("the manifest's hash `{}` does not match the files", m.hash));
    }
    Ok(problems)
}

fn check_against_manifest(
    m: &hash::Manifest,
    on_disk: &BTreeMap<String, Vec<u8>>,
    name_stack: &str,
    problems: &mut Vec<String>,
) {
    if m.format != FORMAT_VERSION {
        problems.push(format!("manifest format {} (expected {FORMAT_VERSION})", m.format));
    }
    if m.stack != name_stack {
        problems.push(format!("manifest names stack `{}`, the directory `{name_stack}`", m.stack));
    }
    for (rel, entry) in &m.files {
        match on_disk.get(rel) {
            None => problems.push(format!("`{rel}` is missing")),
            Some(bytes) if bytes.len() as u64 != entry.size => problems.push(format!(
                "`{rel}` has {} bytes, the manifest says {}",
                bytes.len(),
                entry.size
            )),
            Some(bytes) if hash::hash_bytes(bytes) != entry.blake3 => {
                problems.push(format!("`{rel}` content does not match the manifest"));
            }
            Some(_) => {}
        }
    }
    for rel in on_disk.keys().filter(|rel| !m.files.contains_key(*rel)) {
        problems.push(format!("`{rel}` is not in the manifest (extra file)"));
    }
}

/// Reads every regular file under `dir` into `files` by relative path, and notes anything
/// that a store path never contains: writable entries, symlinks, empty directories.
/// Unreadable entries are problems of this path, not errors of the whole verify.
fn walk(
    dir: &Path,
    prefix: &str,
    files: &mut BTreeMap<String, Vec<u8>>,
    problems: &mut Vec<String>,
) {
    let shown = if prefix.is_empty() { "." } else { prefix.trim_end_matches('/') };
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.permissions().mode() & 0o222 != 0 => problems.push(format!(
            "directory `{shown}` is writable (mode {:o})",
            meta.permissions().mode() & 0o7777
        )),
        Ok(_) => {}
        Err(e) => problems.push(format!("directory `{shown}` cannot be read ({e})")),
    }
    let names = match fsutil::list_names(dir) {
        Ok(names) => names,
        Err(e) => {
            let cause = std::error::Error::source(&e).map(ToString::to_string).unwrap_or_default();
            problems.push(format!("directory `{shown}` cannot be listed ({cause})"));
            return;
        }
    };
    if names.is_empty() && !prefix.is_empty() {
        problems.push(format!("directory `{shown}` is empty (extra directory)"));
    }
    for name in names {
        let path = dir.join(&name);
        let rel = format!("{prefix}{name}");
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) => {
                problems.push(format!("`{rel}` cannot be read ({e})"));
                continue;
            }
        };
        if meta.is_dir() {
            walk(&path, &format!("{rel}/"), files, problems);
        } else if meta.is_file() {
            let mode = meta.permissions().mode();
            if mode & 0o222 != 0 {
                problems.push(format!("`{rel}` is writable (mode {:o})", mode & 0o7777));
            }
            match crate::files::read(&path) {
                Ok(bytes) => {
                    files.insert(rel, bytes);
                }
                Err(e) => problems.push(format!("`{rel}` cannot be read ({e})")),
            }
        } else {
            problems.push(format!("`{rel}` is not a regular file"));
        }
    }
}
