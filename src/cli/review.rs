//! `obsbuild diff --rev A [--rev B]`: every stack at two git revisions (or one and the work
//! tree), in each component's terms, with the plan a switch would follow.
//!
//! An edge: runs git, builds the scripts of each revision in a temporary folder, prints.
//! The comparison itself is [`crate::diff::semantic::render::stack`], pure.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::diff::{Args, ReviewFormat};
use super::{Error, Output};
use crate::diff::semantic::render::{self, Review, Side};
use crate::diff::semantic::Options;
use crate::exit;

/// One side of the comparison: where its project folder is, and what to call it.
struct Tree {
    label: String,
    project: PathBuf,
    /// Keeps the exported revision until the comparison is done.
    _tmp: Option<tempfile::TempDir>,
}

pub fn run(args: &Args, out: &Output) -> Result<u8, Error> {
    let cwd = std::env::current_dir().map_err(|e| Error::Message(format!("cannot read the current folder: {e}")))?;
    let top = crate::git::toplevel(&cwd).ok_or_else(|| {
        Error::Message(format!("`{}` is not in a git work tree; `--rev` compares git revisions of the project", cwd.display()))
    })?;
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    // The project may be a folder inside the repository: each revision's copy has it at
    // the same place.
    let inside = canonical(&cwd).strip_prefix(canonical(&top)).map(Path::to_path_buf).unwrap_or_default();
    let old = at_revision(&top, &inside, &args.rev[0])?;
    let new = match args.rev.get(1) {
        Some(rev) => at_revision(&top, &inside, rev)?,
        None => Tree { label: "work tree".to_owned(), project: cwd.clone(), _tmp: None },
    };
    let names = stack_names(&args.args, &[&old.project, &new.project]);
    if names.is_empty() {
        return Err(Error::Message("no stack scripts in `stacks/` at either revision; name one, or run from the project folder".to_owned()));
    }
    if args.files || args.stat || args.json {
        return files_view(&names, &old, &new, args, out);
    }
    let options = Options { layout: args.layout };
    let mut review = Review { old: old.label.clone(), new: new.label.clone(), stacks: Vec::new() };
    for name in &names {
        let (a, b) = (side(&old.project, name), side(&new.project, name));
        review.stacks.push(render::stack(name, &a, &b, options));
    }
    match args.format {
        ReviewFormat::Text => print!("{}", render::text(&review, out.stdout_style())),
        ReviewFormat::Markdown => print!("{}", render::markdown(&review)),
        ReviewFormat::Json => {
            let text = serde_json::to_string_pretty(&render::json(&review)).map_err(|e| Error::Message(format!("cannot write JSON: {e}")))?;
            println!("{text}");
        }
    }
    Ok(if review.has_failures() {
        exit::ERROR
    } else if review.has_changes() {
        exit::DIFFERENT
    } else {
        exit::OK
    })
}

/// `--files` (or `--stat`, `--json`) over revisions: each stack's files, as `diff A B` shows two builds.
fn files_view(names: &[String], old: &Tree, new: &Tree, args: &Args, out: &Output) -> Result<u8, Error> {
    let mut code = exit::OK;
    let mut json = serde_json::Map::new();
    for name in names {
        let built = |t: &Tree| match side(&t.project, name) {
            Side::Built(f) => Ok(f),
            Side::Absent => Ok(Default::default()),
            Side::Failed(m) => Err(Error::Message(format!("`{name}` does not build at {}:\n{m}", t.label))),
        };
        let d = crate::diff::diff(&built(old)?, &built(new)?);
        if !d.is_empty() {
            code = exit::DIFFERENT;
        }
        if args.json {
            json.insert(name.clone(), d.to_json());
        } else if !d.is_empty() {
            println!("# {name}");
            let style = out.stdout_style();
            print!("{}", if args.stat { d.stat(style) } else { d.unified(style) });
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::Value::Object(json)).unwrap_or_default());
    }
    Ok(code)
}

fn at_revision(top: &Path, inside: &Path, rev: &str) -> Result<Tree, Error> {
    let tmp = tempfile::Builder::new()
        .prefix("obsbuild-rev-")
        .tempdir()
        .map_err(|e| Error::Message(format!("cannot make a temporary folder: {e}")))?;
    crate::git::export_revision(top, rev, tmp.path()).map_err(Error::Message)?;
    Ok(Tree { label: rev.to_owned(), project: tmp.path().join(inside), _tmp: Some(tmp) })
}

/// The stacks named on the command line (`scaibu`, `stacks/scaibu.rhai`), else every
/// script in `stacks/` on either side.
fn stack_names(given: &[String], projects: &[&Path]) -> Vec<String> {
    if !given.is_empty() {
        let mut names: Vec<String> = given
            .iter()
            .map(|g| {
                let file = Path::new(g).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| g.clone());
                file.trim_end_matches(".rhai").to_owned()
            })
            .collect();
        names.dedup();
        return names;
    }
    let mut names = BTreeSet::new();
    for project in projects {
        let Ok(entries) = std::fs::read_dir(project.join("stacks")) else { continue };
        for e in entries.flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            if let Some(name) = file.strip_suffix(".rhai") {
                names.insert(name.to_owned());
            }
        }
    }
    names.into_iter().collect()
}

/// `stacks/<name>.rhai` of a project, built.
fn side(project: &Path, name: &str) -> Side {
    let script = project.join("stacks").join(format!("{name}.rhai"));
    if !script.is_file() {
        return Side::Absent;
    }
    match crate::pipeline::build(&script, &Default::default()) {
        Ok(built) => Side::Built(built.build.files),
        Err(f) => {
            let text = crate::diagnostic::render_all(&f.diagnostics.0, &f.sources, crate::diagnostic::Paint::Plain);
            // Paths relative to the project read the same for every revision and machine.
            let prefix = format!("{}/", project.display());
            let real = project.canonicalize().map(|p| format!("{}/", p.display())).unwrap_or_else(|_| prefix.clone());
            Side::Failed(text.replace(&real, "").replace(&prefix, ""))
        }
    }
}
