//! Executing a plan: each step journalled before it is taken, each changed service gated
//! on its health, and an undo log so a failure puts every service back as it was.

use std::time::{Duration, Instant};

use super::report::{Phase, Report};
use super::{health, reload};
use crate::deployment::{Container, Strategy, Unit, label};
use crate::plan::{Action, Plan, Step};
use crate::runtime::Runtime;
use crate::store::{Entry, Journal, StepKind, StepRecord};

/// A step that was taken, with what undoing it needs.
#[derive(Clone, Debug)]
pub enum Done {
    /// A new service's container.
    Created { service: String, id: String },
    /// A service's new container (named `<name>-next` until the commit) beside its old one.
    Replaced { service: String, old: String, new: String, old_running: bool, desired: Box<Unit> },
    Restarted { service: String, id: String, desired: Box<Unit> },
    Reloaded { service: String, id: String, desired: Box<Unit> },
    /// The container of a service the stack no longer has, stopped until the commit;
    /// `was_running`: an undo starts it again only if it ran before.
    Stopped { service: String, id: String, was_running: bool },
}

/// How the executor runs.
pub struct Context<'a, R: Runtime> {
    pub rt: &'a R,
    pub journal: &'a Journal,
    pub report: &'a mut dyn Report,
    pub timeout: Duration,
    pub generation: u64,
    pub switch: String,
}

/// The suffix of a service's new container until the switch commits.
pub const NEXT: &str = "-next";

/// A failed step: the service, the action, and why.
#[derive(Debug)]
pub struct StepFailure {
    pub service: String,
    pub action: Action,
    pub why: String,
}

impl<R: Runtime> Context<'_, R> {
    fn log(&self, record: StepRecord) -> Result<(), String> {
        self.journal.append(&Entry::Step(record)).map_err(|e| format!("cannot write the journal: {}", crate::chain::render(&e)))
    }

    /// The container of `d` with the labels of this generation and switch.
    fn labelled(&self, d: &Unit) -> Container {
        let mut spec = d.container.clone();
        spec.labels.insert(label::GENERATION.to_owned(), self.generation.to_string());
        spec.labels.insert(label::SPEC.to_owned(), d.spec_hash.clone());
        spec.labels.insert(label::SWITCH.to_owned(), self.switch.clone());
        spec
    }

    /// Runs every step that changes something, in order. On failure, what was done so
    /// far is in `done` for the caller to undo.
    pub async fn run(&mut self, plan: &Plan, done: &mut Vec<Done>) -> Result<(), StepFailure> {
        for step in plan.changes() {
            let started = Instant::now();
            self.report.step(&step.service, step.action, Phase::Start, Duration::ZERO, &step.reason.to_string());
            match self.one(step, done).await {
                Ok(detail) => self.report.step(&step.service, step.action, Phase::Done, started.elapsed(), &detail),
                Err(why) => {
                    self.report.step(&step.service, step.action, Phase::Failed, started.elapsed(), &why);
                    return Err(StepFailure { service: step.service.clone(), action: step.action, why });
                }
            }
        }
        Ok(())
    }

    async fn one(&mut self, step: &Step, done: &mut Vec<Done>) -> Result<String, String> {
        let rt = self.rt;
        let service = step.service.clone();
        let current = step.current.as_ref();
        match (step.action, &step.desired, current) {
            (Action::Create, Some(d), _) => {
                self.log(StepRecord { name: Some(d.name.clone()), ..StepRecord::new(&service, StepKind::Create) })?;
                let id = rt.create(&d.name, &self.labelled(d)).await.map_err(|e| e.to_string())?;
                done.push(Done::Created { service: service.clone(), id: id.clone() });
                self.log(on(&service, StepKind::Start, &id))?;
                rt.start(&id).await.map_err(|e| e.to_string())?;
                health::wait_ready(rt, &id, d, self.timeout).await?;
                Ok("ready".to_owned())
            }
            (Action::Recreate, Some(d), Some(old)) => {
                if d.strategy == Strategy::StopFirst && old.running {
                    // Docker frees a static IP and host ports only when the container stops.
                    self.log(on(&service, StepKind::StopOld, &old.id))?;
                    rt.stop(&old.id, Duration::from_secs(10)).await.map_err(|e| e.to_string())?;
                }
                let name = format!("{}{NEXT}", d.name);
                self.log(StepRecord { name: Some(name.clone()), old: Some(old.id.clone()), ..StepRecord::new(&service, StepKind::CreateNext) })?;
                let next = rt.create(&name, &self.labelled(d)).await.map_err(|e| e.to_string())?;
                done.push(Done::Replaced {
                    service: service.clone(),
                    old: old.id.clone(),
                    new: next.clone(),
                    old_running: old.running,
                    desired: Box::new(d.clone()),
                });
                self.log(on(&service, StepKind::StartNext, &next))?;
                rt.start(&next).await.map_err(|e| e.to_string())?;
                health::wait_ready(rt, &next, d, self.timeout).await?;
                if d.strategy == Strategy::StartFirst && old.running {
                    self.log(on(&service, StepKind::StopOld, &old.id))?;
                    rt.stop(&old.id, Duration::from_secs(10)).await.map_err(|e| e.to_string())?;
                }
                Ok("ready".to_owned())
            }
            (Action::Restart, Some(d), Some(c)) => {
                self.log(on(&service, StepKind::Restart, &c.id))?;
                done.push(Done::Restarted { service: service.clone(), id: c.id.clone(), desired: Box::new(d.clone()) });
                if c.running {
                    rt.stop(&c.id, Duration::from_secs(10)).await.map_err(|e| e.to_string())?;
                }
                rt.start(&c.id).await.map_err(|e| e.to_string())?;
                health::wait_ready(rt, &c.id, d, self.timeout).await?;
                Ok("ready".to_owned())
            }
            (Action::Reload, Some(d), Some(c)) => {
                self.log(on(&service, StepKind::Reload, &c.id))?;
                // A refused reload changes nothing (Prometheus keeps its config, a collector
                // whose new config does not validate gets no signal): nothing to undo.
                reload::reload(rt, &c.id, d, self.timeout).await?;
                done.push(Done::Reloaded { service: service.clone(), id: c.id.clone(), desired: Box::new(d.clone()) });
                health::wait_ready(rt, &c.id, d, self.timeout).await?;
                Ok("reloaded, ready".to_owned())
            }
            (Action::Remove, _, Some(c)) => {
                self.log(StepRecord { running: Some(c.running), ..on(&service, StepKind::Stop, &c.id) })?;
                if c.running {
                    rt.stop(&c.id, Duration::from_secs(10)).await.map_err(|e| e.to_string())?;
                }
                done.push(Done::Stopped { service: service.clone(), id: c.id.clone(), was_running: c.running });
                Ok("stopped".to_owned())
            }
            (action, _, _) => Err(format!("internal error: cannot {} without a container", action.name())),
        }
    }
}

