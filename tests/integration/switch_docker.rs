//! `obsbuild switch`, `rollback`, `status` and `down` against the real Docker engine, with
//! images built from Debian's binaries (`tests/images.sh`): a busybox web server, a
//! worker, a real Prometheus and a real Alertmanager. These tests run in CI and fail
//! there without Docker; they are never skipped.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::common;

/// External networks, static addresses, limits and teardown (`switch_docker/net.rs`).
mod net;

const BUSYBOX: &str = "obsbuild-test/busybox:1.35.0";
const BUSYBOX_BROKEN: &str = "obsbuild-test/busybox-broken:1.35.0";
const PROMETHEUS: &str = "obsbuild-test/prometheus:2.42.0";
const ALERTMANAGER: &str = "obsbuild-test/alertmanager:0.25.0";

pub(super) use super::common::serial;

pub(super) fn images() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        common::run_ok(Command::new("bash").arg(common::root().join("tests/images.sh")), "tests/images.sh");
        // A web server that never becomes healthy: its health check looks for a file
        // that is not there.
        let _ = Command::new("docker").args(["tag", BUSYBOX, BUSYBOX_BROKEN]).status();
    });
}

/// Knobs the tests turn between switches.
#[derive(Clone)]
struct Version {
    web_image: &'static str,
    web_health_file: &'static str,
    worker_command: &'static str,
    rule: &'static str,
    scrape_interval: &'static str,
    web_index: &'static str,
}

impl Default for Version {
    fn default() -> Self {
        Version {
            web_image: BUSYBOX,
            web_health_file: "index.html",
            worker_command: "sleep 3600",
            rule: "up == 0",
            scrape_interval: "15s",
            web_index: "ok",
        }
    }
}

/// A project with one stack, its state folder, and cleanup of everything it started.
struct Deployment {
    _tmp: tempfile::TempDir,
    stack: String,
    script: PathBuf,
    state: PathBuf,
}

impl Deployment {
    fn new(test: &str) -> Deployment {
        images();
        let tmp = tempfile::tempdir().unwrap();
        let project = common::project(tmp.path());
        let stack = format!("dk-{test}-{}", std::process::id() % 100_000);
        let script = project.join("stacks/stack.rhai");
        let d = Deployment { stack, script, state: tmp.path().join("state"), _tmp: tmp };
        d.write(&Version::default());
        d
    }

