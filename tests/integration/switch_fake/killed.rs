//! A switch killed after each of its steps in turn, as a crash would leave it (no undo
//! runs, the journal stays): recovery's decision and the steps it undoes follow the
//! journal, and the stack ends on one whole generation, the old or the new.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use obsbuild::apply::{self, Options, Recovery};
use obsbuild::build::Build;
use obsbuild::runtime::label;
use obsbuild::store::{Entry, StepKind};

use super::{BUSYBOX, PROMETHEUS, Target, World, world};

const NEWER: &str = "obsbuild-test/busybox:1.35.1";

/// Every kind of step: `db` (a static address: stop-old, create-next, start-next) and
/// `web` (create-next, start-next, stop-old) change image, `pages` a file (restart),
/// Prometheus a rule (reload); `extra` is new (create, start), `legacy` goes (stop).
/// Each has a health check, which the fake passes at once: a service with neither check
/// nor probe counts as up only after a second of running, and this test takes hundreds.
fn script(newer: bool) -> String {
    let (image, index, rule) = if newer { (NEWER, "two", "up == 0") } else { (BUSYBOX, "one", "up == 1") };
    let only = if newer { "extra" } else { "legacy" };
    format!(
        r#"import "prometheus" as prometheus;
let check = #{{ test: ["CMD", "true"] }};
stack("fake");
network("fake-net", #{{ subnet: "172.29.9.0/24" }});
service("web", #{{ image: "{image}", command: ["httpd", "-f", "-p", "8080"], endpoints: #{{ http: 8080 }}, probe: #{{ port: 8080, path: "/" }} }});
service("db", #{{ image: "{image}", command: ["sleep", "3600"], ip: "172.29.9.12", healthcheck: check }});
service("pages", #{{ image: "{BUSYBOX}", command: ["sleep", "3600"], files: #{{ "index.html": "{index}\n" }}, healthcheck: check }});
service("{only}", #{{ image: "{BUSYBOX}", command: ["sleep", "3600"], healthcheck: check }});
let metrics = prometheus::server(#{{ image: "{PROMETHEUS}", version: "2.42.0", ports: [] }});
metrics.alert("Up", #{{ expr: "{rule}" }});
"#
    )
}

fn build(w: &World, newer: bool) -> Build {
    let stack = w.project.join("stacks/fake.rhai");
    std::fs::write(&stack, script(newer)).unwrap();
    obsbuild::pipeline::build(&stack, &Default::default())
        .unwrap_or_else(|f| panic!("{}", obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain)))
        .build
}

fn target(w: &World, build: &Build) -> Target {
    Target { build: build.clone(), path: w.store.add(build).unwrap(), generation: None, git: None }
}

/// What a generation is on the machine: each container (name, image, spec hash, running)
/// and the live config files.
#[derive(Debug, PartialEq, Eq)]
struct State {
    containers: Vec<(String, String, String, bool)>,
    live: BTreeMap<String, Vec<u8>>,
}

fn state(w: &World) -> State {
    let mut containers: Vec<_> = w
        .fake
        .all()
        .into_iter()
        .map(|c| (c.name.clone(), c.image.clone(), c.label(label::SPEC).unwrap_or_default().to_owned(), c.running))
        .collect();
    containers.sort();
    let mut live = BTreeMap::new();
    let root = w.store.profile("fake").live_dir();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                live.insert(path.strip_prefix(&root).unwrap().display().to_string(), std::fs::read(&path).unwrap());
            }
        }
    }
    State { containers, live }
}

fn opts() -> Options {
    Options { timeout: Duration::from_secs(2), confirm: None, dry_run: false, pull: false }
}

/// Records whether every plan recovery made was empty: after a whole undo the switch back
/// to the old generation must find nothing left to do.
#[derive(Default)]
struct Plans {
    changes: Vec<String>,
}

impl apply::Report for Plans {
    fn plan(&mut self, _: &str, plan: &obsbuild::plan::Plan, _: Option<u64>, _: u64) {
        self.changes.extend(plan.changes().map(|s| format!("{} {}", s.action.name(), s.service)));
    }
    fn step(&mut self, _: &str, _: obsbuild::plan::Action, _: apply::Phase, _: Duration, _: &str) {}
    fn note(&mut self, _: &str) {}
}

#[tokio::test]
async fn killed_after_each_step_recovery_follows_the_journal() {
    let template = world();
    let (old, new) = (build(&template, false), build(&template, true));
    // The two generations, as a switch that is not interrupted leaves them.
    let (old_state, new_state, all_steps) = {
        let w = world();
        w.switch(target(&w, &old)).await.unwrap();
        let old_state = state(&w);
        let journal = w.store.profile("fake").dir().join("switch.journal");
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        // Kill nothing: just read the journal at every call, to learn every step.
        w.fake.kill_when(Box::new(move |_, _| {
            if let Ok(text) = std::fs::read_to_string(&journal) {
                *record.lock().unwrap() = text.lines().filter_map(|l| serde_json::from_str::<Entry>(l).ok()).collect();
            }
            false
        }));
        w.switch(target(&w, &new)).await.unwrap();
        let steps: Vec<(String, StepKind)> =
            seen.lock().unwrap().iter().filter_map(|e| if let Entry::Step(r) = e { Some((r.service.clone(), r.step)) } else { None }).collect();
        (old_state, state(&w), steps)
    };
    let kinds: std::collections::BTreeSet<StepKind> = all_steps.iter().map(|(_, k)| *k).collect();
    assert_eq!(kinds.len(), 8, "the fixture no longer takes every kind of step: {all_steps:?}");
    assert_ne!(old_state, new_state);

    // Kill before the 1st, 2nd, ... runtime call of the switch, until it gets through.
    let (mut reached, mut kills) = (std::collections::BTreeSet::new(), 0);
    for call in 0..1000 {
        let w = world();
        w.switch(target(&w, &old)).await.unwrap();
        let new_target = target(&w, &new);
        let calls = AtomicUsize::new(0);
        w.fake.kill_when(Box::new(move |_, _| calls.fetch_add(1, Ordering::SeqCst) == call));
        let ended = tokio::select! {
            r = w.switch(new_target) => Some(r),
            () = w.fake.killed() => None,
        };
        if let Some(r) = ended {
            r.unwrap();
            assert_eq!(state(&w), new_state);
            break;
        }
        w.fake.revive();
        kills += 1;
        let journal = w.store.interrupted("fake").unwrap();
        let mut plans = Plans::default();
        let recovery = apply::recovered(&w.fake, &w.store, "fake", &opts(), &mut plans).await;
        let recovery = recovery.unwrap_or_else(|e| panic!("killed before call {call}: recovery failed: {e}"));
        assert!(w.store.interrupted("fake").unwrap().is_none(), "killed before call {call}: the journal stayed");
        let Some(journal) = journal else {
            // Killed before the journal began: nothing was touched.
            assert_eq!(recovery, None);
            assert_eq!(state(&w), old_state, "killed before call {call}, before the journal");
            reached.insert("before the journal".to_owned());
            continue;
        };
        let Some(Recovery { finished, undone, strays, .. }) = recovery else { panic!("killed before call {call}: the journal was not read") };
        assert!(strays.is_empty(), "killed before call {call}: {strays:?}");
        let steps: Vec<(String, StepKind)> =
            journal.iter().filter_map(|e| if let Entry::Step(r) = e { Some((r.service.clone(), r.step)) } else { None }).collect();
        assert_eq!(steps[..], all_steps[..steps.len()], "killed before call {call}: the journal is no prefix of the switch's steps");
        if journal.contains(&Entry::Commit) {
            assert!(finished, "killed before call {call}: the journal has the commit, yet the switch was undone");
            assert!(undone.is_empty(), "killed before call {call}: {undone:?}");
            assert_eq!(state(&w), new_state, "killed before call {call}, after the commit");
            assert_eq!(w.current(), Some(2));
            reached.insert("after the commit".to_owned());
        } else {
            assert!(!finished, "killed before call {call}: no commit in the journal, yet the switch was finished");
            let reversed: Vec<_> = steps.iter().rev().cloned().collect();
            assert_eq!(undone, reversed, "killed before call {call}: recovery undid other steps than the journal's");
            assert_eq!(state(&w), old_state, "killed before call {call}, after {} steps", steps.len());
            assert!(plans.changes.is_empty(), "killed before call {call}: the undo left work for the switch back: {:?}", plans.changes);
            assert_eq!(w.current(), Some(1));
            reached.insert(format!("after step {}", steps.len()));
        }
    }
    let mut wanted: std::collections::BTreeSet<String> = (1..=all_steps.len()).map(|k| format!("after step {k}")).collect();
    wanted.extend(["before the journal".to_owned(), "after the commit".to_owned()]);
    eprintln!("{} kill points over {} steps: {reached:?}", kills, all_steps.len());
    let missed: Vec<_> = wanted.difference(&reached).collect();
    assert!(missed.is_empty(), "no kill landed {missed:?}");
}

/// A container carrying the interrupted switch's label that its journal does not name is
/// said and removed; the undo still follows the journal.
#[tokio::test]
async fn a_container_of_the_switch_the_journal_does_not_name_is_reported_and_removed() {
    use obsbuild::deployment::Container;
    use obsbuild::runtime::Runtime;
    let w = world();
    let (old, new) = (build(&w, false), build(&w, true));
    w.switch(target(&w, &old)).await.unwrap();
    let old_state = state(&w);
    let new_target = target(&w, &new);
    // Killed at the first create: the switch has begun, taken its first steps.
    w.fake.kill_when(Box::new(|op, _| op == "create"));
    tokio::select! {
        r = w.switch(new_target) => panic!("the switch was not killed: {r:?}"),
        () = w.fake.killed() => {}
    }
    w.fake.revive();
    let journal = w.store.interrupted("fake").unwrap().unwrap();
    let Some(Entry::Begin { switch, .. }) = journal.first() else { panic!("{journal:?}") };
    let labels = [(label::STACK, "fake"), (label::SERVICE, "ghost"), (label::SWITCH, switch.as_str())];
    let spec = Container {
        image: BUSYBOX.into(),
        labels: labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ..Default::default()
    };
    w.fake.create("fake-ghost", &spec).await.unwrap();
    let mut notes = super::common::Notes::default();
    let r = apply::recovered(&w.fake, &w.store, "fake", &opts(), &mut notes).await.unwrap().unwrap();
    assert_eq!(r.strays, ["fake-ghost"]);
    assert!(notes.0.iter().any(|n| n.contains("`fake-ghost`") && n.contains("does not name it")), "{:?}", notes.0);
    assert!(!r.finished && !r.undone.is_empty(), "{r:?}");
    assert_eq!(state(&w), old_state);
}
