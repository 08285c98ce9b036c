//! Reading YAML back: the rendered `.yml`/`.yaml` files of a big synthetic build (the stack of
//! `benches/common`), parsed whole by `obsbuild::yaml::parse` (serde-saphyr). Prints medians;
//! asserts nothing about timing. Commit 8bb543a has this bench with serde_yaml, the reader
//! serde-saphyr replaced, read and timed side by side (docs/BENCHMARKS.md).
//!
//!     cargo bench --bench yaml            # 4,000 services
//!     SERVICES=1000 cargo bench --bench yaml

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{copy_lib, header, report, synthetic};

const RUNS: usize = 15;

fn main() {
    let n: usize = std::env::var("SERVICES").ok().and_then(|v| v.parse().ok()).unwrap_or(4000);
    let tmp = tempfile::tempdir().expect("temp folder");
    copy_lib(env!("CARGO_MANIFEST_DIR").as_ref(), tmp.path());
    std::fs::create_dir_all(tmp.path().join("stacks")).expect("stacks/");
    let script = tmp.path().join("stacks/synthetic.rhai");
    std::fs::write(&script, synthetic(n)).expect("write the stack");
    let built = match obsbuild::pipeline::build(&script, &Default::default()) {
        Ok(b) => b,
        Err(_) => panic!("the synthetic stack of {n} services does not build"),
    };
    let files: Vec<(&String, &str)> = built
        .build
        .files
        .iter()
        .filter(|(p, _)| p.ends_with(".yml") || p.ends_with(".yaml"))
        .map(|(p, b)| (p, std::str::from_utf8(b).expect("UTF-8")))
        .collect();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    for (path, text) in &files {
        obsbuild::yaml::parse(text).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    println!("{n} services: {} YAML files, {:.1} MiB", files.len(), bytes as f64 / (1 << 20) as f64);
    let mut new = Vec::new();
    for _ in 0..RUNS {
        new.push(time(|| {
            for (_, text) in &files {
                std::hint::black_box(obsbuild::yaml::parse(text).expect("parses"));
            }
        }));
    }
    header();
    report(&format!("serde-saphyr (yaml::parse), {n} services"), new);
}

fn time(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}
