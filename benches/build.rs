//! Whole-process timings of `obsbuild build`: the default stack cold, a no-op rebuild, and
//! synthetic stacks of 10, 100 and 1,000 services. Prints medians; asserts nothing.
//!
//!     cargo bench --bench build
//!
//! Each run is a fresh process, as a user runs it. "Cold" means a new state folder (the
//! build is rendered and written, with fsync); "no-op" rebuilds into a state folder that
//! already holds the build.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{copy_lib, header, report, synthetic};

fn obsbuild(state: &Path, stack: &Path) -> Duration {
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_obsbuild"))
        .arg("--state-dir")
        .arg(state)
        .arg("build")
        .arg(stack)
        // The components' validators are timed by `benches/check.rs`; this measures obsbuild.
        .args(["--validators", "off"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run obsbuild");
    let elapsed = started.elapsed();
    assert!(status.success(), "obsbuild build {} failed", stack.display());
    elapsed
}

fn main() {
    // `cargo bench` passes `--bench`; accept and ignore harness arguments.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("obsbuild-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("stacks")).expect("temp folder");
    copy_lib(&root, &tmp);
    let default = root.join("stacks/task-manager.rhai");

    header();

    let runs = 30;
    let cold: Vec<Duration> = (0..runs).map(|i| obsbuild(&tmp.join(format!("cold-{i}")), &default)).collect();
    report("default stack, cold build", cold);
    let warm = tmp.join("warm");
    obsbuild(&warm, &default);
    let noop: Vec<Duration> = (0..runs).map(|_| obsbuild(&warm, &default)).collect();
    report("default stack, no-op rebuild", noop);

    let mut per_service = Vec::new();
    for (n, runs) in [(10usize, 20usize), (100, 10), (1000, 5)] {
        let stack = tmp.join(format!("stacks/synthetic-{n}.rhai"));
        std::fs::write(&stack, synthetic(n)).expect("write stack");
        let samples: Vec<Duration> = (0..runs).map(|i| obsbuild(&tmp.join(format!("synthetic-{n}-{i}")), &stack)).collect();
        let m = report(&format!("{n} services, cold build"), samples);
        per_service.push((n, m));
    }
    println!();
    let (base_n, base) = per_service[0];
    for (n, m) in &per_service[1..] {
        let extra = m.saturating_sub(base).as_secs_f64() * 1000.0 / (*n - base_n) as f64;
        println!("{n:>5} services: {:.3} ms per service beyond {base_n} ({:.1}x the time of {base_n})", extra, m.as_secs_f64() / base.as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
