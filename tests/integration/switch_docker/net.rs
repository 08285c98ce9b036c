//! External networks against the real engine: `switch` creates one with obsbuild's labels
//! and puts each container at its static address with its memory limit; a subnet clashing
//! with a network made by hand is refused; `down` removes the network obsbuild created and
//! leaves the hand-made one. Everything is read back through the Docker API (`docker
//! inspect`); no traffic goes to a container address.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::super::common;
use super::{BUSYBOX, images, serial};

/// Removes, on drop (a failing test included), the containers of `stacks`, then
/// `networks` and `volumes`.
#[derive(Default)]
struct Cleanup {
    containers: Vec<String>,
    stacks: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for container in &self.containers {
            let _ = Command::new("docker").args(["rm", "-f", container]).output();
        }
        for stack in &self.stacks {
            let listed =
                Command::new("docker").args(["ps", "-aq", "--filter", &format!("label=obsbuild.stack={stack}")]).output();
            if let Ok(out) = listed {
                for id in String::from_utf8_lossy(&out.stdout).lines() {
                    let _ = Command::new("docker").args(["rm", "-f", id]).output();
                }
            }
        }
        for network in &self.networks {
            let _ = Command::new("docker").args(["network", "rm", network]).output();
        }
        for volume in &self.volumes {
            let _ = Command::new("docker").args(["volume", "rm", "-f", volume]).output();
        }
    }
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("the docker command");
    assert!(out.status.success(), "docker {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// An IPv4 CIDR as its first and last address.
fn range(cidr: &str) -> Option<(u32, u32)> {
    let (address, bits) = cidr.split_once('/')?;
    let start = u32::from(address.parse::<Ipv4Addr>().ok()?);
    let size = 1u64 << (32 - bits.parse::<u32>().ok()?.min(32));
    Some((start, (u64::from(start) + size - 1) as u32))
}

/// Address ranges in use on this machine: every Docker network's subnets, and the host's
/// routes (a LAN or VPN on 172.29/16 must not be shadowed either).
fn taken() -> Vec<(u32, u32)> {
    let mut ranges = Vec::new();
    for id in docker(&["network", "ls", "-q"]).lines() {
        let subnets = docker(&["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", id]);
        ranges.extend(subnets.split_whitespace().filter_map(range));
    }
    let routes = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    for line in routes.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(dest), Some(mask)) = (fields.get(1), fields.get(7)) else {
            continue;
        };
        // Little-endian hex; the default route (mask 0) covers everything and says nothing.
        let (Ok(dest), Ok(mask)) = (u32::from_str_radix(dest, 16), u32::from_str_radix(mask, 16)) else {
            continue;
        };
        if mask != 0 {
            let (dest, mask) = (dest.swap_bytes(), mask.swap_bytes());
            ranges.push((dest & mask, (dest & mask) | !mask));
        }
    }
    ranges
}

/// `n` /24 subnets of 172.29/16 that nothing on the machine uses, starting at an offset
/// from the process id so that concurrent test processes rarely pick the same.
fn free_subnets(n: usize) -> Vec<String> {
    let taken = taken();
    let first = std::process::id() % 200;
    let free: Vec<String> = (0..250)
        .map(|i| format!("172.29.{}.0/24", (first + i) % 250 + 3))
        .filter(|s| {
            let (lo, hi) = range(s).unwrap_or((0, 0));
            !taken.iter().any(|&(a, b)| lo <= b && a <= hi)
        })
        .take(n)
        .collect();
    assert_eq!(free.len(), n, "no {n} free /24 subnets in 172.29.0.0/16 for the test networks");
    free
}

/// `a.b.c.0/24` → `a.b.c.<host>`.
fn host(subnet: &str, last: u8) -> String {
    format!("{}.{last}", subnet.trim_end_matches(".0/24"))
}

struct Stack {
    name: String,
    script: PathBuf,
    state: PathBuf,
}

impl Stack {
    fn new(project: &Path, state: &Path, name: &str) -> Stack {
        Stack { name: name.to_owned(), script: project.join(format!("stacks/{name}.rhai")), state: state.to_owned() }
    }

