//! The git commit a stack was built from, for history records (never hashed).
//!
//! An edge: runs `git`. Without git, or outside a work tree, there is simply no commit.

use std::path::Path;
use std::process::{Command, Stdio};

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

/// The top of the git work tree that holds `dir`.
pub fn toplevel(dir: &Path) -> Option<std::path::PathBuf> {
    git(dir, &["rev-parse", "--show-toplevel"]).map(std::path::PathBuf::from)
}

/// Writes the tree of revision `rev` of the repository at `top` into the empty folder
/// `into` (tracked files only, as `git archive` gives them).
pub fn export_revision(top: &Path, rev: &str, into: &Path) -> Result<(), String> {
    if rev.starts_with('-') {
        return Err(format!("`{rev}` is not a revision"));
    }
    let resolved = git(top, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
        .ok_or_else(|| format!("`{rev}` is not a commit of the repository at `{}`", top.display()))?;
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["archive", "--format=tar", &resolved])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let Some(stdout) = archive.stdout.take() else {
        let _ = archive.kill();
        let _ = archive.wait();
        return Err("cannot read the output of git archive".to_owned());
    };
    let status = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(into)
        .stdin(stdout)
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run tar: {e}"));
    // Wait for git whatever tar did: a half-written archive must not pass for a revision.
    let archived = archive.wait_with_output().map_err(|e| format!("cannot run git archive: {e}"))?;
    if !archived.status.success() {
        let why = String::from_utf8_lossy(&archived.stderr);
        return Err(format!("git archive of `{rev}` failed: {}", why.trim()));
    }
    if !status?.success() {
        return Err(format!("cannot unpack revision `{rev}`"));
    }
    Ok(())
}
