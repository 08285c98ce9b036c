//! Edge: the components' own validators (promtool, amtool, docker-compose, and `docker
//! stack config` for Swarm) on a build's
//! files, with their complaints mapped back to the script declarations that made them.
//!
//! The files are written into a private temporary folder laid out as the build is (rules
//! next to their tests, the compose file at the root), each tool runs in its own thread
//! with a timeout and bounded output, and the report says per check whether it ran (and
//! what it said), was missing from PATH, or could not run. A check that did not run is
//! never reported as passing.

mod amtool;
mod compose;
mod process;
mod promtool;
mod stack;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::diagnostic::{Diagnostic, Sources, Span};
use crate::model::{Service, Stack};
use crate::build::Build;

/// Every validator obsbuild knows, by program name.
pub const TOOLS: [&str; 4] = ["promtool", "amtool", "docker-compose", "docker"];

/// How long one validator may take; none needs more than a few seconds.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What the validators are given: the stack, its rendered files, and the scripts' text (to
/// place carets on the field a tool complained about).
#[derive(Clone, Copy)]
pub struct Input<'a> {
    pub stack: &'a Stack,
    pub build: &'a Build,
    pub sources: &'a Sources,
}

/// One check of one file by one tool.
#[derive(Debug)]
pub struct Run {
    /// The program: one of [`TOOLS`].
    pub tool: &'static str,
    /// Its subcommand: `check config`, `test rules`, `config -q`...
    pub check: &'static str,
    /// The build path of the file checked.
    pub file: String,
    pub outcome: Outcome,
    /// What the reader should know about how it ran (an older promtool's dialect).
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub enum Outcome {
    /// It ran; no complaints when the list is empty.
    Ran(Vec<Diagnostic>),
    /// The program is not on PATH.
    Missing,
    /// It could not run or did not finish: nothing was checked.
    FailedToRun(String),
}

impl Run {
    /// `promtool check config` (the command as a user would type it, without the file).
    pub fn name(&self) -> String {
        format!("{} {}", self.tool, self.check)
    }
}

/// Every check a build got, in a fixed order (by service, then compose).
#[derive(Debug, Default)]
pub struct Report {
    pub runs: Vec<Run>,
}

impl Report {
    /// The complaints of every tool that ran, in script order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut all: Vec<Diagnostic> = self.runs.iter().flat_map(|r| match &r.outcome {
            Outcome::Ran(d) => d.clone(),
            _ => Vec::new(),
        }).collect();
        all.sort_by(|a, b| a.span.cmp(&b.span).then_with(|| a.message.cmp(&b.message)));
        all.dedup();
        all
    }

    /// Tools that were needed but not on PATH, in [`TOOLS`] order.
    pub fn missing(&self) -> Vec<&'static str> {
        TOOLS.into_iter().filter(|t| self.runs.iter().any(|r| r.tool == *t && matches!(r.outcome, Outcome::Missing))).collect()
    }

    /// Checks that could not run, with why.
    pub fn failed(&self) -> impl Iterator<Item = (&Run, &str)> {
        self.runs.iter().filter_map(|r| match &r.outcome {
            Outcome::FailedToRun(why) => Some((r, why.as_str())),
            _ => None,
        })
    }

    /// Checks that ran (passed or not).
    pub fn ran(&self) -> impl Iterator<Item = &Run> {
        self.runs.iter().filter(|r| matches!(r.outcome, Outcome::Ran(_)))
    }
}

/// How a tool's module runs one check: what it said, or why it could not run.
type Check<'a> = Box<dyn Fn(&Context) -> Result<Checked, String> + Send + Sync + 'a>;

/// A check to make: which tool, on which file, and how (in the tool's module).
pub(crate) struct Job<'a> {
    tool: &'static str,
    check: &'static str,
    file: String,
    run: Check<'a>,
}

impl<'a> Job<'a> {
    fn new(tool: &'static str, check: &'static str, file: String, run: impl Fn(&Context) -> Result<Checked, String> + Send + Sync + 'a) -> Self {
        Job { tool, check, file, run: Box::new(run) }
    }
}

/// What a tool said, mapped.
#[derive(Default)]
pub(crate) struct Checked {
    diagnostics: Vec<Diagnostic>,
    notes: Vec<String>,
}

/// Where a job runs: the program found on PATH and the folder holding the build's files.
pub(crate) struct Context {
    program: PathBuf,
    dir: PathBuf,
    path: OsString,
}

