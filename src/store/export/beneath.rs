//! Folders held open by descriptor, and every file operation relative to one, so that no
//! path export acts on goes through a symbolic link.
//!
//! Resolving `DIR/a/b/c` by name follows a link at `a`, committed to git or swapped in
//! while export runs, out of `DIR`. Here each component is opened relative to its parent's
//! descriptor with `O_NOFOLLOW` and must be a real folder, and files are opened, created,
//! renamed and removed with `openat`/`renameat`/`unlinkat` on the folder's descriptor: once
//! a folder is open, whatever is later put at its name changes nothing. A file is replaced
//! by a temporary written beside it and renamed over it; a rename replaces a link at the
//! target rather than following it.
//!
//! A temporary is `flock`ed by its writer while it exists, so [`Folder::remove_dead_temps`]
//! removes only those whose writer is gone (killed), even in a folder that other exports
//! write to without holding this export's lock (the folder of `--apps-out`).

use std::ffi::OsStr;
use std::fs::{File, Permissions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use super::error::ExportError;
use super::marker::TMP_PREFIX;
use crate::files;

type Result<T, E = ExportError> = std::result::Result<T, E>;

/// What is at a name inside a folder, not following a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Absent,
    File,
    Folder,
    Link,
    /// A FIFO, socket or device, worded for messages.
    Special(&'static str),
}

impl Entry {
    /// How messages name it.
    pub fn kind(self) -> &'static str {
        match self {
            Entry::Absent => "missing",
            Entry::File => "a regular file",
            Entry::Folder => "a folder",
            Entry::Link => "a symbolic link",
            Entry::Special(kind) => kind,
        }
    }
}

/// What a child of a folder turned out to be.
pub enum Child {
    Folder(Folder),
    Absent,
    /// Anything but a folder or a link (those are errors).
    Not(Entry),
}

/// An open folder; `shown` is its path for messages.
#[derive(Debug)]
pub struct Folder {
    fd: OwnedFd,
    shown: PathBuf,
}

/// A file being written: its temporary name in the folder, and the open file, locked.
struct Temporary {
    name: String,
    file: File,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::CLOEXEC);

fn io_error(doing: &'static str, path: PathBuf, source: impl Into<io::Error>) -> ExportError {
    ExportError::Io { doing, path, source: source.into() }
}

