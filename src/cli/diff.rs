//! `obsbuild diff`: what changed between two builds of a stack.

use std::path::{Path, PathBuf};

use super::{Cli, Error, Output, stack_arg};
use crate::diff::{self, Files};
use crate::exit;
use crate::store::Store;

/// Show what changed in a stack's build.
///
/// Without arguments: the stack as it is now against its last build. With two arguments:
/// two builds, each a store path (or its name) or a build number of the stack. With
/// `--rev A`: every stack at git revision A against the work tree; with `--rev A --rev B`,
/// both sides from git. Revisions are shown in each component's terms (scrape jobs, alert
/// rules, pipelines, panels, services) with the plan a switch would follow and the panels
/// and alert rules each change reaches (lose their data, read what changed, routed
/// elsewhere); `--files` shows the files' lines instead (docs/REVIEW.md).
///
/// Exit code 0 when the builds are equal, 1 when they differ, 2 on error (a stack that does
/// not build at a revision is an error, reported with the others).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A stack, or two builds to compare (store paths, store path names, build numbers); with
    /// `--rev`, any number of stacks
    #[arg(value_name = "STACK | A B", num_args = 0..)]
    pub args: Vec<String>,

    /// The stack whose build numbers are meant [default: $OBSBUILD_STACK or stacks/task-manager.rhai]
    #[arg(long, value_name = "STACK")]
    pub stack: Option<PathBuf>,

    /// A git revision (commit, branch, tag) to compare with the work tree; twice: the first
    /// against the second. The positional arguments then name stacks [default: all in stacks/]
    #[arg(long, value_name = "REV", action = clap::ArgAction::Append)]
    pub rev: Vec<String>,

    /// How to show a `--rev` comparison
    #[arg(long, value_enum, default_value_t = ReviewFormat::Text)]
    pub format: ReviewFormat,

    /// With `--rev`: the unified diff of each stack's files instead of the semantic view
    #[arg(long)]
    pub files: bool,

    /// With `--rev`: show dashboard layout changes (panel positions and ids), hidden by default
    #[arg(long)]
    pub layout: bool,

    /// Exit 0 when there are changes too (errors still exit 2), for CI steps that only report
    #[arg(long)]
    pub exit_zero: bool,

    /// Only which files changed and by how much
    #[arg(long, conflicts_with = "json")]
    pub stat: bool,

    /// Machine-readable JSON of the files' diff
    #[arg(long)]
    pub json: bool,
}

/// The renderings of a `--rev` comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewFormat {
    /// For a terminal, coloured only there
    Text,
    /// For a pull-request comment: a summary line, a collapsible section per stack
    Markdown,
    /// Versioned JSON (`"schema": 1`), see docs/REVIEW.md
    Json,
}

pub fn run(cli: &Cli, args: &Args, out: &Output) -> Result<u8, Error> {
    let code = run_inner(cli, args, out)?;
    Ok(if args.exit_zero && code == exit::DIFFERENT { exit::OK } else { code })
}

/// How the difference is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Patch,
    Stat,
    Json,
}

fn run_inner(cli: &Cli, args: &Args, out: &Output) -> Result<u8, Error> {
    let files_view = args.files || args.stat || args.json;
    // One --rev with a files view and at most one stack is the older per-file comparison.
    let per_file_rev = args.rev.len() == 1 && files_view && args.args.len() <= 1;
    match args.rev.len() {
        1 if per_file_rev => {}
        0 => {
            if args.layout || args.files || args.format != ReviewFormat::Text {
                return Err(Error::Message("`--format`, `--files` and `--layout` apply to `--rev`; add `--rev REV`".to_owned()));
            }
        }
        1 | 2 => return super::review::run(args, out),
        _ => return Err(Error::Message("give `--rev` at most twice: `--rev OLD --rev NEW`".to_owned())),
    }
    let format = match (args.stat, args.json) {
        (_, true) => Format::Json,
        (true, _) => Format::Stat,
        _ => Format::Patch,
    };
    let (old, new, label) = match (args.args.as_slice(), args.rev.first()) {
        ([], Some(rev)) => at_revision(args.stack.as_deref().map(Path::new), rev)?,
        ([stack], Some(rev)) => at_revision(Some(Path::new(stack)), rev)?,
        (_, Some(_)) => return Err(Error::Message("`--rev` compares one stack; give at most one argument".to_owned())),
        ([], None) => against_last(cli, args.stack.as_deref())?,
        ([stack], None) => against_last(cli, Some(Path::new(stack)))?,
        ([a, b], None) => {
            let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
            let stack = args.stack.as_deref();
            (build_files(&store, a, stack)?, build_files(&store, b, stack)?, format!("{a} → {b}"))
        }
        _ => return Err(Error::Message("give a stack, or two builds to compare".to_owned())),
    };
    let d = diff::diff(&old, &new);
    match format {
        Format::Json => {
            let mut json = d.to_json();
            if let Some(o) = json.as_object_mut() {
                o.insert("compared".to_owned(), serde_json::Value::String(label.clone()));
            }
            println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
        }
        Format::Stat => print!("{}", d.stat(out.stdout_style())),
        Format::Patch => print!("{}", d.unified(out.stdout_style())),
    }
    if d.is_empty() {
        if format != Format::Json {
            out.note(&format!("no differences ({label})"));
        }
        Ok(exit::OK)
    } else {
        Ok(exit::DIFFERENT)
    }
}