impl Context {
    /// Runs the tool in the build's folder, with PATH and a HOME inside that folder (no user
    /// configuration read) and nothing else in its environment.
    fn run(&self, args: &[&OsStr], extra_env: &[(&str, &OsStr)]) -> Result<process::Finished, String> {
        let mut env: Vec<(&str, &OsStr)> = vec![("PATH", self.path.as_os_str()), ("HOME", self.dir.as_os_str()), ("LC_ALL", OsStr::new("C"))];
        env.extend_from_slice(extra_env);
        process::run(&self.program, args, &self.dir, &env, TIMEOUT)
    }
}

/// Runs every check the build's files need with the tools found on `path` (the `PATH`).
pub fn run(input: Input<'_>, path: Option<&OsStr>) -> Report {
    let mut jobs = promtool::jobs(input);
    jobs.extend(amtool::jobs(input));
    jobs.extend(compose::jobs(input));
    jobs.extend(stack::jobs(input));
    let programs: Vec<(&str, Option<PathBuf>)> = TOOLS.iter().map(|t| (*t, process::find(t, path))).collect();
    let found = |tool: &str| programs.iter().find(|(t, _)| *t == tool).and_then(|(_, p)| p.clone());

    let folder = tempfile::Builder::new().prefix("obsbuild-validators-").tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"));
    let written = folder.and_then(|f| write_files(input.build, f.path()).map(|()| f));
    let outcomes: Vec<(Outcome, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|job| {
                let program = found(job.tool);
                let written = &written;
                scope.spawn(move || {
                    let Some(program) = program else { return (Outcome::Missing, Vec::new()) };
                    let dir = match written {
                        Ok(f) => f.path().to_path_buf(),
                        Err(why) => return (Outcome::FailedToRun(why.clone()), Vec::new()),
                    };
                    let cx = Context { program, dir, path: path.map(OsStr::to_os_string).unwrap_or_default() };
                    match (job.run)(&cx) {
                        Ok(c) => (Outcome::Ran(c.diagnostics), c.notes),
                        Err(why) => (Outcome::FailedToRun(why), Vec::new()),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| (Outcome::FailedToRun("the check crashed".to_owned()), Vec::new()))).collect()
    });
    let runs = jobs
        .into_iter()
        .zip(outcomes)
        .map(|(job, (outcome, notes))| Run { tool: job.tool, check: job.check, file: job.file, outcome, notes })
        .collect();
    Report { runs }
}

/// The build's files under `dir`, as `obsbuild export` lays them out.
fn write_files(build: &Build, dir: &Path) -> Result<(), String> {
    for (path, bytes) in &build.files {
        let relative = Path::new(path);
        if relative.is_absolute() || relative.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            return Err(format!("build path `{path}` is not a plain relative path"));
        }
        let target = dir.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot make {}: {e}", parent.display()))?;
        }
        std::fs::write(&target, bytes).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    Ok(())
}

/// A tool's complaint at `span`, with its words quoted and the tool named.
fn complaint(tool: &str, file: &str, span: &Span, said: &str) -> Diagnostic {
    let said = said.trim();
    let first = said.lines().next().unwrap_or(said).trim();
    let mut d = Diagnostic::new(format!("{tool} rejects {file}: {first}")).at(span).label(format!("{file} comes from here"));
    let rest: Vec<&str> = said.lines().skip(1).map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
    if !rest.is_empty() {
        d = d.note(format!("{tool} said:\n{}", rest.join("\n")));
    }
    d.help(format!("obsbuild's own checks passed, but {tool} refuses the file rendered from this declaration; change it so that {tool} accepts it"))
}

/// The span of `needle` written in the call at `span`, else the call itself.
fn narrowed(sources: &Sources, span: &Span, needle: Option<&str>) -> Span {
    needle.and_then(|n| sources.find_in_call(span, n)).unwrap_or_else(|| span.clone())
}

/// Where a complaint about the stack as a whole goes: `stack(...)`, else its first service.
fn stack_span(stack: &Stack) -> Option<Span> {
    stack.span.clone().or_else(|| stack.services.values().next().map(|s: &Service| s.span.clone()))
}

/// The strings in double quotes in `text`, in order.
fn quoted(text: &str) -> impl Iterator<Item = &str> {
    text.split('"').skip(1).step_by(2)
}

/// A `line N` a YAML parser reports.
fn yaml_line(text: &str) -> Option<usize> {
    let at = text.find("line ")?;
    text[at + 5..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_quoted_names_and_yaml_lines() {
        assert_eq!(quoted(r#"undefined receiver "x" used in route "y""#).collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(yaml_line("yaml: unmarshal errors:\n  line 49: field retention not found"), Some(49));
        assert_eq!(yaml_line("no number"), None);
    }
}
