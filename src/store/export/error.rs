//! What can stop an export, each with the path it is about and how to get past it.
//!
//! As in [`crate::store::StoreError`], an underlying `io::Error` is returned by `source()`
//! and not repeated in the message.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong writing or checking an export folder.
#[derive(Debug)]
pub enum ExportError {
    /// The marker is not one export wrote; `line` is 1-based, `None` for the whole file.
    Marker { path: PathBuf, line: Option<usize>, reason: String },
    /// A symbolic link where export would read, write or remove.
    Link { path: PathBuf },
    /// Something other than a folder where the build needs one (`kind`: "a regular file").
    NotAFolder { path: PathBuf, kind: &'static str },
    /// Something other than a regular file where export reads or writes a file.
    NotAFile { path: PathBuf, kind: &'static str },
    /// A file larger than export ever writes, where it reads one.
    TooLarge { path: PathBuf, limit: u64 },
    /// A non-empty folder that no export made.
    NotExported { out: PathBuf, marker: PathBuf },
    /// `--out` exists and is not a folder.
    OutNotAFolder { path: PathBuf },
    /// `--apps-out` names a file export cannot write there.
    AppsOut { path: PathBuf, reason: String },
    /// A path of the build that export does not write (never expected from the renderer).
    BadPath { path: String, reason: &'static str },
    /// A system call failed; `doing` is a verb phrase (`write`, `lock`, `list`).
    Io { doing: &'static str, path: PathBuf, source: io::Error },
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ExportError::*;
        match self {
            Marker { path, line: Some(line), reason } => write!(
                f,
                "the export marker `{}`, line {line}: {reason}; it lists the files an earlier `obsbuild export` wrote, and export removes only those: restore it (`git checkout -- {0}` if it is committed) or fix that line",
                path.display()
            ),
            Marker { path, line: None, reason } => write!(
                f,
                "the export marker `{}` {reason}; export reads it to know which files it wrote: put back the file an earlier `obsbuild export` wrote, or remove it and export into an empty folder",
                path.display()
            ),
            Link { path } => write!(
                f,
                "`{}` is a symbolic link; export writes only real files and folders inside --out: remove the link (the next export writes a real one), or export elsewhere",
                path.display()
            ),
            NotAFolder { path, kind } => write!(
                f,
                "`{}` is {kind}, but the build has files under it; move it away, or export into another folder",
                path.display()
            ),
            NotAFile { path, kind } => write!(
                f,
                "`{}` is {kind}, not a regular file; export reads and writes only regular files: remove it (the next export writes the file), or export elsewhere",
                path.display()
            ),
            TooLarge { path, limit } => write!(
                f,
                "`{}` is larger than {} MiB, more than export ever writes; remove it, or export elsewhere",
                path.display(),
                limit >> 20
            ),
            NotExported { out, marker } => write!(
                f,
                "refusing to write into `{}`: it is not empty and no earlier `obsbuild export` made it (no `{}`); choose an empty folder or remove it",
                out.display(),
                marker.display()
            ),
            OutNotAFolder { path } => {
                write!(f, "--out `{}` is not a folder; name a folder (it is created if missing)", path.display())
            }
            AppsOut { path, reason } => write!(f, "--apps-out `{}` {reason}", path.display()),
            BadPath { path, reason } => {
                write!(f, "cannot export the build file `{}`: it {reason}", path.escape_debug())
            }
            Io { doing, path, source } => write!(
                f,
                "cannot {doing} `{}`{}",
                path.display(),
                match source.kind() {
                    io::ErrorKind::PermissionDenied => "; check that you may write to the folder",
                    io::ErrorKind::ReadOnlyFilesystem => "; it is on a read-only file system",
                    io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => "; the disk is full",
                    _ => "",
                }
            ),
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExportError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_path_and_the_way_out() {
        let link = ExportError::Link { path: "out/configs".into() }.to_string();
        assert!(link.starts_with("`out/configs` is a symbolic link; export writes only real files and folders inside --out"), "{link}");
        let marker = ExportError::Marker { path: "out/.obsbuild-export".into(), line: Some(3), reason: "`../x` ...".into() }.to_string();
        assert!(marker.contains("`out/.obsbuild-export`, line 3: `../x`") && marker.contains("git checkout"), "{marker}");
        let denied = ExportError::Io { doing: "write", path: "out/a".into(), source: io::ErrorKind::PermissionDenied.into() };
        assert!(denied.to_string().contains("cannot write `out/a`; check that you may write"), "{denied}");
    }
}
