//! Hosts files (`/etc/hosts`) that `obsbuild hosts --apply` writes a stack's block into,
//! and the stack's record of which files those are, so that `down` takes the block out.
//!
//! ```text
//! <state>/hosts.lock                  flock around each read-edit-write of a hosts file
//! <folder of the hosts file>          flock on the folder itself, for obsbuild processes
//!                                     of other state folders
//! <state>/profiles/<stack>/hosts.json the files holding the stack's block
//! ```

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use super::fsutil;
use super::{Profile, Store};

/// Held while a hosts file is read, edited and written; dropped, it releases the lock.
pub struct HostsLock {
    _file: File,
}

impl Store {
    /// Two stacks changing the same hosts file at once would each write back the file
    /// without the other's block; this lock orders them. (It cannot order other tools
    /// writing the file, nor obsbuild with another state folder.)
    pub fn lock_hosts(&self) -> Result<HostsLock> {
        fsutil::ensure_dir(self.state_dir())?;
        let path = self.state_dir().join("hosts.lock");
        let lock_err = |source| StoreError::Lock {
            path: path.clone(),
            source,
        };
        // `sudo obsbuild hosts --apply` leaves a lock file only root may write; `flock`
        // works on a file opened for reading too.
        let file = crate::files::open_with(&path, OpenOptions::new().create(true).truncate(false).write(true))
            .or_else(|e| crate::files::open(&path).map_err(|_| e))
            .map_err(lock_err)?;
        file.lock().map_err(lock_err)?;
        Ok(HostsLock { _file: file })
    }
}

/// How long `hosts --apply` waits for another obsbuild changing the same hosts file.
const FOLDER_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Held while one obsbuild process, of whatever state folder, changes a hosts file.
pub struct HostsFolderLock {
    _dir: File,
}

/// Locks the folder a hosts file is in (`flock` on the folder itself, so no file is added
/// to `/etc`): obsbuild processes with different state folders would otherwise each write
/// back the file without the other's block. Bounded, since anyone who may read the folder
/// may lock it: after [`FOLDER_LOCK_WAIT`] the error says who to look for.
pub fn lock_hosts_folder(file: &Path) -> Result<HostsFolderLock> {
    // The folder of the file a link names, where the rename happens.
    let real = fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let dir = real.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let lock_err = |source| StoreError::Lock { path: dir.to_path_buf(), source };
    let handle = File::open(dir).map_err(lock_err)?;
    let started = std::time::Instant::now();
    loop {
        match handle.try_lock() {
            Ok(()) => return Ok(HostsFolderLock { _dir: handle }),
            Err(fs::TryLockError::WouldBlock) if started.elapsed() < FOLDER_LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(lock_err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "another process has held a lock on this folder for {} s (another `obsbuild hosts --apply` or `down`?); try again when it is done",
                        FOLDER_LOCK_WAIT.as_secs()
                    ),
                )));
            }
            Err(fs::TryLockError::Error(e)) => return Err(lock_err(e)),
        }
    }
}

/// A hosts file's text; `None` when it does not exist. Anything but a regular file (a
/// FIFO would block the read until someone writes to it, a device may never end) is
/// refused at once, naming the path.
pub fn read_hosts_file(path: &Path) -> Result<Option<String>> {
    match crate::files::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| StoreError::HostsFile {
                path: path.to_path_buf(),
                doing: "read",
                source: io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"),
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::HostsFile {
            path: path.to_path_buf(),
            doing: "read",
            source,
        }),
    }
}

