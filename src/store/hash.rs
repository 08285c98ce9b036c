//! What a store path's name is derived from: the content hash of a [`Build`], the manifest
//! recorded next to the files, and the rules for names and file paths.
//!
//! Pure: nothing here touches the file system.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use crate::build::Build;

/// Bumped whenever the hash framing or the on-disk layout changes; it is hashed, so a new
/// format never reuses an old name.
pub const FORMAT_VERSION: u32 = 1;

/// The manifest's file name at the top of every store path.
pub const MANIFEST: &str = ".manifest.json";

/// How many hex characters of the hash start a store path name.
pub const NAME_HASH_LEN: usize = 32;

/// Prefixes of entries under `store/` that are leftovers, never store paths.
pub const TMP_PREFIX: &str = ".tmp-";
pub const TRASH_PREFIX: &str = ".trash-";

/// The content hash of a build (framing documented on `Store::hash`). Lengths make every
/// boundary unambiguous; the stack name is not hashed because it ends the store path name
/// anyway, and nothing about the machine is.
pub fn hash_build(build: &Build) -> String {
    hash_files(build.files.iter().map(|(p, c)| (p.as_str(), c.as_slice())), build.files.len())
}

/// [`hash_build`] over `(path, content)` pairs already sorted by path.
pub(crate) fn hash_files<'a>(
    files: impl Iterator<Item = (&'a str, &'a [u8])>,
    count: usize,
) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"obsbuild-store\0");
    hasher.update(&FORMAT_VERSION.to_le_bytes());
    hasher.update(&(count as u64).to_le_bytes());
    for (path, content) in files {
        hasher.update(&(path.len() as u64).to_le_bytes());
        hasher.update(path.as_bytes());
        hasher.update(&(content.len() as u64).to_le_bytes());
        hasher.update(content);
    }
    hasher.finalize().to_hex().to_string()
}

/// blake3 of one file's bytes, as hex.
pub fn hash_bytes(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// The store path name of a build with this hash: `<32 hex>-<stack>`.
pub fn path_name(hash: &str, stack: &str) -> String {
    let prefix = hash.get(..NAME_HASH_LEN).unwrap_or(hash);
    format!("{prefix}-{stack}")
}

/// The manifest written as `.manifest.json` inside every store path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT_VERSION`] of the store that wrote it.
    pub format: u32,
    /// The stack name, also the end of the directory name.
    pub stack: String,
    /// The full 64-hex hash; the directory name starts with its first 32 characters.
    pub hash: String,
    /// Every file of the build by relative path (the manifest itself excluded).
    pub files: BTreeMap<String, FileEntry>,
}

/// One file of a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// blake3 of the content, 64 hex chars.
    pub blake3: String,
    /// Length in bytes.
    pub size: u64,
}

impl Manifest {
    /// The manifest of `build`, whose hash the caller already computed.
    pub fn of(build: &Build, hash: &str) -> Manifest {
        let files = build
            .files
            .iter()
            .map(|(path, content)| {
                let entry = FileEntry { blake3: hash_bytes(content), size: content.len() as u64 };
                (path.clone(), entry)
            })
            .collect();
        Manifest {
            format: FORMAT_VERSION,
            stack: build.stack.clone(),
            hash: hash.to_string(),
            files,
        }
    }
}

/// Checks a stack (or root) name: it becomes a file name, so one plain component.
pub fn check_name(kind: &'static str, name: &str) -> Result<()> {
    let bad = |reason| Err(StoreError::InvalidName { kind, name: name.to_string(), reason });
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > 200 {
        return bad("it is longer than 200 characters");
    }
    if name.starts_with(['.', '-']) {
        return bad("it must not start with `.` or `-`");
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return bad("only letters, digits, `-`, `_` and `.` are allowed");
    }
    Ok(())
}

/// Splits a store path name into its hash prefix and stack, if it has the right shape.
pub fn parse_path_name(name: &str) -> Option<(&str, &str)> {
    let (hash, stack) = name.split_at_checked(NAME_HASH_LEN)?;
    let stack = stack.strip_prefix('-')?;
    let hex = hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    (hex && check_name("stack name", stack).is_ok()).then_some((hash, stack))
}

/// What is wrong with one file path of a build, if anything: it must be relative, use `/`,
/// stay inside the folder it is written to, and not be the manifest. `export` holds the
/// paths its marker lists to the same rule.
pub(crate) fn file_path_problem(path: &str) -> Option<&'static str> {
    if path == MANIFEST {
        return Some("is reserved for the store's manifest");
    }
    if path.contains(['\\', '\0']) {
        return Some("contains `\\` or a NUL byte");
    }
    let bad_part = |part: &str| part.is_empty() || part == "." || part == "..";
    if path.split('/').any(bad_part) {
        return Some("must be relative, without empty, `.` or `..` components");
    }
    None
}

