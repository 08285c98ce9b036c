//! `obsbuild switch` against `docker-compose up -d` on the same six-service stack and the
//! same engine, side by side: a no-op, a one-file config change, a one-service image
//! change. Prints figures; asserts nothing. Needs Docker and the test images.
//!
//!     cargo bench --bench switch
//!
//! Two copies of the stack run at once under different names: one managed by obsbuild,
//! one by docker-compose (the `docker-compose.yml` obsbuild renders for it). Probes go to
//! ports published on 127.0.0.1 only. The web server runs under a shell that exits on
//! SIGTERM: busybox `httpd` as PID 1 ignores it, and both tools would otherwise wait out
//! Docker's 10 s stop grace period.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BUSYBOX: &str = "obsbuild-test/busybox:1.35.0";
const BUSYBOX_NEXT: &str = "obsbuild-test/busybox-next:1.35.0";

fn script(stack: &str, web_image: &str, rule: &str, base_port: u16) -> String {
    format!(
        r#"import "prometheus" as prometheus;
import "alertmanager" as alertmanager;
stack("{stack}");
network("{stack}-net");
let web = service("web", #{{ image: "{web_image}", command: ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /etc/obsbuild/web & wait"], ports: ["{web_port}:8080"],
    files: #{{ "index.html": "ok\n" }}, probe: #{{ port: 8080, path: "/index.html" }},
    healthcheck: #{{ test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost:8080/index.html"], interval: "1s", start_period: "1s" }} }});
let api = service("api", #{{ image: "{BUSYBOX}", command: ["httpd", "-f", "-p", "8081", "-h", "/etc/obsbuild/api"], files: #{{ "index.html": "api\n" }} }});
let worker = service("worker", #{{ image: "{BUSYBOX}", command: ["sleep", "86400"], depends_on: [web] }});
let cache = service("cache", #{{ image: "{BUSYBOX}", command: ["sleep", "86400"] }});
let fast = #{{ interval: "1s", start_period: "1s", retries: 30 }};
let am = alertmanager::server(#{{ image: "obsbuild-test/alertmanager:0.25.0", version: "0.25.0", ports: ["{am_port}:9093"], healthcheck: fast }});
let metrics = prometheus::server(#{{ image: "obsbuild-test/prometheus:2.42.0", version: "2.42.0", ports: ["{prom_port}:9090"], healthcheck: fast }});
metrics.alerts_to(am);
metrics.alert("Rule", #{{ expr: "{rule}" }});
"#,
        web_port = base_port,
        am_port = base_port + 1,
        prom_port = base_port + 2,
    )
}

struct Bench {
    dir: PathBuf,
    state: PathBuf,
}

impl Bench {
    fn obsbuild(&self, args: &[&str]) -> Duration {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_obsbuild")).arg("--state-dir").arg(&self.state).args(args).output().unwrap();
        let elapsed = started.elapsed();
        assert!(out.status.success(), "obsbuild {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        elapsed
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join("stacks").join(format!("{name}.rhai"));
        std::fs::write(&p, text).unwrap();
        p
    }

    fn compose(&self, args: &[&str]) -> Duration {
        let file = self.dir.join("compose/docker-compose.yml");
        let started = Instant::now();
        let out = Command::new("docker-compose").args(["-p", "bench-dc", "-f", file.to_str().unwrap()]).args(args).output().unwrap();
        let elapsed = started.elapsed();
        assert!(out.status.success(), "docker-compose {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        elapsed
    }
}

/// GET on 127.0.0.1; `true` on 2xx.
fn up(port: u16, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    raw.starts_with("HTTP/1.1 2") || raw.starts_with("HTTP/1.0 2")
}

fn body(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return String::new() };
    let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    raw
}

/// Probes `port` every 20 ms while `f` runs; returns f's time, failed probes, and the
/// span from the first failure to the last.
fn probed(port: u16, path: &'static str, f: impl FnOnce() -> Duration) -> (Duration, usize, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let failures: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let t = {
        let (stop, failures) = (stop.clone(), failures.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if !up(port, path) {
                    failures.lock().unwrap().push(Instant::now());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let took = f();
    // Keep probing until the service answers again (bounded).
    let until = Instant::now() + Duration::from_secs(60);
    while !up(port, path) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    t.join().unwrap();
    let f = failures.lock().unwrap();
    let window = match (f.first(), f.last()) {
        (Some(a), Some(b)) => *b - *a + Duration::from_millis(20),
        _ => Duration::ZERO,
    };
    (took, f.len(), window)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("bash").arg(root.join("tests/images.sh")).status().unwrap();
    assert!(status.success(), "tests/images.sh failed");
    Command::new("docker").args(["tag", BUSYBOX, BUSYBOX_NEXT]).status().unwrap();

    let dir = std::env::temp_dir().join(format!("obsbuild-switch-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["stacks", "lib", "compose"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    for e in std::fs::read_dir(root.join("lib")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join("lib").join(e.file_name())).unwrap();
    }
    let b = Bench { state: dir.join("state"), dir: dir.clone() };
    let export = |b: &Bench, path: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_obsbuild"))
            .arg("--state-dir")
            .arg(&b.state)
            .args(["export", path.to_str().unwrap(), "--out", b.dir.join("compose").to_str().unwrap()])
            .stderr(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success());
    };

    // Both copies up.
    let ob = b.write("bench-ob", &script("bench-ob", BUSYBOX, "up == 0", 18080));
    let dc = b.write("bench-dc", &script("bench-dc", BUSYBOX, "up == 0", 28080));
    b.obsbuild(&["switch", ob.to_str().unwrap()]);
    export(&b, &dc);
    b.compose(&["up", "-d", "--quiet-pull"]);
    std::thread::sleep(Duration::from_secs(5));

    println!("six services (web, api, worker, cache, Prometheus 2.42, Alertmanager 0.25); medians of 7 runs, interleaved\n");
    let (mut o, mut c) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        o.push(b.obsbuild(&["switch", ob.to_str().unwrap()]));
        c.push(b.compose(&["up", "-d"]));
    }
    let (mo, mc) = (median(o), median(c));
    println!("no-op: obsbuild switch {}  |  docker-compose up -d {}  |  ratio {:.2}", ms(mo), ms(mc), mo.as_secs_f64() / mc.as_secs_f64());

    // One config file: the alert rule.
    b.write("bench-ob", &script("bench-ob", BUSYBOX, "up == 1", 18080));
    let (t, fails, window) = probed(18082, "/-/ready", || b.obsbuild(&["switch", ob.to_str().unwrap()]));
    let loaded = body(18082, "/api/v1/rules").contains("up == 1");
    println!("rule change, obsbuild: {} (reload), {fails} failed probes, window {}, new rule loaded: {loaded}", ms(t), ms(window));
    b.write("bench-dc", &script("bench-dc", BUSYBOX, "up == 1", 28080));
    export(&b, &dc);
    let (t, fails, _) = probed(28082, "/-/ready", || b.compose(&["up", "-d"]));
    let loaded = body(28082, "/api/v1/rules").contains("up == 1");
    println!("rule change, docker-compose up -d: {}, {fails} failed probes, new rule loaded: {loaded}", ms(t));
    let (t, fails, window) = probed(28082, "/-/ready", || b.compose(&["up", "-d", "--force-recreate", "--no-deps", "prometheus"]));
    let loaded = body(28082, "/api/v1/rules").contains("up == 1");
    println!("rule change, docker-compose up -d --force-recreate prometheus: {}, {fails} failed probes, unavailable {}, new rule loaded: {loaded}", ms(t), ms(window));

    // One service's image.
    b.write("bench-ob", &script("bench-ob", BUSYBOX_NEXT, "up == 1", 18080));
    let (t, fails, window) = probed(18080, "/index.html", || b.obsbuild(&["switch", ob.to_str().unwrap()]));
    println!("image change of web, obsbuild: {} (recreate, fixed host port: stop first), {fails} failed probes, unavailable {}", ms(t), ms(window));
    b.write("bench-dc", &script("bench-dc", BUSYBOX_NEXT, "up == 1", 28080));
    export(&b, &dc);
    let (t, fails, window) = probed(28080, "/index.html", || b.compose(&["up", "-d"]));
    println!("image change of web, docker-compose up -d: {}, {fails} failed probes, unavailable {}", ms(t), ms(window));

    b.obsbuild(&["down", "bench-ob", "--volumes"]);
    let _ = b.compose(&["down", "-v"]);
    let _ = std::fs::remove_dir_all(&dir);
}