/// Replaces a hosts file with `text`: a temporary file in the same folder with the old
/// file's mode and owner, fsynced, renamed over it, the folder fsynced. Readers see the
/// old or the new file, never half of one.
pub fn write_hosts_file(path: &Path, text: &str) -> Result<()> {
    let err = |doing, source| StoreError::HostsFile {
        path: path.to_path_buf(),
        doing,
        source,
    };
    // Through a symlink to the file it names: a rename over the link would replace the
    // link with a plain file.
    let target = match fs::canonicalize(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => match dangling_link(path) {
            Some(e) => return Err(err("write", e)),
            None => path.to_path_buf(),
        },
        Err(e) => return Err(err("resolve", e)),
    };
    let old = match fs::metadata(&target) {
        // Renaming over a FIFO or a device would replace it (as root, `/dev/null` too).
        Ok(m) if !m.is_file() => return Err(err("write", crate::files::not_regular(&target, &m))),
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(err("read", e)),
    };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hosts".to_owned());
    let tmp = dir.join(fsutil::unique_name(".", &format!("{name}.obsbuild")));
    let written = write_new(&tmp, text, old.as_ref());
    let renamed = written.and_then(|()| fs::rename(&tmp, &target));
    match renamed {
        Ok(()) => fsutil::sync_dir(dir),
        // Docker bind-mounts `/etc/hosts` into containers, and a mount point cannot be
        // renamed over (EBUSY). The only way to change it is in place; a crash between
        // the truncate and the write can then leave it short, which is why this is the
        // fallback and not the way.
        Err(e) if e.kind() == io::ErrorKind::ResourceBusy && old.is_some() => {
            let _ = fs::remove_file(&tmp);
            write_in_place(&target, text).map_err(|e| err("write", e))
        }
        Err(e) => {
            // Best effort: the error that matters is `e`.
            let _ = fs::remove_file(&tmp);
            Err(err("write", e))
        }
    }
}

/// The error for a symbolic link at `path` that leads to nothing. Writing through it would
/// create the file it names, somewhere another tool may own (`/etc/hosts` can be a link
/// into `/run` that a network manager writes); replacing it would cut that tool off. So
/// obsbuild does neither and says where the link points.
fn dangling_link(path: &Path) -> Option<io::Error> {
    let first = fs::read_link(path).ok()?;
    let mut end = path.to_path_buf();
    // Follow a chain of links to the name that is missing (40 hops, as the kernel does).
    for _ in 0..40 {
        let Ok(next) = fs::read_link(&end) else { break };
        end = end.parent().map_or_else(|| next.clone(), |dir| dir.join(&next));
    }
    // Where a relative target or a chain of links ends up, when that is not plain.
    let via = if end == first { String::new() } else { format!(", which leads to `{}`", end.display()) };
    Some(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "`{}` is a symbolic link to `{}`{via}, which does not exist; obsbuild writes through a link to the file it names but does not create that file: create it, or point the link at the hosts file, then run again",
            path.display(),
            first.display()
        ),
    ))
}

/// A new file with `text`, the mode and owner of `like` (or 0644), fsynced.
fn write_new(path: &Path, text: &str, like: Option<&fs::Metadata>) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    if let Some(m) = like {
        let mine = file.metadata()?;
        if (mine.uid(), mine.gid()) != (m.uid(), m.gid()) {
            // Only root may give a file away; anyone else writes a file they could
            // replace anyway, and it becomes theirs.
            let _ = std::os::unix::fs::fchown(&file, Some(m.uid()), Some(m.gid()));
        }
    }
    let mode = like
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644);
    file.set_permissions(Permissions::from_mode(mode))?;
    file.sync_all()
}

