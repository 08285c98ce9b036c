//! Stacks built for Docker Swarm: the seed stacks' Swarm builds, their stack files as
//! Docker's own `docker stack config` reads them, and what obsbuild refuses to claim.

use std::process::Command;

use obsbuild::model::Engine;

use super::common;

fn build_for_swarm(relative: &str) -> obsbuild::pipeline::Built {
    let path = common::root().join(relative);
    match obsbuild::pipeline::build_for(&path, &Default::default(), Some(Engine::Swarm)) {
        Ok(b) => b,
        Err(f) => panic!(
            "{relative} does not build for Swarm:\n{}",
            obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain)
        ),
    }
}

fn text(built: &obsbuild::pipeline::Built, path: &str) -> String {
    String::from_utf8(built.build.files[path].clone()).unwrap()
}

/// Seed 000's script, unchanged, builds for Swarm: a different build from the one for one
/// host, which stays as it was.
#[test]
fn task_manager_builds_for_swarm_unchanged() {
    let swarm = build_for_swarm("stacks/task-manager.rhai");
    let compose = common::build("stacks/task-manager.rhai");
    assert_eq!(swarm.evaluation.stack.engine, Engine::Swarm);
    assert_eq!(compose.evaluation.stack.engine, Engine::Compose);
    assert_ne!(swarm.build.files["docker-compose.yml"], compose.build.files["docker-compose.yml"]);
    assert!(!text(&compose, "docker-compose.yml").contains("deploy:"));
    // What it could not keep is said: loopback-only ports, and where the data lives.
    assert!(swarm.warnings.iter().all(obsbuild::diagnostic::Diagnostic::is_warning));
    for service in ["prometheus", "loki", "grafana"] {
        let label = format!("obsbuild.task-manager.{service}=true");
        assert!(swarm.warnings.iter().any(|w| w.message.contains(&label)), "no warning names {label}");
    }
    // The deployment document records the engine only when it is not compose, so builds
    // for one host hash as they did.
    assert!(text(&swarm, ".obsbuild/deployment.json").contains("\"engine\": \"swarm\""));
    assert!(!text(&compose, ".obsbuild/deployment.json").contains("engine"));
}

/// Every config file a service reads is a Swarm config whose name carries the file's
/// content hash: a changed file is a new name (no "only updates to Labels are allowed").
#[test]
fn configs_are_named_by_content() {
    let built = build_for_swarm("stacks/task-manager.rhai");
    let file = text(&built, "docker-compose.yml");
    let doc: serde_json::Value = obsbuild::yaml::parse(&file).unwrap();
    let configs = doc["configs"].as_object().unwrap();
    assert!(configs.len() >= 8, "{configs:?}");
    for (key, config) in configs {
        let path = config["file"].as_str().unwrap().trim_start_matches("./");
        let hash = &blake3::hash(&built.build.files[path]).to_hex()[..12];
        assert_eq!(config["name"].as_str(), Some(key.as_str()));
        assert!(key.ends_with(&format!("-{hash}")), "{key} does not end with the hash of {path}");
        assert!(key.len() <= 64 && key.starts_with("task-manager-"), "{key}");
    }
    // Each service mounts the files it reads where the compose build has them.
    let prometheus = &doc["services"]["prometheus"];
    let targets: Vec<&str> = prometheus["configs"].as_array().unwrap().iter().map(|c| c["target"].as_str().unwrap()).collect();
    assert!(targets.contains(&"/etc/obsbuild/prometheus.yml") && targets.contains(&"/etc/obsbuild/prometheus.rules.yml"), "{targets:?}");
    assert!(prometheus.get("volumes").unwrap().as_array().unwrap().iter().all(|v| !v.as_str().unwrap().contains("./configs")));
}

/// Placement, order and monitor as the model says: stateful services pinned, stop-first
/// where two tasks cannot run side by side, and `monitor` no shorter than the health check
/// needs to fail.
#[test]
fn deploy_sections_follow_the_model() {
    let built = build_for_swarm("stacks/scaibu-swarm.rhai");
    let doc: serde_json::Value = obsbuild::yaml::parse(&text(&built, "docker-compose.yml")).unwrap();
    let services = &doc["services"];
    assert_eq!(services["otel-agent"]["deploy"]["mode"], "global");
    assert!(services["otel-agent"].get("ports").is_none());
    assert_eq!(services["prometheus"]["deploy"]["placement"]["constraints"][0], "node.labels.scaibu.data == true");
    assert_eq!(services["prometheus"]["deploy"]["update_config"]["order"], "stop-first");
    // Jaeger keeps nothing on disk and publishes nothing: no gap on update.
    assert_eq!(services["jaeger"]["deploy"]["update_config"]["order"], "start-first");
    for (name, service) in services.as_object().unwrap() {
        assert_eq!(service["deploy"]["endpoint_mode"], "dnsrr", "{name}");
        for port in service.get("ports").and_then(|p| p.as_array()).into_iter().flatten() {
            assert_eq!(port["mode"], "host", "{name}");
        }
        let s = &built.evaluation.stack.services[name];
        if let Some(h) = &s.healthcheck {
            let monitor = service["deploy"]["update_config"]["monitor"].as_str().unwrap();
            let secs: u64 = monitor.trim_end_matches('s').parse().unwrap();
            let needed = h.start_period.value() + (h.interval.value() + h.timeout.value()) * h.retries;
            assert!(std::time::Duration::from_secs(secs) > needed, "{name}: monitor {monitor} < {needed:?}");
        }
    }
    assert!(doc["networks"]["observability-network"]["driver"] == "overlay");
}

