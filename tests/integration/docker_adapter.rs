//! The Docker adapter against the real engine, with images `tests/images.sh` builds from
//! Debian packages (nothing can be pulled). These tests fail, never skip, without Docker.
//!
//! Every container, network and volume is named after this process (`obsbuild-test-<pid>-…`)
//! and removed by a [`Cleanup`] guard even when a test fails. From the host, traffic goes
//! only to ports Docker published on 127.0.0.1.
//!
//! Each test that talks to the engine holds [`common::serial`], as the other Docker tests
//! do, for its whole run. The guard is held across `.await`s on purpose: every test has
//! its own runtime on its own thread, so no task of the waiting test holds what the
//! holder needs.
#![allow(clippy::await_holding_lock)]

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use obsbuild::runtime::docker::Docker;
use obsbuild::deployment::{Container, Healthcheck, Mount, Port, Signal};
use obsbuild::model::{Protocol, Restart};
use obsbuild::runtime::{ContainerInfo, Health, Method, NetworkSpec, PublishedPort, Runtime, RuntimeError, label};

use super::common;

const BUSYBOX: &str = "obsbuild-test/busybox:1.35.0";
const PROMETHEUS: &str = "obsbuild-test/prometheus:2.42.0";
const ALERTMANAGER: &str = "obsbuild-test/alertmanager:0.25.0";

/// Builds the test images once per process (the script is quick when they exist).
fn images() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let script = common::root().join("tests/images.sh");
        let out = Command::new("bash").arg(&script).output().expect("cannot run bash tests/images.sh");
        assert!(
            out.status.success(),
            "tests/images.sh failed (the Docker tests need a Docker engine and the Debian packages in tests/packages.txt):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// The images, then a connection to the local engine.
async fn docker() -> Docker {
    images();
    Docker::connect().await.unwrap_or_else(|e| panic!("the Docker tests need a Docker engine: {e}"))
}

/// A name for something this process creates.
fn name(what: &str) -> String {
    format!("obsbuild-test-{}-{what}", std::process::id())
}

/// Runs a test body within a time limit: nothing waits forever.
async fn within<T>(limit: Duration, body: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, body).await.unwrap_or_else(|_| panic!("the test did not finish within {limit:?}"))
}

/// Removes, on drop, what a test created, whether or not the adapter already did; with the
/// docker command, so that it also works while a failed test unwinds.
#[derive(Default)]
struct Cleanup {
    containers: Mutex<Vec<String>>,
    networks: Mutex<Vec<String>>,
    volumes: Mutex<Vec<String>>,
}

impl Cleanup {
    fn container(&self, id: &str) {
        self.containers.lock().unwrap().push(id.to_owned());
    }
    fn network(&self, name: &str) {
        self.networks.lock().unwrap().push(name.to_owned());
    }
    fn volume(&self, name: &str) {
        self.volumes.lock().unwrap().push(name.to_owned());
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let quiet = |args: &[&str], names: &Mutex<Vec<String>>| {
            let names = std::mem::take(&mut *names.lock().unwrap_or_else(|p| p.into_inner()));
            if !names.is_empty() {
                let _ = Command::new("docker").args(args).args(&names).output();
            }
        };
        // Containers first: they hold the networks and volumes.
        quiet(&["rm", "--force", "--volumes"], &self.containers);
        quiet(&["network", "rm"], &self.networks);
        quiet(&["volume", "rm", "--force"], &self.volumes);
    }
}

