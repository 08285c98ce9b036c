//! `obsbuild gc`: remove store paths nothing refers to.

use super::{Cli, Error, Output};
use crate::exit;
use crate::store::Store;

/// Remove store paths that no history record and no root (a generation) refers to.
///
/// With `--keep N`, first forget all but the last N builds of each stack. Leftovers of
/// interrupted builds go too.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep only the last N builds of each stack in its history
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,

    /// Say what would be removed, remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(cli: &Cli, args: &Args, out: &Output) -> Result<u8, Error> {
    if args.keep == Some(0) {
        return Err(Error::Message("`--keep 0` would forget every build; keep at least 1".to_owned()));
    }
    let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
    let report = store.gc(args.keep, args.dry_run).map_err(super::store_error)?;
    let verb = if args.dry_run { "would remove" } else { "removed" };
    for path in &report.removed {
        crate::stdout::line(&format!("{verb} {path}"));
    }
    out.note(&format!(
        "{verb} {} store paths ({} bytes){}",
        report.removed.len(),
        report.bytes_freed,
        if report.records_pruned > 0 { format!(", forgot {} old builds", report.records_pruned) } else { String::new() }
    ));
    Ok(exit::OK)
}
