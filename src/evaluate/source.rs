//! Where a stack's scripts are read from: the work tree, or a git revision held in memory.
//!
//! Both answer the same question, "the script at this project path", under the same rules:
//! the file found, after following links, must lie inside the folders the caller allows
//! (the stack's folder, `lib/`), a link pointing out of them is refused naming it, a
//! project `lib/` that cannot be read as it is (a link out of the project, a git submodule)
//! is an error rather than a reason to use the built-in library instead, and anything that
//! is not a regular file of UTF-8 text is refused with its path.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// A script as read: its name (the project path it really lies at) and its text.
#[derive(Clone, Debug)]
pub struct Script {
    pub name: String,
    pub text: String,
}

/// Why a script could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// It resolves outside the allowed folders; `to` is where it leads.
    Outside { to: String },
    /// It is larger than the limit; its size.
    TooBig(u64),
    /// Anything else, said in full (names the path).
    Other(String),
}

/// The scripts of a project.
pub trait Source: Send + Sync + std::fmt::Debug {
    /// The script at `path` (relative to the project, `/`-separated), which must really
    /// lie inside one of `within` (project folders; `""` is the whole project); `Ok(None)`
    /// when nothing is there.
    fn read(&self, path: &str, within: &[&str], max_size: u64) -> Result<Option<Script>, ReadError>;

    /// Whether the project has a `lib/` of its own; an error when it has one that cannot
    /// be used as it is.
    fn lib(&self) -> Result<bool, String>;

    /// The scripts directly in `stacks/`, by file name (`scaibu.rhai`), sorted.
    fn stacks(&self) -> Result<Vec<String>, String>;
}

/// Whether project path `path` lies inside folder `dir` (`""`: the project itself).
fn inside(path: &str, dir: &str) -> bool {
    dir.is_empty() || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}

/// `path` with `.` and `..` applied, relative to the project; `None` if it climbs out.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The project in the file system, rooted at a canonical folder.
#[derive(Clone, Debug)]
pub struct WorkTree {
    root: PathBuf,
}

impl WorkTree {
    /// The project at `root`.
    pub fn new(root: &Path) -> Result<WorkTree, String> {
        let root = root.canonicalize().map_err(|e| format!("cannot read the project folder `{}`: {e}", root.display()))?;
        Ok(WorkTree { root })
    }

    /// The project a script belongs to (the nearest folder above the one it is named in
    /// holding `lib/` or `.git`, else that folder) and the script's path in it. The script
    /// must really lie inside that project: a `stacks/x.rhai` that is a link to a file
    /// elsewhere (`/etc/passwd`) is refused, as an import would be, rather than read and
    /// shown line by line in a diagnostic.
    pub fn for_script(script: &Path) -> Result<(WorkTree, String), String> {
        let shown = script.display();
        let absolute = std::path::absolute(script).map_err(|e| format!("cannot read stack `{shown}`: {e}"))?;
        let named_in = absolute.parent().unwrap_or(Path::new("/"));
        let dir = named_in.canonicalize().map_err(|e| format!("cannot read stack `{shown}`: {e}"))?;
        let real = absolute.canonicalize().map_err(|e| format!("cannot read stack `{shown}`: {e}"))?;
        let tree = WorkTree { root: super::project_root(&dir) };
        let name = relative(&tree.root, &real).ok_or_else(|| {
            format!(
                "stack `{shown}` is a link to `{}`, outside its project `{}`; scripts are read from the project only",
                real.display(),
                tree.root.display()
            )
        })?;
        Ok((tree, name))
    }

