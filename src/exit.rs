//! Exit codes, all in one place. `--help` prints [`HELP`].

use std::process::ExitCode;

/// Success; for `diff` and `export --check`, also "no differences".
pub const OK: u8 = 0;
/// `diff`: the builds differ. `export --check`: the export is stale. `verify`: a store
/// path is damaged. `status`: the running stack differs from its generation.
pub const DIFFERENT: u8 = 1;
/// An error: a script or validation error, bad arguments, an I/O or Docker failure.
pub const ERROR: u8 = 2;
/// `check`/`build --validators require`: a validator is not on PATH or could not run, so
/// the build was not checked as asked (nothing was stored).
pub const VALIDATOR_MISSING: u8 = 3;
/// A command that only reads stopped because its standard output was closed (`| head`),
/// as a process killed by SIGPIPE would; see [`crate::stdout`].
pub const CLOSED_PIPE: u8 = crate::stdout::CLOSED_PIPE_EXIT;

pub fn code(c: u8) -> ExitCode {
    ExitCode::from(c)
}

/// The exit codes, as `--help` shows them.
pub const HELP: &str = "\
Exit codes:
  0  success; `diff`, `export --check`: no differences
  1  `diff`: the builds differ; `export --check`: the export is stale;
     `verify`: a store path is damaged; `status`: the running stack differs
     from its current generation
  2  error: script or validation error, bad arguments, I/O or Docker failure;
     `switch`/`rollback`: nothing was touched (preflight), or the switch failed
     and every service was put back on the previous generation; also: standard
     output could not be written (a full disk); `check`/`build`: promtool,
     amtool, docker-compose or `docker stack config` rejected a rendered file;
     `switch` of a build for Swarm, which it cannot deploy yet
  3  `check`/`build --validators require`: a validator is not on PATH or
     could not run (nothing was stored)
  141 standard output was closed early (`| head`): a command that only reads
     stops, as one killed by SIGPIPE; commands that change state finish first
     and exit with their own code

Environment:
  OBSBUILD_STATE_DIR  state directory (default `.obsbuild`)
  OBSBUILD_STACK      stack used when none is given (default `stacks/task-manager.rhai`)
  OBSBUILD_VALIDATORS default of `check`/`build --validators` (auto, require, off)
  OBSBUILD_ENGINE     default of `--engine` (compose, swarm)
  NO_COLOR            never colour output";
