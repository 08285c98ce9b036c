//! Whole-process timings of `obsbuild diff --rev A --rev B` (the code review,
//! docs/REVIEW.md): both revisions' `stacks/` and `lib/` read from git's objects, every named stack built
//! on both sides, compared in each component's terms, the switch plan worked out.
//! Prints medians; asserts nothing about timing.
//!
//!     cargo bench --bench review
//!     OBSBUILD_BASELINE=path/to/older/obsbuild cargo bench --bench review   # side by side
//!
//! Each scenario is a temporary git repository holding a project (`lib/` copied from this
//! one, one script in `stacks/`) with two commits tagged `base` and `next`; `next` makes
//! one review-sized change. Each run is a fresh process, as a user or a CI job runs it,
//! started in the project folder. The exit code is checked (1: something changed; 0:
//! nothing did) so a run that fails is never timed as a review.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{copy_lib, header, report, synthetic};

/// Git, isolated from the user's and the system's configuration.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A git repository at `dir` holding `lib/` and `stacks/<name>.rhai` = `script`, committed
/// and tagged `base`; then `script` with `from` replaced by `to` (which must occur in it),
/// committed and tagged `next`.
fn repository(root: &Path, dir: &Path, name: &str, script: &str, from: &str, to: &str, what: &str) {
    assert!(script.contains(from), "`{from}` is not in stacks/{name}.rhai: the change to review would be no change");
    std::fs::create_dir_all(dir.join("stacks")).expect("temp folder");
    copy_lib(root, dir);
    let stack = dir.join("stacks").join(format!("{name}.rhai"));
    std::fs::write(&stack, script).expect("write stack");
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    git(dir, &["tag", "base"]);
    std::fs::write(&stack, script.replacen(from, to, 1)).expect("write stack");
    git(dir, &["commit", "-q", "-a", "-m", what]);
    git(dir, &["tag", "next"]);
}

/// `obsbuild diff --rev old --rev new stack` in `project` with the binary `bin`, whole
/// process; asserts its exit code.
fn review(bin: &Path, project: &Path, old: &str, new: &str, stack: &str, expected: i32) -> Duration {
    let started = Instant::now();
    let status = Command::new(bin)
        .args(["diff", "--rev", old, "--rev", new, stack])
        .current_dir(project)
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run obsbuild");
    let elapsed = started.elapsed();
    assert_eq!(status.code(), Some(expected), "obsbuild diff --rev {old} --rev {new} {stack} in {}", project.display());
    elapsed
}

/// What `diff --rev` does with git and nothing else, as src/git.rs does it: resolve each
/// revision, list its `stacks/` and `lib/` (`git ls-tree`), read those objects (`git
/// cat-file --batch`). Nothing is unpacked.
fn git_reads_only(project: &Path) -> Duration {
    let started = Instant::now();
    for rev in ["base", "next"] {
        let commit = git(project, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")]);
        let listing = git(project, &["ls-tree", "-r", "-l", "-z", "--full-tree", &commit, "--", "stacks", "lib"]);
        let objects: String = listing
            .split('\0')
            .filter_map(|r| r.split_whitespace().nth(2))
            .map(|o| format!("{o}\n"))
            .collect();
        let mut cat = Command::new("git")
            .args(["cat-file", "--batch"])
            .current_dir(project)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run git cat-file");
        let mut stdin = cat.stdin.take().expect("cat-file input");
        let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, objects.as_bytes()));
        let out = cat.wait_with_output().expect("wait for git cat-file");
        writer.join().expect("writer").expect("write to git cat-file");
        assert!(out.status.success() && !out.stdout.is_empty(), "git cat-file of {rev}");
    }
    started.elapsed()
}

fn main() {
    // `cargo bench` passes `--bench`; accept and ignore harness arguments.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("obsbuild-bench-review-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);

    // Scenario A: the default stack, one alert rule's `for` lengthened.
    let default = tmp.join("default");
    let script = std::fs::read_to_string(root.join("stacks/task-manager.rhai")).expect("read stacks/task-manager.rhai");
    repository(
        &root,
        &default,
        "task-manager",
        &script,
        "\"for\": \"1m\",",
        "\"for\": \"5m\",",
        "CollectorDown fires after 5m, not 1m",
    );
    // Scenario B: synthetic stacks, Prometheus's scrape interval changed.
    let synthetic_repo = |n: usize| {
        let dir = tmp.join(format!("synthetic-{n}"));
        repository(
            &root,
            &dir,
            &format!("synthetic-{n}"),
            &synthetic(n),
            "let metrics = prometheus::server();",
            "let metrics = prometheus::server(#{ scrape_interval: \"30s\" });",
            "Scrape every 30s",
        );
        dir
    };
    let (s100, s1000) = (synthetic_repo(100), synthetic_repo(1000));
    // Scenario C: every service's metrics port changed, so every scrape job changes and
    // each one's readers (1,000 panels, 1,000 alert rules) are looked for.
    let every_job = tmp.join("every-job-1000");
    repository(&root, &every_job, "synthetic-1000", &synthetic(1000), "metrics: 8080", "metrics: 9090", "Metrics on 9090");

    let ours = PathBuf::from(env!("CARGO_BIN_EXE_obsbuild"));
    let baseline = std::env::var_os("OBSBUILD_BASELINE").map(PathBuf::from);
    // With a baseline, each scenario's runs alternate between the two binaries, so both
    // see the same load on a shared machine.
    let scenario = |name: &str, runs: usize, run: &dyn Fn(&Path) -> Duration| {
        let mut samples = (Vec::new(), Vec::new());
        for _ in 0..runs {
            if let Some(b) = &baseline {
                samples.1.push(run(b));
            }
            samples.0.push(run(&ours));
        }
        if baseline.is_some() {
            report(&format!("{name} (baseline)"), samples.1);
        }
        report(name, samples.0);
    };
    header();
    let runs = 30;
    scenario("default stack, both sides identical", runs, &|bin| review(bin, &default, "base", "base", "task-manager", 0));
    scenario("default stack, one alert rule changed", runs, &|bin| review(bin, &default, "base", "next", "task-manager", 1));
    let reads: Vec<Duration> = (0..runs).map(|_| git_reads_only(&default)).collect();
    report("default stack, git reads of both only", reads);
    scenario("100 services, scrape interval changed", 10, &|bin| review(bin, &s100, "base", "next", "synthetic-100", 1));
    scenario("1,000 services, scrape interval changed", 10, &|bin| review(bin, &s1000, "base", "next", "synthetic-1000", 1));
    scenario("1,000 services, every scrape job changed", 3, &|bin| review(bin, &every_job, "base", "next", "synthetic-1000", 1));
    let _ = std::fs::remove_dir_all(&tmp);
}
