//! `obsbuild history`: the numbered builds of a stack.

use std::path::PathBuf;

use super::{Cli, Error, Output, stack_arg};
use crate::exit;
use crate::store::Store;

/// List the builds of a stack: number, time, store path and git commit.
///
/// A build is recorded when it differs from the stack's previous build; rebuilding
/// without a change adds nothing. Without a stack, every stack in the state folder.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stack script, a name in `stacks/`, or a stack name recorded in the state folder
    pub stack: Option<PathBuf>,

    /// Machine-readable JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, args: &Args, _out: &Output) -> Result<u8, Error> {
    let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
    let stacks = match &args.stack {
        Some(s) => vec![stack_name(&store, s)?],
        None => store.stacks().map_err(super::store_error)?,
    };
    let mut all = serde_json::Map::new();
    for stack in &stacks {
        let records = store.history(stack).map_err(super::store_error)?;
        if args.json {
            all.insert(stack.clone(), serde_json::to_value(&records).unwrap_or_default());
            continue;
        }
        crate::stdout::line(stack);
        if records.is_empty() {
            crate::stdout::line("  no builds");
        }
        let last = records.last().map(|r| r.number);
        for r in &records {
            let git = r
                .git
                .as_ref()
                .map(|g| format!("{}{}", &g.commit[..g.commit.len().min(12)], if g.dirty { "+dirty" } else { "" }))
                .unwrap_or_else(|| "-".to_owned());
            let mark = if Some(r.number) == last { "  (latest)" } else { "" };
            crate::stdout::line(&format!("  {:>4}  {}  {:<20}  {}{mark}", r.number, r.time, git, r.path));
        }
    }
    if args.json {
        crate::stdout::line(&serde_json::to_string_pretty(&all).unwrap_or_default());
    }
    Ok(exit::OK)
}

/// A stack named on the command line: a script (evaluated for its name) or a recorded name.
fn stack_name(store: &Store, arg: &std::path::Path) -> Result<String, Error> {
    let text = arg.to_string_lossy().into_owned();
    if store.stacks().map_err(super::store_error)?.contains(&text) {
        return Ok(text);
    }
    let script = stack_arg::resolve(Some(arg))?;
    let evaluation = crate::evaluate::evaluate(&script, &Default::default()).map_err(Error::Script)?;
    Ok(evaluation.stack.name)
}