impl Folder {
    /// Opens a folder by the path the user gave, following links in it: they chose it.
    /// `NotFound` and `NotADirectory` are returned as they are, for the caller to word.
    pub fn open_given(path: &Path, shown: &Path) -> io::Result<Folder> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        Ok(Folder { fd, shown: shown.to_path_buf() })
    }

    /// The path messages give for `name` in this folder.
    pub fn path_of(&self, name: impl AsRef<Path>) -> PathBuf {
        self.shown.join(name)
    }

    /// A second descriptor of the same folder.
    pub fn try_clone(&self) -> Result<Folder> {
        let fd = self.fd.try_clone().map_err(|e| io_error("open", self.shown.clone(), e))?;
        Ok(Folder { fd, shown: self.shown.clone() })
    }

    /// `flock` on the folder itself; released when every descriptor of it is closed.
    pub fn lock(&self, exclusive: bool) -> Result<()> {
        let op = if exclusive { FlockOperation::LockExclusive } else { FlockOperation::LockShared };
        rustix::fs::flock(&self.fd, op).map_err(|e| io_error("lock", self.shown.clone(), e))
    }

    pub fn entry(&self, name: &str) -> Result<Entry> {
        let stat = match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => stat,
            Err(Errno::NOENT) => return Ok(Entry::Absent),
            Err(e) => return Err(io_error("inspect", self.path_of(name), e)),
        };
        Ok(match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => Entry::File,
            FileType::Directory => Entry::Folder,
            FileType::Symlink => Entry::Link,
            FileType::Fifo => Entry::Special("a FIFO (named pipe)"),
            FileType::Socket => Entry::Special("a socket"),
            FileType::CharacterDevice | FileType::BlockDevice => Entry::Special("a device"),
            FileType::Unknown => Entry::Special("not a regular file"),
        })
    }

    /// The real folder `name` inside this one; a link there is an error naming it.
    pub fn child(&self, name: &str) -> Result<Child> {
        match rustix::fs::openat(&self.fd, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(Child::Folder(Folder { fd, shown: self.path_of(name) })),
            Err(Errno::NOENT) => Ok(Child::Absent),
            Err(e) => match self.entry(name)? {
                Entry::Link => Err(ExportError::Link { path: self.path_of(name) }),
                Entry::Folder | Entry::Absent => Err(io_error("open", self.path_of(name), e)),
                other => Ok(Child::Not(other)),
            },
        }
    }

    /// Creates the folder `name` (unless another process just did) and opens it.
    pub fn make_child(&self, name: &str) -> Result<Folder> {
        match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o777)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(io_error("create the folder", self.path_of(name), e)),
        }
        match self.child(name)? {
            Child::Folder(folder) => Ok(folder),
            Child::Absent => Err(io_error("create the folder", self.path_of(name), io::ErrorKind::NotFound)),
            Child::Not(entry) => Err(ExportError::NotAFolder { path: self.path_of(name), kind: entry.kind() }),
        }
    }

    /// The regular file `name`, open for reading; `None` if nothing is there. A link, a
    /// folder or a special file is an error naming it, and a FIFO never blocks.
    pub fn open_file(&self, name: &str) -> Result<Option<File>> {
        let path = self.path_of(name);
        match files::open_in(self.fd.as_fd(), Path::new(name), &path) {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.raw_os_error() == Some(Errno::LOOP.raw_os_error()) => Err(ExportError::Link { path }),
            Err(e) => match self.entry(name)? {
                Entry::Link => Err(ExportError::Link { path }),
                Entry::File | Entry::Absent => Err(io_error("open", path, e)),
                other => Err(ExportError::NotAFile { path, kind: other.kind() }),
            },
        }
    }

    /// [`Folder::open_file`]'s bytes, refusing more than `limit`.
    pub fn read_file(&self, name: &str, limit: u64) -> Result<Option<Vec<u8>>> {
        match self.open_file(name)? {
            Some(file) => read_bounded(file, limit, &self.path_of(name)).map(Some),
            None => Ok(None),
        }
    }

    /// Replaces `name` with `bytes`: a temporary file beside it, fsynced, renamed over it.
    /// `mode` is the permissions to keep; without it the umask decides, as for any new file.
    /// The folder itself is not fsynced: see [`Folder::sync`].
    pub fn replace(&self, name: &str, bytes: &[u8], mode: Option<u32>) -> Result<()> {
        let Temporary { name: tmp, mut file } = self.create_temporary()?;
        let written = (|| -> io::Result<()> {
            file.write_all(bytes)?;
            if let Some(mode) = mode {
                file.set_permissions(Permissions::from_mode(mode & 0o777))?;
            }
            file.sync_all()?;
            rustix::fs::renameat(&self.fd, tmp.as_str(), &self.fd, name)?;
            Ok(())
        })();
        if let Err(source) = written {
            // Best effort: the error that matters is `source`.
            let _ = rustix::fs::unlinkat(&self.fd, tmp.as_str(), AtFlags::empty());
            return Err(io_error("write", self.path_of(name), source));
        }
        Ok(())
    }

    /// Replaces `name` with `bytes` unless `existing`, the file there now, already holds
    /// them (so tools watching it see no change); keeps its permissions. True if written.
    pub fn update(&self, name: &str, existing: Option<File>, bytes: &[u8]) -> Result<bool> {
        let mut mode = None;
        if let Some(file) = existing {
            let path = self.path_of(name);
            let meta = file.metadata().map_err(|e| io_error("inspect", path.clone(), e))?;
            if meta.len() == bytes.len() as u64 {
                match read_bounded(file, meta.len(), &path) {
                    Ok(old) if old == bytes => return Ok(false),
                    // Longer than it was a moment ago: not the same bytes either.
                    Ok(_) | Err(ExportError::TooLarge { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            mode = Some(meta.mode());
        }
        self.replace(name, bytes, mode)?;
        Ok(true)
    }

    fn create_temporary(&self) -> Result<Temporary> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
        for _ in 0..64 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let name = format!("{TMP_PREFIX}{}-{n}", std::process::id());
            let fd = match rustix::fs::openat(&self.fd, name.as_str(), flags, Mode::from_raw_mode(0o666)) {
                Ok(fd) => fd,
                // A killed process with our pid left it; take the next number.
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(io_error("create a temporary file in", self.shown.clone(), e)),
            };
            rustix::fs::flock(&fd, FlockOperation::LockExclusive)
                .map_err(|e| io_error("lock", self.path_of(&name), e))?;
            // Between the create and the lock another export may have taken this file for
            // a dead one and removed it; then the name is no longer ours.
            let mine = rustix::fs::fstat(&fd).map_err(|e| io_error("inspect", self.path_of(&name), e))?;
            match rustix::fs::statat(&self.fd, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(now) if (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino) => {
                    return Ok(Temporary { name, file: File::from(fd) });
                }
                Ok(_) | Err(Errno::NOENT) => last = io::ErrorKind::NotFound.into(),
                Err(e) => return Err(io_error("inspect", self.path_of(&name), e)),
            }
        }
        Err(io_error("create a temporary file in", self.shown.clone(), last))
    }

    /// Unlinks the regular file `name`; false if it was not there.
    pub fn remove_file(&self, name: &str) -> Result<bool> {
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(io_error("remove", self.path_of(name), e)),
        }
    }

    /// Removes the folder `name` if it is empty; false if it is not (or is not a folder).
    pub fn remove_empty(&self, name: &str) -> bool {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR).is_ok()
    }

    /// The names in this folder (not `.` and `..`).
    pub fn names(&self) -> Result<Vec<Vec<u8>>> {
        let list_error = |e| io_error("list", self.shown.clone(), e);
        let mut names = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.fd).map_err(list_error)? {
            let name = entry.map_err(list_error)?.file_name().to_bytes().to_vec();
            if name != b"." && name != b".." {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// Names of export temporaries in this folder.
    pub fn temporaries(&self) -> Result<Vec<String>> {
        let names = self.names()?.into_iter().filter(|n| n.starts_with(TMP_PREFIX.as_bytes()));
        // A temporary's name is ASCII; anything else with the prefix is none of ours.
        Ok(names.filter_map(|n| String::from_utf8(n).ok()).collect())
    }

    /// Removes the temporaries of writers that are gone (their lock is free); returns how
    /// many. Those of a live writer stay.
    pub fn remove_dead_temps(&self) -> Result<usize> {
        let mut removed = 0;
        for name in self.temporaries()? {
            let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
            let dead = match rustix::fs::openat(&self.fd, name.as_str(), flags, Mode::empty()) {
                Ok(fd) => rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive).is_ok(),
                Err(Errno::NOENT) => false,
                // A link or a socket with a temporary's name has no writer.
                Err(_) => true,
            };
            if dead {
                match rustix::fs::unlinkat(&self.fd, name.as_str(), AtFlags::empty()) {
                    Ok(()) => removed += 1,
                    // Gone already, or a folder with that name: not a temporary of ours.
                    Err(Errno::NOENT | Errno::ISDIR | Errno::PERM) => {}
                    Err(e) => return Err(io_error("remove", self.path_of(&name), e)),
                }
            }
        }
        Ok(removed)
    }

    /// Flushes the folder's entries (renames, removals) to disk.
    pub fn sync(&self) -> Result<()> {
        rustix::fs::fsync(&self.fd).map_err(|e| io_error("flush", self.shown.clone(), e))
    }
}

