//! `--validators`: running promtool, amtool and docker-compose on a build before it is
//! reported valid (`check`) or stored (`build`), and saying what ran and what did not.

use clap::ValueEnum;

use super::{Error, Output};
use crate::exit;
use crate::validators::{self, Input, Outcome, Report};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Run the validators found on PATH; list the missing ones.
    Auto,
    /// Like auto, but a missing validator, or one that cannot run, is an error (exit 3).
    Require,
    /// Run none.
    Off,
}

#[derive(Debug, clap::Args)]
pub struct Flag {
    /// Run the components' own validators on the rendered files: `promtool check config`,
    /// `check rules` and `test rules`, `amtool check-config`, `docker-compose config -q`.
    /// Their complaints are reported at the script line the file came from.
    #[arg(long, value_enum, env = "OBSBUILD_VALIDATORS", default_value_t = Mode::Auto, value_name = "WHEN")]
    pub validators: Mode,
}

/// Runs the validators `mode` asks for on `built` and says on stderr what ran. `Ok(None)`:
/// go on; `Ok(Some(code))`: stop with that exit code (already reported); `Err`: the tools'
/// complaints, as diagnostics.
pub fn run(mode: Mode, built: &crate::pipeline::Built, out: &Output) -> Result<Option<u8>, Error> {
    run_reporting(mode, built, out, &mut Vec::new())
}

/// [`run`], also recording each check as JSON in `summary` (for `check --json`).
pub fn run_reporting(mode: Mode, built: &crate::pipeline::Built, out: &Output, summary: &mut Vec<serde_json::Value>) -> Result<Option<u8>, Error> {
    if mode == Mode::Off {
        out.note("validators: off, none ran (--validators off)");
        return Ok(None);
    }
    let input = Input { stack: &built.evaluation.stack, build: &built.build, sources: &built.evaluation.sources };
    let report = validators::run(input, std::env::var_os("PATH").as_deref());
    say(&report, out);
    summary.extend(report.runs.iter().map(|r| {
        let (outcome, detail) = match &r.outcome {
            Outcome::Ran(d) if d.is_empty() => ("ok", String::new()),
            Outcome::Ran(d) => ("errors", format!("{} error(s)", d.len())),
            Outcome::FailedToRun(why) => ("failed to run", why.clone()),
            Outcome::Missing => ("missing", String::new()),
        };
        serde_json::json!({ "tool": r.tool, "check": r.check, "file": r.file, "outcome": outcome, "detail": detail, "notes": r.notes })
    }));
    let diagnostics = report.diagnostics();
    if !diagnostics.is_empty() {
        return Err(Error::Script(precise(built, diagnostics)));
    }
    let missing = report.missing();
    let failed: Vec<String> = report.failed().map(|(r, _)| r.name()).collect();
    if mode == Mode::Require && (!missing.is_empty() || !failed.is_empty()) {
        let mut why = Vec::new();
        if !missing.is_empty() {
            why.push(format!("not on PATH: {}", missing.join(", ")));
        }
        if !failed.is_empty() {
            why.push(format!("could not run: {}", failed.join(", ")));
        }
        out.error(&Error::Message(format!(
            "--validators require: {}; install them (Debian: prometheus, prometheus-alertmanager, docker-compose) or use --validators auto",
            why.join("; ")
        )));
        return Ok(Some(exit::VALIDATOR_MISSING));
    }
    Ok(None)
}

/// Complaints about what the library declared carry the library's line; as the pipeline
/// does for its own checks, the script is evaluated again with the call stack and the tools
/// run on the same files again, so that they point at the user's lines.
fn precise(built: &crate::pipeline::Built, diagnostics: Vec<crate::diagnostic::Diagnostic>) -> crate::evaluate::Failure {
    let fast = || crate::evaluate::Failure { diagnostics: crate::diagnostic::Diagnostics(diagnostics.clone()), sources: built.evaluation.sources.clone() };
    if !diagnostics.iter().any(crate::evaluate::wants_call_stack) {
        return fast();
    }
    let script = built.evaluation.project.join(&built.evaluation.script);
    let Ok(evaluation) = crate::evaluate::evaluate_with(&script, &Default::default(), crate::evaluate::Trace::CallStack) else { return fast() };
    let input = Input { stack: &evaluation.stack, build: &built.build, sources: &evaluation.sources };
    let again = validators::run(input, std::env::var_os("PATH").as_deref()).diagnostics();
    if again.is_empty() {
        return fast();
    }
    crate::evaluate::Failure { diagnostics: crate::diagnostic::Diagnostics(again), sources: evaluation.sources }
}

/// One line per check that ran or could not, then the missing tools.
fn say(report: &Report, out: &Output) {
    for run in &report.runs {
        let line = match &run.outcome {
            Outcome::Ran(d) if d.is_empty() => format!("validators: {} {}: ok", run.name(), run.file),
            Outcome::Ran(d) => format!("validators: {} {}: {} error{}", run.name(), run.file, d.len(), if d.len() == 1 { "" } else { "s" }),
            Outcome::FailedToRun(why) => format!("validators: {} {}: failed to run ({why}); not checked", run.name(), run.file),
            Outcome::Missing => continue,
        };
        out.note(&line);
        for note in &run.notes {
            out.note(&format!("  note: {note}"));
        }
    }
    let missing = report.missing();
    if !missing.is_empty() {
        let checks: Vec<String> = report.runs.iter().filter(|r| matches!(r.outcome, Outcome::Missing)).map(|r| format!("{} {}", r.name(), r.file)).collect();
        out.note(&format!("validators: missing (not on PATH): {}; not checked: {}", missing.join(", "), checks.join(", ")));
    }
}
