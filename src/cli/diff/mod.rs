//! `obsbuild diff`: what changed between two builds of a stack.

use std::path::Path;

use crate::cli::{Cli, Error, Output, stack_arg};
use crate::diff::{self, Files};
use crate::exit;
use crate::store::Store;

mod args;
mod review;

pub use args::{Args, ReviewFormat};

pub fn run(cli: &Cli, args: &Args, out: &Output) -> Result<u8, Error> {
    let code = run_inner(cli, args, out)?;
    Ok(if args.exit_zero && code == exit::DIFFERENT { exit::OK } else { code })
}

fn run_inner(cli: &Cli, args: &Args, out: &Output) -> Result<u8, Error> {
    let format = if args.json { ReviewFormat::Json } else { args.format.unwrap_or(ReviewFormat::Text) };
    match args.rev.len() {
        0 => {}
        // Every stack (or those named), in every view and format: one meaning.
        1 | 2 => {
            if args.stack.is_some() {
                return Err(Error::Message("with `--rev`, name stacks as arguments (`diff --rev main scaibu`); `--stack` is for build numbers".to_owned()));
            }
            return review::run(args, cli.engine(), format, out);
        }
        _ => return Err(Error::Message("give `--rev` at most twice: `--rev OLD --rev NEW`".to_owned())),
    }
    if args.layout || args.files || format == ReviewFormat::Markdown {
        return Err(Error::Message("`--format markdown`, `--files` and `--layout` apply to `--rev`; add `--rev REV`".to_owned()));
    }
    let (old, new, label) = match args.args.as_slice() {
        [] => against_last(cli, args.stack.as_deref())?,
        [stack] => against_last(cli, Some(Path::new(stack)))?,
        [a, b] => {
            let store = Store::open(&cli.state_dir).map_err(crate::cli::store_error)?;
            let stack = args.stack.as_deref();
            (build_files(&store, a, stack)?, build_files(&store, b, stack)?, format!("{a} → {b}"))
        }
        _ => return Err(Error::Message("give a stack, or two builds to compare".to_owned())),
    };
    let d = diff::diff(&old, &new);
    match format {
        ReviewFormat::Json => {
            let mut json = d.to_json();
            if let Some(o) = json.as_object_mut() {
                o.insert("compared".to_owned(), serde_json::Value::String(label.clone()));
            }
            crate::stdout::line(&serde_json::to_string_pretty(&json).unwrap_or_default());
        }
        _ if args.stat => crate::stdout::write(&d.stat(out.stdout_style())),
        _ => crate::stdout::write(&d.unified(out.stdout_style())),
    }
    if d.is_empty() {
        if format != ReviewFormat::Json {
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
    let built = crate::pipeline::build_for(&script, &Default::default(), cli.engine()).map_err(Error::Script)?;
    let name = built.build.stack.clone();
    let store = Store::open(&cli.state_dir).map_err(crate::cli::store_error)?;
    let Some(last) = store.history(&name).map_err(crate::cli::store_error)?.pop() else {
        return Err(Error::Message(format!(
            "`{name}` has no build yet to compare with; run `obsbuild build {}` first",
            script.display()
        )));
    };
    let old = store.read(&store.resolve(&last.path).map_err(crate::cli::store_error)?).map_err(crate::cli::store_error)?;
    Ok((old.files, built.build.files, format!("build {} → now", last.number)))
}

/// A build named on the command line: a build number of the stack, or a store path.
fn build_files(store: &Store, text: &str, stack: Option<&Path>) -> Result<Files, Error> {
    if let Ok(number) = text.parse::<u64>() {
        let script = stack_arg::resolve(stack)?;
        let evaluation = crate::evaluate::evaluate(&script, &Default::default()).map_err(Error::Script)?;
        let name = evaluation.stack.name;
        let history = store.history(&name).map_err(crate::cli::store_error)?;
        let record = history.iter().find(|r| r.number == number).ok_or_else(|| {
            let known: Vec<String> = history.iter().map(|r| r.number.to_string()).collect();
            Error::Message(format!(
                "`{name}` has no build {number}; its builds: {}",
                if known.is_empty() { "none yet".to_owned() } else { known.join(", ") }
            ))
        })?;
        let path = store.resolve(&record.path).map_err(crate::cli::store_error)?;
        return Ok(store.read(&path).map_err(crate::cli::store_error)?.files);
    }
    let path = store.resolve(text).map_err(crate::cli::store_error)?;
    Ok(store.read(&path).map_err(crate::cli::store_error)?.files)
}
