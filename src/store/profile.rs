//! A stack's profile: its numbered generations (activated builds), the one that is
//! current, and the lock that lets one switch at a time run.
//!
//! ```text
//! <state>/profiles/<stack>/generations.json    numbered records
//! <state>/profiles/<stack>/<stack>-<n>-link     symlink to ../../store/<path>
//! <state>/profiles/<stack>/current              symlink to <stack>-<n>-link, flipped by rename
//! <state>/profiles/<stack>/switch.lock          flock held by a running switch
//! <state>/roots/generation-<stack>-<n>          keeps the path from GC
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use super::fsutil;
use super::history::GitInfo;
use super::{Store, StorePath};

/// An activated build of a stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    pub number: u64,
    /// Store path name.
    pub path: String,
    /// When it was first activated, RFC 3339 UTC.
    pub time: String,
    pub git: Option<GitInfo>,
}

#[derive(Default, Serialize, Deserialize)]
struct GenerationsFile {
    generations: Vec<Generation>,
}

/// The profile of one stack.
pub struct Profile<'a> {
    store: &'a Store,
    stack: String,
    dir: PathBuf,
}

/// The flock of a running switch; the kernel drops it if the holder dies.
pub struct SwitchLock {
    _file: File,
}

impl Store {
    pub fn profile(&self, stack: &str) -> Profile<'_> {
        Profile { store: self, stack: stack.to_owned(), dir: self.state_dir().join("profiles").join(stack) }
    }
}

fn link_name(stack: &str, number: u64) -> String {
    format!("{stack}-{number}-link")
}