/// The stack now against its last recorded build.
fn against_last(cli: &Cli, stack: Option<&Path>) -> Result<(Files, Files, String), Error> {
    let script = stack_arg::resolve(stack)?;
    let built = crate::pipeline::build(&script, &Default::default()).map_err(Error::Script)?;
    let name = built.build.stack.clone();
    let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
    let Some(last) = store.history(&name).map_err(super::store_error)?.pop() else {
        return Err(Error::Message(format!(
            "`{name}` has no build yet to compare with; run `obsbuild build {}` first",
            script.display()
        )));
    };
    let old = store.read(&store.resolve(&last.path).map_err(super::store_error)?).map_err(super::store_error)?;
    Ok((old.files, built.build.files, format!("build {} → now", last.number)))
}

/// A build named on the command line: a build number of the stack, or a store path.
fn build_files(store: &Store, text: &str, stack: Option<&Path>) -> Result<Files, Error> {
    if let Ok(number) = text.parse::<u64>() {
        let script = stack_arg::resolve(stack)?;
        let evaluation = crate::evaluate::evaluate(&script, &Default::default()).map_err(Error::Script)?;
        let name = evaluation.stack.name;
        let history = store.history(&name).map_err(super::store_error)?;
        let record = history.iter().find(|r| r.number == number).ok_or_else(|| {
            let known: Vec<String> = history.iter().map(|r| r.number.to_string()).collect();
            Error::Message(format!(
                "`{name}` has no build {number}; its builds: {}",
                if known.is_empty() { "none yet".to_owned() } else { known.join(", ") }
            ))
        })?;
        let path = store.resolve(&record.path).map_err(super::store_error)?;
        return Ok(store.read(&path).map_err(super::store_error)?.files);
    }
    let path = store.resolve(text).map_err(super::store_error)?;
    Ok(store.read(&path).map_err(super::store_error)?.files)
}

/// The stack at git revision `rev` against the stack in the work tree.
fn at_revision(stack: Option<&Path>, rev: &str) -> Result<(Files, Files, String), Error> {
    let script = stack_arg::resolve(stack)?;
    let real = script.canonicalize().map_err(|e| Error::Message(format!("cannot read `{}`: {e}", script.display())))?;
    let dir = real.parent().unwrap_or(Path::new("/"));
    let top = crate::git::toplevel(dir)
        .ok_or_else(|| Error::Message(format!("`{}` is not in a git work tree", script.display())))?;
    let relative = real
        .strip_prefix(top.canonicalize().unwrap_or(top.clone()))
        .map_err(|_| Error::Message("the stack is outside its git work tree".to_owned()))?
        .to_path_buf();
    let tmp = tempdir()?;
    crate::git::export_revision(&top, rev, tmp.path()).map_err(Error::Message)?;
    let then = tmp.path().join(&relative);
    if !then.is_file() {
        return Err(Error::Message(format!("`{}` does not exist at `{rev}`", relative.display())));
    }
    let old = crate::pipeline::build(&then, &Default::default()).map_err(|f| {
        Error::Message(format!(
            "the stack at `{rev}` does not build:\n{}",
            crate::diagnostic::render_all(&f.diagnostics.0, &f.sources, crate::diagnostic::Paint::Plain)
        ))
    })?;
    let new = crate::pipeline::build(&script, &Default::default()).map_err(Error::Script)?;
    Ok((old.build.files, new.build.files, format!("{rev} → work tree")))
}

fn tempdir() -> Result<tempfile::TempDir, Error> {
    tempfile::Builder::new()
        .prefix("obsbuild-rev-")
        .tempdir()
        .map_err(|e| Error::Message(format!("cannot make a temporary folder: {e}")))
}
