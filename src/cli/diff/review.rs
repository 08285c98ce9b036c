//! `obsbuild diff --rev A [--rev B]`: every stack at two git revisions (or one and the work
//! tree), in each component's terms with the plan a switch would follow, or file by file.
//!
//! An edge: reads each revision's `stacks/` and `lib/` from git's objects (`git::snapshot`,
//! nothing is checked out or written) and prints. The comparisons are pure:
//! [`crate::diff::semantic::render`] and [`crate::diff::review_files`].

use std::path::Path;
use std::sync::Arc;

use super::args::{Args, ReviewFormat};
use crate::cli::{Error, Output};
use crate::diff::review_files::{self, Detail};
use crate::diff::semantic::Options;
use crate::diff::semantic::render::{self, Review, Side, Status};
use crate::evaluate::{Limits, Source, WorkTree};
use crate::exit;

/// One side of the comparison: what to call it and where its scripts are.
struct Tree {
    label: String,
    source: Arc<dyn Source>,
}

/// `engine` is `--engine`'s: both sides are built for it.
pub fn run(args: &Args, engine: Option<crate::model::Engine>, format: ReviewFormat, out: &Output) -> Result<u8, Error> {
    let cwd = std::env::current_dir().map_err(|e| Error::Message(format!("cannot read the current folder: {e}")))?;
    // The project may be a folder inside the repository: each revision is read there.
    let (top, prefix) = crate::git::work_tree(&cwd).ok_or_else(|| {
        Error::Message(format!("`{}` is not in a git work tree; `--rev` compares git revisions of the project", cwd.display()))
    })?;
    let limits = Limits::default();
    let at = |rev: &str| -> Result<Tree, Error> {
        let tree = crate::git::snapshot(Path::new(&top), rev, &prefix, limits.max_file_size).map_err(Error::Message)?;
        Ok(Tree { label: rev.to_owned(), source: Arc::new(tree) })
    };
    // Both revisions are read at once: each is a `git ls-tree` and a `git cat-file` of its own.
    let (old, new) = std::thread::scope(|scope| {
        let old = scope.spawn(|| at(&args.rev[0]));
        let new = match args.rev.get(1) {
            Some(rev) => at(rev),
            None => WorkTree::new(&cwd).map(|w| Tree { label: "work tree".to_owned(), source: Arc::new(w) }).map_err(Error::Message),
        };
        let old = old.join().unwrap_or_else(|_| Err(Error::Message(format!("internal error: reading revision `{}` stopped", args.rev[0]))));
        (old, new)
    });
    let (old, new) = (old?, new?);
    let names = stack_names(&args.args, &[&old, &new])?;
    // The two sides of a stack build at once: each is its own evaluation, and a review is
    // two builds before it is a comparison.
    let sides: Vec<(String, Side, Side)> = names
        .iter()
        .map(|name| {
            std::thread::scope(|scope| {
                let other = scope.spawn(|| side(&old.source, name, &limits, engine));
                let b = side(&new.source, name, &limits, engine);
                let a = other.join().unwrap_or_else(|_| Side::Failed(format!("internal error: building `{name}` at {} stopped", old.label)));
                (name.clone(), a, b)
            })
        })
        .collect();

    let (failed, changed, text) = if args.files || args.stat {
        let detail = if args.stat { Detail::Stat } else { Detail::Patch };
        let stacks: Vec<_> = sides.iter().map(|(name, a, b)| review_files::stack(name, a, b)).collect();
        let text = match format {
            ReviewFormat::Text => review_files::text(&stacks, &old.label, &new.label, detail, out.stdout_style()),
            ReviewFormat::Markdown => review_files::markdown(&stacks, &old.label, &new.label, detail),
            ReviewFormat::Json => json_text(&review_files::json(&stacks, &old.label, &new.label))?,
        };
        let failed = stacks.iter().any(|s| s.status == Status::Failed);
        (failed, stacks.iter().any(|s| s.status != Status::Unchanged), text)
    } else {
        let options = Options { layout: args.layout };
        let mut review = Review { old: old.label.clone(), new: new.label.clone(), stacks: Vec::new() };
        for (name, a, b) in &sides {
            review.stacks.push(render::stack(name, a, b, options));
        }
        let text = match format {
            ReviewFormat::Text => render::text(&review, out.stdout_style()),
            ReviewFormat::Markdown => render::markdown(&review),
            ReviewFormat::Json => json_text(&render::json(&review))?,
        };
        (review.has_failures(), review.has_changes(), text)
    };
    out.print(&text);
    // Both sides of every stack go back with the process (docs/BENCHMARKS.md).
    crate::cli::discard::discard(sides);
    Ok(if failed {
        exit::ERROR
    } else if changed {
        exit::DIFFERENT
    } else {
        exit::OK
    })
}

fn json_text(value: &serde_json::Value) -> Result<String, Error> {
    serde_json::to_string_pretty(value).map(|t| t + "\n").map_err(|e| Error::Message(format!("cannot write JSON: {e}")))
}

/// The stacks named on the command line (`scaibu`, `stacks/scaibu.rhai`), each of which must
/// exist on one side at least, else every script in `stacks/` on either side.
fn stack_names(given: &[String], trees: &[&Tree]) -> Result<Vec<String>, Error> {
    let mut known = std::collections::BTreeSet::new();
    for tree in trees {
        for file in tree.source.stacks().map_err(Error::Message)? {
            known.insert(file.trim_end_matches(".rhai").to_owned());
        }
    }
    if given.is_empty() {
        if known.is_empty() {
            return Err(Error::Message("no stack scripts in `stacks/` at either side; run from the project folder (the one holding `stacks/`)".to_owned()));
        }
        return Ok(known.into_iter().collect());
    }
    let mut names = Vec::new();
    for g in given {
        let file = Path::new(g).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| g.clone());
        let name = file.trim_end_matches(".rhai").to_owned();
        if !known.contains(&name) {
            let list: Vec<&str> = known.iter().map(String::as_str).collect();
            return Err(Error::Message(format!(
                "no stack `{g}` in `stacks/` at {} or {}; stacks there: {}",
                trees[0].label,
                trees.get(1).map_or("", |t| t.label.as_str()),
                if list.is_empty() { "none".to_owned() } else { list.join(", ") }
            )));
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// `stacks/<name>.rhai` of a side, built.
fn side(source: &Arc<dyn Source>, name: &str, limits: &Limits, engine: Option<crate::model::Engine>) -> Side {
    let main = format!("stacks/{name}.rhai");
    match source.read(&main, &[""], limits.max_file_size) {
        Ok(None) => return Side::Absent,
        Ok(Some(_)) => {}
        // Reading it again below says why, as a diagnostic of this stack.
        Err(_) => {}
    }
    match crate::pipeline::build_source_for(source.clone(), &main, limits, engine) {
        Ok(built) => {
            // The review reads the build; the evaluation behind it goes back with the
            // process, on this side's thread rather than freed on the review's critical path.
            crate::cli::discard::discard(built.evaluation);
            crate::cli::discard::discard(crate::promql::take_readings());
            Side::Built(Box::new(built.build), Some(Box::new(built.index)))
        }
        Err(f) => Side::Failed(crate::diagnostic::render_all(&f.diagnostics.0, &f.sources, crate::diagnostic::Paint::Plain)),
    }
}