    fn write(&self, v: &Version) {
        let text = format!(
            r#"import "prometheus" as prometheus;
import "alertmanager" as alertmanager;
stack("{stack}");
network("{stack}-net");
let web = service("web", #{{
    image: "{web}",
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc/obsbuild/web"],
    endpoints: #{{ http: 8080 }},
    files: #{{ "index.html": "{index}\n" }},
    healthcheck: #{{ test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost:8080/{health}"], interval: "1s", timeout: "1s", retries: 2, start_period: "1s" }},
    probe: #{{ port: 8080, path: "/{health}" }},
}});
let worker = service("worker", #{{ image: "{busybox}", command: ["sh", "-c", "{worker}"], depends_on: [web] }});
let fast = #{{ interval: "1s", start_period: "1s", retries: 30 }};
let am = alertmanager::server(#{{ image: "{am}", version: "0.25.0", ports: [], healthcheck: fast }});
let metrics = prometheus::server(#{{ image: "{prom}", version: "2.42.0", ports: [], scrape_interval: "{interval}", healthcheck: fast }});
metrics.alerts_to(am);
metrics.scrape("web", "web:8080");
metrics.alert("WebDown", #{{ expr: "{rule}", "for": "1m" }});
"#,
            stack = self.stack,
            web = v.web_image,
            health = v.web_health_file,
            busybox = BUSYBOX,
            worker = v.worker_command,
            am = ALERTMANAGER,
            prom = PROMETHEUS,
            interval = v.scrape_interval,
            rule = v.rule.replace('"', "\\\""),
            index = v.web_index,
        );
        std::fs::write(&self.script, text).unwrap();
    }

    fn obsbuild(&self, args: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_obsbuild"));
        c.arg("--state-dir").arg(&self.state).args(args);
        c.output().unwrap()
    }

    fn switch(&self, extra: &[&str]) -> Output {
        let mut args = vec!["switch", self.script.to_str().unwrap()];
        if !extra.contains(&"--timeout") {
            args.extend(["--timeout", "60"]);
        }
        args.extend_from_slice(extra);
        self.obsbuild(&args)
    }

    fn must(&self, out: Output, what: &str) -> Output {
        assert!(out.status.success(), "{what} failed ({}):\n{}\n{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Every container of the stack: (name, id, image, running, started at).
    fn containers(&self) -> Vec<(String, String, String, bool, String)> {
        let out = Command::new("docker")
            .args(["ps", "-a", "--filter", &format!("label=obsbuild.stack={}", self.stack), "--format", "{{.Names}}"])
            .output()
            .unwrap();
        let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let f = Command::new("docker")
                    .args(["inspect", "--format", "{{.Id}} {{.Config.Image}} {{.State.Running}} {{.State.StartedAt}}", &name])
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&f.stdout).trim().to_owned();
                let parts: Vec<&str> = text.split(' ').collect();
                (name, parts[0].to_owned(), parts[1].to_owned(), parts[2] == "true", parts[3].to_owned())
            })
            .collect()
    }

    fn id_of(&self, service: &str) -> String {
        let name = format!("{}-{service}", self.stack);
        self.containers().into_iter().find(|c| c.0 == name).map(|c| c.1).unwrap_or_default()
    }

    /// The host port Docker published on 127.0.0.1 for a service's container port.
    fn port(&self, service: &str, container_port: u16) -> u16 {
        let out = Command::new("docker").args(["port", &format!("{}-{service}", self.stack), &format!("{container_port}/tcp")]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find(|l| l.starts_with("127.0.0.1:")).unwrap_or_else(|| panic!("{service}:{container_port} is not published on 127.0.0.1: {text}"));
        line.rsplit(':').next().unwrap().trim().parse().unwrap()
    }

    fn current(&self) -> Option<u64> {
        let out = self.obsbuild(&["generations", &self.stack, "--json"]);
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        list.as_array()?.iter().find(|g| g["current"] == true).and_then(|g| g["number"].as_u64())
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let _ = self.obsbuild(&["down", &self.stack, "--volumes"]);
        // Whatever the test left, by label.
        let out = Command::new("docker").args(["ps", "-aq", "--filter", &format!("label=obsbuild.stack={}", self.stack)]).output();
        if let Ok(out) = out {
            for id in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = Command::new("docker").args(["rm", "-f", id]).output();
            }
        }
        let _ = Command::new("docker").args(["network", "rm", &format!("{}-net", self.stack)]).output();
    }
}

/// A minimal HTTP GET on 127.0.0.1, returning the status and body.
pub(super) fn get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let status = raw.split_whitespace().nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((status, body))
}

#[test]
fn fresh_switch_is_healthy_and_a_second_touches_nothing() {
    let _g = serial();
    let d = Deployment::new("fresh");
    d.must(d.switch(&[]), "first switch");
    let before = d.containers();
    assert_eq!(before.len(), 4, "{before:?}");
    assert!(before.iter().all(|c| c.3), "not all running: {before:?}");
    assert_eq!(d.current(), Some(1));
    let status = d.obsbuild(&["status", &d.stack]);
    assert_eq!(status.status.code(), Some(0), "{}", String::from_utf8_lossy(&status.stdout));

    let again = d.must(d.switch(&[]), "second switch");
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to do"), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(d.containers(), before, "a no-op switch touched a container");
}

