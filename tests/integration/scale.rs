//! A fleet-sized stack builds: the synthetic stack of the benches (`benches/common`) at
//! 10,000 services, a scrape job, an alert rule and a dashboard panel each, evaluates,
//! validates and renders within the sandbox's size limits. Not timed (`cargo bench --bench
//! build` times it, and fails if a stack of its scale table does not build).
//!
//! A debug build takes minutes for it, so it runs in release only:
//!
//!     cargo test --release --test integration scale

use std::time::Duration;

use obsbuild::evaluate::Limits;

#[path = "../../benches/common/mod.rs"]
mod synthetic;

#[test]
#[cfg_attr(debug_assertions, ignore = "minutes in a debug build: cargo test --release --test integration scale")]
fn ten_thousand_services_build_within_the_size_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let project = super::common::project(tmp.path());
    let stack = project.join("stacks/fleet.rhai");
    std::fs::write(&stack, synthetic::synthetic(10_000)).unwrap();
    // Every limit as a build has it but the clock, which a loaded machine may need more of;
    // the sizes (a 10,000-item array of panels) are what this tests.
    let limits = Limits { deadline: Duration::from_secs(60), ..Limits::default() };
    let built = match obsbuild::pipeline::build(&stack, &limits) {
        Ok(b) => b,
        Err(f) => panic!(
            "the 10,000-service stack does not build:\n{}",
            obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain)
        ),
    };
    // The services, and the collector, Loki, Prometheus and Grafana in front of them.
    assert_eq!(built.evaluation.stack.services.len(), 10_004);
    let rules = built.build.files.iter().find(|(path, _)| path.contains("prometheus") && path.contains("rules")).map(|(_, bytes)| String::from_utf8_lossy(bytes).matches("alert: Down").count());
    assert_eq!(rules, Some(10_000), "every alert rule is rendered");
}