fn docker_stack_config(dir: &std::path::Path) -> std::process::Output {
    Command::new("docker")
        .args(["stack", "config", "-c", "docker-compose.yml"])
        .current_dir(dir)
        .env("DOCKER_HOST", format!("unix://{}", dir.join("no-engine.sock").display()))
        .env("DOCKER_CONFIG", dir)
        .output()
        .expect("the docker CLI runs (tests/packages.txt installs it)")
}

/// `export` of both seed stacks for Swarm (seed 000 with `--engine swarm`, seed 001's
/// variant as written) is a folder `docker stack config` accepts, as `docker stack deploy`
/// would read it.
#[test]
fn exports_for_swarm_pass_docker_stack_config() {
    for (stack, engine) in [("stacks/task-manager.rhai", Some("swarm")), ("stacks/scaibu-swarm.rhai", None)] {
        let out = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let mut cmd = common::obsbuild();
        cmd.arg("--state-dir").arg(state.path()).current_dir(common::root());
        if let Some(e) = engine {
            cmd.args(["--engine", e]);
        }
        cmd.args(["export", stack, "--out"]).arg(out.path().join("x"));
        common::run_ok(&mut cmd, stack);
        let checked = docker_stack_config(&out.path().join("x"));
        let err = String::from_utf8_lossy(&checked.stderr);
        assert!(checked.status.success(), "{stack}: docker stack config refused it:\n{err}");
        let said = String::from_utf8_lossy(&checked.stdout);
        assert!(said.contains("mode: host") && said.contains("configs:"), "{stack}:\n{said}");
    }
}

fn cli(state: &std::path::Path, args: &[&str]) -> std::process::Output {
    common::obsbuild().arg("--state-dir").arg(state).arg("--color").arg("never").args(args).current_dir(common::root()).output().unwrap()
}

/// Seed 001's one-host stack is refused for Swarm, at each static IP's line, with the way
/// out: its Swarm variant is `stacks/scaibu-swarm.rhai`.
#[test]
fn seed_001_with_static_ips_is_refused_for_swarm() {
    let state = tempfile::tempdir().unwrap();
    let out = cli(state.path(), &["--engine", "swarm", "check", "stacks/scaibu.rhai"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let ips = err.matches("Swarm cannot give service").count();
    assert_eq!(ips, 7, "{err}");
    assert!(err.contains("--> stacks/scaibu.rhai:21:"), "{err}");
    assert!(err.contains("help: remove `ip`"), "{err}");
}

/// `switch` of a Swarm build stops before recording or touching anything, and says how
/// to deploy it instead; `check` says which engine it judged for.
#[test]
fn switch_refuses_a_swarm_build_and_check_names_the_engine() {
    let state = tempfile::tempdir().unwrap();
    let out = cli(state.path(), &["switch", "stacks/scaibu-swarm.rhai"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is built for Swarm, and `obsbuild switch` does not deploy to a swarm yet; nothing was touched"), "{err}");
    let generations = cli(state.path(), &["generations", "scaibu-swarm"]);
    let said = format!("{}{}", String::from_utf8_lossy(&generations.stdout), String::from_utf8_lossy(&generations.stderr));
    assert!(!said.contains("generation 1"), "{said}");
    assert!(!state.path().join("profiles").exists() || std::fs::read_dir(state.path().join("profiles")).unwrap().next().is_none());

    let out = cli(state.path(), &["check", "stacks/scaibu-swarm.rhai", "--validators", "require"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("stack `scaibu-swarm` (for Swarm) is valid"), "{err}");
    assert!(err.contains("validators: docker stack config docker-compose.yml: ok"), "{err}");
    // `--engine compose` builds the same script for one host.
    let out = cli(state.path(), &["--engine", "compose", "check", "stacks/task-manager.rhai"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("for Swarm"));
}

/// A review of a change to a stack built for Swarm says it has no switch plan and why,
/// rather than planning reloads Swarm would not do; `--engine swarm` builds both sides
/// for Swarm.
#[test]
fn a_review_of_a_swarm_build_has_no_one_host_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let project = common::project(tmp.path());
    let script = |retention: &str| format!("import \"prometheus\" as p;\np::server(#{{ retention: \"{retention}\" }});\n");
    std::fs::write(project.join("stacks/m.rhai"), script("15d")).unwrap();
    common::git(&project, &["init", "-q", "-b", "main"]);
    common::git(&project, &["add", "-A"]);
    common::git(&project, &["commit", "-q", "-m", "base"]);
    std::fs::write(project.join("stacks/m.rhai"), script("30d")).unwrap();
    let review = |engine: &[&str]| {
        let out = common::obsbuild().args(engine).args(["--color", "never", "diff", "--rev", "HEAD"]).current_dir(&project).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, one_host) = review(&[]);
    assert_eq!(code, Some(1), "{one_host}");
    assert!(one_host.contains("switch: reload prometheus: config files changed"), "{one_host}");
    let (code, swarm) = review(&["--engine", "swarm"]);
    assert_eq!(code, Some(1), "{swarm}");
    assert!(swarm.contains("no plan: built for Swarm, which `obsbuild switch` does not deploy yet"), "{swarm}");
    assert!(!swarm.contains("switch: "), "{swarm}");
}
