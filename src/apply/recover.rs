//! Recovery of an interrupted switch from its journal. A switch whose journal has the
//! commit is finished; any other is undone step by step, newest first, exactly as far as
//! the journal says it went (each step is journalled before it is taken, so the last one
//! may not have been carried out: undoing it then finds nothing to undo).
//!
//! The containers' `obsbuild.switch` labels are the cross-check: a container carrying the
//! switch's label that no step names is reported and removed, and a container a step
//! names is removed only if it carries the label (a create that failed on a name taken
//! by someone else's container must not take that container with it).

use std::time::Duration;

use super::{NEXT, Options, Report, SwitchError, Target, activate_with, execute, health, now, reload, secrets};
use crate::deployment::{self, Deployment, Unit};
use crate::runtime::{ContainerInfo, Runtime, RuntimeError, label};
use crate::store::{Entry, StepKind, StepRecord, Store};

/// What recovery found in the journal and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// What happened, in a sentence for the user.
    pub message: String,
    /// `true`: the journal has the commit and the switch was finished; `false`: it was undone.
    pub finished: bool,
    /// The steps undone as (service, step), in the order they were undone: the journal's
    /// steps, newest first.
    pub undone: Vec<(String, StepKind)>,
    /// Containers carrying the switch's label that no step of the journal names, by name
    /// (reported and removed).
    pub strays: Vec<String>,
}

/// Finishes or undoes a switch of `stack` that was interrupted; `None` when there was none.
pub async fn recovered<R: Runtime>(
    rt: &R,
    store: &Store,
    stack: &str,
    opts: &Options,
    report: &mut dyn Report,
) -> Result<Option<Recovery>, SwitchError> {
    let Some(entries) = store.interrupted(stack)? else { return Ok(None) };
    let Some(Entry::Begin { switch, from, from_path, to, to_path }) = entries.first().cloned() else {
        store.clear_journal(stack)?;
        let message = "an empty switch journal was found and dropped".to_owned();
        return Ok(Some(Recovery { message, finished: false, undone: Vec::new(), strays: Vec::new() }));
    };
    let target_path = store.resolve(&to_path)?;
    let target_build = store.read(&target_path)?;
    let live = store.profile(stack).live_dir();
    let target = deployment::load(stack, &target_build.files, &live).map_err(|e| SwitchError::Other(e.to_string()))?;
    let steps = named_steps(&entries, &target);
    let containers = rt.containers(stack).await?;
    let ours = Ours { switch: &switch, steps: &steps };
    if entries.contains(&Entry::Commit) {
        let strays = finish(rt, &ours, &containers, &target, report).await?;
        let target = Target { build: target_build, path: target_path, generation: Some(to), git: None };
        let profile = store.profile(stack);
        if !profile.generations()?.iter().any(|g| g.number == to) {
            profile.add(&target.path, now(), None)?;
        }
        profile.activate(to)?;
        store.clear_journal(stack)?;
        let message = format!("a switch to generation {to} was interrupted after it passed its checks; it is now complete");
        return Ok(Some(Recovery { message, finished: true, undone: Vec::new(), strays }));
    }

    let profile = store.profile(stack);
    let old = match (from, &from_path) {
        (Some(from), Some(p)) => {
            let path = store.resolve(p)?;
            let build = store.read(&path)?;
            Some((from, path, build))
        }
        _ => None,
    };
    // The old config files first: undone restarts and reloads read them.
    let old_activation = match &old {
        Some((_, _, build)) => {
            profile.write_live(build)?;
            let mut a = deployment::load(stack, &build.files, &live).map_err(|e| SwitchError::Other(e.to_string()))?;
            secrets::materialize(rt, store, &mut a, false, false).await?;
            Some(a)
        }
        None => {
            profile.remove_live()?;
            None
        }
    };
    let mut problems = Vec::new();
    let mut undone = Vec::new();
    for r in steps.iter().rev() {
        let desired = old_activation.as_ref().and_then(|a| a.services.iter().find(|d| d.service == r.service));
        if let Err(why) = undo(rt, &ours, r, &containers, desired, opts.timeout, report).await {
            report.note(&format!("  recovery: undoing {} of `{}`: {why}", r.step, r.service));
            problems.push(format!("undoing {} of `{}`: {why}", r.step, r.service));
        }
        undone.push((r.service.clone(), r.step));
    }
    let strays = match remove_strays(rt, &ours, &containers, report).await {
        Ok(strays) => strays,
        Err(e) => {
            problems.push(format!("removing containers of the interrupted switch: {e}"));
            Vec::new()
        }
    };
    if !problems.is_empty() {
        return Err(SwitchError::Other(format!(
            "the interrupted switch to generation {to} could not be undone: {}; its journal is kept, and the next `obsbuild switch`, `rollback` or `status` tries again",
            problems.join("; ")
        )));
    }
    store.clear_journal(stack)?;
    let message = match old {
        Some((from, path, build)) => {
            // After a whole undo this finds nothing to do; it puts right what the journal
            // cannot know of (a container changed by hand since the crash).
            let target = Target { build, path, generation: Some(from), git: None };
            Box::pin(activate_with(rt, store, target, opts, report, false)).await?;
            // A create the killed switch had sent may have been carried out by the daemon
            // after the first listing: by now it has landed.
            let late = rt.containers(stack).await?;
            remove_switch_containers(rt, &switch, &late).await?;
            format!(
                "a switch from generation {from} to {to} was interrupted before it passed its checks; it was undone and the stack is on generation {from}"
            )
        }
        None => {
            let late = rt.containers(stack).await?;
            remove_switch_containers(rt, &switch, &late).await?;
            format!("the first switch of `{stack}` (to generation {to}) was interrupted; what it had started was removed")
        }
    };
    Ok(Some(Recovery { message, finished: false, undone, strays }))
}

