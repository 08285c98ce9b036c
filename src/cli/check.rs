//! `obsbuild check`: evaluate, validate and render a stack without writing anything.

use std::path::PathBuf;

use super::{Cli, Error, Output, stack_arg, validators};
use crate::exit;

/// Check a stack script: evaluate it, validate it and render it, writing nothing.
///
/// Prints the files the build would have, after the components' own validators passed
/// (see `--validators`). With `--validators off`, fast enough for an editor's save hook.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stack script, or the name of one in `stacks/` [default: $OBSBUILD_STACK or stacks/task-manager.rhai]
    pub stack: Option<PathBuf>,

    #[command(flatten)]
    pub validators: validators::Flag,
}

pub fn run(_cli: &Cli, args: &Args, out: &Output) -> Result<u8, Error> {
    let built = stack_arg::build(args.stack.as_deref(), out)?;
    if let Some(code) = validators::run(args.validators.validators, &built, out)? {
        return Ok(code);
    }
    for path in built.build.files.keys() {
        crate::stdout::line(path);
    }
    out.note(&format!("stack `{}` is valid: {} files", built.build.stack, built.build.files.len()));
    Ok(exit::OK)
}
