use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use super::*;
use crate::model::{Protocol, Restart};

/// A service as the planner makes one, with every kind of field set.
fn fixture() -> Container {
    Container {
        image: "prom/prometheus:v3.14.0".into(),
        entrypoint: None,
        command: Some(vec!["--config.file=/etc/obsbuild/prometheus.yml".into()]),
        env: BTreeMap::from([("TZ".into(), "UTC".into())]),
        labels: BTreeMap::from([(label::STACK.into(), "demo".into()), (label::SERVICE.into(), "prometheus".into())]),
        user: Some("65534".into()),
        mounts: vec![
            Mount::Configs { target: "/etc/obsbuild".into() },
            Mount::Volume { source: "demo-prometheus-data".into(), target: "/prometheus".into(), read_only: false },
        ],
        ports: vec![Port { container: 9090, protocol: Protocol::Tcp, host_ip: Ipv4Addr::LOCALHOST.into(), host: Some(9090) }],
        network: "demo".into(),
        aliases: vec!["prometheus".into()],
        ip: Some(Ipv4Addr::new(172, 29, 7, 10)),
        healthcheck: Some(Healthcheck {
            test: vec!["CMD".into(), "wget".into(), "-q".into(), "-O-".into(), "http://localhost:9090/-/ready".into()],
            interval_ns: 10_000_000_000,
            timeout_ns: 5_000_000_000,
            retries: 5,
            start_period_ns: 10_000_000_000,
        }),
        memory_bytes: Some(512 << 20),
        nano_cpus: Some(1_000_000_000),
        restart: Some(Restart::UnlessStopped),
    }
}

#[test]
fn the_spec_hash_of_a_fixture_service_is_pinned() {
    // Changing this hash recreates every container of every user on upgrade: do it only
    // with a new SCHEMA, and say so in the release notes.
    assert_eq!(spec_hash(&fixture()), "fe1d2039171e4261");
}

#[test]
fn per_generation_labels_are_not_part_of_the_spec() {
    let mut labelled = fixture();
    for l in [label::GENERATION, label::SPEC, label::SWITCH, label::SECRETS] {
        labelled.labels.insert(l.into(), "x".into());
    }
    assert_eq!(spec_hash(&labelled), spec_hash(&fixture()));
    let mut other = fixture();
    other.labels.insert("team".into(), "obs".into());
    assert_ne!(spec_hash(&other), spec_hash(&fixture()));
}

#[test]
fn defaults_encode_to_nothing() {
    // The rule that keeps hashes stable: a field at its default is not written.
    assert_eq!(encode(&Container::default()), b"{}");
    assert_eq!(encode(&Healthcheck::default()), b"{}");
    assert_eq!(encode(&Network::default()), b"{}");
    let bind = Mount::Bind { source: "/a".into(), target: "/b".into(), read_only: false };
    assert_eq!(encode(&bind), br#"{"kind":"bind","source":"/a","target":"/b"}"#);
    let port = Port { container: 1, protocol: Protocol::Tcp, host_ip: Ipv4Addr::LOCALHOST.into(), host: None };
    assert_eq!(encode(&port), br#"{"container":1,"host_ip":"127.0.0.1"}"#);
}

#[test]
fn keys_are_sorted_whatever_the_declaration_order() {
    let text = String::from_utf8(encode(&fixture())).unwrap();
    let keys: Vec<&str> = ["aliases", "command", "env", "healthcheck", "image", "ip", "labels", "memory_bytes", "mounts"]
        .into_iter()
        .collect();
    let at: Vec<usize> = keys.iter().map(|k| text.find(&format!("\"{k}\":")).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
}

/// A later obsbuild's container: this one's fields and new optional ones, declared first
/// to show that order does not matter either.
#[derive(Serialize)]
struct Grown<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    devices: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    privileged: bool,
    #[serde(flatten)]
    base: &'a Container,
}

#[derive(Serialize)]
struct GrownUnit<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    placement: Option<String>,
    #[serde(flatten)]
    base: &'a Unit,
}

#[derive(Serialize)]
struct GrownDeployment<'a> {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    configs: BTreeMap<String, String>,
    schema: u32,
    stack: &'a str,
    network: &'a Network,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: &'a Vec<String>,
    services: Vec<GrownUnit<'a>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    hosts: &'a BTreeMap<String, std::net::IpAddr>,
}

fn seed(name: &str) -> crate::build::Build {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks").join(format!("{name}.rhai"));
    crate::pipeline::build(&script, &crate::evaluate::Limits::default()).map(|b| b.build).unwrap_or_else(|f| panic!("{name}: {f:?}"))
}

