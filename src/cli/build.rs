//! `obsbuild build`: evaluate, validate and render a stack into the store.

use std::path::PathBuf;
use std::time::SystemTime;

use super::{Cli, Error, Output, stack_arg, validators};
use crate::diff;
use crate::exit;
use crate::store::{RecordMeta, Store};

/// Build a stack: evaluate its script, check it, render every config file into a
/// content-addressed store path, and record it in the stack's history.
///
/// Shows what changed since the stack's previous build (as `--stat`), then prints the
/// store path as the last line of standard output. A build that promtool, amtool or
/// docker-compose refuses (see `--validators`) is not stored.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stack script, or the name of one in `stacks/` [default: $OBSBUILD_STACK or stacks/task-manager.rhai]
    pub stack: Option<PathBuf>,

    #[command(flatten)]
    pub validators: validators::Flag,
}

pub fn run(cli: &Cli, args: &Args, out: &Output) -> Result<u8, Error> {
    let built = stack_arg::build(args.stack.as_deref(), cli.engine(), out)?;
    // A build the validators reject is not stored.
    if let Some(code) = validators::run(args.validators.validators, &built, out)? {
        return Ok(code);
    }
    let stack = built.build.stack.clone();

    let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
    let previous = store.history(&stack).map_err(super::store_error)?.pop();
    let inputs = super::inputs(&built.evaluation);
    let meta = RecordMeta {
        time: SystemTime::now(),
        git: crate::git::info(&built.evaluation.project, &inputs),
        script: built.evaluation.script.clone(),
    };
    let added = store.add_and_record(&built.build, meta, None).map_err(super::store_error)?;
    super::report_repaired(&added, out);
    let (path, record) = (added.path, added.record);

    match (&previous, &record) {
        (None, _) => out.note(&format!("first build of `{stack}` ({} files)", built.build.files.len())),
        (Some(prev), None) => out.note(&format!("no changes since build {} of `{stack}`", prev.number)),
        (Some(prev), Some(new)) => {
            let old = store.read(&store.resolve(&prev.path).map_err(super::store_error)?).map_err(super::store_error)?;
            let d = diff::diff(&old.files, &built.build.files);
            out.note(&format!("build {} of `{stack}`, changes since build {}:", new.number, prev.number));
            out.stderr_text(&d.stat(out.stderr_style()));
        }
    }
    crate::stdout::line(&path.dir.display().to_string());
    // The last thing the process does (4% of a 10,000-service build's CPU time).
    crate::cli::discard::discard(built);
    Ok(exit::OK)
}
