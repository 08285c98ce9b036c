//! Stage 6: making the running containers match a build, all or nothing.
//!
//! The plan is printed, checked (preflight), then applied step by step with every step in
//! the journal before it is taken. Any failure puts every changed service back on the old
//! generation and the command fails; success moves `current` by one atomic rename. A switch
//! killed at any point is finished or undone by the next run ([`recover`]).

mod execute;
mod health;
pub mod hosts;
mod network;
mod preflight;
mod recover;
mod reload;
pub mod report;
pub mod secrets;
mod tls;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

pub use execute::NEXT;
pub use recover::{Recovery, recovered};
pub use reload::metric_value;
pub use report::{Json, Phase, Report, Text};

use crate::deployment::{self, Deployment};
use crate::plan::{self, Action, Plan, Reason};
use crate::build::Build;
use crate::runtime::{Runtime, RuntimeError, label};
use crate::store::{Entry, GitInfo, Store, StoreError, StorePath};

/// How a switch runs.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// How long a changed service may take to become ready.
    pub timeout: Duration,
    /// After success, keep watching this long and roll back if a service turns unhealthy.
    pub confirm: Option<Duration>,
    /// Print the plan and stop.
    pub dry_run: bool,
    /// Pull images that are not on the machine (preflight).
    pub pull: bool,
}

/// What to activate.
pub struct Target {
    pub build: Build,
    pub path: StorePath,
    /// The generation this path already is (rollback); `None` makes a new one.
    pub generation: Option<u64>,
    pub git: Option<GitInfo>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The plan was printed, nothing touched.
    DryRun,
    /// Everything already matched the target.
    Unchanged { generation: u64 },
    /// The stack now runs generation `generation`; `changed` services were touched.
    Switched { generation: u64, changed: usize },
}

/// Why a switch failed.
#[derive(Debug)]
pub enum SwitchError {
    Runtime(RuntimeError),
    Store(StoreError),
    /// Problems found before touching anything.
    Preflight(Vec<String>),
    /// A step failed; every service was put back (`problems` lists what could not be).
    Failed { service: String, action: Action, why: String, problems: Vec<String> },
    /// The confirm window saw a service fail; the switch was rolled back.
    Unconfirmed { service: String, why: String, problems: Vec<String> },
    Other(String),
}

impl std::fmt::Display for SwitchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail = |f: &mut std::fmt::Formatter<'_>, problems: &[String]| -> std::fmt::Result {
            if problems.is_empty() {
                write!(f, "; every service is back on the previous generation")
            } else {
                write!(f, "; rolling back left problems: {}", problems.join("; "))
            }
        };
        match self {
            SwitchError::Runtime(e) => write!(f, "{e}"),
            SwitchError::Store(e) => write!(f, "{e}"),
            SwitchError::Preflight(p) => write!(f, "nothing was touched:\n  - {}", p.join("\n  - ")),
            SwitchError::Failed { service, action, why, problems } => {
                write!(f, "{} of `{service}` failed: {why}", action.name())?;
                tail(f, problems)
            }
            SwitchError::Unconfirmed { service, why, problems } => {
                write!(f, "`{service}` failed during the confirm window: {why}")?;
                tail(f, problems)
            }
            SwitchError::Other(m) => f.write_str(m),
        }
    }
}

/// The runtime's and the store's errors are passed through: their messages, then their causes.
impl std::error::Error for SwitchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SwitchError::Runtime(e) => e.source(),
            SwitchError::Store(e) => e.source(),
            SwitchError::Preflight(_) | SwitchError::Failed { .. } | SwitchError::Unconfirmed { .. } | SwitchError::Other(_) => None,
        }
    }
}

impl From<RuntimeError> for SwitchError {
    fn from(e: RuntimeError) -> Self {
        SwitchError::Runtime(e)
    }
}

