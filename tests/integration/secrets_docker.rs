//! Secrets end to end on the real engine, with a canary: a random value given to `switch`
//! through the environment must reach the container as a file (positive control) and be
//! found nowhere else: not in the state dir outside the secrets folder, not in the output
//! of any command, not in the container's environment or labels.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::common;
use super::switch_docker::{get, images, serial};

const BUSYBOX: &str = "obsbuild-test/busybox:1.35.0";

struct Canary {
    _tmp: tempfile::TempDir,
    stack: String,
    script: PathBuf,
    state: PathBuf,
}

impl Canary {
    fn new() -> Canary {
        images();
        let tmp = tempfile::tempdir().unwrap();
        let project = common::project(tmp.path());
        let stack = format!("dk-secret-{}", std::process::id() % 100_000);
        let script = project.join("stacks/stack.rhai");
        // The web server runs as uid 1000 and serves /run/secrets, so the test can read
        // what the container sees (the 0600 files must be that user's).
        let text = format!(
            r#"stack("{stack}");
network("{stack}-net");
service("web", #{{
    image: "{BUSYBOX}",
    user: "1000:1000",
    command: ["httpd", "-f", "-p", "8080", "-h", "/run/secrets"],
    endpoints: #{{ http: 8080 }},
    probe: #{{ port: 8080, path: "/tls.crt" }},
    secrets: #{{ token: secret_env("OBSBUILD_CANARY"), tls: tls_certificate(["canary.test"]) }},
}});
"#
        );
        std::fs::write(&script, text).unwrap();
        Canary { stack, script, state: tmp.path().join("state"), _tmp: tmp }
    }

    fn obsbuild(&self, args: &[&str], canary: Option<&str>) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_obsbuild"));
        c.arg("--state-dir").arg(&self.state).args(args).env_remove("OBSBUILD_CANARY");
        if let Some(value) = canary {
            c.env("OBSBUILD_CANARY", value);
        }
        c.output().unwrap()
    }

    fn switch(&self, canary: Option<&str>) -> Output {
        self.obsbuild(&["switch", self.script.to_str().unwrap(), "--timeout", "60"], canary)
    }

    fn port(&self) -> u16 {
        let out = Command::new("docker").args(["port", &format!("{}-web", self.stack), "8080/tcp"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find(|l| l.starts_with("127.0.0.1:")).unwrap_or_else(|| panic!("not published: {text}"));
        line.rsplit(':').next().unwrap().trim().parse().unwrap()
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        let _ = self.obsbuild(&["down", &self.stack, "--volumes", "--secrets"], None);
        let out = Command::new("docker").args(["ps", "-aq", "--filter", &format!("label=obsbuild.stack={}", self.stack)]).output();
        if let Ok(out) = out {
            for id in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = Command::new("docker").args(["rm", "-f", id]).output();
            }
        }
        let _ = Command::new("docker").args(["network", "rm", &format!("{}-net", self.stack)]).output();
    }
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && std::fs::read(&path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn random_canary() -> String {
    let mut bytes = [0u8; 12];
    std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes)).unwrap();
    format!("canary-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

#[test]
fn a_canary_secret_reaches_the_container_and_nothing_else() {
    let _g = serial();
    let c = Canary::new();
    let secrets = c.state.join("secrets").join(&c.stack);

    // Without the variable, the first switch stops before touching anything and says why.
    let missing = c.switch(None);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("OBSBUILD_CANARY"), "{}", text(&missing));

    let canary = random_canary();
    let first = c.switch(Some(&canary));
    assert!(first.status.success(), "{}", text(&first));
    let mut outputs = vec![text(&missing), text(&first)];

    // Positive control: the container reads the value, as uid 1000, from a 0600 file.
    let port = c.port();
    assert_eq!(get(port, "/token"), Some((200, canary.clone())));
    assert!(get(port, "/tls.crt").is_some_and(|(s, b)| s == 200 && b.contains("BEGIN CERTIFICATE")));
    let token = secrets.join("web/token");
    let meta = std::fs::metadata(&token).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
    for dir in [&secrets, &secrets.join("web"), &secrets.join("ca")] {
        assert_eq!(std::fs::metadata(dir).unwrap().permissions().mode() & 0o777, 0o700, "{}", dir.display());
    }
    // A TLS client that trusts the stack's CA accepts the certificate for its name.
    let verify = Command::new("openssl")
        .args(["verify", "-verify_hostname", "canary.test", "-CAfile"])
        .arg(secrets.join("ca/ca.crt"))
        .arg(secrets.join("web/tls.crt"))
        .output()
        .expect("openssl (tests/packages.txt)");
    assert!(verify.status.success(), "{}", text(&verify));
    let wrong = Command::new("openssl")
        .args(["verify", "-verify_hostname", "other.test", "-CAfile"])
        .arg(secrets.join("ca/ca.crt"))
        .arg(secrets.join("web/tls.crt"))
        .output()
        .unwrap();
    assert!(!wrong.status.success(), "a certificate for canary.test passed for other.test");
    // The private keys are files of the secrets folder only, never of the store.
    assert!(files_containing(&c.state.join("store"), b"PRIVATE KEY").is_empty());

    // Every other command a user runs, and the container's own metadata.
    for args in [vec!["status", c.stack.as_str()], vec!["generations", c.stack.as_str()], vec!["build", c.script.to_str().unwrap()]] {
        outputs.push(text(&c.obsbuild(&args, Some(&canary))));
    }
    let inspect = Command::new("docker").args(["inspect", &format!("{}-web", c.stack)]).output().unwrap();
    assert!(inspect.status.success());
    outputs.push(text(&inspect));
    for out in &outputs {
        assert!(!out.contains(&canary), "the canary leaked into output:\n{out}");
    }
    // The state dir: the secret file is the one and only place.
    assert_eq!(files_containing(&c.state, canary.as_bytes()), vec![token.clone()]);

    // A new value recreates the container; the plan says a secret changed, never the value.
    let rotated = random_canary();
    let second = c.switch(Some(&rotated));
    assert!(second.status.success(), "{}", text(&second));
    assert!(text(&second).contains("a secret changed"), "{}", text(&second));
    assert!(!text(&second).contains(&rotated) && !text(&second).contains(&canary), "{}", text(&second));
    assert_eq!(get(c.port(), "/token"), Some((200, rotated.clone())));
    assert_eq!(files_containing(&c.state, rotated.as_bytes()), vec![token.clone()]);
    assert!(files_containing(&c.state, canary.as_bytes()).is_empty());

    // Unchanged and unset: nothing to do, the last value is kept.
    let again = c.switch(None);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("nothing to do"), "{}", text(&again));

    // `down` keeps the secrets unless asked.
    let down = c.obsbuild(&["down", &c.stack], None);
    assert!(down.status.success(), "{}", text(&down));
    assert!(token.exists());
    let gone = c.obsbuild(&["down", &c.stack, "--secrets"], None);
    assert!(gone.status.success(), "{}", text(&gone));
    assert!(!secrets.exists());
}