    /// The canonical project folder.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// `file` relative to `root` with `/`, if it is inside.
fn relative(root: &Path, file: &Path) -> Option<String> {
    let rest = file.strip_prefix(root).ok()?;
    let parts: Vec<String> = rest
        .components()
        .map(|c| match c {
            Component::Normal(p) => p.to_str().map(str::to_owned),
            _ => None,
        })
        .collect::<Option<_>>()?;
    Some(parts.join("/"))
}

impl Source for WorkTree {
    fn read(&self, path: &str, within: &[&str], max_size: u64) -> Result<Option<Script>, ReadError> {
        let full = self.root.join(path);
        match std::fs::symlink_metadata(&full) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ReadError::Other(format!("cannot read `{path}`: {e}"))),
            Ok(_) => {}
        }
        let real = full.canonicalize().map_err(|e| ReadError::Other(format!("cannot read `{path}`: {e}")))?;
        let name = match relative(&self.root, &real) {
            Some(name) if within.iter().any(|w| inside(&name, w)) => name,
            _ => return Err(ReadError::Outside { to: real.display().to_string() }),
        };
        let file = crate::files::open(&real).map_err(|e| ReadError::Other(format!("cannot read `{name}`: {e}")))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if size > max_size {
            return Err(ReadError::TooBig(size));
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(file, max_size + 1), &mut bytes)
            .map_err(|e| ReadError::Other(format!("cannot read `{name}`: {e}")))?;
        if bytes.len() as u64 > max_size {
            return Err(ReadError::TooBig(bytes.len() as u64));
        }
        let text = String::from_utf8(bytes).map_err(|e| ReadError::Other(format!("cannot read `{name}` as UTF-8 text: {e}")))?;
        Ok(Some(Script { name, text }))
    }

    fn lib(&self) -> Result<bool, String> {
        let lib = self.root.join("lib");
        match std::fs::symlink_metadata(&lib) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(format!("cannot read `lib/`: {e}")),
            Ok(_) => {}
        }
        let real = lib.canonicalize().map_err(|e| format!("cannot read `lib/`: {e}"))?;
        if relative(&self.root, &real).is_none() {
            return Err(format!(
                "`lib` is a symbolic link to `{}`, outside the project; scripts are read from the project only (copy the modules into `lib/`, or link to a folder inside the project)",
                real.display()
            ));
        }
        if !real.is_dir() {
            return Ok(false);
        }
        if is_submodule_path(&self.root, "lib") && !lib.join(".git").exists() {
            return Err("`lib/` is a git submodule that is not checked out, so its modules cannot be read; run `git submodule update --init lib`".to_owned());
        }
        Ok(true)
    }

    fn stacks(&self) -> Result<Vec<String>, String> {
        let dir = self.root.join("stacks");
        let entries = match std::fs::read_dir(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot read `stacks/`: {e}")),
            Ok(entries) => entries,
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read `stacks/`: {e}"))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".rhai") {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }
}

/// Whether `.gitmodules` at the project root declares a submodule at `path`.
fn is_submodule_path(root: &Path, path: &str) -> bool {
    let Ok(text) = crate::files::read_to_string(&root.join(".gitmodules")) else { return false };
    text.lines().any(|line| {
        let line = line.trim();
        line.strip_prefix("path").map(str::trim_start).and_then(|l| l.strip_prefix('=')).is_some_and(|p| p.trim().trim_end_matches('/') == path)
    })
}

/// One entry of a revision's tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A file's bytes.
    File(Vec<u8>),
    /// A symbolic link and its target, as written.
    Link(String),
    /// A git submodule: its files are not in this repository.
    Submodule,
    /// A file too large to load; its size.
    TooBig(u64),
    /// A file whose object is not in the repository (a shallow or partial clone).
    Missing,
}

/// A git revision's `stacks/` and `lib/`, read from git's objects (never checked out, so
/// neither `.gitattributes` nor filters change what is reviewed).
#[derive(Clone, Debug)]
pub struct GitTree {
    /// The revision as the user named it, for messages.
    pub rev: String,
    /// Entries by project path.
    pub entries: BTreeMap<String, Entry>,
}

/// How many links a path may go through before it is taken for a loop.
const MAX_LINKS: usize = 40;