/// The record of a step on the existing container `id`.
fn on(service: &str, step: StepKind, id: &str) -> StepRecord {
    StepRecord { container: Some(id.to_owned()), ..StepRecord::new(service, step) }
}

/// Puts every service of `done` back as it was, newest first. Config files must already
/// be back in the live folder. Returns what could not be restored.
pub async fn undo<R: Runtime>(rt: &R, done: Vec<Done>, timeout: Duration, report: &mut dyn Report) -> Vec<String> {
    let mut problems = Vec::new();
    let mut note = |p: String, report: &mut dyn Report| {
        report.note(&format!("  rollback: {p}"));
        problems.push(p);
    };
    for d in done.into_iter().rev() {
        match d {
            Done::Created { service, id } => {
                let _ = rt.stop(&id, Duration::from_secs(5)).await;
                if let Err(e) = rt.remove(&id).await {
                    note(format!("{service}: cannot remove the new container: {e}"), report);
                }
            }
            Done::Replaced { service, old, new, old_running, .. } => {
                let _ = rt.stop(&new, Duration::from_secs(5)).await;
                if let Err(e) = rt.remove(&new).await {
                    note(format!("{service}: cannot remove the new container: {e}"), report);
                }
                if old_running
                    && let Err(e) = start_if_stopped(rt, &old).await {
                        note(format!("{service}: cannot start the old container again: {e}"), report);
                    }
            }
            Done::Restarted { service, id, desired } => {
                let _ = rt.stop(&id, Duration::from_secs(10)).await;
                let back = match rt.start(&id).await {
                    Ok(()) => health::wait_ready(rt, &id, &desired, timeout).await,
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = back {
                    note(format!("{service}: not healthy again on the old config: {e}"), report);
                }
            }
            Done::Reloaded { service, id, desired } => {
                if let Err(e) = reload::reload(rt, &id, &desired, timeout).await {
                    note(format!("{service}: cannot reload the old config: {e}"), report);
                }
            }
            Done::Stopped { was_running: false, .. } => {}
            Done::Stopped { service, id, was_running: true } => {
                if let Err(e) = start_if_stopped(rt, &id).await {
                    note(format!("{service}: cannot start it again: {e}"), report);
                }
            }
        }
    }
    problems
}

pub(super) async fn start_if_stopped<R: Runtime>(rt: &R, id: &str) -> Result<(), String> {
    let c = rt.inspect(id).await.map_err(|e| e.to_string())?;
    if c.running {
        return Ok(());
    }
    rt.start(id).await.map_err(|e| e.to_string())
}

/// Makes the switch final: old containers of replaced services and containers of removed
/// services go, new ones take the service's name.
pub async fn commit<R: Runtime>(rt: &R, done: &[Done]) -> Vec<String> {
    let mut problems = Vec::new();
    for d in done {
        match d {
            Done::Replaced { service, old, new, desired, .. } => {
                if let Err(e) = rt.remove(old).await {
                    problems.push(format!("{service}: cannot remove the old container: {e}"));
                    continue;
                }
                if let Err(e) = rt.rename(new, &desired.name).await {
                    problems.push(format!("{service}: cannot rename the new container: {e}"));
                }
            }
            Done::Stopped { service, id, .. } => {
                if let Err(e) = rt.remove(id).await {
                    problems.push(format!("{service}: cannot remove its container: {e}"));
                }
            }
            _ => {}
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::fake::Fake;

    struct Quiet;

    impl Report for Quiet {
        fn plan(&mut self, _: &str, _: &Plan, _: Option<u64>, _: u64) {}
        fn step(&mut self, _: &str, _: Action, _: Phase, _: Duration, _: &str) {}
        fn note(&mut self, _: &str) {}
    }

    #[tokio::test]
    async fn undoing_a_removal_starts_only_what_was_running() {
        let rt = Fake::new();
        rt.add_image("busybox");
        let stopped = rt.create("s-old", &Container { image: "busybox".into(), ..Default::default() }).await.unwrap();
        let running = rt.add_foreign("s-other", "busybox");
        rt.stop(&running, Duration::ZERO).await.unwrap();
        let done = vec![
            Done::Stopped { service: "old".into(), id: stopped.clone(), was_running: false },
            Done::Stopped { service: "other".into(), id: running.clone(), was_running: true },
        ];
        assert!(undo(&rt, done, Duration::from_secs(1), &mut Quiet).await.is_empty());
        assert!(!rt.inspect(&stopped).await.unwrap().running, "a container that was stopped stays stopped");
        assert!(rt.inspect(&running).await.unwrap().running, "a container that ran runs again");
    }
}
