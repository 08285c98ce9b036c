//! Opening files without surprises: obsbuild reads and appends to regular files only.
//!
//! `open` on a FIFO blocks until someone writes to it, and reading a device may never end,
//! so a FIFO planted in the state folder, an export folder or a hosts file would hang a
//! command (holding its locks). Every file obsbuild opens goes through here: it is opened
//! with `O_NONBLOCK` (which makes opening a FIFO return at once), checked with `fstat` on
//! the open descriptor (so nothing can be swapped in between), and refused unless it is a
//! regular file, naming the path and what it is.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::BorrowedFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

/// What a non-regular file is, for messages.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// The error for a path that is not a regular file.
pub fn not_regular(path: &Path, meta: &std::fs::Metadata) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("`{}` is {}, not a regular file; obsbuild only reads and writes regular files", path.display(), kind(meta)),
    )
}

/// Opens with `options` plus `O_NONBLOCK`, then refuses anything but a regular file.
///
/// `custom_flags` replaces earlier custom flags rather than adding to them, so flags set
/// on `options` that way (`O_NOFOLLOW`, say) are lost here: use [`open_in`] for that.
pub fn open_with(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    let file = options.custom_flags(libc::O_NONBLOCK).open(path).map_err(|e| {
        // Some refuse to open at all (a socket, a FIFO for writing with no reader: ENXIO;
        // a folder for writing): still say what they are.
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => not_regular(path, &meta),
            _ => e,
        }
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(path, &meta));
    }
    Ok(file)
}

/// Opens a regular file for reading.
pub fn open(path: &Path) -> io::Result<File> {
    open_with(path, OpenOptions::new().read(true))
}

/// Opens the entry `name` of the folder `dir` for reading, never through a symbolic
/// link: a link at `name` fails with `ELOOP` (`O_NOFOLLOW`), which the caller words for
/// its context. `O_NOCTTY` keeps a terminal device from becoming ours before `fstat`
/// refuses it. `shown` is the path messages name.
pub fn open_in(dir: BorrowedFd<'_>, name: &Path, shown: &Path) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let file = File::from(rustix::fs::openat(dir, name, flags, Mode::empty())?);
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(shown, &meta));
    }
    Ok(file)
}

/// The bytes of a regular file.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = open(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The text of a regular file, which must be UTF-8.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

/// The bytes of a regular file, or `None` if there is nothing at `path`.
pub fn read_if_present(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_at_once_and_named() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("history.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let e = read(&fifo).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(e.to_string().contains("is a FIFO"), "{e}");
        assert!(e.to_string().contains("history.json"), "{e}");
        assert!(read(tmp.path()).unwrap_err().to_string().contains("is a folder"));
        assert_eq!(read_if_present(&tmp.path().join("absent")).unwrap(), None);
        std::fs::write(tmp.path().join("f"), "x").unwrap();
        assert_eq!(read(&tmp.path().join("f")).unwrap(), b"x");
        assert!(read(Path::new("/dev/zero")).unwrap_err().to_string().contains("a device"));
        let socket = tmp.path().join("socket");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        assert!(read(&socket).unwrap_err().to_string().contains("is a socket"));
        let e = open_with(&fifo, OpenOptions::new().write(true)).unwrap_err();
        assert!(e.to_string().contains("is a FIFO"), "{e}");
    }

    #[test]
    fn open_in_never_follows_a_link_and_refuses_a_fifo() {
        use std::os::fd::AsFd;
        let tmp = tempfile::tempdir().unwrap();
        let dir = File::open(tmp.path()).unwrap();
        std::fs::write(tmp.path().join("f"), "x").unwrap();
        std::os::unix::fs::symlink("f", tmp.path().join("link")).unwrap();
        let c = std::ffi::CString::new(tmp.path().join("fifo").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);

        let mut text = String::new();
        open_in(dir.as_fd(), Path::new("f"), Path::new("out/f")).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "x");
        let link = open_in(dir.as_fd(), Path::new("link"), Path::new("out/link")).unwrap_err();
        assert_eq!(link.raw_os_error(), Some(libc::ELOOP), "{link}");
        let started = std::time::Instant::now();
        let fifo = open_in(dir.as_fd(), Path::new("fifo"), Path::new("out/fifo")).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(fifo.to_string().contains("`out/fifo` is a FIFO"), "{fifo}");
        let missing = open_in(dir.as_fd(), Path::new("absent"), Path::new("out/absent")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
