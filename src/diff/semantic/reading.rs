//! One build as the review reads it: each file's kind, service and document, and its
//! deployment document, each read once.
//!
//! A build rendered in this process lends the documents its renderer recorded; nothing is
//! parsed back. A build with bytes only (loaded from the store, or made by hand in a test)
//! is typed from its paths and its deployment document's services, and each YAML or JSON
//! file is parsed: the same meaning a rendered build records, as `tests.rs` holds for both
//! seed stacks.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use crate::build::{Build, FileKind, format_of, typed};
use crate::deployment::Deployment;
use crate::diff::Files;
use crate::model::FileFormat;

/// One file as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Read<'a> {
    pub kind: FileKind,
    pub service: Option<Cow<'a, str>>,
    /// Its document; `None` for text, and for YAML or JSON that does not parse.
    pub tree: Option<Cow<'a, Value>>,
}

/// A build's files, read.
#[derive(Debug)]
pub struct Reading<'a> {
    pub build: &'a Build,
    pub files: BTreeMap<&'a str, Read<'a>>,
    /// Its deployment document, or why it cannot be read.
    pub deployment: Result<Cow<'a, Deployment>, String>,
}

impl<'a> Reading<'a> {
    #[must_use]
    pub fn of(build: &'a Build) -> Reading<'a> {
        let deployment = match &build.deployment {
            Some(d) => Ok(Cow::Borrowed(d)),
            None => Deployment::from_files(&build.stack, &build.files).map(Cow::Owned).map_err(|e| e.to_string()),
        };
        let files = if build.is_rendered() {
            build
                .files
                .iter()
                .map(|(path, bytes)| {
                    let read = match build.documents.get(path) {
                        Some(d) => Read {
                            kind: d.kind,
                            service: d.service.as_deref().map(Cow::Borrowed),
                            tree: match &d.tree {
                                Some(t) => Some(Cow::Borrowed(t)),
                                None => parse(path, d.kind, bytes).map(Cow::Owned),
                            },
                        },
                        None => Read { kind: FileKind::Other, service: None, tree: parse(path, FileKind::Other, bytes).map(Cow::Owned) },
                    };
                    (path.as_str(), read)
                })
                .collect()
        } else {
            let services: BTreeMap<String, crate::model::Kind> =
                deployment.iter().flat_map(|d| d.services.iter()).map(|u| (u.service.clone(), u.kind)).collect();
            build
                .files
                .iter()
                .map(|(path, bytes)| {
                    let (kind, service) = typed(path, &services);
                    (path.as_str(), Read { kind, service: service.map(Cow::Owned), tree: parse(path, kind, bytes).map(Cow::Owned) })
                })
                .collect()
        };
        Reading { build, files, deployment }
    }

    /// The stack's files by path (the bytes).
    pub fn bytes(&self) -> &'a Files {
        &self.build.files
    }
}

