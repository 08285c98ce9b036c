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

    /// Print the result as JSON on stdout (stack, files, and what was not checked) instead of the file list
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub validators: validators::Flag,
}

pub fn run(cli: &Cli, args: &Args, out: &Output) -> Result<u8, Error> {
    let built = stack_arg::build(args.stack.as_deref(), cli.engine(), out)?;
    let mut ran = Vec::new();
    if let Some(code) = validators::run_reporting(args.validators.validators, &built, out, &mut ran)? {
        return Ok(code);
    }
    if args.json {
        crate::stdout::line(&json(&built, &ran));
        return Ok(exit::OK);
    }
    for path in built.build.files.keys() {
        crate::stdout::line(path);
    }
    let engine = if built.evaluation.stack.engine.is_compose() { "" } else { " (for Swarm)" };
    out.note(&format!("stack `{}`{engine} is valid: {} files", built.build.stack, built.build.files.len()));
    // After the verdict, so that "valid" is read with what it does not cover.
    if !built.not_checked.is_empty() {
        out.note("not checked (no schema covers these settings):");
        for n in &built.not_checked {
            out.note(&format!("  {n}"));
        }
    }
    Ok(exit::OK)
}

/// `check --json` (docs/CHECK.md): the verdict, the files, and what was not checked.
fn json(built: &crate::pipeline::Built, validators: &[serde_json::Value]) -> String {
    let value = serde_json::json!({
        "stack": built.build.stack,
        "valid": true,
        "files": built.build.files.keys().collect::<Vec<_>>(),
        "warnings": built.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "not_checked": built.not_checked,
        "validators": validators,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}
