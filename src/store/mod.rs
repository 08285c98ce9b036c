//! Stage 4: the content-addressed store, the only part of obsbuild that writes to disk.
//!
//! ```text
//! <state>/store.lock                       flock: exclusive for writers, shared for verify
//! <state>/store/<hash32>-<stack>/...       one immutable build (files 0444, dirs 0555)
//! <state>/store/<hash32>-<stack>/.manifest.json
//! <state>/store/.tmp-* , .trash-*          leftovers of interrupted writes and deletes
//! <state>/history/<stack>.json             numbered builds of each stack
//! <state>/roots/<name>                     GC roots: a file naming a store path
//! ```
//!
//! A store path appears complete or not at all: it is written under a `.tmp-` name, synced
//! bottom-up and renamed into place. Deletion renames to `.trash-` first. Modules: `hash`
//! (names and manifest), `write` (add), `verify`, `history`, `gc`, `lock`, `fsutil`;
//! `profile` and `journal` for switches, `hosts` for the machine's hosts file, `export` for
//! builds written out as plain files into a folder of the user's.

mod error;
mod export;
mod fsutil;
mod gc;
mod hash;
mod history;
mod hosts;
mod journal;
mod lock;
mod profile;
mod secrets;
mod verify;
mod write;

#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use error::StoreError;
pub use export::{Export, ExportComparison, ExportError, ExportReport};
pub use gc::GcReport;
pub use hash::{FORMAT_VERSION, FileEntry, MANIFEST, Manifest};
pub use history::{GitInfo, Record, RecordMeta};
pub use hosts::{HostsFolderLock, HostsLock, lock_hosts_folder, read_hosts_file, write_hosts_file};
pub use journal::{Entry, Journal, StepKind, StepRecord};
pub use profile::{Generation, Profile, SwitchLock};
pub use secrets::Secrets;
pub use verify::{Damaged, VerifyReport};
pub use write::Added;

use crate::build::Build;
use error::Result;

/// A store rooted at a state directory. Opening touches nothing; directories are created
/// by the first write.
#[derive(Clone, Debug)]
pub struct Store {
    state: PathBuf,
}

/// One build in the store.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StorePath {
    /// `<32 hex>-<stack>`.
    pub name: String,
    /// `<state>/store/<name>`.
    pub dir: PathBuf,
}

impl StorePath {
    /// The stack name at the end of the store path name.
    pub fn stack(&self) -> &str {
        hash::parse_path_name(&self.name).map_or("", |(_, stack)| stack)
    }
}

impl Store {
    /// Opens the store in `state_dir` (which need not exist yet).
    pub fn open(state_dir: &Path) -> Result<Store, StoreError> {
        match fs::metadata(state_dir) {
            Ok(meta) if !meta.is_dir() => {
                Err(StoreError::NotADirectory { path: state_dir.to_path_buf() })
            }
            _ => Ok(Store { state: state_dir.to_path_buf() }),
        }
    }

    /// The state directory this store lives in.
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    /// `<state>/store`, the parent of every store path.
    pub fn store_dir(&self) -> PathBuf {
        self.state.join("store")
    }

    /// The content hash of a build: 64 hex chars of blake3 over the framed files.
    ///
    /// Framing (integers little-endian `u64` unless noted): `"obsbuild-store\0"`,
    /// [`FORMAT_VERSION`] as `u32`, the number of files, then for each file in byte order of
    /// its path: path length, path bytes, content length, content bytes. The stack name,
    /// times, permissions and the machine are not hashed.
    pub fn hash(build: &Build) -> String {
        hash::hash_build(build)
    }

    /// The store path name a build gets: `<first 32 hex of the hash>-<stack>`.
    pub fn path_name(build: &Build) -> String {
        hash::path_name(&Self::hash(build), &build.stack)
    }

    fn store_path(&self, name: &str) -> StorePath {
        StorePath { name: name.to_string(), dir: self.store_dir().join(name) }
    }

