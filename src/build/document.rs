//! What each file of a build holds, beside its bytes: the kind of file, the service it
//! belongs to, and (for YAML and JSON) the document tree a reader of the file gets back.
//!
//! The renderer records these as it writes each file, so the review and the checks that
//! read the build (the semantic diff, the impact index, the selects-nothing check) neither
//! parse the files back nor guess a file's component from its content. A build loaded from
//! the store has bytes only; [`typed`] names each file's kind from its path and the
//! deployment document's services, and the reader parses it.

use std::collections::BTreeMap;

use super::layout::{self, APPS_COMPOSE, CONFIG_DIR};
use crate::model::{FileFormat, Kind, Tree};

/// What a build file is, as the stage that made it knew.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    /// `docker-compose.yml`: the stack's services for `docker compose`.
    StackCompose,
    /// `apps/docker-compose.yml`: the instrumented apps.
    AppsCompose,
    PrometheusConfig,
    PrometheusRules,
    /// `promtool test rules` input, next to the rules.
    PrometheusRuleTests,
    AlertmanagerConfig,
    CollectorConfig,
    LokiConfig,
    /// Jaeger v2's config, a collector config.
    JaegerConfig,
    GrafanaDatasources,
    /// The dashboard provider (`provisioning/dashboards/dashboards.yml`).
    GrafanaProvider,
    /// The empty `alerting` and `plugins` provisioning files.
    GrafanaProvisioning,
    GrafanaDashboard,
    /// A file a script gave a plain container, written as given.
    ContainerFile,
    Readme,
    /// `.obsbuild/deployment.json` (or a schema-1 build's activation document).
    Deployment,
    /// A file no renderer of this version writes.
    Other,
}

/// One file's meaning, kept while the build is in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub kind: FileKind,
    /// The service whose file it is; `None` for the stack's own files.
    pub service: Option<String>,
    /// The document a YAML or JSON reader of the bytes gets; `None` for text, and for a
    /// file typed from its path (the reader parses it).
    pub tree: Option<Tree>,
}

impl Document {
    pub fn new(kind: FileKind, service: Option<&str>, tree: Option<Tree>) -> Document {
        Document { kind, service: service.map(str::to_owned), tree }
    }
}

/// The format a reader takes a build file for, by its extension: JSON, YAML, or (`None`)
/// text.
#[must_use]
pub fn format_of(path: &str) -> Option<FileFormat> {
    if path.ends_with(".json") {
        Some(FileFormat::Json)
    } else if path.ends_with(".yml") || path.ends_with(".yaml") {
        Some(FileFormat::Yaml)
    } else {
        None
    }
}

/// The kind and service of the file at `path` of a build whose services are `services`
/// (name and kind, from its deployment document): what the renderer would have recorded.
#[must_use]
pub fn typed(path: &str, services: &BTreeMap<String, Kind>) -> (FileKind, Option<String>) {
    match path {
        "docker-compose.yml" => return (FileKind::StackCompose, None),
        APPS_COMPOSE => return (FileKind::AppsCompose, None),
        "README.md" => return (FileKind::Readme, None),
        p if p == crate::deployment::FILE || p == crate::deployment::V1_FILE => return (FileKind::Deployment, None),
        _ => {}
    }
    let Some(rest) = path.strip_prefix(CONFIG_DIR).and_then(|r| r.strip_prefix('/')) else { return (FileKind::Other, None) };
    // A folder of the service's own (Grafana, plain containers).
    if let Some((service, inside)) = rest.split_once('/')
        && let Some(kind) = services.get(service)
    {
        let of = |k: FileKind| (k, Some(service.to_owned()));
        return match (kind, inside) {
            (Kind::Container, _) => of(FileKind::ContainerFile),
            (Kind::Grafana, "provisioning/datasources/datasources.yml") => of(FileKind::GrafanaDatasources),
            (Kind::Grafana, "provisioning/dashboards/dashboards.yml") => of(FileKind::GrafanaProvider),
            (Kind::Grafana, "provisioning/alerting/alerting.yml" | "provisioning/plugins/plugins.yml") => of(FileKind::GrafanaProvisioning),
            (Kind::Grafana, p) if p.strip_prefix("provisioning/dashboards/json/").is_some_and(|f| f.ends_with(".json") && !f.contains('/')) => {
                of(FileKind::GrafanaDashboard)
            }
            _ => (FileKind::Other, None),
        };
    }
    // A file beside the others: the service's config, or Prometheus' rules and their tests.
    // The config's own name is tried first, so a service called `a.rules` is never read as
    // the rules of `a`.
    if let Some((name, extension)) = rest.rsplit_once('.')
        && let Some(kind) = services.get(name)
        && layout::extension(*kind) == extension
    {
        let kind = match kind {
            Kind::Prometheus => FileKind::PrometheusConfig,
            Kind::Alertmanager => FileKind::AlertmanagerConfig,
            Kind::Collector => FileKind::CollectorConfig,
            Kind::Loki => FileKind::LokiConfig,
            Kind::Jaeger => FileKind::JaegerConfig,
            Kind::Grafana | Kind::Container => return (FileKind::Other, None),
        };
        return (kind, Some(name.to_owned()));
    }
    let prometheus = |name: &str| services.get(name) == Some(&Kind::Prometheus);
    if let Some(name) = rest.strip_suffix(".rules.test.yml").filter(|n| prometheus(n)) {
        return (FileKind::PrometheusRuleTests, Some(name.to_owned()));
    }
    if let Some(name) = rest.strip_suffix(".rules.yml").filter(|n| prometheus(n)) {
        return (FileKind::PrometheusRules, Some(name.to_owned()));
    }
    (FileKind::Other, None)
}
