//! The switch against the in-memory runtime: plans, rollback, name conflicts, and a daemon
//! that goes away after every possible number of calls, followed by recovery.

use std::time::Duration;

use obsbuild::apply::{self, Options, Outcome, SwitchError, Target};
use obsbuild::runtime::fake::{Failure, FailureKind, Fake};
use obsbuild::runtime::{HttpResponse, Method, NetworkSpec, Runtime, label};
use obsbuild::store::Store;

use super::common;

/// A switch killed after each step, and recovery from its journal (`switch_fake/killed.rs`).
mod killed;

const BUSYBOX: &str = "obsbuild-test/busybox:1.35.0";
const PROMETHEUS: &str = "obsbuild-test/prometheus:2.42.0";

/// A small stack: a web server, an API and a Prometheus, with knobs for the tests.
fn script(web_image: &str, rule: &str) -> String {
    format!(
        r#"import "prometheus" as prometheus;
stack("fake");
network("fake-net");
let web = service("web", #{{ image: "{web_image}", command: ["httpd", "-f", "-p", "8080"], endpoints: #{{ http: 8080 }}, probe: #{{ port: 8080, path: "/" }} }});
let api = service("api", #{{ image: "{BUSYBOX}", command: ["sleep", "3600"], depends_on: [web] }});
let metrics = prometheus::server(#{{ image: "{PROMETHEUS}", version: "2.42.0", ports: [] }});
metrics.alert("Up", #{{ expr: "{rule}" }});
"#
    )
}

struct World {
    _tmp: tempfile::TempDir,
    project: std::path::PathBuf,
    store: Store,
    fake: Fake,
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let project = common::project(tmp.path());
    let store = Store::open(&tmp.path().join("state")).unwrap();
    let fake = Fake::new();
    for image in [BUSYBOX, PROMETHEUS, "obsbuild-test/busybox:1.35.1", "obsbuild-test/broken:1.0.0"] {
        fake.add_image(image);
    }
    fake.make_unhealthy("obsbuild-test/broken:1.0.0");
    fake.set_responder(Box::new(|_c, _port, method, path| match (method, path) {
        (Method::Post, "/-/reload") => Some(HttpResponse { status: 200, body: String::new() }),
        (Method::Get, "/metrics") => Some(HttpResponse { status: 200, body: "prometheus_config_last_reload_successful 1\n".into() }),
        _ => None,
    }));
    World { _tmp: tmp, project, store, fake }
}

impl World {
    fn target(&self, web_image: &str, rule: &str) -> Target {
        let stack = self.project.join("stacks/fake.rhai");
        std::fs::write(&stack, script(web_image, rule)).unwrap();
        let built = obsbuild::pipeline::build(&stack, &Default::default()).unwrap_or_else(|f| {
            panic!("{}", obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain))
        });
        let path = self.store.add(&built.build).unwrap();
        Target { build: built.build, path, generation: None, git: None }
    }

    async fn switch(&self, target: Target) -> Result<Outcome, SwitchError> {
        self.switch_with(target, false).await
    }

    async fn switch_with(&self, target: Target, pull: bool) -> Result<Outcome, SwitchError> {
        let opts = Options { timeout: Duration::from_secs(2), confirm: None, dry_run: false, pull };
        apply::recover(&self.fake, &self.store, "fake", &opts, &mut Quiet).await?;
        apply::activate(&self.fake, &self.store, target, &opts, &mut Quiet).await
    }

    /// Container ids by service, of running containers.
    async fn ids(&self) -> std::collections::BTreeMap<String, String> {
        self.fake
            .containers("fake")
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.running)
            .map(|c| (c.label(label::SERVICE).unwrap().to_owned(), c.id))
            .collect()
    }

    fn current(&self) -> Option<u64> {
        self.store.profile("fake").current().unwrap().map(|g| g.number)
    }
}

struct Quiet;

impl apply::Report for Quiet {
    fn plan(&mut self, _: &str, _: &obsbuild::plan::Plan, _: Option<u64>, _: u64) {}
    fn step(&mut self, _: &str, _: obsbuild::plan::Action, _: apply::Phase, _: Duration, _: &str) {}
    fn note(&mut self, _: &str) {}
}

fn touching(log: &[String]) -> Vec<&String> {
    log.iter().filter(|l| ["create", "start", "stop", "remove", "rename", "signal"].iter().any(|op| l.starts_with(&format!("{op} ")))).collect()
}

#[tokio::test]
async fn a_fresh_switch_creates_everything_and_a_second_touches_nothing() {
    let w = world();
    let out = w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap();
    assert_eq!(out, Outcome::Switched { generation: 1, changed: 3 });
    assert_eq!(w.ids().await.len(), 3);
    assert_eq!(w.current(), Some(1));
    let before = w.fake.log().len();
    let again = w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap();
    assert_eq!(again, Outcome::Unchanged { generation: 1 });
    assert!(touching(&w.fake.log()[before..]).is_empty(), "{:?}", &w.fake.log()[before..]);
}

#[tokio::test]
async fn a_rule_change_reloads_prometheus_in_place() {
    let w = world();
    w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap();
    let ids = w.ids().await;
    let out = w.switch(w.target(BUSYBOX, "up == 0")).await.unwrap();
    assert_eq!(out, Outcome::Switched { generation: 2, changed: 1 });
    assert_eq!(w.ids().await, ids, "no container may change");
    assert!(w.fake.log().iter().any(|l| l.contains("POST /-/reload")));
}

#[tokio::test]
async fn an_image_change_recreates_only_that_service() {
    let w = world();
    w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap();
    let before = w.ids().await;
    w.switch(w.target("obsbuild-test/busybox:1.35.1", "up == 1")).await.unwrap();
    let after = w.ids().await;
    assert_ne!(before["web"], after["web"]);
    assert_eq!(before["api"], after["api"]);
    assert_eq!(before["prometheus"], after["prometheus"]);
    let names: Vec<String> = w.fake.containers("fake").await.unwrap().into_iter().map(|c| c.name).collect();
    assert!(names.contains(&"fake-web".to_owned()) && !names.iter().any(|n| n.ends_with("-next")), "{names:?}");
}

#[tokio::test]
async fn an_unhealthy_new_version_is_rolled_back() {
    let w = world();
    w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap();
    let before = w.ids().await;
    let err = w.switch(w.target("obsbuild-test/broken:1.0.0", "up == 1")).await.unwrap_err();
    assert!(matches!(err, SwitchError::Failed { ref service, .. } if service == "web"), "{err}");
    assert_eq!(w.ids().await, before, "the old containers must serve again");
    assert_eq!(w.current(), Some(1));
    let all = w.fake.containers("fake").await.unwrap();
    assert_eq!(all.len(), 3, "leftover containers: {:?}", all.iter().map(|c| &c.name).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_name_conflict_fails_cleanly_and_leaves_foreign_containers_alone() {
    let w = world();
    let foreign = w.fake.add_foreign("fake-web", "someone/else:1.0.0");
    let err = w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap_err();
    assert!(err.to_string().contains("name is taken") || err.to_string().contains("taken"), "{err}");
    assert!(w.fake.all().iter().any(|c| c.id == foreign && c.running), "the foreign container was touched");
    assert!(w.fake.log().iter().all(|l| !l.ends_with(&foreign)), "{:?}", w.fake.log());
    assert_eq!(w.current(), None);
    assert!(w.fake.containers("fake").await.unwrap().is_empty());
}

#[tokio::test]
async fn an_injected_409_on_create_rolls_back() {
    let w = world();
    w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap();
    let before = w.ids().await;
    w.fake.inject(Failure { operation: "create", target: "fake-web-next".into(), kind: FailureKind::Conflict, sticky: false });
    let err = w.switch(w.target("obsbuild-test/busybox:1.35.1", "up == 1")).await.unwrap_err();
    assert!(matches!(err, SwitchError::Failed { .. }), "{err}");
    assert_eq!(w.ids().await, before);
}

/// The daemon goes away after every possible number of calls of a multi-service switch;
/// when it is back, the next run must leave exactly one whole generation running.
#[tokio::test]
async fn a_daemon_that_goes_away_at_any_point_leaves_one_whole_generation() {
    let mut points = 0;
    for n in 0..200 {
        let w = world();
        w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap();
        let new_target = w.target("obsbuild-test/busybox:1.35.1", "up == 0");
        w.fake.drop_after(n);
        let first = w.switch(new_target).await;
        w.fake.drop_after(usize::MAX);
        if first.is_ok() {
            break;
        }
        points += 1;
        // The daemon is back: any run recovers first.
        let again = w.switch(w.target("obsbuild-test/busybox:1.35.1", "up == 0")).await;
        assert!(again.is_ok(), "after a drop at call {n}: {again:?}");
        let now = w.fake.containers("fake").await.unwrap();
        assert!(now.iter().all(|c| c.running && !c.name.ends_with("-next")), "after a drop at call {n}: {now:?}");
        assert_eq!(now.len(), 3, "after a drop at call {n}");
        let images: Vec<&str> = now.iter().filter(|c| c.name == "fake-web").map(|c| c.image.as_str()).collect();
        assert_eq!(images, ["obsbuild-test/busybox:1.35.1"], "after a drop at call {n}");
        assert_eq!(w.current(), Some(2));
        assert!(w.store.interrupted("fake").unwrap().is_none());
    }
    assert!(points >= 10, "the drop reached only {points} points of the switch");
}

/// Interrupted in the middle and recovered without retrying: the stack is back on the
/// old generation, whole.
#[tokio::test]
async fn recovery_alone_restores_the_old_generation() {
    let w = world();
    w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap();
    let before = w.ids().await;
    // How many calls the whole switch makes, measured on a twin.
    let twin = world();
    twin.switch(twin.target(BUSYBOX, "up == 1")).await.unwrap();
    let start = twin.fake.log().len();
    twin.switch(twin.target("obsbuild-test/busybox:1.35.1", "up == 0")).await.unwrap();
    let calls = twin.fake.log().len() - start;

    let target = w.target("obsbuild-test/busybox:1.35.1", "up == 0");
    // Half way: the new web container exists, the switch has not committed.
    w.fake.drop_after(calls / 2);
    assert!(w.switch(target).await.is_err());
    assert!(w.store.interrupted("fake").unwrap().is_some(), "the journal must survive the drop");
    w.fake.drop_after(usize::MAX);
    let opts = Options { timeout: Duration::from_secs(2), confirm: None, dry_run: false, pull: false };
    let said = apply::recover(&w.fake, &w.store, "fake", &opts, &mut Quiet).await.unwrap();
    assert!(said.is_some_and(|s| s.contains("generation 1")));
    assert_eq!(w.current(), Some(1));
    let now = w.ids().await;
    assert_eq!(now.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
    let web: Vec<_> = w.fake.containers("fake").await.unwrap().into_iter().filter(|c| c.label(label::SERVICE) == Some("web")).collect();
    assert_eq!(web.len(), 1);
    assert_eq!(web[0].image, BUSYBOX);
}

/// Killed while a create request was on its way: the daemon carries it out after the
/// next run has already listed the containers. Recovery must still leave no `-next`.
#[tokio::test]
async fn a_create_that_lands_after_the_kill_is_removed_by_recovery() {
    let w = world();
    w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap();
    let before = w.ids().await;
    w.fake.inject(Failure { operation: "create", target: "fake-web-next".into(), kind: FailureKind::Late, sticky: false });
    assert!(w.switch(w.target("obsbuild-test/busybox:1.35.1", "up == 0")).await.is_err());
    assert!(w.store.interrupted("fake").unwrap().is_some(), "the journal must survive the kill");
    w.fake.drop_after(usize::MAX);
    let opts = Options { timeout: Duration::from_secs(2), confirm: None, dry_run: false, pull: false };
    let said = apply::recover(&w.fake, &w.store, "fake", &opts, &mut Quiet).await.unwrap();
    assert!(said.is_some_and(|s| s.contains("generation 1")));
    let names: Vec<String> = w.fake.all().into_iter().map(|c| c.name).collect();
    assert!(names.iter().all(|n| !n.ends_with("-next")), "{names:?}");
    assert_eq!(w.ids().await.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
    assert_eq!(w.current(), Some(1));
}

#[tokio::test]
async fn an_unreachable_daemon_changes_nothing() {
    let w = world();
    w.fake.drop_after(0);
    let err = w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap_err();
    assert!(matches!(err, SwitchError::Runtime(obsbuild::runtime::RuntimeError::Unreachable(_))), "{err}");
    assert!(w.store.interrupted("fake").unwrap().is_none());
    assert_eq!(w.current(), None);
}

/// A collector and a Grafana whose config files change between switches.
fn hub_script(memory: u32, dashboard_title: &str, password_file: &str) -> String {
    format!(
        r#"import "otel-collector" as otel;
import "loki" as loki;
import "grafana" as grafana;
stack("fake");
network("fake-net");
let logs = loki::server(#{{ ports: [] }});
let hub = otel::collector(#{{ memory_limit_mib: {memory}, ports: [] }});
hub.send("logs", logs);
let ui = grafana::server(#{{ ports: [], datasources: [logs], admin_password: secret_file("{password_file}") }});
ui.dashboard(#{{ uid: "d", title: "{dashboard_title}", panels: [#{{ title: "Logs", type: "logs", datasource: "loki", query: "{{service_name=~\".+\"}}" }}] }});
"#
    )
}

impl World {
    fn hub_target(&self, memory: u32, title: &str) -> Target {
        for image in ["otel/opentelemetry-collector-contrib:0.159.0", "grafana/loki:3.7.6", "grafana/grafana:13.2.0"] {
            self.fake.add_image(image);
        }
        let stack = self.project.join("stacks/fake.rhai");
        let password = self.project.join("grafana-admin-password");
        std::fs::write(&password, "s3cret\n").unwrap();
        // Grafana's image runs as uid 472: its secret files are made that user's.
        self.fake.set_image_user("grafana/grafana:13.2.0", "472");
        std::fs::write(&stack, hub_script(memory, title, password.to_str().unwrap())).unwrap();
        let built = obsbuild::pipeline::build(&stack, &Default::default()).unwrap_or_else(|f| {
            panic!("{}", obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain))
        });
        let path = self.store.add(&built.build).unwrap();
        Target { build: built.build, path, generation: None, git: None }
    }
}

#[tokio::test]
async fn the_collector_reloads_by_sighup_after_validation_and_grafana_through_its_admin_api() {
    let w = world();
    w.switch(w.hub_target(512, "One")).await.unwrap();
    let ids = w.ids().await;
    let start = w.fake.log().len();
    let out = w.switch(w.hub_target(1024, "Two")).await.unwrap();
    assert_eq!(out, Outcome::Switched { generation: 2, changed: 2 });
    assert_eq!(w.ids().await, ids, "reloads must keep every container");
    let log = w.fake.log()[start..].to_vec();
    let validate = log.iter().position(|l| l == "run fake-otel-collector-validate").expect("the collector's config was not validated");
    let hup = log.iter().position(|l| l.starts_with("signal ")).expect("no SIGHUP");
    assert!(validate < hup, "SIGHUP before validation: {log:?}");
    assert_eq!(w.fake.signals(), [("fake-otel-collector".to_owned(), "HUP".to_owned())]);
    for what in ["datasources", "dashboards"] {
        // The password from the secret file, without its newline, as Grafana reads it.
        assert!(log.contains(&format!("auth admin:s3cret fake-grafana POST /api/admin/provisioning/{what}/reload")), "{log:?}");
    }
}

#[tokio::test]
async fn a_collector_config_that_does_not_validate_gets_no_sighup() {
    let w = world();
    w.switch(w.hub_target(512, "One")).await.unwrap();
    w.fake.inject(Failure { operation: "run", target: "validate".into(), kind: FailureKind::Call, sticky: false });
    let err = w.switch(w.hub_target(1024, "One")).await.unwrap_err();
    assert!(matches!(err, SwitchError::Failed { ref service, .. } if service == "otel-collector"), "{err}");
    assert!(w.fake.signals().is_empty(), "a collector got SIGHUP with a config that did not validate");
    assert_eq!(w.current(), Some(1));
}

#[tokio::test]
async fn missing_images_are_pulled_only_when_asked_and_fail_preflight_otherwise() {
    let w = world();
    w.switch(w.target(BUSYBOX, "up == 1")).await.unwrap();
    let before = w.fake.all();
    let missing = "obsbuild-test/busybox:9.9.9";
    let err = w.switch(w.target(missing, "up == 1")).await.unwrap_err();
    assert!(matches!(err, SwitchError::Preflight(ref p) if p[0].contains("--pull")), "{err}");
    assert_eq!(w.fake.all(), before, "a failed preflight touched something");
    assert!(!w.fake.log().iter().any(|l| l.starts_with("pull ")), "pulled without being asked");
    let err = w.switch_with(w.target(missing, "up == 1"), true).await.unwrap_err();
    assert!(matches!(err, SwitchError::Preflight(ref p) if p[0].contains("cannot be pulled")), "{err}");
    w.fake.add_pullable(missing);
    w.switch_with(w.target(missing, "up == 1"), true).await.unwrap();
    assert_eq!(w.current(), Some(2));
}

/// Three services at static IPs with limits, on a network with a subnet (external or the
/// stack's own), one with a data volume.
fn net_script(external: bool, subnet: &str) -> String {
    let prefix = subnet.trim_end_matches(".0/24");
    format!(
        r#"stack("fake");
network("fake-net", #{{ subnet: "{subnet}", external: {external} }});
service("web", #{{ image: "{BUSYBOX}", command: ["httpd", "-f", "-p", "8080"], ip: "{prefix}.10", memory: "64m", cpus: 0.57 }});
service("api", #{{ image: "{BUSYBOX}", command: ["sleep", "3600"], ip: "{prefix}.11", memory: "32m", volumes: #{{ "data": "/data" }} }});
service("db", #{{ image: "{BUSYBOX}", command: ["sleep", "3600"], ip: "{prefix}.12", memory: "1g", cpus: 2 }});
"#
    )
}


impl World {
    fn net_target(&self, external: bool, subnet: &str) -> Target {
        let stack = self.project.join("stacks/fake.rhai");
        std::fs::write(&stack, net_script(external, subnet)).unwrap();
        let built = obsbuild::pipeline::build(&stack, &Default::default()).unwrap_or_else(|f| {
            panic!("{}", obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain))
        });
        let path = self.store.add(&built.build).unwrap();
        Target { build: built.build, path, generation: None, git: None }
    }

    async fn hand_made(&self, name: &str, subnet: &str) {
        let spec = NetworkSpec { name: name.into(), subnet: Some(subnet.into()), labels: Default::default() };
        self.fake.create_network(&spec).await.unwrap();
    }

    async fn down(&self, volumes: bool) -> Vec<String> {
        let mut notes = common::Notes::default();
        apply::down(&self.fake, &self.store, "fake", volumes, &mut notes).await.unwrap();
        notes.0
    }

    fn network(&self, name: &str) -> Option<NetworkSpec> {
        self.fake.network_specs().into_iter().find(|n| n.name == name)
    }
}

#[tokio::test]
async fn an_external_network_is_created_labelled_and_each_container_gets_its_address_and_limits() {
    let w = world();
    w.switch(w.net_target(true, "172.29.7.0/24")).await.unwrap();
    let net = w.network("fake-net").expect("the switch did not create the network");
    assert_eq!(net.subnet.as_deref(), Some("172.29.7.0/24"));
    assert_eq!(net.labels.get(label::STACK).map(String::as_str), Some("fake"));
    assert_eq!(net.labels.get(label::CREATED_BY).map(String::as_str), Some(label::CREATOR));
    for (service, ip, memory, cpus) in [
        ("web", "172.29.7.10", 64 << 20, Some(570_000_000)),
        ("api", "172.29.7.11", 32 << 20, None),
        ("db", "172.29.7.12", 1 << 30, Some(2_000_000_000)),
    ] {
        let spec = w.fake.spec_of(&format!("fake-{service}")).unwrap();
        assert_eq!(spec.network, "fake-net");
        assert_eq!(spec.ip, Some(ip.parse().unwrap()), "{service}");
        assert_eq!(spec.memory_bytes, Some(memory), "{service}");
        assert_eq!(spec.nano_cpus, cpus, "{service}");
    }
}

#[tokio::test]
async fn a_hand_made_network_with_the_subnet_is_used_and_outlives_down() {
    let w = world();
    w.hand_made("fake-net", "172.29.7.0/24").await;
    let start = w.fake.log().len();
    w.switch(w.net_target(true, "172.29.7.0/24")).await.unwrap();
    let log = w.fake.log()[start..].to_vec();
    assert!(!log.iter().any(|l| l.starts_with("create_network ")), "{log:?}");
    assert_eq!(w.ids().await.len(), 3);
    let notes = w.down(false).await;
    assert!(w.network("fake-net").is_some(), "down removed a network obsbuild did not create");
    assert!(notes.iter().any(|n| n.contains("`fake-net` left in place") && n.contains("did not create")), "{notes:?}");
    assert!(w.fake.containers("fake").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_subnet_clashing_with_another_network_fails_preflight_and_touches_nothing() {
    let w = world();
    w.hand_made("someone-elses", "172.29.0.0/16").await;
    let err = w.switch(w.net_target(true, "172.29.7.0/24")).await.unwrap_err();
    let SwitchError::Preflight(problems) = &err else { panic!("not a preflight failure: {err}") };
    assert!(
        problems.iter().any(|p| p.contains("172.29.7.0/24")
            && p.contains("`fake-net`")
            && p.contains("172.29.0.0/16")
            && p.contains("`someone-elses`")),
        "{problems:?}"
    );
    assert!(err.to_string().contains("nothing was touched"), "{err}");
    assert!(w.network("fake-net").is_none());
    assert!(touching(&w.fake.log()).is_empty(), "{:?}", w.fake.log());
    assert!(w.fake.all().is_empty());
}

#[tokio::test]
async fn an_existing_network_with_another_subnet_is_refused_with_the_fix() {
    let w = world();
    w.hand_made("fake-net", "172.29.8.0/24").await;
    let err = w.switch(w.net_target(true, "172.29.7.0/24")).await.unwrap_err();
    let SwitchError::Preflight(problems) = &err else { panic!("not a preflight failure: {err}") };
    let p = problems.iter().find(|p| p.contains("exists with subnet 172.29.8.0/24")).unwrap_or_else(|| panic!("{problems:?}"));
    assert!(p.contains("wants 172.29.7.0/24") && p.contains("docker network rm fake-net"), "{p}");
    assert!(w.fake.all().is_empty());
    assert_eq!(w.network("fake-net").unwrap().subnet.as_deref(), Some("172.29.8.0/24"));
}

#[tokio::test]
async fn down_leaves_a_network_other_containers_use_then_removes_it_once_they_are_gone() {
    let w = world();
    w.switch(w.net_target(true, "172.29.7.0/24")).await.unwrap();
    let visitor = w.fake.add_foreign_on("visitor", BUSYBOX, "fake-net");
    let notes = w.down(false).await;
    assert!(w.network("fake-net").is_some(), "removed while `visitor` uses it");
    assert!(notes.iter().any(|n| n.contains("`fake-net` left in place") && n.contains("visitor")), "{notes:?}");
    assert!(w.fake.all().iter().any(|c| c.id == visitor && c.running), "down touched a container of another stack");
    w.fake.remove(&visitor).await.unwrap();
    let notes = w.down(false).await;
    assert!(w.network("fake-net").is_none(), "{notes:?}");
    assert!(notes.iter().any(|n| n == "removed network fake-net"), "{notes:?}");
}

#[tokio::test]
async fn data_volumes_stay_unless_asked_and_the_stacks_own_network_goes_with_it() {
    let w = world();
    w.switch(w.net_target(false, "172.29.7.0/24")).await.unwrap();
    assert!(w.network("fake-net").is_some());
    w.down(false).await;
    assert!(!w.fake.log().iter().any(|l| l.starts_with("remove_volume ")), "{:?}", w.fake.log());
    assert!(w.network("fake-net").is_none());
    w.switch(w.net_target(false, "172.29.7.0/24")).await.unwrap();
    w.down(true).await;
    assert!(w.fake.log().contains(&"remove_volume fake-data".to_owned()), "{:?}", w.fake.log());
}

#[tokio::test]
async fn a_cpu_limit_above_the_engines_cpus_fails_preflight() {
    let w = world();
    w.fake.set_cpus(1);
    let err = w.switch(w.net_target(true, "172.29.7.0/24")).await.unwrap_err();
    let SwitchError::Preflight(problems) = &err else { panic!("not a preflight failure: {err}") };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("`cpus` of `db` is 2") && problems[0].contains("has 1 CPU;"), "{problems:?}");
    assert!(w.fake.all().is_empty());
    w.fake.set_cpus(2);
    w.switch(w.net_target(true, "172.29.7.0/24")).await.unwrap();
}

/// Secret files belong to the user the image runs as, so the image must be there before
/// they are written: a missing one is named (with `--pull` as the way out), or pulled.
#[tokio::test]
async fn secret_files_belong_to_the_image_user_and_a_missing_image_is_named_or_pulled() {
    use std::os::unix::fs::MetadataExt;
    let w = world();
    let image = "obsbuild-test/app:1.0.0";
    let password = w.project.join("token");
    std::fs::write(&password, "t0ken").unwrap();
    let stack = w.project.join("stacks/fake.rhai");
    std::fs::write(
        &stack,
        format!(
            r#"stack("fake");
network("fake-net");
service("app", #{{ image: "{image}", command: ["sleep", "3600"], secrets: #{{ token: secret_file("{}") }} }});
"#,
            password.display()
        ),
    )
    .unwrap();
    let built = obsbuild::pipeline::build(&stack, &Default::default()).unwrap_or_else(|_| panic!("the stack does not build"));
    let path = w.store.add(&built.build).unwrap();
    let target = || Target { build: built.build.clone(), path: path.clone(), generation: None, git: None };
    w.fake.add_pullable(image);
    let err = w.switch_with(target(), false).await.unwrap_err();
    assert!(err.to_string().contains("--pull"), "{err}");
    assert!(touching(&w.fake.log()).is_empty(), "a refused switch touched containers");
    w.fake.set_image_user(image, "1234:4321");
    w.switch_with(target(), true).await.unwrap();
    let file = w.store.secrets("fake").path("app", "token");
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o777), (1234, 4321, 0o600));
    assert_eq!(std::fs::read(&file).unwrap(), b"t0ken");
}

/// A switch that fails on the file system says the system's reason ("Is a directory",
/// "Permission denied", "No space left on device"), not only which file it was writing.
#[tokio::test]
async fn a_failed_switch_keeps_the_cause_of_its_io_error() {
    let w = world();
    let target = w.target(BUSYBOX, "up == 0");
    // The journal's place is taken by a folder: the first write of the switch fails.
    std::fs::create_dir_all(w.store.profile("fake").dir().join("switch.journal/x")).unwrap();
    let e = w.switch(target).await.unwrap_err();
    let text = obsbuild::chain::render(&e);
    assert!(text.contains("switch.journal"), "{text}");
    assert!(text.contains("Is a directory") || text.contains("is a folder"), "{text}");
    assert!(std::error::Error::source(&e).is_some(), "the error hides its cause: {e:?}");
}