impl Profile<'_> {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn generations(&self) -> Result<Vec<Generation>> {
        let path = self.dir.join("generations.json");
        let text = match crate::files::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(StoreError::ReadHistory { path, source }),
        };
        let file: GenerationsFile =
            serde_json::from_str(&text).map_err(|source| StoreError::ParseHistory { path, source })?;
        Ok(file.generations)
    }

    /// The generation `current` points at.
    pub fn current(&self) -> Result<Option<Generation>> {
        let Ok(target) = std::fs::read_link(self.dir.join("current")) else { return Ok(None) };
        let name = target.to_string_lossy().into_owned();
        let number = name
            .strip_prefix(&format!("{}-", self.stack))
            .and_then(|r| r.strip_suffix("-link"))
            .and_then(|n| n.parse::<u64>().ok());
        Ok(number.and_then(|n| self.generations().ok()?.into_iter().find(|g| g.number == n)))
    }

    /// Records `path` as a new generation (not yet current) and roots it; a path equal
    /// to the newest generation's is that generation again.
    pub fn add(&self, path: &StorePath, time: String, git: Option<GitInfo>) -> Result<Generation> {
        let mut all = self.generations()?;
        if let Some(last) = all.last().filter(|g| g.path == path.name) {
            return Ok(last.clone());
        }
        let number = all.last().map(|g| g.number + 1).unwrap_or(1);
        fsutil::ensure_dir(&self.dir)?;
        self.store.add_root(&format!("generation-{}-{number}", self.stack), path)?;
        let link = self.dir.join(link_name(&self.stack, number));
        let target = Path::new("../../store").join(&path.name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).map_err(|source| StoreError::WriteFile { path: link.clone(), source })?;
        let generation = Generation { number, path: path.name.clone(), time, git };
        all.push(generation.clone());
        let bytes = serde_json::to_vec_pretty(&GenerationsFile { generations: all })
            .map_err(|source| StoreError::Serialize { path: self.dir.join("generations.json"), source })?;
        fsutil::write_atomic(&self.dir, "generations.json", &bytes)?;
        Ok(generation)
    }

    /// Makes generation `number` current: a new symlink renamed over `current`, as Nix does,
    /// then the folder synced. Readers see the old or the new generation, never neither.
    pub fn activate(&self, number: u64) -> Result<()> {
        fsutil::ensure_dir(&self.dir)?;
        let tmp = self.dir.join(fsutil::unique_name(".tmp-", "current"));
        std::os::unix::fs::symlink(link_name(&self.stack, number), &tmp)
            .map_err(|source| StoreError::WriteFile { path: tmp.clone(), source })?;
        fsutil::rename(&tmp, &self.dir.join("current"))?;
        fsutil::sync_dir(&self.dir)
    }

    /// Forgets which generation is current (after `down`); generations stay.
    pub fn deactivate(&self) -> Result<()> {
        let current = self.dir.join("current");
        match std::fs::remove_file(&current) {
            Ok(()) => fsutil::sync_dir(&self.dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Remove { path: current, source }),
        }
    }

    /// Takes the switch lock, waiting if `wait`; `Ok(None)` when it is held and `!wait`.
    pub fn lock(&self, wait: bool) -> Result<Option<SwitchLock>> {
        fsutil::ensure_dir(&self.dir)?;
        let path = self.dir.join("switch.lock");
        let lock_err = |source| StoreError::Lock { path: path.clone(), source };
        let file = crate::files::open_with(&path, std::fs::OpenOptions::new().create(true).truncate(false).write(true)).map_err(lock_err)?;
        if wait {
            file.lock().map_err(lock_err)?;
            return Ok(Some(SwitchLock { _file: file }));
        }
        match file.try_lock() {
            Ok(()) => Ok(Some(SwitchLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(source)) => Err(lock_err(source)),
        }
    }

    /// Whether another process holds the switch lock now.
    pub fn is_locked(&self) -> bool {
        matches!(self.lock(false), Ok(None))
    }

    /// The folder containers mount as their config folder.
    pub fn live_dir(&self) -> PathBuf {
        self.store.state_dir().join("live").join(&self.stack)
    }

    /// Puts the `configs/` files of `build` into the live folder: each file replaced by
    /// an atomic rename (no container reads half a file), files the build does not have
    /// removed. Services reload only once every file is in place.
    pub fn write_live(&self, build: &crate::build::Build) -> Result<()> {
        let live = self.live_dir();
        fsutil::ensure_dir(&live)?;
        let prefix = format!("{}/", crate::build::layout::CONFIG_DIR);
        let wanted: std::collections::BTreeSet<String> =
            build.files.keys().filter_map(|p| p.strip_prefix(&prefix).map(str::to_owned)).collect();
        for rel in &wanted {
            let bytes = &build.files[&format!("{prefix}{rel}")];
            let target = live.join(rel);
            if crate::files::read(&target).is_ok_and(|b| b == *bytes) {
                continue;
            }
            let parent = target.parent().unwrap_or(&live).to_path_buf();
            // Readable by the unprivileged users images run as (Prometheus: nobody).
            fsutil::ensure_dir(&parent)?;
            let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            fsutil::write_atomic(&parent, &name, bytes)?;
        }
        for rel in existing_files(&live, &live)? {
            if !wanted.contains(&rel) {
                let path = live.join(&rel);
                std::fs::remove_file(&path).map_err(|source| StoreError::Remove { path: path.clone(), source })?;
            }
        }
        fsutil::sync_dir(&live)
    }

    /// Deletes the live folder (after `down`).
    pub fn remove_live(&self) -> Result<()> {
        let live = self.live_dir();
        match std::fs::remove_dir_all(&live) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Remove { path: live, source }),
        }
    }
}

fn existing_files(root: &Path, dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(source) => return Err(StoreError::ReadDir { path: dir.to_path_buf(), source }),
    };
    for entry in entries {
        let entry = entry.map_err(|source| StoreError::ReadDir { path: dir.to_path_buf(), source })?;
        let path = entry.path();
        if path.is_dir() {
            out.extend(existing_files(root, &path)?);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel = rel.to_string_lossy().into_owned();
            // Temporaries of an interrupted write are not files of the live config.
            if !rel.rsplit('/').next().unwrap_or("").starts_with(".tmp-") {
                out.push(rel);
            } else {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    Ok(out)
}
