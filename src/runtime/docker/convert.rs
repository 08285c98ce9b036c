//! Conversions between the deployment document and the runtime's types on one side and
//! bollard's models on the other: pure functions, so that the mapping of every field can be
//! tested without an engine.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, EndpointIpamConfig, EndpointSettings,
    HealthConfig, HealthStatusEnum, HostConfig, Ipam, IpamConfig, Mount as DockerMount, MountType,
    NetworkCreateRequest, NetworkInspect, NetworkingConfig, PortBinding as DockerPortBinding, RestartPolicy,
    RestartPolicyNameEnum,
};

use crate::deployment::{Container, Healthcheck, Mount};
use crate::model::{Protocol, Restart};
use crate::runtime::{Attached, ContainerInfo, Health, NetworkInfo, NetworkSpec, PublishedPort};

/// The body of `POST /containers/create` for a container (the name goes in the query).
pub(super) fn create_body(spec: &Container) -> Result<ContainerCreateBody, String> {
    let mut bindings: BTreeMap<String, Vec<DockerPortBinding>> = BTreeMap::new();
    for port in &spec.ports {
        bindings.entry(format!("{}/{}", port.container, port.protocol.name())).or_default().push(DockerPortBinding {
            host_ip: Some(port.host_ip.to_string()),
            // An empty host port asks Docker for a free one.
            host_port: Some(port.host.map(|p| p.to_string()).unwrap_or_default()),
        });
    }
    let exposed: Vec<String> = bindings.keys().cloned().collect();
    let port_bindings: HashMap<String, Option<Vec<DockerPortBinding>>> =
        bindings.into_iter().map(|(k, v)| (k, Some(v))).collect();

    let mounts = spec.mounts.iter().map(mount).collect::<Result<Vec<_>, String>>()?;

    // An empty network name leaves the container on Docker's default bridge, where
    // aliases and static addresses are not allowed.
    let (network_mode, networking_config) = if spec.network.is_empty() {
        (None, None)
    } else {
        let endpoint = EndpointSettings {
            aliases: (!spec.aliases.is_empty()).then(|| spec.aliases.clone()),
            ipam_config: spec
                .ip
                .map(|ip| EndpointIpamConfig { ipv4_address: Some(ip.to_string()), ..Default::default() }),
            ..Default::default()
        };
        let config = NetworkingConfig { endpoints_config: Some(HashMap::from([(spec.network.clone(), endpoint)])) };
        (Some(spec.network.clone()), Some(config))
    };

    let host_config = HostConfig {
        mounts: (!mounts.is_empty()).then_some(mounts),
        port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
        network_mode,
        memory: spec.memory_bytes,
        nano_cpus: spec.nano_cpus,
        restart_policy: spec.restart.map(restart_policy),
        ..Default::default()
    };

    Ok(ContainerCreateBody {
        image: Some(spec.image.clone()),
        entrypoint: spec.entrypoint.clone(),
        cmd: spec.command.clone(),
        env: (!spec.env.is_empty()).then(|| spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: (!spec.labels.is_empty()).then(|| spec.labels.clone().into_iter().collect()),
        user: spec.user.clone(),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        healthcheck: spec.healthcheck.as_ref().map(healthcheck),
        host_config: Some(host_config),
        networking_config,
        ..Default::default()
    })
}

fn mount(m: &Mount) -> Result<DockerMount, String> {
    let (typ, source, target, read_only) = match m {
        Mount::Bind { source, target, read_only } => (MountType::BIND, source, target, *read_only),
        Mount::Volume { source, target, read_only } => (MountType::VOLUME, source, target, *read_only),
        // A planner's mistake, not a user's: the switch places config mounts before it
        // creates anything.
        Mount::Configs { target } => return Err(format!("the config mount at `{target}` has no host folder yet")),
    };
    Ok(DockerMount {
        typ: Some(typ),
        source: Some(source.clone()),
        target: Some(target.clone()),
        read_only: Some(read_only),
        ..Default::default()
    })
}

fn healthcheck(h: &Healthcheck) -> HealthConfig {
    HealthConfig {
        test: Some(h.test.clone()),
        interval: Some(nanos(h.interval_ns)),
        timeout: Some(nanos(h.timeout_ns)),
        retries: Some(i64::from(h.retries)),
        start_period: Some(nanos(h.start_period_ns)),
        // `StartInterval` needs API 1.44; sending it to older engines is an error.
        start_interval: None,
    }
}

/// Docker counts health check times in nanoseconds, as a signed number.
fn nanos(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn restart_policy(r: Restart) -> RestartPolicy {
    let name = match r {
        Restart::No => RestartPolicyNameEnum::NO,
        Restart::Always => RestartPolicyNameEnum::ALWAYS,
        Restart::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
        Restart::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
    };
    RestartPolicy { name: Some(name), maximum_retry_count: None }
}

/// A container as `GET /containers/{id}/json` describes it; `None` without an id.
pub(super) fn container_info(c: ContainerInspectResponse) -> Option<ContainerInfo> {
    let id = c.id?;
    let config = c.config.unwrap_or_default();
    let state = c.state.unwrap_or_default();
    let settings = c.network_settings.unwrap_or_default();

    let health = match state.health.and_then(|h| h.status) {
        Some(HealthStatusEnum::STARTING) => Some(Health::Starting),
        Some(HealthStatusEnum::HEALTHY) => Some(Health::Healthy),
        Some(HealthStatusEnum::UNHEALTHY) => Some(Health::Unhealthy),
        Some(HealthStatusEnum::NONE | HealthStatusEnum::EMPTY) | None => None,
    };

    let mut ports = Vec::new();
    for (key, bindings) in settings.ports.unwrap_or_default() {
        let (port, protocol) = key.split_once('/').unwrap_or((&key, "tcp"));
        // Docker publishes tcp, udp and sctp; obsbuild publishes only the first two, and a
        // port over anything else is not one of its probes' ports.
        let protocol = match protocol {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            _ => continue,
        };
        let Ok(container) = port.parse::<u16>() else { continue };
        for b in bindings.unwrap_or_default() {
            let Some(host) = b.host_port.and_then(|p| p.parse::<u16>().ok()) else { continue };
            // An empty host address means every interface.
            let host_ip =
                b.host_ip.as_deref().and_then(|ip| ip.parse().ok()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            ports.push(PublishedPort { container, protocol, host_ip, host });
        }
    }
    ports.sort_by(|a, b| {
        (a.container, &a.protocol, a.host_ip, a.host).cmp(&(b.container, &b.protocol, b.host_ip, b.host))
    });

    // A stopped container has no address: Docker releases it (a static one included).
    let addresses = settings
        .networks
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(network, e)| Some((network, e.ip_address?.parse().ok()?)))
        .collect();

    // A container that never ran reports exit code 0; only an ended one has one.
    let ended = matches!(state.status, Some(ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD));

    Some(ContainerInfo {
        id,
        name: c.name.unwrap_or_default().trim_start_matches('/').to_owned(),
        image: config.image.unwrap_or_default(),
        labels: config.labels.unwrap_or_default().into_iter().collect(),
        running: state.running.unwrap_or(false),
        health,
        ports,
        addresses,
        exit_code: if ended { state.exit_code } else { None },
    })
}

/// A network as `GET /networks/{id}` describes it.
pub(super) fn network_info(n: NetworkInspect) -> NetworkInfo {
    let subnets = n.ipam.and_then(|i| i.config).unwrap_or_default().into_iter().filter_map(|c| c.subnet).collect();
    let containers = n
        .containers
        .unwrap_or_default()
        .into_iter()
        .map(|(id, e)| {
            // Reported with its prefix length: `172.18.0.2/16`.
            let ip = e.ipv4_address.as_deref().and_then(|a| a.split('/').next()).and_then(|a| a.parse().ok());
            let name = e.name.unwrap_or_default().trim_start_matches('/').to_owned();
            (id, Attached { name, ip })
        })
        .collect();
    NetworkInfo {
        name: n.name.unwrap_or_default(),
        subnets,
        labels: n.labels.unwrap_or_default().into_iter().collect::<BTreeMap<_, _>>(),
        containers,
    }
}

/// The body of `POST /networks/create`: a bridge, with the subnet when one is given.
pub(super) fn network_request(spec: &NetworkSpec) -> NetworkCreateRequest {
    NetworkCreateRequest {
        name: spec.name.clone(),
        driver: Some("bridge".to_owned()),
        ipam: spec.subnet.as_ref().map(|subnet| Ipam {
            config: Some(vec![IpamConfig { subnet: Some(subnet.clone()), ..Default::default() }]),
            ..Default::default()
        }),
        labels: (!spec.labels.is_empty()).then(|| spec.labels.clone().into_iter().collect()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Port;

    fn spec() -> Container {
        Container {
            image: "prom/prometheus:v2.42.0".into(),
            entrypoint: Some(vec!["/bin/prometheus".into()]),
            command: Some(vec!["--config.file=/etc/prometheus/prometheus.yml".into()]),
            env: BTreeMap::from([("A".into(), "1".into()), ("B".into(), "x=y".into())]),
            labels: BTreeMap::from([("obsbuild.stack".into(), "s".into())]),
            user: Some("65534".into()),
            mounts: vec![
                Mount::Bind { source: "/host/conf".into(), target: "/etc/prometheus".into(), read_only: true },
                Mount::Volume { source: "s-data".into(), target: "/prometheus".into(), read_only: false },
            ],
            ports: vec![
                Port { container: 9090, protocol: Protocol::Tcp, host_ip: Ipv4Addr::LOCALHOST.into(), host: None },
                Port { container: 9090, protocol: Protocol::Tcp, host_ip: Ipv4Addr::LOCALHOST.into(), host: Some(19090) },
            ],
            network: "s-net".into(),
            aliases: vec!["prometheus".into()],
            ip: Some(Ipv4Addr::new(10, 1, 2, 3)),
            healthcheck: Some(Healthcheck {
                test: vec!["CMD".into(), "wget".into(), "-q".into(), "http://localhost:9090/-/ready".into()],
                interval_ns: 2_000_000_000,
                timeout_ns: 1_500_000_000,
                retries: 3,
                start_period_ns: 10_000_000_000,
            }),
            memory_bytes: Some(256 << 20),
            nano_cpus: Some(500_000_000),
            restart: Some(Restart::UnlessStopped),
        }
    }

    #[test]
    fn create_body_maps_every_field() {
        let body = serde_json::to_value(create_body(&spec()).unwrap()).unwrap();
        assert_eq!(body["Image"], "prom/prometheus:v2.42.0");
        assert_eq!(body["Entrypoint"], serde_json::json!(["/bin/prometheus"]));
        assert_eq!(body["Cmd"], serde_json::json!(["--config.file=/etc/prometheus/prometheus.yml"]));
        assert_eq!(body["Env"], serde_json::json!(["A=1", "B=x=y"]));
        assert_eq!(body["Labels"], serde_json::json!({"obsbuild.stack": "s"}));
        assert_eq!(body["User"], "65534");
        assert_eq!(body["ExposedPorts"], serde_json::json!({"9090/tcp": {}}));
        assert_eq!(
            body["Healthcheck"],
            serde_json::json!({
                "Test": ["CMD", "wget", "-q", "http://localhost:9090/-/ready"],
                "Interval": 2_000_000_000i64, "Timeout": 1_500_000_000i64, "Retries": 3, "StartPeriod": 10_000_000_000i64
            })
        );
        let host = &body["HostConfig"];
        assert_eq!(
            host["Mounts"],
            serde_json::json!([
                {"Type": "bind", "Source": "/host/conf", "Target": "/etc/prometheus", "ReadOnly": true},
                {"Type": "volume", "Source": "s-data", "Target": "/prometheus", "ReadOnly": false},
            ])
        );
        assert_eq!(
            host["PortBindings"],
            serde_json::json!({"9090/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}, {"HostIp": "127.0.0.1", "HostPort": "19090"}]})
        );
        assert_eq!(host["NetworkMode"], "s-net");
        assert_eq!(host["Memory"], 256 << 20);
        assert_eq!(host["NanoCpus"], 500_000_000);
        assert_eq!(host["RestartPolicy"], serde_json::json!({"Name": "unless-stopped"}));
        assert_eq!(
            body["NetworkingConfig"],
            serde_json::json!({"EndpointsConfig": {"s-net": {"IPAMConfig": {"IPv4Address": "10.1.2.3"}, "Aliases": ["prometheus"]}}})
        );
    }

    #[test]
    fn create_body_leaves_out_what_is_not_set() {
        let minimal = Container { image: "busybox".into(), ..Default::default() };
        let body = serde_json::to_value(create_body(&minimal).unwrap()).unwrap();
        assert_eq!(body, serde_json::json!({"Image": "busybox", "HostConfig": {}}));
        for r in Restart::ALL {
            let s = Container { restart: Some(r), ..minimal.clone() };
            let body = serde_json::to_value(create_body(&s).unwrap()).unwrap();
            assert_eq!(body["HostConfig"]["RestartPolicy"]["Name"], r.name());
        }
        let unplaced = Container { mounts: vec![Mount::Configs { target: "/etc/obsbuild".into() }], ..minimal };
        assert!(create_body(&unplaced).unwrap_err().contains("`/etc/obsbuild` has no host folder"));
    }

    #[test]
    fn inspect_answers_become_container_infos() {
        // Trimmed from a Docker 20.10 (API 1.41) answer.
        let answer = serde_json::json!({
            "Id": "abc", "Name": "/s-prometheus",
            "State": {"Status": "running", "Running": true, "ExitCode": 0, "Health": {"Status": "healthy", "FailingStreak": 0, "Log": []}},
            "Config": {"Image": "prom/prometheus:v2.42.0", "Labels": {"obsbuild.stack": "s"}},
            "NetworkSettings": {
                "Ports": {"9090/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}], "9091/tcp": null,
                          "53/udp": [{"HostIp": "", "HostPort": "5353"}]},
                "Networks": {"s-net": {"IPAddress": "10.1.2.3"}, "other": {"IPAddress": ""}}
            }
        });
        let info = container_info(serde_json::from_value(answer).unwrap()).unwrap();
        assert_eq!(info.name, "s-prometheus");
        assert_eq!(info.image, "prom/prometheus:v2.42.0");
        assert_eq!(info.label("obsbuild.stack"), Some("s"));
        assert!(info.running);
        assert_eq!(info.health, Some(Health::Healthy));
        assert_eq!(info.loopback_port(9090), Some(49153));
        assert_eq!(info.loopback_port(9091), None);
        assert_eq!(info.ports.len(), 2);
        assert_eq!(info.ports[0].host_ip, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(info.addresses, BTreeMap::from([("s-net".to_owned(), Ipv4Addr::new(10, 1, 2, 3))]));
        assert_eq!(info.exit_code, None);

        let exited = serde_json::json!({"Id": "abc", "Name": "/x", "State": {"Status": "exited", "Running": false, "ExitCode": 3}});
        let info = container_info(serde_json::from_value(exited).unwrap()).unwrap();
        assert_eq!((info.running, info.health, info.exit_code), (false, None, Some(3)));
    }

    #[test]
    fn network_answers_and_requests() {
        let answer = serde_json::json!({
            "Name": "s-net", "IPAM": {"Config": [{"Subnet": "10.1.2.0/24"}]}, "Labels": {"obsbuild.stack": "s"},
            "Containers": {"abc": {"Name": "s-web", "IPv4Address": "10.1.2.3/24"}, "def": {"IPv4Address": ""}}
        });
        let info = network_info(serde_json::from_value(answer).unwrap());
        assert_eq!(info.subnets, ["10.1.2.0/24"]);
        assert_eq!(info.containers["abc"], Attached { name: "s-web".into(), ip: Some(Ipv4Addr::new(10, 1, 2, 3)) });
        assert_eq!(info.containers["def"], Attached { name: String::new(), ip: None });
        assert_eq!(info.created_for(), None, "obsbuild.stack alone does not say obsbuild created it");
        let request = network_request(&NetworkSpec {
            name: "s-net".into(),
            subnet: Some("10.1.2.0/24".into()),
            labels: info.labels.clone(),
        });
        assert_eq!(
            serde_json::to_value(request).unwrap(),
            serde_json::json!({"Name": "s-net", "Driver": "bridge", "IPAM": {"Config": [{"Subnet": "10.1.2.0/24"}]}, "Labels": {"obsbuild.stack": "s"}})
        );
    }
}