#[test]
fn a_rule_change_reloads_real_prometheus_in_place_without_a_failed_probe() {
    let _g = serial();
    let d = Deployment::new("reload");
    d.must(d.switch(&[]), "first switch");
    let id = d.id_of("prometheus");
    let port = d.port("prometheus", 9090);

    // Probe readiness all through the switch.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let prober = {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match get(port, "/-/ready") {
                    Some((200, _)) => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                // The probing rate, not a wait for anything.
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    // Probes on both sides of the switch, counted rather than slept for.
    let probed = || ok.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed);
    let some_more = |from: usize| common::wait_until(Duration::from_secs(60), || probed() >= from + 10);
    d.write(&Version { rule: "up{job=\"web\"} == 0", scrape_interval: "7s", ..Version::default() });
    assert!(some_more(0), "the prober never probed");
    let out = d.must(d.switch(&[]), "switch with a changed rule and scrape interval");
    assert!(some_more(probed()), "the prober stopped probing");
    stop.store(true, Ordering::Relaxed);
    prober.join().unwrap();

    assert!(String::from_utf8_lossy(&out.stdout).contains("reload"), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(d.id_of("prometheus"), id, "Prometheus was recreated instead of reloaded");
    assert_eq!(failed.load(Ordering::Relaxed), 0, "failed probes during the reload ({} ok)", ok.load(Ordering::Relaxed));
    assert!(ok.load(Ordering::Relaxed) > 5);
    let (_, config) = get(port, "/api/v1/status/config").unwrap();
    assert!(config.contains("scrape_interval: 7s"), "{config}");
    let (_, rules) = get(port, "/api/v1/rules").unwrap();
    assert!(rules.contains("up{job=\\\"web\\\"} == 0"), "{rules}");
    assert_eq!(d.current(), Some(2));
}

#[test]
fn an_image_or_command_change_recreates_only_that_service() {
    let _g = serial();
    let d = Deployment::new("recreate");
    d.must(d.switch(&[]), "first switch");
    let before: Vec<(String, String)> = d.containers().into_iter().map(|c| (c.0, c.1)).collect();
    d.write(&Version { worker_command: "sleep 7200", ..Version::default() });
    d.must(d.switch(&[]), "switch with a changed command");
    let after: Vec<(String, String)> = d.containers().into_iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(after.len(), 4, "{after:?}");
    for ((name, old), (_, new)) in before.iter().zip(&after) {
        if name.ends_with("-worker") {
            assert_ne!(old, new, "the worker was not recreated");
        } else {
            assert_eq!(old, new, "{name} was touched");
        }
    }
}

