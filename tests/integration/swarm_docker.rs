//! A build for Swarm, exported and deployed with Docker's own `docker stack deploy` on a
//! single-node swarm of the real engine: the cross-check that the stack file obsbuild
//! writes is one Swarm runs, and that content-named configs make a changed rule a new
//! config and a service update where a config of the same name is refused. Runs in CI and
//! fails there without Docker; never skipped.
//!
//! The swarm listens on 127.0.0.1 only, publishes no port, and is left (with everything
//! the test made) at the end, also when the test fails, unless it was there before.

use std::process::{Command, Output};
use std::time::Duration;

use super::common;
use super::switch_docker::{images, serial};

const BUSYBOX: &str = "obsbuild-test/busybox:1.35.0";
const PROMETHEUS: &str = "obsbuild-test/prometheus:2.42.0";

fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().expect("the docker CLI runs")
}

fn said(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// A single-node swarm and a stack on it, both gone when dropped.
struct Swarm {
    made_by_us: bool,
    stack: String,
}

impl Swarm {
    fn new(stack: &str) -> Swarm {
        let state = stdout(&docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]));
        let made_by_us = match state.as_str() {
            "inactive" => {
                let init = docker(&["swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:2377"]);
                assert!(init.status.success(), "docker swarm init: {}", said(&init));
                true
            }
            "active" => false,
            other => panic!("the engine's swarm state is `{other}`; a test swarm needs `inactive` or `active`"),
        };
        Swarm { made_by_us, stack: stack.to_owned() }
    }

    fn node(&self) -> String {
        stdout(&docker(&["info", "--format", "{{.Swarm.NodeID}}"]))
    }

    fn deploy(&self, dir: &std::path::Path) -> Output {
        Command::new("docker")
            .args(["stack", "deploy", "--detach=true", "-c", "docker-compose.yml", &self.stack])
            .current_dir(dir)
            .output()
            .unwrap()
    }

    /// The running container of `service`'s task, if one is up and healthy.
    fn healthy(&self, service: &str) -> Vec<String> {
        let filter = format!("label=com.docker.swarm.service.name={}_{service}", self.stack);
        let ids = stdout(&docker(&["ps", "-q", "--filter", &filter, "--filter", "health=healthy"]));
        ids.lines().map(str::to_owned).collect()
    }

    /// What Prometheus' rule API says, from inside its task (no port is published).
    fn rules(&self) -> String {
        match self.healthy("prometheus").first() {
            Some(id) => stdout(&docker(&["exec", id, "wget", "-qO-", "http://localhost:9090/api/v1/rules"])),
            None => String::new(),
        }
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        let _ = docker(&["stack", "rm", &self.stack]);
        let label = format!("label=com.docker.stack.namespace={}", self.stack);
        common::wait_until(Duration::from_secs(60), || stdout(&docker(&["ps", "-aq", "--filter", &label])).is_empty());
        for id in stdout(&docker(&["config", "ls", "-q", "--filter", &label])).lines() {
            let _ = docker(&["config", "rm", id]);
        }
        let _ = docker(&["volume", "rm", &format!("{}-prometheus-data", self.stack)]);
        if self.made_by_us {
            let _ = docker(&["swarm", "leave", "--force"]);
        }
    }
}

