//! The apps' compose file when `--apps-out` sends it outside the export folder.

use std::fs;
use std::io;
use std::path::Path;

use super::beneath::{self, Entry, Folder};
use super::{ExportError, MAX_FILE, Result};

/// The apps file named by `--apps-out`: its folder (the user's path, links followed) and
/// its name, which must be a regular file or nothing.
pub struct AppsFile {
    dir: Folder,
    name: String,
}

impl AppsFile {
    /// `create`: make its folder if missing (for a write); without it a missing folder
    /// gives `None`. `inside_out` says whether a resolved path is one export writes in `DIR`.
    pub fn open(path: &Path, create: bool, inside_out: impl Fn(&Path) -> bool) -> Result<Option<AppsFile>> {
        let refuse = |reason: String| ExportError::AppsOut { path: path.to_path_buf(), reason };
        let Some(name) = path.file_name().filter(|_| !path.as_os_str().as_encoded_bytes().ends_with(b"/")) else {
            return Err(refuse("names no file; give the path of the apps' compose file".to_owned()));
        };
        let name = beneath::utf8_name(name).ok_or_else(|| refuse("has a file name that is not UTF-8".to_owned()))?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if create {
            fs::create_dir_all(parent).map_err(|source| ExportError::Io { doing: "create the folder", path: parent.to_path_buf(), source })?;
        }
        let dir = match Folder::open_given(parent, parent) {
            Ok(dir) => dir,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !create => return Ok(None),
            Err(source) => return Err(ExportError::Io { doing: "open the folder", path: parent.to_path_buf(), source }),
        };
        let resolved = fs::canonicalize(parent).map(|p| p.join(name));
        if resolved.is_ok_and(|r| inside_out(&r)) {
            return Err(refuse("is a file export writes inside --out; give a path outside it".to_owned()));
        }
        match dir.entry(name)? {
            Entry::Absent | Entry::File => Ok(Some(AppsFile { dir, name: name.to_owned() })),
            Entry::Link => Err(refuse(
                "is a symbolic link; export writes the apps file only as a regular file: give the path of the file itself, or remove the link".to_owned(),
            )),
            other => Err(refuse(format!("is {}, not a regular file; remove it, or give another path", other.kind()))),
        }
    }

    pub fn read(&self) -> Result<Option<Vec<u8>>> {
        self.dir.read_file(&self.name, MAX_FILE).map_err(|e| self.worded(e))
    }

    /// Writes it unless it already holds `bytes`; true if written.
    pub fn write(&self, bytes: &[u8]) -> Result<bool> {
        self.dir.remove_dead_temps()?;
        let existing = self.dir.open_file(&self.name).map_err(|e| self.worded(e))?;
        let written = self.dir.update(&self.name, existing, bytes)?;
        if written {
            self.dir.sync()?;
        }
        Ok(written)
    }

    /// A link or special file swapped in since [`AppsFile::open`] looked, worded alike.
    fn worded(&self, e: ExportError) -> ExportError {
        let path = self.dir.path_of(&self.name);
        match e {
            ExportError::Link { .. } => ExportError::AppsOut { path, reason: "is a symbolic link; give the path of the file itself".to_owned() },
            ExportError::NotAFile { kind, .. } => ExportError::AppsOut { path, reason: format!("is {kind}, not a regular file") },
            other => other,
        }
    }
}