/// Checks that every file path of a build is relative, uses `/`, stays inside the store
/// path and does not collide with the manifest or with another file's directory.
pub fn check_build(build: &Build) -> Result<()> {
    check_name("stack name", &build.stack)?;
    let bad = |path: &str, why: &str| {
        Err(StoreError::InvalidBuild {
            reason: format!("file path `{}` {why}", path.escape_debug()),
        })
    };
    for path in build.files.keys() {
        if let Some(why) = file_path_problem(path) {
            return bad(path, why);
        }
        // A file `a` and a file `a/b` cannot both exist on disk.
        for (i, _) in path.match_indices('/') {
            if build.files.contains_key(&path[..i]) {
                return bad(path, "lies under another file of the build");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(files: &[(&str, &str)]) -> Build {
        Build::new("demo", files.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())).collect())
    }

    #[test]
    fn hash_is_stable() {
        let b = build(&[("docker-compose.yml", "services: {}\n"), ("configs/loki.yaml", "a: 1\n")]);
        // Changing this value means every existing store path gets a new name: bump
        // FORMAT_VERSION on purpose, never by accident.
        assert_eq!(
            hash_build(&b),
            "ad4010f2bcc7cd889fcaeca231fe24ae0b09ee54eb0962ec231bfd71c2f87532"
        );
        assert_eq!(hash_build(&Build::default()).len(), 64);
    }

    #[test]
    fn hash_follows_the_documented_framing() {
        let b = build(&[("b", "xyz"), ("a/c", "")]);
        let mut framed = b"obsbuild-store\0".to_vec();
        framed.extend(1u32.to_le_bytes());
        framed.extend(2u64.to_le_bytes());
        for (path, content) in [("a/c", ""), ("b", "xyz")] {
            framed.extend((path.len() as u64).to_le_bytes());
            framed.extend(path.as_bytes());
            framed.extend((content.len() as u64).to_le_bytes());
            framed.extend(content.as_bytes());
        }
        assert_eq!(hash_build(&b), blake3::hash(&framed).to_hex().as_str());
    }

    #[test]
    fn hash_ignores_construction_order_and_stack() {
        let a = build(&[("x", "1"), ("y/z", "2"), ("a", "3")]);
        let mut b = build(&[("a", "3"), ("y/z", "2"), ("x", "1")]);
        assert_eq!(hash_build(&a), hash_build(&b));
        b.stack = "other".into();
        assert_eq!(hash_build(&a), hash_build(&b));
    }

    #[test]
    fn hash_changes_with_any_byte_or_path() {
        let base = build(&[("a.yaml", "key: value\n"), ("b/c.yaml", "x")]);
        let h = hash_build(&base);
        let variants = [
            build(&[("a.yaml", "key: valuf\n"), ("b/c.yaml", "x")]),
            build(&[("a.yaml", "key: value\n "), ("b/c.yaml", "x")]),
            build(&[("a.yml", "key: value\n"), ("b/c.yaml", "x")]),
            build(&[("a.yaml", "key: value\n"), ("b/d.yaml", "x")]),
            build(&[("a.yaml", "key: value\n"), ("b/c.yaml", "x"), ("e", "")]),
            build(&[("a.yaml", "key: value\n")]),
        ];
        for v in &variants {
            assert_ne!(hash_build(v), h, "{v:?}");
        }
    }

    #[test]
    fn framing_is_unambiguous() {
        let pairs = [
            (build(&[("a", "bc")]), build(&[("ab", "c")])),
            (build(&[("a", "b"), ("c", "")]), build(&[("a", "bc")])),
            (build(&[("a", "")]), build(&[])),
            (build(&[("a", "x"), ("b", "y")]), build(&[("a", "x\u{1}\0\0\0\0\0\0\0by")])),
        ];
        for (l, r) in &pairs {
            assert_ne!(hash_build(l), hash_build(r), "{l:?} vs {r:?}");
        }
    }

    #[test]
    fn names() {
        let h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let name = path_name(h, "demo");
        assert_eq!(name, "0123456789abcdef0123456789abcdef-demo");
        assert_eq!(parse_path_name(&name), Some(("0123456789abcdef0123456789abcdef", "demo")));
        assert_eq!(parse_path_name(".tmp-0123456789abcdef0123456789abcdef-demo"), None);
        assert_eq!(parse_path_name("0123456789ABCDEF0123456789abcdef-demo"), None);
        assert_eq!(parse_path_name("0123456789abcdef0123456789abcdef-"), None);
        assert_eq!(parse_path_name("0123456789abcdef0123456789abcdef_demo"), None);
        assert!(check_name("stack name", "a/b").is_err());
        assert!(check_name("stack name", "..").is_err());
        assert!(check_name("stack name", "prod-eu_1.2").is_ok());
    }

    #[test]
    fn bad_build_paths_are_refused() {
        for bad in ["/etc/passwd", "a/../b", "a//b", "./a", "a/", ".manifest.json", "a\\b"] {
            assert!(check_build(&build(&[(bad, "")])).is_err(), "{bad}");
        }
        assert!(check_build(&build(&[("a", ""), ("a/b", "")])).is_err());
        assert!(
            check_build(&build(&[("a", ""), ("ab/c", ""), ("sub/.manifest.json", "")])).is_ok()
        );
    }
}