    /// Every store path, sorted by name; leftovers (`.tmp-`, `.trash-`) are not included.
    pub fn list(&self) -> Result<Vec<StorePath>, StoreError> {
        let store = self.store_dir();
        let names = fsutil::list_names(&store)?;
        Ok(names
            .into_iter()
            .filter(|name| hash::parse_path_name(name).is_some() && store.join(name).is_dir())
            .map(|name| self.store_path(&name))
            .collect())
    }

    /// Reads a store path back into a build, checking every file against the manifest and
    /// the manifest against the folder's name: a damaged path is an error, never a build.
    pub fn read(&self, path: &StorePath) -> Result<Build, StoreError> {
        let manifest = read_manifest(&path.dir)?;
        let corrupt = |detail: String| StoreError::Corrupt { path: path.dir.clone(), detail };
        match hash::parse_path_name(&path.name) {
            Some((name_hash, stack)) if manifest.hash.starts_with(name_hash) && manifest.stack == stack => {}
            _ => return Err(corrupt("its manifest does not match the folder's name".to_owned())),
        }
        let mut build = Build::new(manifest.stack.clone(), Default::default());
        for (rel, entry) in &manifest.files {
            let file = path.dir.join(rel);
            let bytes = crate::files::read(&file)
                .map_err(|source| StoreError::ReadFile { path: file.clone(), source })?;
            if bytes.len() as u64 != entry.size || hash::hash_bytes(&bytes) != entry.blake3 {
                return Err(corrupt(format!("`{rel}` does not match its manifest entry")));
            }
            build.files.insert(rel.clone(), bytes);
        }
        if Self::hash(&build) != manifest.hash {
            return Err(corrupt("its files do not hash to the manifest's hash".to_owned()));
        }
        Ok(build)
    }

    /// Finds a store path from user input: `<name>`, `store/<name>`, or a file system path
    /// into the store directory (a file inside a store path resolves to that path).
    pub fn resolve(&self, text: &str) -> Result<StorePath, StoreError> {
        let not_found = || StoreError::NotFound {
            what: format!("store path `{text}`"),
            store: self.store_dir(),
        };
        let trimmed = text.trim_end_matches('/');
        let name = if hash::parse_path_name(trimmed).is_some() {
            trimmed.to_string()
        } else if let Some(name) =
            trimmed.strip_prefix("store/").filter(|rest| hash::parse_path_name(rest).is_some())
        {
            name.to_string()
        } else {
            self.name_from_fs_path(Path::new(text)).ok_or_else(not_found)?
        };
        let path = self.store_path(&name);
        match fs::metadata(&path.dir) {
            Ok(meta) if meta.is_dir() => Ok(path),
            _ => Err(not_found()),
        }
    }

    /// The first component under the store directory of an existing path, if it is a name.
    fn name_from_fs_path(&self, path: &Path) -> Option<String> {
        let store = fs::canonicalize(self.store_dir()).ok()?;
        let full = fs::canonicalize(path).ok()?;
        let rest = full.strip_prefix(&store).ok()?;
        match rest.components().next()? {
            Component::Normal(name) => {
                let name = name.to_str()?;
                hash::parse_path_name(name).map(|_| name.to_string())
            }
            _ => None,
        }
    }
}

/// Reads and parses `<dir>/.manifest.json`.
pub(crate) fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let bytes = crate::files::read(&path)
        .map_err(|source| StoreError::ReadManifest { path: path.clone(), source })?;
    serde_json::from_slice(&bytes).map_err(|source| StoreError::ParseManifest { path, source })
}

/// Whether `path` exists; errors other than "not found" count as existing so that callers
/// fail later with the real error rather than overwrite something.
pub(crate) fn exists(path: &Path) -> bool {
    match fs::symlink_metadata(path) {
        Ok(_) => true,
        Err(e) => e.kind() != io::ErrorKind::NotFound,
    }
}