#[test]
fn an_optional_field_added_with_its_default_changes_no_hash_of_the_seed_stacks() {
    for name in ["task-manager", "scaibu"] {
        let build = seed(name);
        let d = Deployment::from_files(&build.stack, &build.files).unwrap();
        assert!(!d.services.is_empty());
        for unit in &d.services {
            let grown = Grown { stop_signal: None, devices: Vec::new(), privileged: false, base: &unit.container };
            assert_eq!(canonical::hash_spec(&grown), unit.spec_hash, "{name}/{}", unit.service);
            assert_eq!(spec_hash(&unit.container), unit.spec_hash, "{name}/{}", unit.service);
        }
        let grown = GrownDeployment {
            configs: BTreeMap::new(),
            schema: d.schema,
            stack: &d.stack,
            network: &d.network,
            volumes: &d.volumes,
            services: d.services.iter().map(|base| GrownUnit { placement: None, base }).collect(),
            hosts: &d.hosts,
        };
        let mut text = canonical::pretty(&grown);
        text.push('\n');
        // The same bytes, so the same file and the same store hash.
        assert_eq!(text.as_bytes(), build.files[FILE].as_slice(), "{name}");
        let mut same = build.clone();
        same.files.insert(FILE.to_owned(), text.into_bytes());
        assert_eq!(crate::store::Store::hash(&same), crate::store::Store::hash(&build), "{name}");
    }
}

#[test]
fn the_document_reads_back_as_written() {
    for name in ["task-manager", "scaibu"] {
        let build = seed(name);
        let d = Deployment::from_files(&build.stack, &build.files).unwrap();
        assert_eq!(d.to_file().as_bytes(), build.files[FILE].as_slice(), "{name}");
    }
}

fn files(text: &str) -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([(FILE.to_owned(), text.as_bytes().to_vec())])
}

#[test]
fn a_schema_this_obsbuild_does_not_know_is_refused_by_name() {
    let newer = Deployment::from_files("demo", &files(r#"{"schema": 3, "stack": "demo", "placement": {}}"#));
    assert_eq!(newer, Err(LoadError::Newer { stack: "demo".into(), schema: 3 }));
    assert!(newer.unwrap_err().to_string().contains("made by a newer obsbuild (deployment schema 3; this one reads up to 2)"));
    assert_eq!(Deployment::from_files("demo", &files(r#"{"schema": 1}"#)), Err(LoadError::Unknown { stack: "demo".into(), schema: 1 }));
    let none = Deployment::from_files("demo", &files(r#"{"stack": "demo"}"#)).unwrap_err();
    assert!(none.to_string().contains("has no `schema`"), "{none}");
    assert_eq!(Deployment::from_files("demo", &BTreeMap::new()), Err(LoadError::Missing { stack: "demo".into() }));
}

#[test]
fn a_field_this_obsbuild_does_not_know_is_an_error_not_a_silent_misread() {
    let e = Deployment::from_files("demo", &files(r#"{"schema": 2, "stack": "demo", "placement": {"mode": "global"}}"#)).unwrap_err();
    assert!(e.to_string().contains("unknown field `placement`"), "{e}");
}

#[test]
fn schema_one_is_migrated_keeping_its_spec_hashes() {
    let v1 = include_str!("fixtures/v1-task-manager.json");
    let files = BTreeMap::from([(v1::FILE.to_owned(), v1.as_bytes().to_vec())]);
    let d = Deployment::from_files("task-manager", &files).unwrap();
    assert_eq!(d.schema, SCHEMA);
    let old: serde_json::Value = serde_json::from_str(v1).unwrap();
    let old_services = old["services"].as_array().unwrap();
    assert_eq!(d.services.len(), old_services.len());
    for (unit, old) in d.services.iter().zip(old_services) {
        assert_eq!(unit.spec_hash, old["spec_hash"], "{}", unit.service);
        assert_eq!(unit.name, old["spec"]["name"], "{}", unit.service);
        assert_eq!(unit.container.image, old["spec"]["image"], "{}", unit.service);
        let configs = unit.container.mounts.iter().filter(|m| matches!(m, Mount::Configs { .. })).count();
        let placeholders = old["spec"]["mounts"].as_array().unwrap().iter().filter(|m| m["source"] == "@configs@").count();
        assert_eq!(configs, placeholders, "{}", unit.service);
    }
    // The same stack built today: the same services, images and config hashes.
    let today = Deployment::from_files("task-manager", &seed("task-manager").files).unwrap();
    let names = |d: &Deployment| d.services.iter().map(|u| (u.service.clone(), u.container.image.clone())).collect::<Vec<_>>();
    assert_eq!(names(&d), names(&today));
}

#[test]
fn placing_configs_turns_them_into_binds_of_the_live_folder() {
    let mut d = Deployment { schema: SCHEMA, stack: "demo".into(), ..Deployment::default() };
    d.services.push(Unit {
        service: "prometheus".into(),
        kind: Kind::Prometheus,
        name: container_name("demo", "prometheus"),
        container: fixture(),
        spec_hash: spec_hash(&fixture()),
        config_hash: String::new(),
        probe: None,
        reload: Reload::Restart,
        strategy: Strategy::StopFirst,
        depends_on: Vec::new(),
        secrets: BTreeMap::new(),
        secrets_digest: None,
    });
    d.place_configs(Path::new("/state/live"));
    assert_eq!(
        d.services[0].container.mounts[0],
        Mount::Bind { source: "/state/live".into(), target: "/etc/obsbuild".into(), read_only: true }
    );
}