/// The journal's steps, with the container names of creates filled in from the target
/// build where a journal written before steps named their containers left them out.
fn named_steps(entries: &[Entry], target: &Deployment) -> Vec<StepRecord> {
    let name_of = |service: &str| target.services.iter().find(|d| d.service == service).map(|d| d.name.clone());
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Step(r) => Some(r.clone()),
            _ => None,
        })
        .map(|mut r| {
            if r.name.is_none() {
                r.name = match r.step {
                    StepKind::Create => name_of(&r.service),
                    StepKind::CreateNext => name_of(&r.service).map(|n| format!("{n}{NEXT}")),
                    _ => None,
                };
            }
            r
        })
        .collect()
}

/// The interrupted switch: its id and its steps.
struct Ours<'a> {
    switch: &'a str,
    steps: &'a [StepRecord],
}

impl Ours<'_> {
    fn labelled(&self, c: &ContainerInfo) -> bool {
        c.label(label::SWITCH) == Some(self.switch)
    }

    /// Whether a step names `c`: by id, or by the name a create gave it (a replacement
    /// keeps its id when the commit renames it).
    fn names(&self, c: &ContainerInfo) -> bool {
        self.steps.iter().any(|r| {
            r.container.as_deref() == Some(c.id.as_str())
                || r.old.as_deref() == Some(c.id.as_str())
                || r.name.as_deref() == Some(c.name.as_str())
        })
    }
}

/// Undoes one step. Config files are already the old generation's. A container the step
/// names that is gone is fine: the step was not carried out, or an earlier undo removed it.
async fn undo<R: Runtime>(
    rt: &R,
    ours: &Ours<'_>,
    r: &StepRecord,
    containers: &[ContainerInfo],
    desired: Option<&Unit>,
    timeout: Duration,
    report: &mut dyn Report,
) -> Result<(), String> {
    let gone = |e: &RuntimeError| matches!(e, RuntimeError::NotFound { .. });
    match r.step {
        StepKind::Create | StepKind::CreateNext => {
            let Some(c) = r.name.as_deref().and_then(|n| containers.iter().find(|c| c.name == n)) else { return Ok(()) };
            if !ours.labelled(c) {
                report.note(&format!("  recovery: `{}` is not the interrupted switch's container (no `{}` label): left alone", c.name, label::SWITCH));
                return Ok(());
            }
            let _ = rt.stop(&c.id, Duration::from_secs(5)).await;
            match rt.remove(&c.id).await {
                Err(e) if !gone(&e) => Err(format!("cannot remove `{}`: {e}", c.name)),
                _ => Ok(()),
            }
        }
        StepKind::Start | StepKind::StartNext => {
            let Some(c) = r.container.as_deref().and_then(|id| containers.iter().find(|c| c.id == id)) else { return Ok(()) };
            if !ours.labelled(c) {
                return Ok(());
            }
            match rt.stop(&c.id, Duration::from_secs(5)).await {
                Err(e) if !gone(&e) => Err(format!("cannot stop `{}`: {e}", c.name)),
                _ => Ok(()),
            }
        }
        StepKind::StopOld | StepKind::Stop => {
            let Some(id) = &r.container else { return Ok(()) };
            if r.running == Some(false) {
                return Ok(());
            }
            match execute::start_if_stopped(rt, id).await {
                Err(e) if !rt.inspect(id).await.is_err_and(|e| gone(&e)) => Err(format!("cannot start {id} again: {e}")),
                _ => Ok(()),
            }
        }
        StepKind::Restart => {
            let Some(id) = &r.container else { return Ok(()) };
            let _ = rt.stop(id, Duration::from_secs(10)).await;
            match rt.start(id).await {
                Err(e) if gone(&e) => Ok(()),
                Err(e) => Err(format!("cannot start {id} again: {e}")),
                Ok(()) => match desired {
                    Some(d) => health::wait_ready(rt, id, d, timeout).await.map_err(|e| format!("not healthy again on the old config: {e}")),
                    None => Ok(()),
                },
            }
        }
        StepKind::Reload => {
            let (Some(id), Some(d)) = (&r.container, desired) else { return Ok(()) };
            if rt.inspect(id).await.is_err_and(|e| gone(&e)) {
                return Ok(());
            }
            reload::reload(rt, id, d, timeout).await.map_err(|e| format!("cannot reload the old config: {e}"))
        }
    }
}

