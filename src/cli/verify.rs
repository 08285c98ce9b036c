//! `obsbuild verify`: re-hash the store and name damaged paths.

use super::{Cli, Error, Output};
use crate::exit;
use crate::store::Store;

/// Re-hash every store path against its manifest and its name; name any that is damaged.
///
/// Exit code 1 when a path is damaged: rebuild its stack (`obsbuild build`) after
/// removing it, or run `obsbuild gc`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(cli: &Cli, _args: &Args, out: &Output) -> Result<u8, Error> {
    let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
    let report = store.verify().map_err(super::store_error)?;
    for damaged in &report.damaged {
        crate::stdout::line(&format!("damaged {}", damaged.name));
        for p in &damaged.problems {
            crate::stdout::line(&format!("  {p}"));
        }
    }
    for t in &report.temporaries {
        out.note(&format!("leftover of an interrupted build: {t} (`obsbuild gc` removes it)"));
    }
    let checked = report.ok.len() + report.damaged.len();
    out.note(&format!("{checked} store paths checked, {} damaged", report.damaged.len()));
    Ok(if report.damaged.is_empty() { exit::OK } else { exit::DIFFERENT })
}
