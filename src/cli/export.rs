//! `obsbuild export`: a build as plain, writable files in a folder of your choice. The
//! folder work is `store::Export`'s; this file parses arguments and prints.

use std::path::PathBuf;

use super::{Cli, Error, Output, stack_arg, store_error};
use crate::diff;
use crate::exit;
use crate::store::Export;

/// Write a stack's build as plain files, for people and tools that want a folder.
///
/// The folder holds exactly the build and a marker, `.obsbuild-export`, listing the files
/// export wrote: files an earlier export wrote and the build no longer has are removed, and
/// nothing else is. A non-empty folder without a marker is refused, and so is a marker that
/// is not one export wrote (the error names its line). Export writes only real files and
/// folders inside --out: a symbolic link, FIFO, socket or device on the way is an error
/// naming it. Exports into one folder wait for each other. With `--check`, nothing is
/// written: exit code 1 says the folder is stale.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stack script, or the name of one in `stacks/` [default: $OBSBUILD_STACK or stacks/task-manager.rhai]
    pub stack: Option<PathBuf>,

    /// Folder to write the build to (created if missing; may be a symbolic link to one)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Write the apps' compose file here instead of `DIR/apps/docker-compose.yml`; it must
    /// be a regular file or nothing, not a symbolic link
    #[arg(long, value_name = "FILE")]
    pub apps_out: Option<PathBuf>,

    /// Compare the folder with the build and write nothing; exit 1 if they differ
    #[arg(long)]
    pub check: bool,
}

pub fn run(cli: &Cli, args: &Args, out: &Output) -> Result<u8, Error> {
    let built = stack_arg::build(args.stack.as_deref(), cli.engine(), out)?;
    let export = Export::of(&built.build, args.apps_out.as_deref()).map_err(store_error)?;
    let dir = args.out.display();
    if !args.check {
        let report = export.write(&args.out).map_err(store_error)?;
        out.note(&format!(
            "exported `{}` to {dir} ({} files: {} written, {} removed)",
            built.build.stack, report.files, report.written, report.removed
        ));
        return Ok(exit::OK);
    }
    let comparison = export.check(&args.out).map_err(store_error)?;
    let d = diff::diff(&comparison.have, &comparison.want);
    if d.is_empty() {
        out.note(&format!("{dir} is up to date"));
        return Ok(exit::OK);
    }
    if comparison.unfinished {
        out.note(&format!("the last export into {dir} did not finish"));
    }
    out.note(&format!("{dir} is stale; `obsbuild export` would change:"));
    crate::stdout::write(&d.stat(out.stdout_style()));
    Ok(exit::DIFFERENT)
}
