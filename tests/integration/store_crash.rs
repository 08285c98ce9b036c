//! The store under hostile conditions: writers killed with SIGKILL at random points, and
//! many threads and processes adding at once.
//!
//! Child processes are this test binary run again (`--exact <test>`) with an environment
//! variable that turns the named test into a writer.

// The helpers below are test code too; clippy only exempts `#[test]` functions themselves.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

use obsbuild::build::Build;
use obsbuild::store::{RecordMeta, Store};

/// Set in a child: the state directory it writes to.
const WRITER_ENV: &str = "OBSBUILD_STORE_TEST_WRITER";
/// Set in a child: the prefix of the stack names it builds.
const PREFIX_ENV: &str = "OBSBUILD_STORE_TEST_PREFIX";

/// A small deterministic generator (xorshift64*), seeded from a name.
struct Rng(u64);

impl Rng {
    fn new(name: &str) -> Rng {
        let seed = blake3::hash(name.as_bytes());
        Rng(u64::from_le_bytes(seed.as_bytes()[..8].try_into().unwrap()) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The build named `stack`: its content is a function of the name alone, so the parent
/// can rebuild what any child wrote. Sizes vary from empty to a few MB, except that
/// stacks named `small-*` get no large files.
fn generate(stack: &str) -> Build {
    let mut rng = Rng::new(stack);
    let large = if stack.starts_with("small-") { 0 } else { 1 };
    let mut files = BTreeMap::new();
    let count = 1 + rng.below(12);
    for i in 0..count {
        let dir = ["", "configs/", "configs/grafana/dashboards/", "rules/"][rng.below(4) as usize];
        let size = match rng.below(8) {
            0 => 0,
            n if n == large => 256 * 1024 + rng.below(1024 * 1024),
            _ => rng.below(8 * 1024),
        } as usize;
        let mut bytes = vec![0; size];
        let mut xof = blake3::Hasher::new();
        xof.update(format!("{stack}/{i}").as_bytes());
        xof.finalize_xof().fill(&mut bytes);
        files.insert(format!("{dir}file-{i}.yaml"), bytes);
    }
    Build::new(stack, files)
}

fn meta() -> RecordMeta {
    RecordMeta { time: SystemTime::now(), git: None, script: "stacks/crash.rhai".into() }
}

/// Runs this binary's test `name` as a child writer.
fn spawn_writer(name: &str, state: &Path, prefix: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(WRITER_ENV, state)
        .env(PREFIX_ENV, prefix)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// In a child: adds new builds (and records some) until killed, or for 20 s at most in
/// case the parent died.
fn crash_writer(state: &str, prefix: &str) {
    let store = Store::open(Path::new(state)).unwrap();
    println!("ready");
    let started = Instant::now();
    for j in 0.. {
        if started.elapsed() > Duration::from_secs(20) {
            return;
        }
        let path = store.add(&generate(&format!("{prefix}-{j}"))).unwrap();
        if j % 2 == 1 {
            store.record("hist", &path, meta()).unwrap();
        }
    }
}

#[test]
fn crash_kill_loop() {
    if let (Ok(state), Ok(prefix)) = (std::env::var(WRITER_ENV), std::env::var(PREFIX_ENV)) {
        return crash_writer(&state, &prefix);
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let store = Store::open(&state).unwrap();
    let mut rng = Rng::new("kill timing");
    let started = Instant::now();
    let (mut kills, mut mid_write, mut checked) = (0, 0, 0);

    for round in 0..100 {
        let mut child = spawn_writer("store_crash::crash_kill_loop", &state, &format!("r{round}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert!(lines.any(|l| l.unwrap().ends_with("ready")), "the writer did not start");
        // When to kill is what this test varies: a sleep by design, not a wait for anything.
        std::thread::sleep(Duration::from_micros(rng.below(25_000)));
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;

        let report = store.verify().unwrap();
        assert!(report.damaged.is_empty(), "round {round}: {:?}", report.damaged);
        mid_write += usize::from(!report.temporaries.is_empty());
        let listed: Vec<String> = store.list().unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(listed, report.ok, "round {round}");
        for name in &report.ok {
            let path = store.resolve(name).unwrap();
            let expected = generate(path.stack());
            assert_eq!(Store::path_name(&expected), *name, "round {round}");
            assert!(store.read(&path).unwrap() == expected, "round {round}: {name} differs");
            checked += 1;
        }
        for record in store.history("hist").unwrap() {
            assert!(
                report.ok.contains(&record.path),
                "round {round}: history names {}",
                record.path
            );
        }

        // The store still works: the dead writer's lock is gone and its leftovers too.
        let after = generate(&format!("small-{round}"));
        let path = store.add(&after).unwrap();
        assert_eq!(store.read(&path).unwrap(), after);
        let report = store.verify().unwrap();
        assert!(report.is_ok() && report.temporaries.is_empty(), "round {round}: {report:?}");
        if round % 5 == 4 {
            store.gc(Some(2), false).unwrap();
        }
    }
    assert!(kills >= 100);
    eprintln!(
        "{kills} kills, {mid_write} left a temporary, {checked} paths re-read, {:?}",
        started.elapsed()
    );
    // With random kill points, some must land in the middle of a write, else this test
    // proves nothing about interrupted writes.
    assert!(mid_write > 0, "no kill landed during a write");
}

/// In a child: adds the shared builds and some of its own, prints their names.
fn concurrent_writer(state: &str, prefix: &str) {
    let store = Store::open(Path::new(state)).unwrap();
    for i in 0..6 {
        store.add(&generate(&format!("shared-{i}"))).unwrap();
        store.add(&generate(&format!("{prefix}-{i}"))).unwrap();
    }
}

#[test]
fn concurrent_processes_and_threads() {
    if let (Ok(state), Ok(prefix)) = (std::env::var(WRITER_ENV), std::env::var(PREFIX_ENV)) {
        return concurrent_writer(&state, &prefix);
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let children: Vec<_> = (0..3)
        .map(|p| spawn_writer("store_crash::concurrent_processes_and_threads", &state, &format!("proc{p}")))
        .collect();
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (state, barrier) = (state.clone(), barrier.clone());
            std::thread::spawn(move || {
                let store = Store::open(&state).unwrap();
                barrier.wait();
                let mut names = Vec::new();
                for i in 0..6 {
                    names.push(store.add(&generate(&format!("shared-{i}"))).unwrap().name);
                    names.push(store.add(&generate(&format!("thread{t}-{i}"))).unwrap().name);
                }
                names
            })
        })
        .collect();
    let from_threads: Vec<Vec<String>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }

    // Every thread got the same names for the shared builds.
    for names in &from_threads {
        let shared: Vec<_> = names.iter().step_by(2).collect();
        let first: Vec<_> = from_threads[0].iter().step_by(2).collect();
        assert_eq!(shared, first);
    }
    let store = Store::open(&state).unwrap();
    let report = store.verify().unwrap();
    assert!(report.is_ok() && report.temporaries.is_empty(), "{report:?}");
    // One path per content: 6 shared + 6 per thread + 6 per process.
    assert_eq!(report.ok.len(), 6 + 4 * 6 + 3 * 6);
    for name in &report.ok {
        let path = store.resolve(name).unwrap();
        assert_eq!(store.read(&path).unwrap(), generate(path.stack()));
    }
}
