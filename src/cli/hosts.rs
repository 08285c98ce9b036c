//! `obsbuild hosts`: a stack's host names in the machine's hosts file.

use std::path::{Path, PathBuf};

use super::{Cli, Error, Output, stack_arg};
use crate::apply::hosts::{self, HostsChange};
use crate::exit;
use crate::plan;
use crate::build::Build;
use crate::store::Store;

/// Print the stack's host names for /etc/hosts, or write them there with `--apply`.
///
/// The names are the stack script's `hosts_entry(address, name)` calls, as carried by the
/// stack's current generation (what `switch` runs), else by its newest build: after
/// changing them, run `obsbuild build` or `switch` first.
///
/// `--apply` writes them between `# BEGIN obsbuild STACK` and `# END obsbuild STACK`,
/// one line per address, replacing the stack's previous block where it is (marker lines
/// are recognised with blanks around them); every other line of the file stays as it is,
/// and an unchanged file is not written. A stack without host names has its block
/// removed. `obsbuild down STACK` removes it too. Writing /etc/hosts needs root (`sudo`);
/// `--file` writes another file.
///
/// The file must be a regular file, or a symbolic link to one: the link is kept and the
/// file it names is written. A link to nothing, a folder, a FIFO or a device is refused.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stack name, or its script [default: $OBSBUILD_STACK or stacks/task-manager.rhai]
    pub stack: Option<PathBuf>,
    /// Write the block into the hosts file (without it, only print the block)
    #[arg(long)]
    pub apply: bool,
    /// The hosts file `--apply` writes
    #[arg(long, value_name = "PATH", default_value = "/etc/hosts")]
    pub file: PathBuf,
}

pub fn run(cli: &Cli, args: &Args, out: &Output) -> Result<u8, Error> {
    let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
    let stack = stack_arg::stack_name(&store, args.stack.as_deref())?;
    let (from, build) = source(&store, &stack, args.stack.as_deref())?;
    let entries = plan::hosts::of_build(&build).map_err(Error::Message)?;
    let file = args.file.display();
    if !args.apply {
        crate::stdout::write(&plan::hosts::block(&stack, &entries));
        if entries.is_empty() {
            out.note(&format!("`{stack}` ({from}) has no host names; `--apply` removes its block from {file}, if there is one"));
        } else {
            out.note(&format!(
                "host names of `{stack}` from {from}; `--apply` writes them to {file}"
            ));
        }
        return Ok(exit::OK);
    }
    let change = hosts::apply(&store, &stack, &entries, &args.file).map_err(|e| {
        let fix = if e.needs_root() {
            format!("; run it as root (`sudo obsbuild hosts {stack} --apply`), or write another file with `--file PATH`")
        } else {
            String::new()
        };
        Error::Message(format!("{}{fix}", crate::chain::render(&e)))
    })?;
    out.note(&match change {
        HostsChange::Written => format!("wrote the host names of `{stack}` ({from}) to {file}"),
        HostsChange::Removed => {
            format!("removed the block of `{stack}` from {file}: {from} has no host names")
        }
        HostsChange::Unchanged if entries.is_empty() => {
            format!("{file} has no block of `{stack}`; nothing to do")
        }
        HostsChange::Unchanged => {
            format!("{file} already has the host names of `{stack}` ({from}); not written")
        }
    });
    Ok(exit::OK)
}

/// The build the host names come from: the current generation, else the newest build.
fn source(store: &Store, stack: &str, arg: Option<&Path>) -> Result<(String, Build), Error> {
    let (what, name) = match store.profile(stack).current().map_err(super::store_error)? {
        Some(g) => (format!("generation {}", g.number), g.path),
        None => match store.history(stack).map_err(super::store_error)?.pop() {
            Some(r) => (format!("build {}", r.number), r.path),
            None => {
                let shown = arg.map(|a| format!(" {}", a.display())).unwrap_or_default();
                return Err(Error::Message(format!(
                    "`{stack}` has not been built, and its host names come from its build; run `obsbuild build{shown}` first"
                )));
            }
        },
    };
    let path = store.resolve(&name).map_err(super::store_error)?;
    let build = store.read(&path).map_err(super::store_error)?;
    Ok((what, build))
}