impl From<StoreError> for SwitchError {
    fn from(e: StoreError) -> Self {
        SwitchError::Store(e)
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// A name no other switch has: the process and the time.
fn switch_id() -> String {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

/// The build of the generation that is current, if any.
fn current_build(store: &Store, stack: &str) -> Result<Option<(crate::store::Generation, Build)>, SwitchError> {
    let Some(g) = store.profile(stack).current()? else { return Ok(None) };
    let path = store.resolve(&g.path)?;
    let build = store.read(&path)?;
    Ok(Some((g, build)))
}

/// Config hashes the running services have, from the current generation.
fn applied(a: &Deployment, current: Option<&Build>) -> Option<BTreeMap<String, String>> {
    current.map(|b| plan::config_hashes(a.services.iter().map(|d| d.service.as_str()), b))
}

/// Makes the running stack match `target`. The caller holds the stack's switch lock and
/// has run [`recover`].
pub async fn activate<R: Runtime>(
    rt: &R,
    store: &Store,
    target: Target,
    opts: &Options,
    report: &mut dyn Report,
) -> Result<Outcome, SwitchError> {
    activate_with(rt, store, target, opts, report, false).await
}

async fn activate_with<R: Runtime>(
    rt: &R,
    store: &Store,
    target: Target,
    opts: &Options,
    report: &mut dyn Report,
    distrust_config: bool,
) -> Result<Outcome, SwitchError> {
    let stack = target.build.stack.clone();
    let profile = store.profile(&stack);
    let live = profile.live_dir();
    let mut a = deployment::load(&stack, &target.build.files, &live).map_err(|e| SwitchError::Other(e.to_string()))?;
    let written = secrets::materialize(rt, store, &mut a, !opts.dry_run, opts.pull).await?;
    for note in &written.notes {
        report.note(note);
    }
    if !written.files.is_empty() {
        report.note(&format!("secret files written: {}", written.files.join(", ")));
    }
    let current = current_build(store, &stack)?;
    let running = rt.containers(&stack).await?;
    let applied = if distrust_config { None } else { applied(&a, current.as_ref().map(|(_, b)| b)) };
    let plan = plan::plan(&a.services, &running, applied.as_ref());
    let generations = profile.generations()?;
    let number = target.generation.unwrap_or_else(|| match generations.last() {
        Some(last) if last.path == target.path.name => last.number,
        Some(last) => last.number + 1,
        None => 1,
    });
    let from = current.as_ref().map(|(g, _)| g.number);
    report.plan(&stack, &plan, from, number);

    // Nothing to touch: no checks needed, and none of their cost (they inspect every
    // network of the host).
    if plan.is_noop() && from == Some(number) && !opts.dry_run {
        profile.write_live(&target.build)?;
        return Ok(Outcome::Unchanged { generation: number });
    }
    let problems = preflight::check(rt, &a, &plan, &running, &live, opts.pull && !opts.dry_run).await.map_err(SwitchError::Other)?;
    if !problems.is_empty() {
        return Err(SwitchError::Preflight(problems));
    }
    if opts.dry_run {
        return Ok(Outcome::DryRun);
    }

    // Before the journal: a network is no step to undo, and one made for nothing is
    // harmless (`down` removes it).
    network::ensure(rt, &a, report).await?;
    let switch = switch_id();
    let journal = store.begin_journal(
        &stack,
        Entry::Begin {
            switch: switch.clone(),
            from,
            from_path: current.as_ref().map(|(g, _)| g.path.clone()),
            to: number,
            to_path: target.path.name.clone(),
        },
    )?;
    // Leftovers of an interrupted switch are garbage, not part of any generation.
    for s in plan.steps.iter().filter(|s| s.action == Action::Remove && s.desired.is_none() && s.reason == Reason::LeftOver) {
        if let Some(c) = &s.current {
            let _ = rt.remove(&c.id).await;
        }
    }
    let plan = Plan { steps: plan.steps.into_iter().filter(|s| s.reason != Reason::LeftOver).collect() };

    profile.write_live(&target.build)?;
    let mut done = Vec::new();
    let this_switch = switch.clone();
    let mut ctx = execute::Context { rt, journal: &journal, report, timeout: opts.timeout, generation: number, switch };
    let result = ctx.run(&plan, &mut done).await;
    let report = ctx.report;
    let failure = match result {
        Err(f) => Some((f.service, Some(f.action), f.why)),
        Ok(()) => match opts.confirm {
            Some(window) => confirm(rt, &plan, &done, window, report).await.err().map(|(s, w)| (s, None, w)),
            None => None,
        },
    };
    if let Some((service, action, why)) = failure {
        report.note(&format!("rolling back to {}", from.map(|f| format!("generation {f}")).unwrap_or_else(|| "nothing".to_owned())));
        let restored = match &current {
            Some((_, old)) => profile.write_live(old),
            None => profile.remove_live(),
        };
        let mut problems = execute::undo(rt, done, opts.timeout, report).await;
        if let Err(e) = restored {
            problems.push(format!("cannot put the old config files back: {}", crate::chain::render(&e)));
        }
        // A create whose answer was lost may still have been carried out: only a daemon
        // that answers can say that nothing of this switch is left.
        let leftovers = match rt.containers(&stack).await {
            Ok(now) => recover::remove_switch_containers(rt, &this_switch, &now).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = leftovers {
            problems.push(format!("cannot check for containers of the interrupted switch: {e}"));
        }
        // An undo that did not finish (the daemon went away) leaves the journal, so the
        // next run brings the stack back to one generation.
        if problems.is_empty() {
            journal.finish()?;
        } else {
            report.note("the switch journal is kept: the next `obsbuild switch`, `rollback` or `status` finishes the rollback");
        }
        return Err(match action {
            Some(action) => SwitchError::Failed { service, action, why, problems },
            None => SwitchError::Unconfirmed { service, why, problems },
        });
    }

    journal.append(&Entry::Commit)?;
    for p in execute::commit(rt, &done).await {
        report.note(&format!("warning: {p}"));
    }
    let changed = plan.changes().count();
    finish(store, &stack, &target, number)?;
    journal.finish()?;
    Ok(Outcome::Switched { generation: number, changed })
}

/// Records the generation (if new) and makes it current.
fn finish(store: &Store, stack: &str, target: &Target, number: u64) -> Result<(), SwitchError> {
    let profile = store.profile(stack);
    if !profile.generations()?.iter().any(|g| g.number == number) {
        profile.add(&target.path, now(), target.git.clone())?;
    }
    profile.activate(number)?;
    Ok(())
}

/// Watches every changed service for `window`; the first that fails ends the watch.
async fn confirm<R: Runtime>(
    rt: &R,
    plan: &Plan,
    done: &[execute::Done],
    window: Duration,
    report: &mut dyn Report,
) -> Result<(), (String, String)> {
    report.note(&format!("watching health for {}s before committing", window.as_secs()));
    let started = Instant::now();
    while started.elapsed() < window {
        for d in done {
            let (service, id) = match d {
                execute::Done::Created { service, id } => (service, id),
                execute::Done::Replaced { service, new, .. } => (service, new),
                execute::Done::Restarted { service, id, .. } | execute::Done::Reloaded { service, id, .. } => (service, id),
                execute::Done::Stopped { .. } => continue,
            };
            let Some(desired) = plan.steps.iter().find(|s| &s.service == service).and_then(|s| s.desired.as_ref()) else { continue };
            let mut seen = health::Seen::default();
            if let Err(why) = health::check(rt, id, desired, &mut seen).await {
                return Err((service.clone(), why));
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

/// Finishes or undoes a switch of `stack` that was interrupted, and says which. A switch
/// that passed its checks (the journal has its commit) is completed; any other is undone
/// step by step from its journal and the stack brought back to the generation it came
/// from. [`recovered`] says what was undone.
pub async fn recover<R: Runtime>(
    rt: &R,
    store: &Store,
    stack: &str,
    opts: &Options,
    report: &mut dyn Report,
) -> Result<Option<String>, SwitchError> {
    Ok(recovered(rt, store, stack, opts, report).await?.map(|r| r.message))
}

/// Removes the stack's containers, its network when obsbuild created it and nothing else
/// uses it, and named volumes with `volumes`, then its block from the hosts files
/// `obsbuild hosts --apply` wrote it into. Containers without the stack's label are never
/// touched.
pub async fn down<R: Runtime>(rt: &R, store: &Store, stack: &str, volumes: bool, report: &mut dyn Report) -> Result<usize, SwitchError> {
    let containers = rt.containers(stack).await?;
    for c in &containers {
        let _ = rt.stop(&c.id, Duration::from_secs(10)).await;
        rt.remove(&c.id).await?;
        report.note(&format!("removed {}", c.name));
    }
    let current = current_build(store, stack)?;
    let a = match &current {
        Some((_, b)) => deployment::load(stack, &b.files, &store.profile(stack).live_dir()).ok(),
        None => None,
    };
    network::remove(rt, stack, a.as_ref().map(|a| a.network.name.as_str()), report).await?;
    if volumes {
        for v in a.iter().flat_map(|a| a.volumes.iter()) {
            match rt.remove_volume(v).await {
                Ok(()) => report.note(&format!("removed volume {v}")),
                Err(RuntimeError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let profile = store.profile(stack);
    profile.deactivate()?;
    profile.remove_live()?;
    store.clear_journal(stack)?;
    // Last: the host names point at containers that are gone now.
    let removed = hosts::remove(store, stack).map_err(|e| {
        let fix = if e.needs_root() { "run `down` again with `sudo`" } else { "run `down` again once that is fixed" };
        SwitchError::Other(format!("the containers of `{stack}` are removed, but not its host names: {}; {fix}", crate::chain::render(&e)))
    })?;
    for (file, change) in removed {
        if change == hosts::HostsChange::Removed {
            report.note(&format!("removed the host names of `{stack}` from {}", file.display()));
        }
    }
    Ok(containers.len())
}

/// One service compared with the current generation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ServiceStatus {
    pub service: String,
    pub state: State,
    pub detail: String,
}

/// How a service's container compares with the current generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Running, healthy, and what the generation wants.
    Ok,
    /// Running and what the generation wants, its health not yet known.
    Starting,
    Missing,
    Stopped,
    /// Another spec or secret than the generation's.
    Outdated,
    Unhealthy,
    /// A container of the stack the generation does not have.
    Extra,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Starting => "starting",
            State::Missing => "missing",
            State::Stopped => "stopped",
            State::Outdated => "outdated",
            State::Unhealthy => "unhealthy",
            State::Extra => "extra",
        }
    }
}

/// The running stack against its current generation.
pub async fn status<R: Runtime>(rt: &R, store: &Store, stack: &str) -> Result<(Option<u64>, Vec<ServiceStatus>), SwitchError> {
    let current = current_build(store, stack)?;
    let containers = rt.containers(stack).await?;
    let mut out = Vec::new();
    let Some((g, build)) = current else {
        for c in &containers {
            out.push(ServiceStatus { service: c.name.clone(), state: State::Extra, detail: "no generation is current".into() });
        }
        return Ok((None, out));
    };
    let mut a = deployment::load(stack, &build.files, &store.profile(stack).live_dir()).map_err(|e| SwitchError::Other(e.to_string()))?;
    secrets::materialize(rt, store, &mut a, false, false).await?;
    for d in &a.services {
        let c = containers.iter().find(|c| c.name == d.name);
        let (state, detail) = match c {
            None => (State::Missing, "no container".to_owned()),
            Some(c) if c.label(label::SPEC) != Some(d.spec_hash.as_str()) => (State::Outdated, format!("runs {}, expected {}", c.image, d.container.image)),
            Some(c) if d.secrets_digest.is_some() && c.label(label::SECRETS) != d.secrets_digest.as_deref() => {
                (State::Outdated, "a secret changed since the container was made".to_owned())
            }
            Some(c) if !c.running => (State::Stopped, format!("exit code {}", c.exit_code.unwrap_or(-1))),
            Some(c) => {
                let mut seen = health::Seen::default();
                match health::check(rt, &c.id, d, &mut seen).await {
                    Ok(true) => (State::Ok, seen.to_string()),
                    Ok(false) => (State::Starting, seen.to_string()),
                    Err(e) => (State::Unhealthy, e),
                }
            }
        };
        out.push(ServiceStatus { service: d.service.clone(), state, detail });
    }
    for c in containers.iter().filter(|c| !a.services.iter().any(|d| d.name == c.name)) {
        out.push(ServiceStatus { service: c.name.clone(), state: State::Extra, detail: "not in the current generation".into() });
    }
    Ok((Some(g.number), out))
}