/// Containers of the switch no step names: the journal is what recovery goes by, so one
/// is a surprise worth saying; it carries the switch's label, so it is the switch's and goes.
async fn remove_strays<R: Runtime>(
    rt: &R,
    ours: &Ours<'_>,
    containers: &[ContainerInfo],
    report: &mut dyn Report,
) -> Result<Vec<String>, SwitchError> {
    let mut strays = Vec::new();
    for c in containers.iter().filter(|c| ours.labelled(c) && !ours.names(c)) {
        report.note(&format!("  recovery: `{}` carries the interrupted switch's label but its journal does not name it: removed", c.name));
        let _ = rt.stop(&c.id, Duration::from_secs(5)).await;
        rt.remove(&c.id).await?;
        strays.push(c.name.clone());
    }
    Ok(strays)
}

/// Finishes a switch that committed: what `execute::commit` does, from the journal's
/// steps (each replaced service's old container goes and its `-next` takes the name; a
/// removed service's container goes). Returns the strays.
async fn finish<R: Runtime>(
    rt: &R,
    ours: &Ours<'_>,
    containers: &[ContainerInfo],
    target: &Deployment,
    report: &mut dyn Report,
) -> Result<Vec<String>, SwitchError> {
    let strays = remove_strays(rt, ours, containers, report).await?;
    for r in ours.steps {
        match r.step {
            StepKind::CreateNext => {
                let Some(name) = r.name.as_deref() else { continue };
                // Not there: the commit renamed it already.
                let Some(next) = containers.iter().find(|c| c.name == name && ours.labelled(c)) else { continue };
                let canonical = name.strip_suffix(NEXT).unwrap_or(name);
                let old = containers.iter().find(|c| c.id != next.id && (r.old.as_deref() == Some(c.id.as_str()) || c.name == canonical));
                if let Some(old) = old {
                    rt.remove(&old.id).await?;
                }
                rt.rename(&next.id, canonical).await?;
            }
            StepKind::Stop => {
                let Some(c) = r.container.as_deref().and_then(|id| containers.iter().find(|c| c.id == id)) else { continue };
                rt.remove(&c.id).await?;
            }
            _ => {}
        }
    }
    // The cross-check of journals without container names: a stopped container of a
    // service the target does not have is the commit's to remove.
    let now = rt.containers(&target.stack).await?;
    for c in now.iter().filter(|c| !c.running && c.label(label::SERVICE).is_some_and(|s| !target.services.iter().any(|d| d.service == s))) {
        rt.remove(&c.id).await?;
    }
    Ok(strays)
}

/// Removes the containers the interrupted switch `switch` created.
pub(super) async fn remove_switch_containers<R: Runtime>(
    rt: &R,
    switch: &str,
    containers: &[ContainerInfo],
) -> Result<(), SwitchError> {
    for c in containers.iter().filter(|c| c.label(label::SWITCH) == Some(switch)) {
        let _ = rt.stop(&c.id, Duration::from_secs(5)).await;
        rt.remove(&c.id).await?;
    }
    Ok(())
}
