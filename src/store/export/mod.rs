//! `obsbuild export`: a build as plain files in a folder of the user's choice, `DIR`.
//!
//! Export deletes only what it wrote, and only inside `DIR`. What it wrote is the marker
//! `DIR/.obsbuild-export` ([`marker`]), parsed strictly because folders with a marker are
//! committed and a hostile line must never name a file to delete. Every path under `DIR`
//! is reached through real folders opened by descriptor, never through a symbolic link
//! ([`beneath`]); `DIR` itself is resolved once, following links the user chose.
//!
//! Two exports into one folder are serialised by an `flock` on `DIR`'s own descriptor,
//! exclusive for `export`, shared for `export --check`, so a check never reads a
//! half-written folder. A lock on the folder rather than a lock file: a file inside `DIR`
//! would be one more thing to keep out of the export, out of `--check`'s comparison and out
//! of git (this repository commits an export folder), and beside `DIR` it may not be
//! writable. The kernel drops the lock when its holder dies. (Over NFS `flock` is emulated
//! with POSIX locks, which need a descriptor open for writing: there an exclusive lock on a
//! folder fails with an error rather than waiting.)
//!
//! The order of a write makes the marker and the files agree after a kill at any point:
//!
//! 1. leftover temporaries of killed exports are removed from every folder the old marker
//!    and the new build use;
//! 2. unless the old marker already lists every new file, an *unfinished* marker listing
//!    the old and the new files replaces it, so that whatever happens next, the marker
//!    names every file an export may have put in `DIR`;
//! 3. each new file is written to a temporary beside it, fsynced and renamed over the
//!    target (unchanged files are left alone, so tools watching them see no change);
//! 4. the apps file, if `--apps-out` sends it elsewhere;
//! 5. files of the old marker that the build lacks are removed, then folders left empty;
//! 6. the folders are fsynced, and the marker listing exactly the new files is written last.
//!
//! The next export, finding an unfinished marker, repairs the folder by the same steps.

mod apps;
mod beneath;
mod error;
mod marker;
mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use error::ExportError;
pub use marker::MARKER;

use crate::build::{Build, layout};
use apps::AppsFile;
use beneath::{Entry, Folder};
use marker::Marker;
use tree::{folders, join, make_folders, read_at, remove_stale, split, walk};

type Result<T, E = ExportError> = std::result::Result<T, E>;

/// Files by path: relative to `DIR`, or the `--apps-out` path as given.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The largest file export reads back: far more than any rendered file.
const MAX_FILE: u64 = 256 << 20;

/// What one export writes.
#[derive(Clone, Debug)]
pub struct Export {
    stack: String,
    /// Files under `DIR`, by relative path.
    files: Files,
    /// The apps' compose file when `--apps-out` sends it outside `DIR`.
    apps: Option<(PathBuf, Vec<u8>)>,
}

/// What a write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportReport {
    /// Files the export holds (the apps file included).
    pub files: usize,
    /// Files that were written because they were missing or different.
    pub written: usize,
    /// Files of an earlier export removed because the build no longer has them.
    pub removed: usize,
}

/// A folder next to what an export would make it: the same when `have == want`.
#[derive(Clone, Debug)]
pub struct ExportComparison {
    /// What is there now: the build's files, files an earlier export wrote, the marker,
    /// temporaries a killed export left.
    pub have: Files,
    /// What an export would leave, marker included.
    pub want: Files,
    /// The marker says the last export did not finish.
    pub unfinished: bool,
}

impl Export {
    /// The export of `build`: every file but activation data (`.obsbuild/`, for `switch`),
    /// with the apps' compose file at `apps_out` instead of under `DIR` if given.
    pub fn of(build: &Build, apps_out: Option<&Path>) -> Result<Export> {
        let mut files = Files::new();
        let mut apps = None;
        for (path, bytes) in &build.files {
            if path.starts_with(".obsbuild/") {
                continue;
            }
            if let (Some(to), layout::APPS_COMPOSE) = (apps_out, path.as_str()) {
                apps = Some((to.to_path_buf(), bytes.clone()));
                continue;
            }
            if let Some(reason) = marker::path_problem(path) {
                return Err(ExportError::BadPath { path: path.clone(), reason });
            }
            files.insert(path.clone(), bytes.clone());
        }
        Ok(Export { stack: build.stack.clone(), files, apps })
    }