fn script(stack: &str, rule: &str) -> String {
    format!(
        r#"import "prometheus" as prometheus;
stack("{stack}", #{{ engine: "swarm" }});
let web = service("web", #{{
    image: "{BUSYBOX}",
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc/obsbuild/web"],
    endpoints: #{{ http: 8080 }},
    files: #{{ "index.html": "ok\n" }},
    healthcheck: #{{ test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost:8080/index.html"], interval: "1s", timeout: "1s", retries: 2, start_period: "1s" }},
    deploy: #{{ replicas: 2 }},
}});
let metrics = prometheus::server(#{{ image: "{PROMETHEUS}", version: "2.42.0", ports: [], healthcheck: #{{ interval: "1s", start_period: "1s", retries: 30 }} }});
metrics.scrape("web", "web:8080");
metrics.alert("WebDown", #{{ expr: "{rule}", "for": "1m" }});
"#
    )
}

fn export(project: &std::path::Path, state: &std::path::Path, out: &std::path::Path) {
    let mut cmd = common::obsbuild();
    cmd.arg("--state-dir").arg(state).args(["export", "stacks/stack.rhai", "--out"]).arg(out).current_dir(project);
    common::run_ok(&mut cmd, "obsbuild export");
}

#[test]
fn docker_stack_deploy_runs_the_export_and_a_rule_change_is_a_new_config() {
    let _g = serial();
    images();
    let tmp = tempfile::tempdir().unwrap();
    let project = common::project(tmp.path());
    let stack = format!("sw{}", std::process::id() % 100_000);
    let (state, out) = (tmp.path().join("state"), tmp.path().join("out"));
    std::fs::write(project.join("stacks/stack.rhai"), script(&stack, "up == 0")).unwrap();
    export(&project, &state, &out);

    let swarm = Swarm::new(&stack);
    // Prometheus keeps its TSDB in a local volume: it runs where the label obsbuild pins
    // it to is.
    let label = format!("obsbuild.{stack}.prometheus=true");
    let labelled = docker(&["node", "update", "--label-add", &label, &swarm.node()]);
    assert!(labelled.status.success(), "{}", said(&labelled));

    let first = swarm.deploy(&out);
    assert!(first.status.success(), "docker stack deploy: {}", said(&first));
    let up = common::wait_until(Duration::from_secs(90), || {
        swarm.healthy("web").len() == 2 && swarm.rules().contains(r#""query":"up == 0""#)
    });
    assert!(up, "the stack did not come up healthy: {}", said(&docker(&["service", "ls"])));
    let configs_before = stdout(&docker(&["config", "ls", "--format", "{{.Name}}"]));

    // The rule changes: a new rules config by name, the service updated to it.
    std::fs::write(project.join("stacks/stack.rhai"), script(&stack, "up < 1")).unwrap();
    export(&project, &state, &out);
    let second = swarm.deploy(&out);
    assert!(second.status.success(), "docker stack deploy of the changed rule: {}", said(&second));
    let updated = common::wait_until(Duration::from_secs(90), || swarm.rules().contains(r#""query":"up \u003c 1""#));
    assert!(updated, "Prometheus does not serve the new rule: {}", swarm.rules());
    let configs_after = stdout(&docker(&["config", "ls", "--format", "{{.Name}}"]));
    let new: Vec<&str> = configs_after.lines().filter(|c| !configs_before.lines().any(|b| b == *c)).collect();
    assert_eq!(new.len(), 1, "one new config, the rules: {new:?}");
    assert!(new[0].starts_with(&format!("{stack}-prometheus.rules.yml-")), "{new:?}");
    assert_eq!(swarm.healthy("web").len(), 2, "web was not touched");

    // What users of `docker stack deploy` hit without content names: the same config name
    // with other content is refused.
    let compose = std::fs::read_to_string(out.join("docker-compose.yml")).unwrap();
    let rules_name = new[0];
    let fixed = compose.replace(&format!("name: {rules_name}"), &format!("name: {stack}-fixed-rules"));
    let same_name = tmp.path().join("same-name");
    let copied = Command::new("cp").arg("-r").arg(&out).arg(&same_name).status().unwrap();
    assert!(copied.success());
    std::fs::write(same_name.join("docker-compose.yml"), &fixed).unwrap();
    let first = swarm.deploy(&same_name);
    assert!(first.status.success(), "{}", said(&first));
    let rules = std::fs::read_to_string(same_name.join("configs/prometheus.rules.yml")).unwrap();
    std::fs::write(same_name.join("configs/prometheus.rules.yml"), rules.replace("up < 1", "up < 2")).unwrap();
    let refused = swarm.deploy(&same_name);
    assert!(!refused.status.success(), "a changed config under its old name was accepted");
    assert!(said(&refused).contains("only updates to Labels are allowed"), "{}", said(&refused));
    drop(swarm);
    if stdout(&docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"])) == "inactive" {
        assert!(stdout(&docker(&["ps", "-aq", "--filter", &format!("label=com.docker.stack.namespace={stack}")])).is_empty());
    }
}