impl GitTree {
    /// Follows links along `path` inside the tree: the project path it really names, or why
    /// it cannot be followed.
    fn resolve(&self, path: &str) -> Result<String, ReadError> {
        let mut current = path.to_owned();
        for _ in 0..MAX_LINKS {
            let parts: Vec<&str> = current.split('/').collect();
            let mut followed = None;
            for i in 1..=parts.len() {
                let prefix = parts[..i].join("/");
                match self.entries.get(&prefix) {
                    Some(Entry::Link(target)) => {
                        let base = parts[..i - 1].join("/");
                        let joined = if target.starts_with('/') {
                            return Err(ReadError::Outside { to: target.clone() });
                        } else if base.is_empty() {
                            target.clone()
                        } else {
                            format!("{base}/{target}")
                        };
                        let rest = parts[i..].join("/");
                        let next = if rest.is_empty() { joined } else { format!("{joined}/{rest}") };
                        followed = Some(normalize(&next).ok_or_else(|| ReadError::Outside { to: target.clone() })?);
                        break;
                    }
                    Some(Entry::Submodule) => {
                        return Err(ReadError::Other(format!(
                            "`{prefix}` is a git submodule at `{}`; its files are not in this repository, so the review cannot read them",
                            self.rev
                        )));
                    }
                    _ => {}
                }
            }
            match followed {
                Some(next) => current = next,
                None => return Ok(current),
            }
        }
        Err(ReadError::Other(format!("`{path}` at `{}` goes through more than {MAX_LINKS} links", self.rev)))
    }

    /// Whether the review read `path`'s folder (only `stacks/` and `lib/` are read).
    fn covers(path: &str) -> bool {
        inside(path, "stacks") || inside(path, "lib") || path == "lib" || path == "stacks"
    }
}

impl Source for GitTree {
    fn read(&self, path: &str, within: &[&str], max_size: u64) -> Result<Option<Script>, ReadError> {
        let real = self.resolve(path)?;
        if real != path && !Self::covers(&real) {
            return Err(ReadError::Other(format!(
                "`{path}` at `{}` is a link to `{real}`; the review reads only `stacks/` and `lib/` of a revision and follows no link out of them",
                self.rev
            )));
        }
        if !within.iter().any(|w| inside(&real, w)) {
            return Err(ReadError::Outside { to: real });
        }
        let rev = &self.rev;
        match self.entries.get(&real) {
            None => Ok(None),
            Some(Entry::File(bytes)) => {
                if bytes.len() as u64 > max_size {
                    return Err(ReadError::TooBig(bytes.len() as u64));
                }
                let text = String::from_utf8(bytes.clone())
                    .map_err(|_| ReadError::Other(format!("`{real}` at `{rev}` is not UTF-8 text")))?;
                Ok(Some(Script { name: real, text }))
            }
            Some(Entry::TooBig(size)) => Err(ReadError::TooBig(*size)),
            Some(Entry::Missing) => Err(ReadError::Other(format!(
                "`{real}` at `{rev}` cannot be read: its object is not in this clone (a shallow or partial clone; `git fetch --unshallow`)"
            ))),
            Some(Entry::Submodule) => Err(ReadError::Other(format!("`{real}` is a git submodule at `{rev}`; the review cannot read it"))),
            Some(Entry::Link(_)) => Err(ReadError::Other(format!("`{real}` at `{rev}` is a link the review cannot follow"))),
        }
    }

    fn lib(&self) -> Result<bool, String> {
        match self.entries.get("lib") {
            Some(Entry::Submodule) => {
                return Err(format!(
                    "`lib` is a git submodule at `{}`; its modules are not in this repository, so the review cannot read them (and will not use the built-in library instead)",
                    self.rev
                ));
            }
            Some(Entry::Link(target)) => {
                let real = self.resolve("lib").map_err(|_| {
                    format!("`lib` at `{}` is a symbolic link to `{target}`, outside the project; scripts are read from the project only", self.rev)
                })?;
                return Err(format!(
                    "`lib` at `{}` is a symbolic link to `{real}`; the review reads only `stacks/` and `lib/` of a revision and follows no link out of them",
                    self.rev
                ));
            }
            _ => {}
        }
        Ok(self.entries.keys().any(|k| inside(k, "lib")))
    }