    fn write(&self, text: &str) {
        std::fs::write(&self.script, text).unwrap();
    }

    fn obsbuild(&self, args: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_obsbuild"));
        c.arg("--state-dir").arg(&self.state).args(args);
        c.output().unwrap()
    }

    fn switch(&self) -> Output {
        self.obsbuild(&["switch", self.script.to_str().unwrap(), "--timeout", "60"])
    }

    fn down(&self) -> Output {
        self.obsbuild(&["down", &self.name])
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn must(out: Output, what: &str) -> Output {
    assert!(out.status.success(), "{what} failed ({}):\n{}", out.status, text(&out));
    out
}

/// Sleeps until stopped; as PID 1 a plain `sleep` ignores SIGTERM, and every `down` would
/// wait out Docker's grace period.
const SLEEPER: &str = r#"["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]"#;

/// Busybox services at static IPs with memory limits (one also with a CPU limit and one
/// with a data volume), no published ports.
fn script(stack: &str, network: &str, subnet: &str, services: &[(&str, u8, &str)]) -> String {
    let mut s = format!("stack(\"{stack}\");\nnetwork(\"{network}\", #{{ subnet: \"{subnet}\", external: true }});\n");
    for (i, (name, last, memory)) in services.iter().enumerate() {
        let extra = match i {
            0 => ", cpus: 0.5",
            1 => ", volumes: #{ \"data\": \"/data\" }",
            _ => "",
        };
        s += &format!(
            "service(\"{name}\", #{{ image: \"{BUSYBOX}\", command: {SLEEPER}, ip: \"{}\", memory: \"{memory}\"{extra} }});\n",
            host(subnet, *last)
        );
    }
    s
}

#[test]
fn an_external_network_is_created_labelled_used_refused_on_a_clash_and_removed_only_when_ours() {
    let _g = serial();
    images();
    let tmp = tempfile::tempdir().unwrap();
    let project = common::project(tmp.path());
    let state = tmp.path().join("state");
    let pid = std::process::id() % 100_000;
    let ours = Stack::new(&project, &state, &format!("dk-ext-{pid}"));
    let other = Stack::new(&project, &state, &format!("dk-clash-{pid}"));
    let (ours_net, other_net, hand_net) =
        (format!("{}-net", ours.name), format!("{}-net", other.name), format!("obsbuild-test-{pid}-hand"));
    let visitor = format!("obsbuild-test-{pid}-visitor");
    let _cleanup = Cleanup {
        containers: vec![visitor.clone()],
        stacks: vec![ours.name.clone(), other.name.clone()],
        networks: vec![ours_net.clone(), other_net.clone(), hand_net.clone()],
        volumes: vec![format!("{}-data", ours.name)],
    };
    let subnets = free_subnets(2);
    let (subnet, hand_subnet) = (subnets[0].as_str(), subnets[1].as_str());

    // Four services at static IPs, with memory limits; the network is created by the switch.
    let services = [("web", 10, "64m"), ("worker", 11, "48m"), ("cache", 12, "32m"), ("queue", 13, "96m")];
    ours.write(&script(&ours.name, &ours_net, subnet, &services));
    let out = must(ours.switch(), "the first switch");
    assert!(text(&out).contains(&format!("created network `{ours_net}` with subnet {subnet}")), "{}", text(&out));
    let labels: serde_json::Value =
        serde_json::from_str(&docker(&["network", "inspect", "--format", "{{json .Labels}}", &ours_net])).unwrap();
    assert_eq!(labels["obsbuild.stack"], ours.name.as_str(), "{labels}");
    assert_eq!(labels["obsbuild.created-by"], "obsbuild switch", "{labels}");
    assert_eq!(docker(&["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", &ours_net]), subnet);
    for (i, (service, last, memory)) in services.iter().enumerate() {
        let container = format!("{}-{service}", ours.name);
        let format = "{{json .NetworkSettings.Networks}}|{{.HostConfig.Memory}}|{{.HostConfig.NanoCpus}}|{{.State.Running}}";
        let inspected = docker(&["inspect", "--format", format, &container]);
        let parts: Vec<&str> = inspected.split('|').collect();
        let networks: serde_json::Value = serde_json::from_str(parts[0]).unwrap();
        assert_eq!(networks[&ours_net]["IPAddress"], host(subnet, *last).as_str(), "{container}: {networks}");
        assert_eq!(networks[&ours_net]["IPAMConfig"]["IPv4Address"], host(subnet, *last).as_str(), "{container}: {networks}");
        let bytes: i64 = memory.trim_end_matches('m').parse::<i64>().unwrap() << 20;
        assert_eq!(parts[1], bytes.to_string(), "{container}: memory limit");
        assert_eq!(parts[2], if i == 0 { "500000000" } else { "0" }, "{container}: CPU limit");
        assert_eq!(parts[3], "true", "{container} is not running");
    }

    // A network made by hand; another stack whose subnet clashes with it is refused.
    docker(&["network", "create", "--driver", "bridge", "--subnet", hand_subnet, &hand_net]);
    other.write(&script(&other.name, &other_net, hand_subnet, &[("solo", 20, "16m")]));
    let out = other.switch();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let clash = format!(
        "subnet {hand_subnet} of network `{other_net}` clashes with subnet {hand_subnet} of the existing network `{hand_net}`"
    );
    assert!(text(&out).contains(&clash) && text(&out).contains("nothing was touched"), "{}", text(&out));
    assert_eq!(
        docker(&["ps", "-aq", "--filter", &format!("label=obsbuild.stack={}", other.name)]),
        "",
        "a refused switch made containers"
    );
    assert_eq!(
        docker(&["network", "ls", "-q", "--filter", &format!("name=^{other_net}$")]),
        "",
        "a refused switch made its network"
    );

    // The same stack on the hand-made network itself: used as it is, and left by `down`.
    other.write(&script(&other.name, &hand_net, hand_subnet, &[("solo", 20, "16m")]));
    must(other.switch(), "a switch onto the hand-made network");
    let solo = docker(&["inspect", "--format", "{{json .NetworkSettings.Networks}}", &format!("{}-solo", other.name)]);
    let solo: serde_json::Value = serde_json::from_str(&solo).unwrap();
    assert_eq!(solo[&hand_net]["IPAddress"], host(hand_subnet, 20).as_str(), "{solo}");
    let out = must(other.down(), "down of the stack on the hand-made network");
    assert!(
        text(&out).contains(&format!("`{hand_net}` left in place")) && text(&out).contains("did not create"),
        "{}",
        text(&out)
    );
    assert_eq!(docker(&["network", "inspect", "--format", "{{.Name}}", &hand_net]), hand_net, "down removed a hand-made network");

    // A container of no stack on the network, even stopped, keeps `down` from removing it.
    docker(&["create", "--name", &visitor, "--network", &ours_net, BUSYBOX, "true"]);
    let out = must(ours.down(), "down while another container is on the network");
    assert!(
        text(&out).contains(&format!("`{ours_net}` left in place: containers outside `{}` use it ({visitor})", ours.name)),
        "{}",
        text(&out)
    );
    assert_eq!(docker(&["network", "inspect", "--format", "{{.Name}}", &ours_net]), ours_net);
    assert_eq!(docker(&["ps", "-aq", "--filter", &format!("label=obsbuild.stack={}", ours.name)]), "");
    docker(&["rm", &visitor]);

    // Once it is gone, `down` removes the network obsbuild created; the data volume stays
    // without --volumes.
    let out = must(ours.down(), "down");
    assert!(text(&out).contains(&format!("removed network {ours_net}")), "{}", text(&out));
    assert_eq!(
        docker(&["network", "ls", "-q", "--filter", &format!("name=^{ours_net}$")]),
        "",
        "the network obsbuild created is still there"
    );
    let volume = format!("{}-data", ours.name);
    assert_eq!(
        docker(&["volume", "inspect", "--format", "{{.Name}}", &volume]),
        volume,
        "down without --volumes removed a data volume"
    );
}