/// Reads a whole file, refusing one larger than `limit`.
pub fn read_bounded(file: File, limit: u64, path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| io_error("read", path.to_path_buf(), e))?;
    if bytes.len() as u64 > limit {
        return Err(ExportError::TooLarge { path: path.to_path_buf(), limit });
    }
    Ok(bytes)
}

/// A file name given on the command line as text, for the operations above.
pub fn utf8_name(name: &OsStr) -> Option<&str> {
    std::str::from_utf8(name.as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(path: &Path) -> Folder {
        Folder::open_given(path, Path::new("out")).unwrap()
    }

    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn links_are_errors_naming_them_and_nothing_behind_them_is_touched() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("f"), "mine").unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(&outside, out.join("configs")).unwrap();
        std::os::unix::fs::symlink(outside.join("f"), out.join("f")).unwrap();
        let dir = folder(&out);

        let e = dir.child("configs").err().unwrap().to_string();
        assert!(e.starts_with("`out/configs` is a symbolic link"), "{e}");
        let e = dir.open_file("f").unwrap_err().to_string();
        assert!(e.starts_with("`out/f` is a symbolic link"), "{e}");
        // Replacing the link replaces the link, not the file it points at.
        dir.replace("f", b"new", None).unwrap();
        assert_eq!(std::fs::read_to_string(outside.join("f")).unwrap(), "mine");
        assert_eq!(std::fs::read_to_string(out.join("f")).unwrap(), "new");
        assert!(!std::fs::symlink_metadata(out.join("f")).unwrap().file_type().is_symlink());
    }

    #[test]
    fn special_files_are_refused_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        mkfifo(&tmp.path().join("fifo"));
        let dir = folder(tmp.path());
        let started = std::time::Instant::now();
        let e = dir.read_file("fifo", 100).unwrap_err().to_string();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(e.starts_with("`out/fifo` is a FIFO (named pipe), not a regular file"), "{e}");
        assert!(matches!(dir.child("fifo"), Ok(Child::Not(Entry::Special(_)))));
        std::fs::create_dir(tmp.path().join("d")).unwrap();
        assert!(dir.read_file("d", 100).unwrap_err().to_string().contains("is a folder"));
    }

    #[test]
    fn reads_are_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("big"), vec![b'x'; 101]).unwrap();
        let dir = folder(tmp.path());
        assert!(matches!(dir.read_file("big", 100), Err(ExportError::TooLarge { .. })));
        assert_eq!(dir.read_file("big", 101).unwrap().unwrap().len(), 101);
        assert_eq!(dir.read_file("absent", 1).unwrap(), None);
    }

    #[test]
    fn replace_keeps_the_mode_and_leaves_no_temporary() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = folder(tmp.path());
        dir.replace("a", b"1", None).unwrap();
        std::fs::set_permissions(tmp.path().join("a"), Permissions::from_mode(0o600)).unwrap();
        dir.replace("a", b"2", Some(0o100600)).unwrap();
        let meta = std::fs::metadata(tmp.path().join("a")).unwrap();
        assert_eq!((meta.mode() & 0o777, std::fs::read(tmp.path().join("a")).unwrap()), (0o600, b"2".to_vec()));
        assert_eq!(dir.names().unwrap(), vec![b"a".to_vec()]);
    }

    #[test]
    fn only_temporaries_of_dead_writers_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = folder(tmp.path());
        let live = dir.create_temporary().unwrap();
        std::fs::write(tmp.path().join(format!("{TMP_PREFIX}1-1")), "left by a killed export").unwrap();
        std::fs::create_dir(tmp.path().join(format!("{TMP_PREFIX}dir"))).unwrap();
        std::fs::write(tmp.path().join("keep"), "").unwrap();
        assert_eq!(dir.remove_dead_temps().unwrap(), 1);
        let mut left: Vec<String> = dir.names().unwrap().into_iter().map(|n| String::from_utf8(n).unwrap()).collect();
        left.sort();
        let mut want = vec![format!("{TMP_PREFIX}dir"), live.name.clone(), "keep".to_owned()];
        want.sort();
        assert_eq!(left, want, "the live writer's temporary, a folder and a file of the user's stay");
        drop(live);
        assert_eq!(dir.remove_dead_temps().unwrap(), 1);
    }
}
