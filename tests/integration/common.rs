//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use obsbuild::pipeline::Built;

/// The repository root (tests run from it, but do not rely on that).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The obsbuild binary under test, with the components' validators off: they have their
/// own tests (`validators.rs`, which asks for them by flag), and the others test obsbuild,
/// many builds at a time.
pub fn obsbuild() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_obsbuild"));
    cmd.env("OBSBUILD_VALIDATORS", "off");
    cmd
}

/// One Docker test at a time, whichever file it is in (`docker_adapter`, `switch_docker`
/// and its `net`, `secrets_docker`): the machine has two cores, health gates have
/// deadlines, and the engine's networks and ports are shared.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Waits until `done` holds, looking every 10 ms, and says whether it did before `limit`
/// passed: a wait for a condition, not for a guessed time. The limit only bounds a hang,
/// so make it generous; the caller says what a timeout means (fail, kill a child...).
pub fn wait_until(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Evaluates, validates and renders a stack of the repository, failing with the rendered
/// diagnostics if it does not build.
pub fn build(relative: &str) -> Built {
    let path = root().join(relative);
    match obsbuild::pipeline::build(&path, &Default::default()) {
        Ok(b) => b,
        Err(f) => panic!(
            "{relative} does not build:\n{}",
            obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain)
        ),
    }
}

/// Every stack the repository ships, plus the test stacks: the one that uses every option
/// and the one with dollar signs in every value compose reads.
pub fn all_stacks() -> Vec<String> {
    let mut stacks: Vec<String> = std::fs::read_dir(root().join("stacks"))
        .unwrap()
        .map(|e| format!("stacks/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|n| n.ends_with(".rhai"))
        .collect();
    stacks.sort();
    stacks.push("tests/stacks/everything.rhai".to_owned());
    stacks.push("tests/stacks/dollars.rhai".to_owned());
    stacks
}

/// Writes a build's files under `dir`.
pub fn write_files(files: &std::collections::BTreeMap<String, Vec<u8>>, dir: &Path) {
    for (path, bytes) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

/// Runs a command, failing the test with its output when it does not succeed.
pub fn run_ok(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e} (is it installed? .ci/run installs it)"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A project folder under `dir` with a copy of the repository's `lib/` and an empty
/// `stacks/`, readable by others (containers running as `nobody` mount its files).
pub fn project(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let project = dir.join("project");
    std::fs::create_dir_all(project.join("stacks")).unwrap();
    std::fs::create_dir_all(project.join("lib")).unwrap();
    for e in std::fs::read_dir(root().join("lib")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), project.join("lib").join(e.file_name())).unwrap();
    }
    project
}

/// A switch report that keeps only the notes, for tests of what a run says.
#[derive(Default)]
pub struct Notes(pub Vec<String>);

impl obsbuild::apply::Report for Notes {
    fn plan(&mut self, _: &str, _: &obsbuild::plan::Plan, _: Option<u64>, _: u64) {}
    fn step(&mut self, _: &str, _: obsbuild::plan::Action, _: obsbuild::apply::Phase, _: std::time::Duration, _: &str) {}
    fn note(&mut self, text: &str) {
        self.0.push(text.to_owned());
    }
}

/// How one measured run ended: exit code (None for a signal), stdout, stderr, wall time,
/// peak RSS in KiB.
pub struct Measured {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: std::time::Duration,
    pub max_rss_kib: i64,
}

/// Runs `cmd` (stdin closed, output captured) under GNU time, for its peak RSS.
///
/// Not `wait4` on a child of the test process: Linux carries a process's peak RSS across
/// `exec`, so a child spawned from the test binary reports the test binary's own peak.
/// `time` is small, and the command it forks reports only itself.
pub fn measured(cmd: &mut Command) -> Measured {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut timed = Command::new("/usr/bin/time");
    timed.args(["-f", "%x %M", "-o"]).arg(report.path()).arg(cmd.get_program()).args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => timed.env(key, v),
            None => timed.env_remove(key),
        };
    }
    let started = std::time::Instant::now();
    let out = timed.stdin(std::process::Stdio::null()).output().unwrap_or_else(|e| panic!("cannot run /usr/bin/time (Debian package `time`): {e}"));
    let elapsed = started.elapsed();
    let text = std::fs::read_to_string(report.path()).unwrap();
    let signal = text.lines().find_map(|l| l.strip_prefix("Command terminated by signal ")).and_then(|n| n.trim().parse().ok());
    let last = text.lines().last().unwrap_or_default();
    let (code, rss) = last.split_once(' ').unwrap_or_else(|| panic!("GNU time said `{text}`"));
    Measured {
        code: if signal.is_some() { None } else { code.parse().ok() },
        signal,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed,
        max_rss_kib: rss.trim().parse().unwrap_or(i64::MAX),
    }
}

/// A small deterministic generator (for kill delays and the like).
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Runs git in `dir` with a fixed identity and no user or system configuration, failing
/// the test when it fails.
pub fn git(dir: &Path, args: &[&str]) -> Output {
    run_ok(
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=review", "-c", "user.email=review@example.invalid", "-c", "commit.gpgsign=false"])
            .args(["-c", "protocol.file.allow=always"])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1"),
        "git",
    )
}

/// The `.rhai` scripts directly in `tests/<folder>`, sorted, and insta settings that keep
/// their snapshots in `snapshots/<folder>` under the scripts' own names.
pub fn script_corpus(folder: &str) -> (Vec<String>, insta::Settings) {
    let dir = root().join("tests").join(folder);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rhai"))
        .collect();
    names.sort();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(format!("snapshots/{folder}"));
    settings.set_prepend_module_to_snapshot(false);
    (names, settings)
}

/// Fails, naming them, on the `.snap` files of `tests/integration/snapshots/<folder>` whose
/// names start with `prefix` and that no snapshot of `produced` (names as given to insta)
/// is: the snapshot of an input deleted or renamed would otherwise stay, looking reviewed
/// and compared with nothing.
pub fn assert_no_orphan_snapshots(folder: &str, prefix: &str, produced: &std::collections::BTreeSet<String>) {
    let dir = root().join("tests/integration/snapshots").join(folder);
    let mut orphans: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && n.strip_suffix(".snap").is_some_and(|stem| !produced.contains(stem)))
        .collect();
    orphans.sort();
    let shown = dir.strip_prefix(root()).unwrap_or(&dir).display().to_string();
    assert!(orphans.is_empty(), "snapshots in {shown} that no input produced (remove them, or restore their inputs): {orphans:?}");
}
