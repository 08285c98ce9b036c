//! Shared by the benches (`mod common;` in benches/build.rs and benches/review.rs): the
//! synthetic stack, copying the project's library, and the figures table.

// Each bench compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

/// A stack of `n` plain services, each scraped by Prometheus, with an alert and a panel,
/// behind the usual collector, Loki, Prometheus and Grafana.
pub fn synthetic(n: usize) -> String {
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

/// Copies the project's `lib/` (the modules stacks import) into `into/lib`.
pub fn copy_lib(root: &Path, into: &Path) {
    std::fs::create_dir_all(into.join("lib")).expect("temp folder");
    for entry in std::fs::read_dir(root.join("lib")).expect("lib/") {
        let entry = entry.expect("lib entry");
        std::fs::copy(entry.path(), into.join("lib").join(entry.file_name())).expect("copy lib");
    }
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The table's header row.
pub fn header() {
    println!("{:<42} {:>6} {:>10} {:>10} {:>10}", "scenario", "runs", "median", "min", "max");
}

/// One row of the table: the median, min and max of `samples`; returns the median.
pub fn report(name: &str, samples: Vec<Duration>) -> Duration {
    let (min, max) = (*samples.iter().min().expect("runs"), *samples.iter().max().expect("runs"));
    let runs = samples.len();
    let m = median(samples);
    println!("{name:<42} {runs:>6} {:>10} {:>10} {:>10}", ms(m), ms(min), ms(max));
    m
}
