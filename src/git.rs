//! The git commit a stack was built from, for history records (never hashed).
//!
//! An edge: runs `git`. Without git, or outside a work tree, there is simply no commit.

use std::path::Path;
use std::process::{Command, Stdio};

use std::collections::BTreeMap;

use crate::evaluate::source::{Entry, GitTree};
use crate::store::GitInfo;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The commit checked out in `project`, and whether any of `inputs` (paths relative to
/// the project: the stack script and the modules it imported) differs from it.
pub fn info(project: &Path, inputs: &[String]) -> Option<GitInfo> {
    let commit = git(project, &["rev-parse", "HEAD"])?;
    let mut args = vec!["status", "--porcelain", "--"];
    args.extend(inputs.iter().map(String::as_str));
    let dirty = git(project, &args).is_none_or(|s| !s.is_empty());
    Some(GitInfo { commit, dirty })
}

/// The top of the git work tree that holds `dir`, and where `dir` is inside it (`""` at
/// the top, else `a/b/`): one `git rev-parse`, as a review starts with it.
pub fn work_tree(dir: &Path) -> Option<(std::path::PathBuf, String)> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--show-toplevel", "--show-prefix"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    // One line each, the prefix's empty at the top; a path may hold any other byte.
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.strip_suffix('\n').unwrap_or(&text).splitn(2, '\n');
    let top = lines.next().filter(|t| !t.is_empty())?;
    Some((top.into(), lines.next().unwrap_or_default().to_owned()))
}

/// The commit `rev` names, or why it names none: a shallow clone is told how to get the
/// history it lacks.
fn commit(top: &Path, rev: &str) -> Result<String, String> {
    if rev.starts_with('-') || rev.is_empty() {
        return Err(format!("`{rev}` is not a revision"));
    }
    if let Some(id) = git(top, &["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{rev}^{{commit}}")]) {
        return Ok(id);
    }
    if git(top, &["rev-parse", "--is-shallow-repository"]).as_deref() == Some("true") {
        return Err(format!(
            "`{rev}` is not a commit of this clone, which is shallow (it holds only the newest commits); \
             fetch the history with `git fetch --unshallow` (GitHub Actions: `actions/checkout` with `fetch-depth: 0`), \
             or fetch the revision itself"
        ));
    }
    Err(format!("`{rev}` is not a commit of the repository at `{}`", top.display()))
}

/// The `stacks/` and `lib/` of the project at `project` (a prefix such as `""` or `sub/`)
/// in revision `rev`, read from git's objects: `ls-tree` for the entries, `cat-file
/// --batch` for their bytes. Nothing is checked out, so `.gitattributes` (export-ignore,
/// filters) cannot change what is read, and nothing else of the repository is read: a
/// file larger than `max_size` is listed but not loaded.
pub fn snapshot(top: &Path, rev: &str, project: &str, max_size: u64) -> Result<GitTree, String> {
    if rev.starts_with('-') || rev.is_empty() {
        return Err(format!("`{rev}` is not a revision"));
    }
    // `^{commit}`: a tag or a commit, never a tree or a blob. Listed at once; only when
    // that fails is the revision looked at again, to say why.
    let listing = run_git(
        top,
        &[
            "ls-tree",
            "-r",
            "-l",
            "-z",
            "--full-tree",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
            "--",
            &format!("{project}stacks"),
            &format!("{project}lib"),
        ],
        None,
    )
    .map_err(|e| commit(top, rev).err().unwrap_or_else(|| format!("cannot list the files of `{rev}`: {e}")))?;
    let mut entries = BTreeMap::new();
    // Entries whose bytes are read: (project path, object id, whether it is a link).
    let mut wanted: Vec<(String, String, bool)> = Vec::new();
    for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        let Some((meta, path)) = record.split_once('\t') else {
            return Err(format!("git ls-tree gave an entry it should not: `{record}`"));
        };
        let Some(path) = path.strip_prefix(project) else { continue };
        let fields: Vec<&str> = meta.split_whitespace().collect();
        let [mode, _kind, object, size] = fields[..] else {
            return Err(format!("git ls-tree gave an entry it should not: `{record}`"));
        };
        let entry = match mode {
            "160000" => Entry::Submodule,
            "120000" => {
                wanted.push((path.to_owned(), object.to_owned(), true));
                continue;
            }
            _ => match size.parse::<u64>() {
                Ok(n) if n > max_size => Entry::TooBig(n),
                _ => {
                    wanted.push((path.to_owned(), object.to_owned(), false));
                    continue;
                }
            },
        };
        entries.insert(path.to_owned(), entry);
    }
    let input: String = wanted.iter().map(|(_, object, _)| format!("{object}\n")).collect();
    let output = run_git(top, &["cat-file", "--batch"], Some(input.into_bytes()))
        .map_err(|e| format!("cannot read the files of `{rev}`: {e}"))?;
    let mut rest = &output[..];
    for (path, object, link) in &wanted {
        let end = rest.iter().position(|b| *b == b'\n').ok_or_else(|| format!("git cat-file stopped before `{path}`"))?;
        let header = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 1..];
        if header.ends_with(" missing") {
            entries.insert(path.clone(), Entry::Missing);
            continue;
        }
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .filter(|_| header.starts_with(object.as_str()))
            .ok_or_else(|| format!("git cat-file gave `{header}` for `{path}`"))?;
        if rest.len() < size + 1 {
            return Err(format!("git cat-file stopped inside `{path}`"));
        }
        let bytes = rest[..size].to_vec();
        rest = &rest[size + 1..];
        let entry = if *link {
            Entry::Link(String::from_utf8_lossy(&bytes).into_owned())
        } else {
            Entry::File(bytes)
        };
        entries.insert(path.clone(), entry);
    }
    Ok(GitTree { rev: rev.to_owned(), entries })
}

/// Runs git with `input` on its standard input (written from another thread, so that a
/// large answer cannot block it), returning standard output; stderr in the error.
fn run_git(top: &Path, args: &[&str], input: Option<Vec<u8>>) -> Result<Vec<u8>, String> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(args)
        // Paths are names, never patterns; and no pager, no prompts.
        .env("GIT_LITERAL_PATHSPECS", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let writer = match (input, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &bytes))),
        _ => None,
    };
    let out = child.wait_with_output().map_err(|e| format!("cannot run git: {e}"))?;
    if let Some(w) = writer {
        let _ = w.join();
    }
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    Ok(out.stdout)
}
