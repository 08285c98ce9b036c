//! Whole-process timings of `obsbuild build`: the default stack cold, a no-op rebuild, and
//! synthetic stacks of 10, 100 and 1,000 services. Prints medians; asserts nothing.
//!
//!     cargo bench --bench build
//!
//! Each run is a fresh process, as a user runs it. "Cold" means a new state folder (the
//! build is rendered and written, with fsync); "no-op" rebuilds into a state folder that
//! already holds the build.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn obsbuild(state: &Path, stack: &Path) -> Duration {
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_obsbuild"))
        .arg("--state-dir")
        .arg(state)
        .arg("build")
        .arg(stack)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run obsbuild");
    let elapsed = started.elapsed();
    assert!(status.success(), "obsbuild build {} failed", stack.display());
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A stack of `n` plain services, each scraped by Prometheus, with an alert and a panel,
/// behind the usual collector, Loki, Prometheus and Grafana.
fn synthetic(n: usize) -> String {
    let mut s = String::from(
        "import \"otel-collector\" as otel;\nimport \"loki\" as loki;\nimport \"prometheus\" as prometheus;\nimport \"grafana\" as grafana;\n",
    );
    s.push_str(&format!("stack(\"synthetic-{n}\");\n"));
    s.push_str("let logs = loki::server();\nlet metrics = prometheus::server();\nlet hub = otel::collector();\n");
    s.push_str("hub.send(\"logs\", logs);\nhub.send(\"metrics\", metrics);\n");
    s.push_str("let ui = grafana::server(#{ datasources: [metrics, logs] });\nlet panels = [];\n");
    s.push_str(&format!("for i in 0..{n} {{\n"));
    s.push_str("    let name = `svc-${i}`;\n");
    s.push_str("    let svc = service(name, #{ image: \"registry.example.com/app:1.0.0\", endpoints: #{ metrics: 8080 }, environment: #{ INDEX: i }, memory: \"64m\" });\n");
    s.push_str("    metrics.scrape(svc);\n");
    s.push_str("    metrics.alert(`Down${i}`, #{ expr: `up{job=\"${name}\"} == 0`, \"for\": \"1m\", severity: \"warning\" });\n");
    s.push_str("    panels.push(#{ title: name, datasource: \"prometheus\", query: `rate(http_server_request_duration_seconds_count{job=\"${name}\"}[5m])`, width: 6 });\n");
    s.push_str("}\nui.dashboard(#{ uid: \"all\", title: \"All services\", panels: panels });\n");
    s
}

fn main() {
    // `cargo bench` passes `--bench`; accept and ignore harness arguments.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("obsbuild-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("stacks")).expect("temp folder");
    std::fs::create_dir_all(tmp.join("lib")).expect("temp folder");
    for entry in std::fs::read_dir(root.join("lib")).expect("lib/") {
        let entry = entry.expect("lib entry");
        std::fs::copy(entry.path(), tmp.join("lib").join(entry.file_name())).expect("copy lib");
    }
    let default = root.join("stacks/task-manager.rhai");

    println!("{:<34} {:>6} {:>10} {:>10} {:>10}", "scenario", "runs", "median", "min", "max");
    let report = |name: &str, samples: Vec<Duration>| {
        let (min, max) = (*samples.iter().min().expect("runs"), *samples.iter().max().expect("runs"));
        let runs = samples.len();
        let m = median(samples);
        println!("{name:<34} {runs:>6} {:>10} {:>10} {:>10}", ms(m), ms(min), ms(max));
        m
    };

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
