//! The command line: argument parsing, one file per subcommand, and the mapping of errors
//! to messages and exit codes. The only place that prints.

mod build;
mod check;
mod diff;
mod discard;
mod export;
mod gc;
mod history;
mod hosts;
mod output;
mod stack_arg;
mod switch;
mod validators;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub use output::Output;

use crate::exit;

/// Reproducible builds and atomic switches of observability stacks described in Rhai.
///
/// A stack script declares services (OpenTelemetry Collector, Loki, Prometheus, Jaeger,
/// Alertmanager, Grafana, your own), how telemetry flows between them, data sources,
/// dashboards and alert rules. `obsbuild build` turns it into every config file, in a
/// content-addressed store path that is the same on every machine.
#[derive(Debug, Parser)]
#[command(name = "obsbuild", version, after_long_help = exit::HELP)]
pub struct Cli {
    /// Folder for builds, history and generations.
    #[arg(long, global = true, env = "OBSBUILD_STATE_DIR", default_value = ".obsbuild", value_name = "DIR")]
    pub state_dir: PathBuf,

    /// When to colour output: on a terminal unless NO_COLOR is set (auto), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorMode::Auto, value_name = "WHEN")]
    pub color: ColorMode,

    /// Build for this engine, whatever the script's `stack(name, #{ engine })` says:
    /// `compose` (one Docker host) or `swarm`.
    #[arg(long, global = true, env = "OBSBUILD_ENGINE", value_enum, value_name = "ENGINE")]
    pub engine: Option<EngineArg>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorMode {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    Compose,
    Swarm,
}

impl Cli {
    /// The engine `--engine` asks for, if it does.
    pub fn engine(&self) -> Option<crate::model::Engine> {
        self.engine.map(|e| match e {
            EngineArg::Compose => crate::model::Engine::Compose,
            EngineArg::Swarm => crate::model::Engine::Swarm,
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Build(build::Args),
    Check(check::Args),
    Diff(diff::Args),
    Export(export::Args),
    History(history::Args),
    Gc(gc::Args),
    Verify(verify::Args),
    Switch(switch::SwitchArgs),
    Rollback(switch::RollbackArgs),
    Generations(switch::GenerationsArgs),
    Status(switch::StatusArgs),
    Down(switch::DownArgs),
    Hosts(hosts::Args),
}

/// A failure to report: script diagnostics with their sources, or one message.
#[derive(Debug)]
pub enum Error {
    Script(crate::evaluate::Failure),
    Message(String),
}

impl From<String> for Error {
    fn from(m: String) -> Self {
        Error::Message(m)
    }
}

/// The command line. An environment variable that is set but empty counts as unset, as
/// `OBSBUILD_STACK` and `NO_COLOR` do; clap would report an empty `OBSBUILD_STATE_DIR` (or
/// `OBSBUILD_VALIDATORS`) as its flag given without a value.
pub fn parse() -> Cli {
    for var in ["OBSBUILD_STATE_DIR", "OBSBUILD_VALIDATORS", "OBSBUILD_ENGINE"] {
        if std::env::var_os(var).is_some_and(|v| v.is_empty()) {
            // SAFETY: at start-up, before any other thread exists.
            unsafe { std::env::remove_var(var) };
        }
    }
    Cli::parse()
}

/// Runs the command and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let out = Output::new(cli.color);
    crate::stdout::keep_going_when_closed(changes_state(&cli.command));
    let result = match &cli.command {
        Command::Build(args) => build::run(&cli, args, &out),
        Command::Check(args) => check::run(&cli, args, &out),
        Command::Diff(args) => diff::run(&cli, args, &out),
        Command::Export(args) => export::run(&cli, args, &out),
        Command::History(args) => history::run(&cli, args, &out),
        Command::Gc(args) => gc::run(&cli, args, &out),
        Command::Verify(args) => verify::run(&cli, args, &out),
        Command::Switch(args) => switch::switch(&cli, args, &out),
        Command::Rollback(args) => switch::rollback(&cli, args, &out),
        Command::Generations(args) => switch::generations(&cli, args, &out),
        Command::Status(args) => switch::status(&cli, args, &out),
        Command::Down(args) => switch::down(&cli, args, &out),
        Command::Hosts(args) => hosts::run(&cli, args, &out),
    };
    // Output that did not arrive (a full disk under `> file`) is never a success.
    let result = match (result, crate::stdout::failure()) {
        (Ok(_), Some(why)) => Err(Error::Message(format!("cannot write to standard output: {why}"))),
        (result, _) => result,
    };
    match result {
        Ok(code) => exit::code(code),
        Err(e) => {
            out.error(&e);
            exit::code(exit::ERROR)
        }
    }
}

/// Whether a command changes state, and so must finish when its standard output goes away.
fn changes_state(command: &Command) -> bool {
    match command {
        Command::Build(_) | Command::Gc(_) | Command::Switch(_) | Command::Rollback(_) | Command::Down(_) => true,
        // Status finishes an interrupted switch before it reports.
        Command::Status(_) => true,
        Command::Export(a) => !a.check,
        Command::Hosts(a) => a.apply,
        Command::Check(_) | Command::Diff(_) | Command::History(_) | Command::Verify(_) | Command::Generations(_) => false,
    }
}

/// An error as one message: what failed, then each cause ([`crate::chain`]).
fn store_error(e: impl std::error::Error + 'static) -> Error {
    Error::Message(crate::chain::render(&e))
}

/// Says which damaged store path was written again, and what was wrong with it.
fn report_repaired(added: &crate::store::Added, out: &Output) {
    if !added.repaired.is_empty() {
        out.note(&format!(
            "warning: store path {} was damaged ({}); it was written again from this build",
            added.path.name,
            added.repaired.join("; ")
        ));
    }
}

/// The project files a build read (the stack and its imports), for `git status`.
fn inputs(evaluation: &crate::evaluate::Evaluation) -> Vec<String> {
    evaluation
        .sources
        .names()
        .filter(|n| !n.starts_with(crate::evaluate::LIBRARY_PREFIX))
        .map(str::to_owned)
        .collect()
}