    fn stacks(&self) -> Result<Vec<String>, String> {
        if let Some(Entry::Submodule | Entry::Link(_)) = self.entries.get("stacks") {
            return Err(format!("`stacks` at `{}` is a submodule or a link; the review reads only a real `stacks/` folder", self.rev));
        }
        Ok(self
            .entries
            .keys()
            .filter_map(|k| k.strip_prefix("stacks/"))
            .filter(|name| !name.contains('/') && name.ends_with(".rhai"))
            .map(str::to_owned)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(entries: &[(&str, Entry)]) -> GitTree {
        GitTree { rev: "HEAD".into(), entries: entries.iter().map(|(p, e)| (p.to_string(), e.clone())).collect() }
    }

    #[test]
    fn links_inside_are_followed_and_links_out_refused() {
        let t = tree(&[
            ("stacks/a.rhai", Entry::File(b"let x = 1;".to_vec())),
            ("stacks/b.rhai", Entry::Link("a.rhai".into())),
            ("stacks/c.rhai", Entry::Link("../../etc/passwd".into())),
            ("stacks/d.rhai", Entry::Link("/etc/passwd".into())),
            ("stacks/e.rhai", Entry::Link("../README.md".into())),
            ("stacks/loop.rhai", Entry::Link("loop.rhai".into())),
            ("lib/x.rhai", Entry::TooBig(1 << 30)),
        ]);
        let all = &["stacks", "lib"][..];
        assert_eq!(t.read("stacks/b.rhai", all, 1000).unwrap().unwrap().name, "stacks/a.rhai");
        assert!(matches!(t.read("stacks/c.rhai", all, 1000), Err(ReadError::Outside { .. })));
        assert!(matches!(t.read("stacks/d.rhai", all, 1000), Err(ReadError::Outside { .. })));
        assert!(matches!(t.read("stacks/e.rhai", all, 1000), Err(ReadError::Other(m)) if m.contains("follows no link out")));
        assert!(matches!(t.read("stacks/loop.rhai", all, 1000), Err(ReadError::Other(m)) if m.contains("links")));
        assert!(matches!(t.read("lib/x.rhai", all, 1000), Err(ReadError::TooBig(_))));
        assert_eq!(t.read("stacks/none.rhai", all, 1000).unwrap().map(|s| s.name), None);
        assert!(matches!(t.read("stacks/a.rhai", &["lib"], 1000), Err(ReadError::Outside { .. })));
        assert_eq!(t.stacks().unwrap(), ["a.rhai", "b.rhai", "c.rhai", "d.rhai", "e.rhai", "loop.rhai"]);
    }

    #[test]
    fn a_submodule_lib_is_an_error_not_a_fallback() {
        let t = tree(&[("lib", Entry::Submodule), ("stacks/a.rhai", Entry::File(Vec::new()))]);
        assert!(t.lib().unwrap_err().contains("submodule"));
        let t = tree(&[("lib", Entry::Link("/opt/lib".into()))]);
        assert!(t.lib().unwrap_err().contains("symbolic link"));
        let t = tree(&[("lib/loki.rhai", Entry::File(Vec::new()))]);
        assert!(t.lib().unwrap());
        assert!(!tree(&[]).lib().unwrap());
    }

    #[test]
    fn paths_normalize_inside_only() {
        assert_eq!(normalize("stacks/../lib/x.rhai").as_deref(), Some("lib/x.rhai"));
        assert_eq!(normalize("../x"), None);
        assert!(inside("lib/a.rhai", "lib"));
        assert!(!inside("library/a.rhai", "lib"));
        assert!(inside("anything", ""));
    }
}