#[test]
fn a_failing_health_check_rolls_back_to_the_old_containers() {
    let _g = serial();
    let d = Deployment::new("rollback");
    d.must(d.switch(&[]), "first switch");
    let before = d.containers();
    d.write(&Version { web_image: BUSYBOX_BROKEN, web_health_file: "missing.html", ..Version::default() });
    let out = d.switch(&["--timeout", "8"]);
    assert_ne!(out.status.code(), Some(0), "a failed switch must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("web") && stderr.contains("back on the previous generation"), "{stderr}");
    assert_eq!(d.current(), Some(1));
    let after = d.containers();
    assert_eq!(after.iter().map(|c| (&c.0, &c.1, c.3)).collect::<Vec<_>>(), before.iter().map(|c| (&c.0, &c.1, c.3)).collect::<Vec<_>>(), "leftovers or changed containers");
    let port = d.port("web", 8080);
    assert_eq!(get(port, "/index.html").map(|r| r.0), Some(200), "the old web server does not serve");
}

#[test]
fn rollback_restores_the_previous_containers_and_config() {
    let _g = serial();
    let d = Deployment::new("back");
    d.must(d.switch(&[]), "first switch");
    let first = d.containers();
    d.write(&Version { worker_command: "sleep 7200", rule: "up == 1", ..Version::default() });
    d.must(d.switch(&[]), "second switch");
    assert_eq!(d.current(), Some(2));
    d.must(d.obsbuild(&["rollback", &d.stack, "--timeout", "60"]), "rollback");
    assert_eq!(d.current(), Some(1));
    let port = d.port("prometheus", 9090);
    let (_, rules) = get(port, "/api/v1/rules").unwrap();
    assert!(rules.contains("\"query\":\"up == 0\""), "{rules}");
    let now = d.containers();
    assert_eq!(now.len(), first.len());
    let worker = now.iter().find(|c| c.0.ends_with("-worker")).unwrap();
    let cmd = Command::new("docker").args(["inspect", "--format", "{{json .Config.Cmd}}", &worker.0]).output().unwrap();
    assert!(String::from_utf8_lossy(&cmd.stdout).contains("sleep 3600"));
}

#[test]
fn concurrent_switches_wait_or_fail_fast() {
    let _g = serial();
    let d = Deployment::new("concurrent");
    d.must(d.switch(&[]), "first switch");
    d.write(&Version { worker_command: "sleep 7200", ..Version::default() });
    let slow = {
        let state = d.state.clone();
        let script = d.script.clone();
        std::thread::spawn(move || {
            Command::new(env!("CARGO_BIN_EXE_obsbuild"))
                .arg("--state-dir")
                .arg(state)
                .args(["switch", script.to_str().unwrap(), "--confirm", "3"])
                .output()
                .unwrap()
        })
    };
    // Wait until the first holds the lock, then try without waiting.
    let lock = d.state.join(format!("profiles/{}/switch.journal", d.stack));
    assert!(common::wait_until(Duration::from_secs(60), || lock.exists()), "the first switch did not begin within 60 s");
    let fast = d.switch(&["--no-wait"]);
    assert_eq!(fast.status.code(), Some(2), "{}", String::from_utf8_lossy(&fast.stderr));
    assert!(String::from_utf8_lossy(&fast.stderr).contains("another switch"), "{}", String::from_utf8_lossy(&fast.stderr));
    let waiting = d.switch(&[]);
    let first = slow.join().unwrap();
    d.must(first, "the first switch");
    d.must(waiting, "the waiting switch");
    assert_eq!(d.current(), Some(2));
    assert_eq!(d.obsbuild(&["status", &d.stack]).status.code(), Some(0));
}

/// obsbuild SIGKILLed after each step of a multi-service switch: the next run brings
/// the stack back to one whole generation every time.
#[test]
fn killed_after_each_step_the_next_run_restores_one_generation() {
    let _g = serial();
    let d = Deployment::new("killed");
    d.must(d.switch(&[]), "first switch");
    let journal = d.state.join(format!("profiles/{}/switch.journal", d.stack));
    // Every round's version is new and touches three services: web restarts (a file
    // changed), the worker is recreated, Prometheus reloads.
    let version = |round: usize| -> Version {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        Version {
            worker_command: leak(format!("sleep {}", 7200 + round)),
            rule: leak(format!("up == {round}")),
            web_index: leak(format!("round {round}")),
            ..Version::default()
        }
    };
    let mut kills = 0;
    for step in 1..=5usize {
        d.write(&version(step));
        let mut child = Command::new(env!("CARGO_BIN_EXE_obsbuild"))
            .arg("--state-dir")
            .arg(&d.state)
            .args(["switch", d.script.to_str().unwrap(), "--timeout", "60"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill once the journal holds `step` steps (or the switch ended first).
        let journalled = || std::fs::read_to_string(&journal).map(|t| t.lines().filter(|l| l.contains("\"event\":\"step\"")).count()).unwrap_or(0);
        let got_there = common::wait_until(Duration::from_secs(120), || journalled() >= step || child.try_wait().unwrap().is_some());
        assert!(got_there, "step {step}: the switch neither journalled {step} steps nor ended within 120 s");
        let steps = journalled();
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
            eprintln!("step {step}: killed with {steps} steps in the journal");
        } else {
            eprintln!("step {step}: the switch ended first ({steps} steps)");
        }
        child.wait().unwrap();
        // The next run: status recovers first.
        let status = d.obsbuild(&["status", &d.stack]);
        let text = format!("{}{}", String::from_utf8_lossy(&status.stdout), String::from_utf8_lossy(&status.stderr));
        assert_eq!(status.status.code(), Some(0), "after a kill at step {step}: {text}");
        let all = d.containers();
        assert_eq!(all.len(), 4, "after a kill at step {step}: {all:?}");
        assert!(all.iter().all(|c| c.3 && !c.0.ends_with("-next")), "after a kill at step {step}: {all:?}");
        assert!(!journal.exists(), "after a kill at step {step}: the journal is still there");
    }
    assert!(kills >= 4, "only {kills} kills landed inside a switch");
    // And a clean switch still works afterwards.
    d.write(&version(99));
    d.must(d.switch(&[]), "a switch after the kills");
}
