//! Whole-process timings of `obsbuild check` of the default stack, with the components'
//! validators off and on (`--validators auto`, every tool found on PATH running on its own
//! thread). Prints medians; asserts nothing.
//!
//!     cargo bench --bench check

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{header, report};

fn check(root: &std::path::Path, state: &std::path::Path, mode: &str) -> Duration {
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_obsbuild"))
        .arg("--state-dir")
        .arg(state)
        .args(["check", "stacks/task-manager.rhai", "--validators", mode])
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run obsbuild");
    let elapsed = started.elapsed();
    assert!(status.success(), "obsbuild check --validators {mode} failed");
    elapsed
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let state = std::env::temp_dir().join(format!("obsbuild-bench-check-{}", std::process::id()));
    header();
    for mode in ["off", "auto"] {
        let samples: Vec<Duration> = (0..20).map(|_| check(&root, &state, mode)).collect();
        report(&format!("default stack, check --validators {mode}"), samples);
    }
    let _ = std::fs::remove_dir_all(&state);
}