/// Polls `inspect` until `done` holds, for at most `limit`.
async fn wait_for(
    docker: &Docker,
    id: &str,
    limit: Duration,
    what: &str,
    done: impl Fn(&ContainerInfo) -> bool,
) -> ContainerInfo {
    let deadline = Instant::now() + limit;
    loop {
        let info = docker.inspect(id).await.unwrap();
        if done(&info) {
            return info;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}; last seen: {info:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A folder the containers may read whatever user they run as (the Prometheus and
/// Alertmanager images run as nobody, as upstream's do), holding `files`.
fn readable_folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    for (file, content) in files {
        std::fs::write(dir.path().join(file), content).unwrap();
        std::fs::set_permissions(dir.path().join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn bind(source: &Path, target: &str) -> Mount {
    Mount::Bind { source: source.display().to_string(), target: target.into(), read_only: true }
}

fn loopback(port: u16) -> Port {
    Port { container: port, protocol: Protocol::Tcp, host_ip: Ipv4Addr::LOCALHOST.into(), host: None }
}

fn healthcheck(url: &str) -> Healthcheck {
    Healthcheck {
        test: vec!["CMD".into(), "wget".into(), "-q".into(), "-O".into(), "/dev/null".into(), url.into()],
        interval_ns: 500_000_000,
        timeout_ns: 2_000_000_000,
        retries: 3,
        start_period_ns: 0,
    }
}

/// `a.b.c.d/n` as a range of addresses.
fn range(cidr: &str) -> Option<(u32, u32)> {
    let (address, bits) = cidr.split_once('/')?;
    let start = u32::from(address.parse::<Ipv4Addr>().ok()?);
    let size = 1u64 << (32 - bits.parse::<u32>().ok()?.min(32));
    Some((start, (u64::from(start) + size - 1) as u32))
}

/// Creates a network on a /24 no existing network overlaps, trying a few in case another
/// process takes the same one meanwhile; returns the subnet.
async fn network_with_free_subnet(
    docker: &Docker,
    cleanup: &Cleanup,
    net: &str,
    labels: &BTreeMap<String, String>,
) -> String {
    let taken: Vec<(u32, u32)> =
        docker.networks().await.unwrap().iter().flat_map(|n| n.subnets.iter().filter_map(|s| range(s))).collect();
    let first = std::process::id() % 200;
    for i in 0..200 {
        let subnet = format!("10.213.{}.0/24", (first + i) % 200 + 20);
        let (lo, hi) = range(&subnet).unwrap();
        if taken.iter().any(|&(a, b)| lo <= b && a <= hi) {
            continue;
        }
        cleanup.network(net);
        let spec = NetworkSpec { name: net.into(), subnet: Some(subnet.clone()), labels: labels.clone() };
        match docker.create_network(&spec).await {
            Ok(()) => return subnet,
            Err(RuntimeError::Call { message, .. }) if message.contains("overlap") => continue,
            Err(e) => panic!("create_network {net} {subnet}: {e}"),
        }
    }
    panic!("no free 10.213.x.0/24 subnet for a test network");
}

/// `docker inspect --format` of a container, for what `ContainerInfo` does not report.
fn docker_inspect(id: &str, format: &str) -> String {
    let out = Command::new("docker").args(["inspect", "--format", format, id]).output().unwrap();
    assert!(out.status.success(), "docker inspect {id}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn ping_negotiates_the_engines_api_version() {
    let _serial = common::serial();
    let docker = docker().await;
    let info = within(Duration::from_secs(30), docker.ping()).await.unwrap();
    let out = Command::new("docker").args(["version", "--format", "{{.Server.APIVersion}}"]).output().unwrap();
    let engine = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let version = |v: &str| -> (u32, u32) {
        let (major, minor) = v.split_once('.').unwrap();
        (major.parse().unwrap(), minor.parse().unwrap())
    };
    // bollard speaks the older of its own version and the engine's (1.41 for docker.io 20.10).
    let bollard = bollard::API_DEFAULT_VERSION.to_string();
    let expected = std::cmp::min(version(&engine), version(&bollard));
    assert_eq!(version(&info.api_version), expected, "engine {engine}, bollard {bollard}");
    assert!(!info.version.is_empty());
}

/// A busybox httpd through create, health, probes, signals, stop, start, rename, remove.
#[tokio::test]
async fn a_container_through_its_whole_life() {
    let _serial = common::serial();
    let docker = docker().await;
    let cleanup = Cleanup::default();
    within(Duration::from_secs(120), async {
        let stack = name("life");
        let labels = BTreeMap::from([
            (label::STACK.to_owned(), stack.clone()),
            (label::SERVICE.to_owned(), "web".to_owned()),
            (label::SPEC.to_owned(), "0123abcd".to_owned()),
        ]);
        let net = name("life-net");
        let subnet = network_with_free_subnet(&docker, &cleanup, &net, &labels).await;
        let network = docker.networks().await.unwrap().into_iter().find(|n| n.name == net).expect("the network is listed");
        assert_eq!(network.subnets, [subnet.as_str()]);
        assert_eq!(network.labels, labels);
        let again = docker.create_network(&NetworkSpec { name: net.clone(), subnet: None, labels: BTreeMap::new() }).await;
        assert!(matches!(again, Err(RuntimeError::Conflict { .. })), "a second network {net}: {again:?}");
        assert_eq!(docker.networks().await.unwrap().iter().filter(|n| n.name == net).count(), 1);

        let www = readable_folder(&[("index.html", "hello from obsbuild\n")]);
        let volume = name("life-data");
        cleanup.volume(&volume);
        let (lo, _) = range(&subnet).unwrap();
        let ip = Ipv4Addr::from(lo + 10);
        let web = name("life-web");
        let spec = Container {
            image: BUSYBOX.into(),
            entrypoint: None,
            command: Some(["httpd", "-f", "-p", "8080", "-h", "/www"].map(String::from).to_vec()),
            env: BTreeMap::from([("GREETING".to_owned(), "hello world".to_owned())]),
            labels: labels.clone(),
            user: Some("0".into()),
            mounts: vec![
                bind(www.path(), "/www"),
                Mount::Volume { source: volume.clone(), target: "/data".into(), read_only: false },
            ],
            ports: vec![loopback(8080)],
            network: net.clone(),
            aliases: vec!["web".into()],
            ip: Some(ip),
            healthcheck: Some(healthcheck("http://127.0.0.1:8080/index.html")),
            memory_bytes: Some(64 << 20),
            nano_cpus: Some(500_000_000),
            restart: Some(Restart::UnlessStopped),
        };
        let id = docker.create(&web, &spec).await.unwrap();
        cleanup.container(&id);
        let created = docker.inspect(&id).await.unwrap();
        assert!(!created.running);
        assert_eq!(created.exit_code, None, "a container that never ran has no exit code");

        // What ContainerInfo does not report, straight from the engine.
        assert_eq!(docker_inspect(&id, "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}"), "67108864 500000000 unless-stopped");
        assert_eq!(docker_inspect(&id, "{{.Config.User}} {{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}"), "0 500ms 3");
        assert!(docker_inspect(&id, "{{json .Config.Env}}").contains("\"GREETING=hello world\""));
        // The engine lists mounts in no fixed order.
        let mounts = docker_inspect(&id, "{{range .Mounts}}{{.Type}}:{{.Destination}}:{{.RW}} {{end}}");
        let mut mounts: Vec<&str> = mounts.split_whitespace().collect();
        mounts.sort_unstable();
        assert_eq!(mounts, ["bind:/www:false", "volume:/data:true"]);
        assert!(docker_inspect(&id, &format!("{{{{json (index .NetworkSettings.Networks \"{net}\").Aliases}}}}")).contains("\"web\""));

        docker.start(&id).await.unwrap();
        let listed = docker.containers(&stack).await.unwrap();
        assert_eq!(listed.len(), 1, "{listed:#?}");
        let info = &listed[0];
        assert_eq!(info.id, id);
        assert_eq!(info.name, web);
        assert_eq!(info.image, BUSYBOX);
        // Docker adds the image's labels to the container's.
        for (k, v) in &labels {
            assert_eq!(info.label(k), Some(v.as_str()), "label {k}");
        }
        assert!(info.running);
        assert!(matches!(info.health, Some(Health::Starting | Health::Healthy)), "{:?}", info.health);
        assert_eq!(info.addresses, BTreeMap::from([(net.clone(), ip)]));
        assert_eq!(info.exit_code, None);
        let host_port = info.loopback_port(8080).expect("8080 published on 127.0.0.1");
        assert_eq!(
            info.ports,
            [PublishedPort { container: 8080, protocol: Protocol::Tcp, host_ip: IpAddr::V4(Ipv4Addr::LOCALHOST), host: host_port }]
        );
        assert!(docker.containers(&name("no-such-stack")).await.unwrap().is_empty());

        let healthy = wait_for(&docker, &id, Duration::from_secs(30), "healthy", |i| i.health == Some(Health::Healthy)).await;
        let page = docker.http(&healthy, 8080, Method::Get, "/index.html", Duration::from_secs(5)).await.unwrap();
        assert_eq!((page.status, page.body.as_str()), (200, "hello from obsbuild\n"));
        let missing = docker.http(&healthy, 8080, Method::Get, "/nothing-here", Duration::from_secs(5)).await.unwrap();
        assert_eq!(missing.status, 404);
        let unpublished = docker.http(&healthy, 9999, Method::Get, "/", Duration::from_secs(5)).await;
        assert!(
            matches!(&unpublished, Err(RuntimeError::Call { message, .. }) if message.contains("not published on 127.0.0.1")),
            "{unpublished:?}"
        );
        // The bind mount is read-only; the volume is not.
        let writes = Command::new("docker")
            .args(["exec", &id, "sh", "-c", "touch /data/ok && ! touch /www/nope 2>/dev/null"])
            .status()
            .unwrap();
        assert!(writes.success(), "/data writable and /www read-only");

        // httpd takes HUP (it re-reads its configuration) and keeps running.
        docker.signal(&id, Signal::Hup).await.unwrap();
        // No pause to let the signal act: it is pending on httpd once the call returns, and
        // httpd takes it before it accepts again, so an answer now is from an httpd that
        // survived it.
        let after = docker.http(&healthy, 8080, Method::Get, "/index.html", Duration::from_secs(5)).await;
        assert!(matches!(&after, Ok(r) if r.status == 200), "httpd did not answer after HUP: {after:?}");
        assert!(docker.inspect(&id).await.unwrap().running);

        // httpd is PID 1 and ignores TERM: stop kills it after the grace period.
        let started = Instant::now();
        docker.stop(&id, Duration::from_secs(1)).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(15));
        let stopped = docker.inspect(&id).await.unwrap();
        assert!(!stopped.running);
        assert_eq!(stopped.exit_code, Some(137));
        assert!(stopped.addresses.is_empty(), "a stopped container has no address: {stopped:?}");
        let signal_stopped = docker.signal(&id, Signal::Hup).await;
        assert!(matches!(signal_stopped, Err(RuntimeError::Call { .. })), "{signal_stopped:?}");
        docker.stop(&id, Duration::from_secs(1)).await.expect("stopping a stopped container is fine");

        docker.start(&id).await.unwrap();
        let restarted = wait_for(&docker, &id, Duration::from_secs(30), "healthy again", |i| i.health == Some(Health::Healthy)).await;
        assert_eq!(restarted.addresses.get(&net), Some(&ip), "the static address comes back");
        // The published port may change on a restart: the probe uses the current one.
        let page = docker.http(&restarted, 8080, Method::Get, "/index.html", Duration::from_secs(5)).await.unwrap();
        assert_eq!(page.body, "hello from obsbuild\n");

        let renamed = name("life-web-old");
        docker.rename(&id, &renamed).await.unwrap();
        assert_eq!(docker.inspect(&id).await.unwrap().name, renamed);

        // The old name is free again; the new one is taken.
        let conflict = docker.create(&renamed, &spec).await;
        assert!(matches!(&conflict, Err(RuntimeError::Conflict { target, .. }) if *target == renamed), "{conflict:?}");
        let other = name("life-other");
        let spare = Container { ip: None, ports: vec![], ..spec.clone() };
        let spare_id = docker.create(&other, &spare).await.unwrap();
        cleanup.container(&spare_id);
        let clash = docker.rename(&spare_id, &renamed).await;
        assert!(matches!(&clash, Err(RuntimeError::Conflict { target, .. }) if *target == renamed), "{clash:?}");
        docker.remove(&spare_id).await.unwrap();

        docker.remove(&id).await.unwrap();
        assert!(matches!(docker.inspect(&id).await, Err(RuntimeError::NotFound { .. })));
        assert!(docker.containers(&stack).await.unwrap().is_empty());

        // Everything on something missing is NotFound.
        let ghost = name("ghost");
        let not_found = |r: Result<(), RuntimeError>, what: &str| {
            assert!(matches!(r, Err(RuntimeError::NotFound { .. })), "{what} on a missing container: {r:?}");
        };
        not_found(docker.start(&ghost).await, "start");
        not_found(docker.stop(&ghost, Duration::from_secs(1)).await, "stop");
        not_found(docker.remove(&ghost).await, "remove");
        not_found(docker.rename(&ghost, &name("ghost2")).await, "rename");
        not_found(docker.signal(&ghost, Signal::Hup).await, "signal");
        not_found(docker.inspect(&ghost).await.map(|_| ()), "inspect");
        not_found(docker.remove_network(&ghost).await, "remove_network");
        not_found(docker.remove_volume(&ghost).await, "remove_volume");
        let no_image = Container { image: "obsbuild-test/absent:0.0.1".into(), ..Default::default() };
        let r = docker.create(&name("no-image"), &no_image).await;
        assert!(matches!(&r, Err(RuntimeError::NotFound { target, .. }) if target == "obsbuild-test/absent:0.0.1"), "{r:?}");
        // Engines before API 1.44 accept a missing network on create and refuse on start.
        let no_network = Container { image: BUSYBOX.into(), network: ghost.clone(), ..Default::default() };
        cleanup.container(&name("no-network"));
        let r = match docker.create(&name("no-network"), &no_network).await {
            Ok(id) => docker.start(&id).await,
            Err(e) => Err(e),
        };
        assert!(matches!(&r, Err(RuntimeError::NotFound { .. })), "{r:?}");

        docker.remove_network(&net).await.unwrap();
        assert!(!docker.networks().await.unwrap().iter().any(|n| n.name == net));
        docker.remove_volume(&volume).await.unwrap();
    })
    .await;
}

/// Starts `spec` and waits until GET `path` on its published `port` answers 200; the body.
async fn ready(
    docker: &Docker,
    cleanup: &Cleanup,
    (container_name, spec): (&str, &Container),
    port: u16,
    path: &str,
) -> (ContainerInfo, String) {
    let id = docker.create(container_name, spec).await.unwrap();
    cleanup.container(&id);
    docker.start(&id).await.unwrap();
    let info = wait_for(docker, &id, Duration::from_secs(5), "published", |i| i.loopback_port(port).is_some()).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = docker.http(&info, port, Method::Get, path, Duration::from_secs(2)).await;
        match answer {
            Ok(r) if r.status == 200 => return (info, r.body),
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(250)).await,
            _ => {
                let logs = Command::new("docker").args(["logs", &id]).output().unwrap();
                panic!("{} not ready: {answer:?}\n{}", container_name, String::from_utf8_lossy(&logs.stderr));
            }
        }
    }
}

#[tokio::test]
async fn prometheus_and_alertmanager_answer_through_their_published_ports() {
    let _serial = common::serial();
    let docker = docker().await;
    let cleanup = Cleanup::default();
    within(Duration::from_secs(120), async {
        let config = readable_folder(&[(
            "prometheus.yml",
            "global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: [\"localhost:9090\"]\n",
        )]);
        let prometheus = Container {
            image: PROMETHEUS.into(),
            command: Some(vec!["--config.file=/etc/prometheus/prometheus.yml".into(), "--storage.tsdb.path=/prometheus".into()]),
            mounts: vec![bind(config.path(), "/etc/prometheus")],
            ports: vec![loopback(9090)],
            healthcheck: Some(healthcheck("http://127.0.0.1:9090/-/ready")),
            labels: BTreeMap::from([(label::STACK.to_owned(), name("apps"))]),
            ..Default::default()
        };
        let alerts = readable_folder(&[("alertmanager.yml", "route:\n  receiver: none\nreceivers:\n  - name: none\n")]);
        let alertmanager = Container {
            image: ALERTMANAGER.into(),
            command: Some(vec!["--config.file=/etc/alertmanager/alertmanager.yml".into(), "--storage.path=/alertmanager".into()]),
            mounts: vec![bind(alerts.path(), "/etc/alertmanager")],
            ports: vec![loopback(9093)],
            labels: prometheus.labels.clone(),
            ..Default::default()
        };
        let names = (name("prometheus"), name("alertmanager"));
        let ((prometheus, body), (_, _)) = tokio::join!(
            ready(&docker, &cleanup, (&names.0, &prometheus), 9090, "/-/ready"),
            ready(&docker, &cleanup, (&names.1, &alertmanager), 9093, "/-/ready"),
        );
        assert!(body.contains("Ready"), "{body}");
        // Its health check runs busybox's wget inside the Prometheus image.
        wait_for(&docker, &prometheus.id, Duration::from_secs(30), "healthy", |i| i.health == Some(Health::Healthy)).await;
        assert_eq!(docker.containers(&name("apps")).await.unwrap().len(), 2);
        let reload = docker.http(&prometheus, 9090, Method::Post, "/-/reload", Duration::from_secs(5)).await.unwrap();
        assert_eq!(reload.status, 403, "lifecycle API off by default: {reload:?}");
        for c in docker.containers(&name("apps")).await.unwrap() {
            docker.remove(&c.id).await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn run_returns_the_exit_code_and_output_and_removes_the_container() {
    let _serial = common::serial();
    let docker = docker().await;
    let cleanup = Cleanup::default();
    within(Duration::from_secs(60), async {
        let run = name("run");
        let spec = Container {
            image: BUSYBOX.into(),
            command: Some(vec!["sh".into(), "-c".into(), "echo hi; exit 3".into()]),
            ..Default::default()
        };
        cleanup.container(&run);
        assert_eq!(docker.run(&run, &spec, Duration::from_secs(30)).await.unwrap(), (3, "hi\n".to_owned()));
        assert!(
            matches!(docker.inspect(&run).await, Err(RuntimeError::NotFound { .. })),
            "run removes its container"
        );

        let both = Container {
            command: Some(vec!["sh".into(), "-c".into(), "echo out; echo err >&2".into()]),
            ..spec.clone()
        };
        let (code, output) = docker.run(&run, &both, Duration::from_secs(30)).await.unwrap();
        assert_eq!(code, 0);
        assert!(output.contains("out\n") && output.contains("err\n"), "{output:?}");

        let slow = Container { command: Some(vec!["sleep".into(), "30".into()]), ..spec.clone() };
        let started = Instant::now();
        let r = docker.run(&run, &slow, Duration::from_secs(1)).await;
        assert!(matches!(r, Err(RuntimeError::Timeout { .. })), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
        assert!(
            matches!(docker.inspect(&run).await, Err(RuntimeError::NotFound { .. })),
            "a timed-out run is removed"
        );
    })
    .await;
}

#[tokio::test]
async fn image_present_tells_built_from_absent_images() {
    let _serial = common::serial();
    let docker = docker().await;
    within(Duration::from_secs(30), async {
        for image in [BUSYBOX, PROMETHEUS, ALERTMANAGER] {
            assert!(docker.image_present(image).await.unwrap(), "{image}");
        }
        assert!(!docker.image_present("obsbuild-test/absent:0.0.1").await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_engine_is_unreachable() {
    // Explicit sockets: DOCKER_HOST is the other tests' business.
    let r = Docker::connect_with_socket(Path::new("unix:///nonexistent.sock")).await;
    assert!(matches!(&r, Err(RuntimeError::Unreachable(why)) if why.contains("nonexistent.sock")), "{r:?}");

    // A socket file nobody listens on: the connection itself fails.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docker.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let r = within(Duration::from_secs(30), Docker::connect_with_socket(&path)).await;
    let message = match r {
        Err(e @ RuntimeError::Unreachable(_)) => e.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(message.contains("cannot reach the Docker engine"), "{message}");
}
