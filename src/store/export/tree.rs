//! Paths under the export folder, one component at a time through real folders: walking
//! to a folder, creating the folders a file needs, reading a file, removing one an earlier
//! export wrote.

use std::collections::BTreeSet;

use super::beneath::{Child, Entry, Folder};
use super::{ExportError, MAX_FILE, Result};

/// `a/b/c` → (`a/b`, `c`); `c` → (``, `c`).
pub fn split(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_owned() } else { format!("{dir}/{name}") }
}

/// The folders holding these files, and `DIR` itself (``).
pub fn folders<'a>(files: impl Iterator<Item = &'a String>) -> BTreeSet<&'a str> {
    let mut dirs: BTreeSet<&str> = files.map(|f| split(f).0).collect();
    dirs.insert("");
    dirs
}

/// The real folder `rel` under `root`; `None` if it is missing or something other than a
/// folder is on the way (nothing can be under it). A link on the way is an error.
pub fn walk(root: &Folder, rel: &str) -> Result<Option<Folder>> {
    let mut folder = root.try_clone()?;
    for part in rel.split('/').filter(|p| !p.is_empty()) {
        folder = match folder.child(part)? {
            Child::Folder(child) => child,
            Child::Absent | Child::Not(_) => return Ok(None),
        };
    }
    Ok(Some(folder))
}

/// The folder `rel` under `root`, created as needed. A file an earlier export wrote
/// (listed) where the build now needs a folder is removed; anything else there is an error.
/// Folders that gained an entry go into `touched`, to be fsynced.
pub fn make_folders(root: &Folder, rel: &str, listed: &BTreeSet<String>, touched: &mut BTreeSet<String>) -> Result<Folder> {
    let mut folder = root.try_clone()?;
    let mut so_far = String::new();
    for part in rel.split('/').filter(|p| !p.is_empty()) {
        let here = join(&so_far, part);
        let parent = std::mem::replace(&mut so_far, here);
        let child = match folder.child(part)? {
            Child::Folder(child) => child,
            Child::Absent => {
                touched.insert(parent);
                folder.make_child(part)?
            }
            Child::Not(Entry::File) if listed.contains(&so_far) => {
                folder.remove_file(part)?;
                touched.insert(parent);
                folder.make_child(part)?
            }
            Child::Not(entry) => return Err(ExportError::NotAFolder { path: folder.path_of(part), kind: entry.kind() }),
        };
        folder = child;
    }
    Ok(folder)
}

/// The bytes of the regular file `rel` under `root`, if there is one; a folder there counts
/// as none (export would leave it), a link or a special file is an error.
pub fn read_at(root: &Folder, rel: &str) -> Result<Option<Vec<u8>>> {
    let (dir_rel, name) = split(rel);
    let Some(dir) = walk(root, dir_rel)? else { return Ok(None) };
    match dir.read_file(name, MAX_FILE) {
        Err(ExportError::NotAFile { kind, .. }) if kind == Entry::Folder.kind() => Ok(None),
        other => other,
    }
}

/// Removes a file an earlier export wrote, then the folders that leaves empty; returns 1 if
/// a file was removed. A folder there is left (the build may now have files under it).
pub fn remove_stale(root: &Folder, rel: &str, touched: &mut BTreeSet<String>) -> Result<usize> {
    let (dir_rel, name) = split(rel);
    let Some(dir) = walk(root, dir_rel)? else { return Ok(0) };
    let removed = match dir.entry(name)? {
        Entry::File => usize::from(dir.remove_file(name)?),
        Entry::Absent | Entry::Folder => 0,
        Entry::Link => return Err(ExportError::Link { path: dir.path_of(name) }),
        Entry::Special(kind) => return Err(ExportError::NotAFile { path: dir.path_of(name), kind }),
    };
    if removed > 0 {
        touched.insert(dir_rel.to_owned());
    }
    let mut empty = dir_rel;
    while !empty.is_empty() {
        let (parent, name) = split(empty);
        match walk(root, parent)? {
            Some(folder) if folder.remove_empty(name) => touched.insert(parent.to_owned()),
            _ => break,
        };
        empty = parent;
    }
    Ok(removed)
}
