//! Where each file of a build lives, on the host side and inside containers.
//!
//! The layout is seed 000's: `docker-compose.yml` at the root and every config file under
//! `configs/`, named after its service. Containers mount the whole `configs/` folder at
//! [`CONFIG_MOUNT`], never single files: a bind-mounted file keeps its old inode when the
//! file is replaced, and a service reloading its config must see all its files change at
//! once (Prometheus' config and rules, Grafana's provisioning).

use crate::model::{Kind, Service};

/// Folder of config files in a build.
pub const CONFIG_DIR: &str = "configs";
/// Where containers see [`CONFIG_DIR`].
pub const CONFIG_MOUNT: &str = "/etc/obsbuild";
/// The compose file of the instrumented apps.
pub const APPS_COMPOSE: &str = "apps/docker-compose.yml";

/// The main config file of a component (`configs/loki.yaml`, `configs/prometheus.yml`).
pub fn config_file(service: &Service) -> String {
    format!("{CONFIG_DIR}/{}.{}", service.name, extension(service.kind()))
}

/// The extension of a component's main config file.
pub fn extension(kind: Kind) -> &'static str {
    match kind {
        // Prometheus and Alertmanager document `.yml`; the others `.yaml`.
        Kind::Prometheus | Kind::Alertmanager => "yml",
        _ => "yaml",
    }
}

/// Prometheus' rule file, next to its config.
pub fn rules_file(service: &Service) -> String {
    format!("{CONFIG_DIR}/{}.rules.yml", service.name)
}

/// Unit tests of Prometheus' rules, next to them: `promtool test rules` reads the rule file
/// relative to it, and inside the container it runs against the pinned version.
pub fn rule_tests_file(service: &Service) -> String {
    format!("{CONFIG_DIR}/{}.rules.test.yml", service.name)
}

/// The folder of a service whose config is a tree of files (Grafana, plain containers).
pub fn service_dir(service: &Service) -> String {
    format!("{CONFIG_DIR}/{}", service.name)
}

/// The path a container sees for a build path under `configs/`.
pub fn in_container(path: &str) -> String {
    match path.strip_prefix(CONFIG_DIR) {
        Some(rest) => format!("{CONFIG_MOUNT}{rest}"),
        None => path.to_owned(),
    }
}

/// The build paths a service reads: `configs/<name>.*` and `configs/<name>/...` (service
/// names have no dots, so `prometheus` and `prometheus-2` never share a file). A change in
/// one of them is a config change of that service.
pub fn reads(service: &str, path: &str) -> bool {
    path.strip_prefix(CONFIG_DIR)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| rest.strip_prefix(service))
        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('/'))
}