/// A file's document, by its extension; `None` for text, content that does not parse, and
/// the deployment document (read as a [`Deployment`], never as a tree).
fn parse(path: &str, kind: FileKind, bytes: &[u8]) -> Option<Value> {
    if kind == FileKind::Deployment {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    match format_of(path)? {
        FileFormat::Json => serde_json::from_str(text).ok(),
        FileFormat::Yaml => crate::yaml::parse(text).ok(),
        FileFormat::Text => None,
    }
}

/// A hand-written build for tests, its files typed as a renderer would have recorded them:
/// `configs/<service>...` belongs to the service, whose kind its name says
/// (`prometheus-2` is a Prometheus, `otel-collector` a collector, `app` a plain container).
#[cfg(test)]
pub(crate) fn test_build(files: &[(&str, &str)]) -> Build {
    use crate::build::Document;
    use crate::build::layout::CONFIG_DIR;
    use crate::model::Kind;
    let kind = |name: &str| {
        [("prometheus", Kind::Prometheus), ("alertmanager", Kind::Alertmanager), ("collector", Kind::Collector), ("loki", Kind::Loki), ("grafana", Kind::Grafana), ("jaeger", Kind::Jaeger)]
            .iter()
            .find(|(k, _)| name.contains(k))
            .map_or(Kind::Container, |(_, kind)| *kind)
    };
    let services: BTreeMap<String, Kind> = files
        .iter()
        .filter_map(|(p, _)| p.strip_prefix(CONFIG_DIR)?.strip_prefix('/')?.split(['.', '/']).next())
        .map(|name| (name.to_owned(), kind(name)))
        .collect();
    let mut build = Build::new("test", files.iter().map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec())).collect());
    build.documents = files
        .iter()
        .map(|(p, _)| {
            let (kind, service) = typed(p, &services);
            ((*p).to_owned(), Document { kind, service, tree: None })
        })
        .collect();
    build
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::Document;

    fn seed(name: &str) -> Build {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks").join(format!("{name}.rhai"));
        crate::pipeline::build(&script, &crate::evaluate::Limits::default()).map(|b| b.build).unwrap_or_else(|f| panic!("{name}: {f:?}"))
    }

    /// The review reads a build just rendered from what its renderer recorded, and one
    /// loaded from the store from its bytes: both must mean the same, file by file.
    #[test]
    fn a_rendered_build_and_its_bytes_read_the_same_for_both_seed_stacks() {
        for name in ["task-manager", "scaibu"] {
            let rendered = seed(name);
            assert!(rendered.is_rendered());
            assert_eq!(rendered.documents.keys().collect::<Vec<_>>(), rendered.files.keys().collect::<Vec<_>>(), "{name}: a file without its document");
            // Every YAML and JSON file the renderer wrote has its tree: nothing is parsed back.
            for (path, d) in &rendered.documents {
                let kept = d.tree.is_some() || matches!(d.kind, FileKind::Readme | FileKind::Deployment | FileKind::ContainerFile);
                assert!(kept, "{name}: {path} ({:?}) has no tree", d.kind);
                assert_ne!(d.kind, FileKind::Other, "{name}: {path}");
            }
            let stored = Build::new(rendered.stack.clone(), rendered.files.clone());
            let (a, b) = (Reading::of(&rendered), Reading::of(&stored));
            for (path, read) in &a.files {
                assert_eq!(Some(read), b.files.get(path), "{name}: {path}");
            }
            assert_eq!(a.files.len(), b.files.len());
            assert_eq!(a.deployment, b.deployment, "{name}");
            assert!(a.deployment.is_ok());
        }
    }

    #[test]
    fn paths_are_typed_as_the_renderer_names_them() {
        use crate::model::Kind;
        let services: BTreeMap<String, Kind> = [
            ("prom", Kind::Prometheus),
            ("prom.rules", Kind::Prometheus),
            ("am", Kind::Alertmanager),
            ("graf", Kind::Grafana),
            ("app", Kind::Container),
            ("jaeger", Kind::Jaeger),
        ]
        .into_iter()
        .map(|(n, k)| (n.to_owned(), k))
        .collect();
        let t = |p: &str| typed(p, &services);
        let of = |k: FileKind, s: &str| (k, Some(s.to_owned()));
        assert_eq!(t("configs/prom.yml"), of(FileKind::PrometheusConfig, "prom"));
        // The config of a service named `prom.rules`, not the rules of `prom`.
        assert_eq!(t("configs/prom.rules.yml"), of(FileKind::PrometheusConfig, "prom.rules"));
        assert_eq!(t("configs/prom.rules.test.yml"), of(FileKind::PrometheusRuleTests, "prom"));
        assert_eq!(t("configs/am.yml"), of(FileKind::AlertmanagerConfig, "am"));
        // Alertmanager's config is `.yml`: `.yaml` is no file of the renderer's.
        assert_eq!(t("configs/am.yaml"), (FileKind::Other, None));
        assert_eq!(t("configs/jaeger.yaml"), of(FileKind::JaegerConfig, "jaeger"));
        assert_eq!(t("configs/graf/provisioning/dashboards/json/d.json"), of(FileKind::GrafanaDashboard, "graf"));
        assert_eq!(t("configs/graf/provisioning/dashboards/json/x/d.json"), (FileKind::Other, None));
        assert_eq!(t("configs/graf/provisioning/datasources/datasources.yml"), of(FileKind::GrafanaDatasources, "graf"));
        assert_eq!(t("configs/app/anything/at/all.yml"), of(FileKind::ContainerFile, "app"));
        assert_eq!(t("configs/nobody.yml"), (FileKind::Other, None));
        assert_eq!(t("docker-compose.yml"), (FileKind::StackCompose, None));
        assert_eq!(t(crate::deployment::V1_FILE), (FileKind::Deployment, None));
        assert_eq!(t("elsewhere/prom.yml"), (FileKind::Other, None));
    }

    #[test]
    fn a_file_that_does_not_parse_has_no_tree_and_the_deployment_is_never_a_tree() {
        let mut build = test_build(&[("configs/prometheus.yml", "scrape_configs: [unclosed\n"), ("configs/prometheus.json", "{")]);
        build.documents.insert(crate::deployment::FILE.to_owned(), Document::new(FileKind::Deployment, None, None));
        build.files.insert(crate::deployment::FILE.to_owned(), b"{}".to_vec());
        let r = Reading::of(&build);
        assert!(r.files.values().all(|f| f.tree.is_none()), "{r:?}");
        assert!(r.deployment.is_err());
    }
}
