//! `obsbuild export`: a build as plain, writable files in a folder of your choice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{Cli, Error, Output, stack_arg};
use crate::diff;
use crate::exit;
use crate::render::{Build, layout};

/// Marker file listing what an export wrote, so a later export can remove files the
/// build no longer has, and never touches a folder it did not make.
const MARKER: &str = ".obsbuild-export";

/// Write a stack's build as plain files, for people and tools that want a folder.
///
/// The folder holds exactly the build: files an earlier export wrote and the build no
/// longer has are removed. A non-empty folder that was not made by `export` is refused.
/// With `--check`, nothing is written: exit code 1 says the folder is stale.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stack script, or the name of one in `stacks/` [default: $OBSBUILD_STACK or stacks/task-manager.rhai]
    pub stack: Option<PathBuf>,

    /// Folder to write the build to
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Write the apps' compose file here instead of `DIR/apps/docker-compose.yml`
    #[arg(long, value_name = "FILE")]
    pub apps_out: Option<PathBuf>,

    /// Compare the folder with the build and write nothing; exit 1 if they differ
    #[arg(long)]
    pub check: bool,
}

/// Where each build file goes: a path under `out`, or the apps file elsewhere.
fn targets(build: &Build, args: &Args) -> BTreeMap<PathBuf, Vec<u8>> {
    build
        .files
        .iter()
        // Activation data is for `obsbuild switch`, not for people reading the folder.
        .filter(|(path, _)| !path.starts_with(".obsbuild/"))
        .map(|(path, bytes)| {
            let target = match (&args.apps_out, path.as_str()) {
                (Some(apps), layout::APPS_COMPOSE) => apps.clone(),
                _ => args.out.join(path),
            };
            (target, bytes.clone())
        })
        .collect()
}

pub fn run(_cli: &Cli, args: &Args, out: &Output) -> Result<u8, Error> {
    let built = stack_arg::build(args.stack.as_deref(), out)?;
    let targets = targets(&built.build, args);
    let previous = read_marker(&args.out);
    if args.check {
        return check(&args.out, &targets, &previous, out);
    }
    write(&args.out, &targets, previous, &built.build)?;
    out.note(&format!("exported `{}` to {} ({} files)", built.build.stack, args.out.display(), targets.len()));
    Ok(exit::OK)
}

/// Files the last export wrote, relative to `out`; `None` if `out` has no marker.
fn read_marker(out: &Path) -> Option<BTreeSet<String>> {
    let text = std::fs::read_to_string(out.join(MARKER)).ok()?;
    Some(text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect())
}

fn relative(out: &Path, target: &Path) -> Option<String> {
    target.strip_prefix(out).ok().map(|p| p.to_string_lossy().replace('\\', "/"))
}

fn check(out: &Path, targets: &BTreeMap<PathBuf, Vec<u8>>, previous: &Option<BTreeSet<String>>, o: &Output) -> Result<u8, Error> {
    let mut want = diff::Files::new();
    let mut have = diff::Files::new();
    for (target, bytes) in targets {
        let name = relative(out, target).unwrap_or_else(|| target.display().to_string());
        want.insert(name.clone(), bytes.clone());
        if let Ok(existing) = std::fs::read(target) {
            have.insert(name, existing);
        }
    }
    // Files an earlier export left that this build no longer has are stale too.
    for name in previous.iter().flatten() {
        if !want.contains_key(name)
            && let Ok(existing) = std::fs::read(out.join(name)) {
                have.insert(name.clone(), existing);
            }
    }
    let d = diff::diff(&have, &want);
    if d.is_empty() {
        o.note(&format!("{} is up to date", out.display()));
        return Ok(exit::OK);
    }
    o.note(&format!("{} is stale; `obsbuild export` would change:", out.display()));
    crate::stdout::write(&d.stat(o.stdout_style()));
    Ok(exit::DIFFERENT)
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Message(format!("cannot {what} `{}`: {e}", path.display()))
}

fn write(out: &Path, targets: &BTreeMap<PathBuf, Vec<u8>>, previous: Option<BTreeSet<String>>, build: &Build) -> Result<(), Error> {
    let occupied = std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(false);
    if occupied && previous.is_none() {
        return Err(Error::Message(format!(
            "refusing to write into `{}`: it is not empty and no earlier `obsbuild export` made it (no `{MARKER}`); choose an empty folder or remove it",
            out.display()
        )));
    }
    for (target, bytes) in targets {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        }
        // Skip unchanged files, so their times stay put for tools that watch them.
        if std::fs::read(target).is_ok_and(|existing| existing == *bytes) {
            continue;
        }
        std::fs::write(target, bytes).map_err(|e| io("write", target, e))?;
    }
    let written: BTreeSet<String> = targets.keys().filter_map(|t| relative(out, t)).collect();
    for stale in previous.iter().flatten().filter(|p| !written.contains(*p)) {
        let path = out.join(stale);
        if path.is_file() {
            std::fs::remove_file(&path).map_err(|e| io("remove", &path, e))?;
        }
        // Drop folders the removal left empty, up to `out`.
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| *d != out && d.starts_with(out)) {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    let mut marker = format!("# Files written by `obsbuild export` of stack `{}`; do not edit.\n", build.stack);
    for name in &written {
        marker.push_str(name);
        marker.push('\n');
    }
    let path = out.join(MARKER);
    std::fs::write(&path, marker).map_err(|e| io("write", &path, e))?;
    Ok(())
}