fn write_in_place(path: &Path, text: &str) -> io::Result<()> {
    let mut file = crate::files::open_with(path, OpenOptions::new().write(true).truncate(true))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[derive(Default, Serialize, Deserialize)]
struct HostsRecord {
    files: Vec<PathBuf>,
}

impl Profile<'_> {
    fn hosts_record(&self) -> PathBuf {
        self.dir().join("hosts.json")
    }

    /// The hosts files holding this stack's block (absolute paths), in the order written.
    pub fn hosts_files(&self) -> Result<Vec<PathBuf>> {
        let path = self.hosts_record();
        let bytes = match crate::files::read_if_present(&path) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(Vec::new()),
            Err(source) => return Err(StoreError::ReadRecord { path, source }),
        };
        let record: HostsRecord = serde_json::from_slice(&bytes)
            .map_err(|source| StoreError::ParseRecord { path, source })?;
        Ok(record.files)
    }

    /// Records that `file` holds this stack's block (`holds`) or no longer does.
    pub fn record_hosts_file(&self, file: &Path, holds: bool) -> Result<()> {
        let mut files = self.hosts_files()?;
        let known = files.iter().any(|f| f == file);
        if known == holds {
            return Ok(());
        }
        if holds {
            files.push(file.to_path_buf());
        } else {
            files.retain(|f| f != file);
        }
        if files.is_empty() {
            let path = self.hosts_record();
            return match fs::remove_file(&path) {
                Ok(()) => fsutil::sync_dir(self.dir()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(StoreError::Remove { path, source }),
            };
        }
        let path = self.hosts_record();
        let mut json = serde_json::to_vec_pretty(&HostsRecord { files }).map_err(|source| {
            StoreError::Serialize {
                path: path.clone(),
                source,
            }
        })?;
        json.push(b'\n');
        fsutil::write_atomic(self.dir(), "hosts.json", &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn writes_keep_the_mode_and_follow_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("hosts");
        assert_eq!(read_hosts_file(&file).unwrap(), None);
        write_hosts_file(&file, "a\n").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&file), 0o644, "a new file is 0644");
        fs::set_permissions(&file, Permissions::from_mode(0o640)).unwrap();
        write_hosts_file(&file, "b\n").unwrap();
        assert_eq!(
            (
                read_hosts_file(&file).unwrap().unwrap().as_str(),
                mode(&file)
            ),
            ("b\n", 0o640)
        );

        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        write_hosts_file(&link, "c\n").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&file).unwrap(), "c\n");
        // No temporary is left beside it.
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_dangling_link_is_neither_replaced_nor_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join("hosts");
        let missing = tmp.path().join("run/hosts");
        std::os::unix::fs::symlink(&missing, &link).unwrap();
        let e = write_hosts_file(&link, "a\n").unwrap_err().to_string();
        let cause = match write_hosts_file(&link, "a\n").unwrap_err() {
            StoreError::HostsFile { source, .. } => source.to_string(),
            other => panic!("{other}"),
        };
        assert!(e.contains(&link.display().to_string()), "{e}");
        assert!(
            cause.contains(&format!("is a symbolic link to `{}`, which does not exist", missing.display())),
            "{cause}"
        );
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert!(!missing.exists());
        assert_eq!(read_hosts_file(&link).unwrap(), None, "nothing to read, nothing to remove");

        // A chain: the message names the first hop and the missing end.
        let chain = tmp.path().join("chain");
        std::os::unix::fs::symlink("hosts", &chain).unwrap();
        let cause = match write_hosts_file(&chain, "a\n").unwrap_err() {
            StoreError::HostsFile { source, .. } => source.to_string(),
            other => panic!("{other}"),
        };
        assert!(cause.contains(&format!("to `hosts`, which leads to `{}`", missing.display())), "{cause}");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 2, "no temporary left");
    }

    #[test]
    fn special_files_are_refused_not_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for path in [fifo.as_path(), tmp.path()] {
            let read = read_hosts_file(path).unwrap_err();
            let write = write_hosts_file(path, "a\n").unwrap_err();
            for e in [read, write] {
                let cause = std::error::Error::source(&e).map(ToString::to_string).unwrap_or_default();
                assert!(cause.contains("not a regular file"), "{e}: {cause}");
            }
        }
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO is still there");
    }

    #[test]
    fn permission_errors_say_what_to_do() {
        let e = StoreError::HostsFile {
            path: "/etc/hosts".into(),
            doing: "write",
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        let text = e.to_string();
        assert!(
            text.contains("`/etc/hosts`") && text.contains("needs root"),
            "{text}"
        );
    }

    #[test]
    fn the_profile_records_which_files_hold_the_block() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let profile = store.profile("s");
        let (a, b) = (Path::new("/x/hosts"), Path::new("/y/hosts"));
        profile.record_hosts_file(a, true).unwrap();
        profile.record_hosts_file(b, true).unwrap();
        profile.record_hosts_file(a, true).unwrap();
        assert_eq!(
            profile.hosts_files().unwrap(),
            vec![a.to_path_buf(), b.to_path_buf()]
        );
        profile.record_hosts_file(a, false).unwrap();
        profile.record_hosts_file(b, false).unwrap();
        assert!(profile.hosts_files().unwrap().is_empty());
        assert!(!profile.dir().join("hosts.json").exists());
    }
}
