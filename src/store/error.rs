//! The store's one error type: every variant is named for the operation that failed and
//! carries the path it failed on.
//!
//! The underlying cause (an `io::Error` or a JSON error) is returned by
//! [`std::error::Error::source`] and never repeated in the message, so a caller that prints
//! the whole chain shows each fact once. Messages add a hint when the fix is obvious.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in the store.
#[derive(Debug)]
pub enum StoreError {
    /// The state directory exists but is not a directory.
    NotADirectory { path: PathBuf },
    /// Creating a directory failed.
    CreateDir { path: PathBuf, source: io::Error },
    /// Writing (or creating) a file failed.
    WriteFile { path: PathBuf, source: io::Error },
    /// Reading a file of a store path failed.
    ReadFile { path: PathBuf, source: io::Error },
    /// Listing a directory failed.
    ReadDir { path: PathBuf, source: io::Error },
    /// Flushing a file or directory to disk failed.
    Sync { path: PathBuf, source: io::Error },
    /// Changing permissions failed.
    SetPermissions { path: PathBuf, source: io::Error },
    /// An atomic rename failed.
    Rename { from: PathBuf, to: PathBuf, source: io::Error },
    /// Deleting a file or directory failed.
    Remove { path: PathBuf, source: io::Error },
    /// Opening or taking the store lock failed.
    Lock { path: PathBuf, source: io::Error },
    /// A store path's manifest could not be read.
    ReadManifest { path: PathBuf, source: io::Error },
    /// A store path's manifest is not valid JSON of the expected shape.
    ParseManifest { path: PathBuf, source: serde_json::Error },
    /// A stack's history could not be read.
    ReadHistory { path: PathBuf, source: io::Error },
    /// A stack's history is not valid JSON of the expected shape.
    ParseHistory { path: PathBuf, source: serde_json::Error },
    /// A GC root could not be read.
    ReadRoot { path: PathBuf, source: io::Error },
    /// A GC root does not name a store path.
    InvalidRoot { path: PathBuf, content: String },
    /// Turning data into JSON failed (not expected to happen for the store's own types).
    Serialize { path: PathBuf, source: serde_json::Error },
    /// Reading or writing a hosts file (`/etc/hosts`) failed; `doing` is `read`, `write`
    /// or `resolve`.
    HostsFile { path: PathBuf, doing: &'static str, source: io::Error },
    /// The record of the hosts files a stack's block is in could not be read.
    ReadRecord { path: PathBuf, source: io::Error },
    /// That record is not valid JSON of the expected shape.
    ParseRecord { path: PathBuf, source: serde_json::Error },
    /// A line of a switch journal other than the last (which a crash may cut short) is
    /// not an entry.
    ParseJournal { path: PathBuf, line: usize, source: serde_json::Error },
    /// A store path's content does not match its manifest.
    Corrupt { path: PathBuf, detail: String },
    /// A store path, root or name asked for does not exist.
    NotFound { what: String, store: PathBuf },
    /// A build cannot be stored as given (bad file path, bad stack name).
    InvalidBuild { reason: String },
    /// A name (stack, root, store path) is not acceptable.
    InvalidName { kind: &'static str, name: String, reason: &'static str },
}

/// Shorthand used across the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A short suggestion for common `io::Error` kinds, starting with "; " or empty.
fn hint(source: &io::Error) -> &'static str {
    match source.kind() {
        io::ErrorKind::PermissionDenied => {
            "; check that you own the state directory and may write to it"
        }
        io::ErrorKind::ReadOnlyFilesystem => "; the state directory is on a read-only file system",
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            "; the disk is full: free some space (`obsbuild gc` removes unused builds)"
        }
        // A folder that cannot hold files (`/proc`) answers "not found" to a create too.
        io::ErrorKind::NotFound => {
            "; its folder is missing or cannot hold files: check the state directory (`--state-dir`, `$OBSBUILD_STATE_DIR`)"
        }
        _ => "",
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use StoreError::*;
        match self {
            NotADirectory { path } => write!(
                f,
                "state directory `{}` exists but is not a directory; pick another state directory or move that file away",
                path.display()
            ),
            CreateDir { path, source } => {
                write!(f, "cannot create directory `{}`{}", path.display(), hint(source))
            }
            WriteFile { path, source } => {
                write!(f, "cannot write `{}`{}", path.display(), hint(source))
            }
            ReadFile { path, source } => {
                let hint = match source.kind() {
                    io::ErrorKind::NotFound => "; it may have been deleted by hand: run `obsbuild verify`",
                    _ => hint(source),
                };
                write!(f, "cannot read store file `{}`{hint}", path.display())
            }
            ReadDir { path, source } => {
                write!(f, "cannot list directory `{}`{}", path.display(), hint(source))
            }
            Sync { path, source } => {
                write!(f, "cannot flush `{}` to disk{}", path.display(), hint(source))
            }
            SetPermissions { path, source } => {
                write!(f, "cannot change permissions of `{}`{}", path.display(), hint(source))
            }
            Rename { from, to, source } => write!(
                f,
                "cannot rename `{}` to `{}`{}",
                from.display(),
                to.display(),
                hint(source)
            ),
            Remove { path, source } => {
                write!(f, "cannot remove `{}`{}", path.display(), hint(source))
            }
            Lock { path, source } => {
                write!(f, "cannot lock the store with `{}`{}", path.display(), hint(source))
            }
            ReadManifest { path, source } => write!(
                f,
                "cannot read the manifest `{}`{}",
                path.display(),
                match source.kind() {
                    io::ErrorKind::NotFound =>
                        "; the store path is incomplete or damaged: run `obsbuild verify`",
                    _ => hint(source),
                }
            ),
            ParseManifest { path, .. } => {
                write!(f, "the manifest `{}` is damaged; run `obsbuild verify`", path.display())
            }
            ReadHistory { path, source } => {
                write!(f, "cannot read the build history `{}`{}", path.display(), hint(source))
            }
            ParseHistory { path, .. } => write!(
                f,
                "the build history `{}` is damaged; fix or remove that file",
                path.display()
            ),
            ReadRoot { path, source } => {
                write!(f, "cannot read the GC root `{}`{}", path.display(), hint(source))
            }
            InvalidRoot { path, content } => write!(
                f,
                "the GC root `{}` does not name a store path (it contains `{}`); fix or remove that file",
                path.display(),
                content.escape_debug()
            ),
            Serialize { path, .. } => {
                write!(f, "cannot encode the data for `{}` as JSON", path.display())
            }
            HostsFile { path, doing, source } => write!(
                f,
                "cannot {doing} the hosts file `{}`{}",
                path.display(),
                // The caller says how to get around it (`sudo`, `--file`).
                match source.kind() {
                    io::ErrorKind::PermissionDenied => "; changing it needs root",
                    io::ErrorKind::ReadOnlyFilesystem => "; it is on a read-only file system",
                    io::ErrorKind::NotFound => "; its folder does not exist",
                    _ => "",
                }
            ),
            ReadRecord { path, source } => write!(
                f,
                "cannot read `{}`, the list of hosts files holding the stack's block{}",
                path.display(),
                hint(source)
            ),
            ParseRecord { path, .. } => write!(
                f,
                "`{}`, the list of hosts files holding the stack's block, is damaged; fix or remove it (and remove the block from those files by hand)",
                path.display()
            ),
            ParseJournal { path, line, .. } => write!(
                f,
                "line {line} of the switch journal `{}` is damaged, so the interrupted switch cannot be finished or undone step by step; compare `docker ps -a --filter label=obsbuild.switch` with `obsbuild status`, remove what does not belong, then remove that file",
                path.display()
            ),
            Corrupt { path, detail } => write!(
                f,
                "store path `{}` is damaged: {detail}; run `obsbuild verify`",
                path.display()
            ),
            NotFound { what, store } => {
                write!(f, "{what} not found in the store `{}`", store.display())
            }
            InvalidBuild { reason } => write!(f, "cannot store this build: {reason}"),
            InvalidName { kind, name, reason } => {
                write!(f, "invalid {kind} `{}`: {reason}", name.escape_debug())
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        use StoreError::*;
        match self {
            CreateDir { source, .. }
            | WriteFile { source, .. }
            | ReadFile { source, .. }
            | ReadDir { source, .. }
            | Sync { source, .. }
            | SetPermissions { source, .. }
            | Rename { source, .. }
            | Remove { source, .. }
            | Lock { source, .. }
            | ReadManifest { source, .. }
            | ReadHistory { source, .. }
            | ReadRoot { source, .. }
            | HostsFile { source, .. }
            | ReadRecord { source, .. } => Some(source),
            ParseManifest { source, .. }
            | ParseHistory { source, .. }
            | Serialize { source, .. }
            | ParseRecord { source, .. }
            | ParseJournal { source, .. } => Some(source),
            NotADirectory { .. }
            | InvalidRoot { .. }
            | Corrupt { .. }
            | NotFound { .. }
            | InvalidBuild { .. }
            | InvalidName { .. } => None,
        }
    }
}