    /// How many files the export holds.
    pub fn len(&self) -> usize {
        self.files.len() + usize::from(self.apps.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn marker(&self, finished: bool, also: Option<&BTreeSet<String>>) -> Marker {
        let mut files: BTreeSet<String> = self.files.keys().cloned().collect();
        files.extend(also.into_iter().flatten().cloned());
        Marker { stack: self.stack.clone(), finished, files }
    }

    /// Makes `out` hold exactly this export (see the module header for the order).
    pub fn write(&self, out: &Path) -> Result<ExportReport> {
        fs::create_dir_all(out).map_err(|e| match e.kind() {
            io::ErrorKind::NotADirectory | io::ErrorKind::AlreadyExists => {
                ExportError::OutNotAFolder { path: out.to_path_buf() }
            }
            _ => ExportError::Io { doing: "create the folder", path: out.to_path_buf(), source: e },
        })?;
        let (root, canonical) = open_out(out)?.ok_or_else(|| ExportError::Io {
            doing: "open",
            path: out.to_path_buf(),
            source: io::ErrorKind::NotFound.into(),
        })?;
        root.lock(true)?;
        let old = read_marker(&root)?;
        if old.is_none() && occupied(&root)? {
            return Err(ExportError::NotExported { out: out.to_path_buf(), marker: root.path_of(MARKER) });
        }
        let apps = match &self.apps {
            Some((path, bytes)) => AppsFile::open(path, true, |p| self.writes(&canonical, p))?.map(|a| (a, bytes)),
            None => None,
        };
        let listed = old.as_ref().map(|(m, _)| m.files.clone()).unwrap_or_default();

        // 1. Temporaries left by killed exports.
        for dir in folders(listed.iter().chain(self.files.keys())) {
            if let Some(folder) = walk(&root, dir)? {
                folder.remove_dead_temps()?;
            }
        }
        // 2. The marker names every file an export may have written before any is.
        if !self.files.keys().all(|f| listed.contains(f)) {
            write_marker(&root, &self.marker(false, Some(&listed)), None)?;
        }
        // 3. The new files.
        let mut touched = BTreeSet::new();
        let mut written = 0;
        for (rel, bytes) in &self.files {
            if self.write_file(&root, rel, bytes, &listed, &mut touched)? {
                written += 1;
            }
        }
        // 4. The apps file.
        if let Some((apps, bytes)) = apps
            && apps.write(bytes)?
        {
            written += 1;
        }
        // 5. What the build no longer has.
        let mut removed = 0;
        for stale in listed.iter().filter(|f| !self.files.contains_key(*f)) {
            removed += remove_stale(&root, stale, &mut touched)?;
        }
        // 6. Durable, then the marker.
        for dir in &touched {
            if let Some(folder) = walk(&root, dir)? {
                folder.sync()?;
            }
        }
        write_marker(&root, &self.marker(true, None), old.as_ref().map(|(_, bytes)| bytes.as_slice()))?;
        Ok(ExportReport { files: self.len(), written, removed })
    }

    /// Whether `path`, resolved, is a file this export writes under the canonical `out`.
    fn writes(&self, canonical_out: &Path, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(canonical_out) else { return false };
        let rel = rel.to_string_lossy();
        rel == MARKER || self.files.contains_key(rel.as_ref())
    }

    /// Writes one file under `root` unless it already holds `bytes`; true if written.
    fn write_file(&self, root: &Folder, rel: &str, bytes: &[u8], listed: &BTreeSet<String>, touched: &mut BTreeSet<String>) -> Result<bool> {
        let (dir_rel, name) = split(rel);
        let dir = make_folders(root, dir_rel, listed, touched)?;
        let existing = match dir.open_file(name) {
            // An earlier export's folder where the build now has a file: empty it of what
            // that export wrote, and it goes.
            Err(ExportError::NotAFile { kind, .. }) if kind == Entry::Folder.kind() => {
                let under = format!("{rel}/");
                for stale in listed.iter().filter(|f| f.starts_with(&under)) {
                    remove_stale(root, stale, touched)?;
                }
                dir.remove_empty(name);
                dir.open_file(name)?
            }
            other => other?,
        };
        let written = dir.update(name, existing, bytes)?;
        if written {
            touched.insert(dir_rel.to_owned());
        }
        Ok(written)
    }

    /// Compares `out` with this export, writing nothing.
    pub fn check(&self, out: &Path) -> Result<ExportComparison> {
        let mut want = self.files.clone();
        want.insert(MARKER.to_owned(), self.marker(true, None).to_text().into_bytes());
        let mut have = Files::new();
        let mut unfinished = false;
        let root = open_out(out)?;
        if let Some((root, _)) = &root {
            root.lock(false)?;
            let old = read_marker(root)?;
            let listed = old.as_ref().map(|(m, _)| m.files.clone()).unwrap_or_default();
            if let Some((m, bytes)) = old {
                unfinished = !m.finished;
                have.insert(MARKER.to_owned(), bytes);
            }
            let reads: BTreeSet<&String> = self.files.keys().chain(listed.iter()).collect();
            for rel in reads {
                if let Some(bytes) = read_at(root, rel)? {
                    have.insert(rel.clone(), bytes);
                }
            }
            for dir in folders(listed.iter().chain(self.files.keys())) {
                if let Some(folder) = walk(root, dir)? {
                    for name in folder.temporaries()? {
                        have.insert(join(dir, &name), Vec::new());
                    }
                }
            }
        }
        if let Some((path, bytes)) = &self.apps {
            let mut key = path.display().to_string();
            if want.contains_key(&key) {
                key = fs::canonicalize(path).unwrap_or_else(|_| path.clone()).display().to_string();
            }
            let apps = AppsFile::open(path, false, |_| false)?;
            if let Some(existing) = apps.map(|a| a.read()).transpose()?.flatten() {
                have.insert(key.clone(), existing);
            }
            want.insert(key, bytes.clone());
        }
        Ok(ExportComparison { have, want, unfinished })
    }
}

/// `out` opened and its canonical path; `None` if it does not exist.
fn open_out(out: &Path) -> Result<Option<(Folder, PathBuf)>> {
    let canonical = match fs::canonicalize(out) {
        Ok(path) => path,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ExportError::Io { doing: "resolve", path: out.to_path_buf(), source }),
    };
    match Folder::open_given(&canonical, out) {
        Ok(folder) => Ok(Some((folder, canonical))),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Err(ExportError::OutNotAFolder { path: out.to_path_buf() }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ExportError::Io { doing: "open", path: out.to_path_buf(), source }),
    }
}

/// The marker and its bytes; `None` if there is none.
fn read_marker(root: &Folder) -> Result<Option<(Marker, Vec<u8>)>> {
    let path = root.path_of(MARKER);
    let file = match root.open_file(MARKER) {
        Ok(Some(file)) => file,
        Ok(None) => return Ok(None),
        Err(ExportError::NotAFile { kind, .. }) => {
            return Err(ExportError::Marker { path, line: None, reason: format!("is {kind}, not a regular file") });
        }
        Err(e) => return Err(e),
    };
    let bytes = match beneath::read_bounded(file, marker::MAX_BYTES, &path) {
        Err(ExportError::TooLarge { limit, .. }) => {
            let reason = format!("is larger than {} KiB, far more than export writes", limit >> 10);
            return Err(ExportError::Marker { path, line: None, reason });
        }
        other => other?,
    };
    match Marker::parse(&bytes) {
        Ok(m) => Ok(Some((m, bytes))),
        Err((line, reason)) => Err(ExportError::Marker { path, line: Some(line), reason }),
    }
}

/// Writes the marker unless it already holds these bytes, and makes it durable.
fn write_marker(root: &Folder, marker: &Marker, old: Option<&[u8]>) -> Result<()> {
    let text = marker.to_text();
    if old == Some(text.as_bytes()) {
        return Ok(());
    }
    root.replace(MARKER, text.as_bytes(), None)?;
    root.sync()
}

/// Whether a folder without a marker holds anything but temporaries of a killed export.
fn occupied(root: &Folder) -> Result<bool> {
    Ok(root.names()?.iter().any(|n| !n.starts_with(marker::TMP_PREFIX.as_bytes())))
}

#[cfg(test)]
mod tests;
