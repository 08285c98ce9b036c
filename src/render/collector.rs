//! The OpenTelemetry Collector's config, in the dialect of the pinned version.

use std::collections::BTreeMap;

use super::Doc;
use crate::build::layout::{config_file, in_container};
use crate::model::versions::collector;
use crate::model::{Collector, Entry, Service, Version};

/// Where a component id sits: only receivers and exporters were renamed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Renamed(collector::Section),
    Other,
}

/// The component id `id` as the collector at `version` names it.
fn dialect(section: Section, id: &str, version: Option<Version>) -> String {
    let Some(version) = version else { return id.to_owned() };
    let (kind, rest) = match id.split_once('/') {
        Some((k, r)) => (k, Some(r)),
        None => (id, None),
    };
    for (s, new, old, since) in collector::RENAMES {
        if Section::Renamed(s) == section && kind == new && version < since {
            return match rest {
                Some(r) => format!("{old}/{r}"),
                None => old.to_owned(),
            };
        }
    }
    id.to_owned()
}

/// `GOMEMLIMIT` as a share of the container's `memory`: "80% of the hard memory limit"
/// (the memory_limiter README's best practices), so the Go runtime collects garbage
/// harder before the kernel's limit is reached.
pub const GOMEMLIMIT_PERCENT: i64 = 80;

/// The collector's own variables: `GOMEMLIMIT` when the container has a memory limit.
pub fn environment(service: &Service) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    if let Some(m) = &service.memory {
        let mib = (m.bytes() / 100 * GOMEMLIMIT_PERCENT) >> 20;
        env.insert("GOMEMLIMIT".to_owned(), format!("{}MiB", mib.max(1)));
    }
    env
}

pub fn command(service: &Service) -> Vec<String> {
    vec![format!("--config={}", in_container(&config_file(service)))]
}

fn section(entries: &BTreeMap<String, Entry>, which: Section, version: Option<Version>) -> Doc {
    Doc::Map(
        entries
            .iter()
            .map(|(id, e)| (dialect(which, id, version), Doc::from_tree(&e.settings)))
            .collect(),
    )
}

pub fn config(service: &Service, c: &Collector) -> Doc {
    let v = service.version;
    let mut doc = Doc::map();
    if !c.extensions.is_empty() {
        doc.set("extensions", section(&c.extensions, Section::Other, v));
    }
    doc.set("receivers", section(&c.receivers, Section::Renamed(collector::Section::Receivers), v));
    if !c.processors.is_empty() {
        doc.set("processors", section(&c.processors, Section::Other, v));
    }
    doc.set("exporters", section(&c.exporters, Section::Renamed(collector::Section::Exporters), v));
    if !c.connectors.is_empty() {
        doc.set("connectors", section(&c.connectors, Section::Other, v));
    }

    let mut svc = Doc::map();
    if !c.extensions.is_empty() {
        svc.set("extensions", Doc::strs(c.extensions.keys().cloned()));
    }
    if c.telemetry.as_object().is_some_and(|t| !t.is_empty()) {
        svc.set("telemetry", Doc::from_tree(&c.telemetry));
    }
    let mut pipelines = Doc::map();
    for (id, p) in &c.pipelines {
        // A connector is an exporter of one pipeline and a receiver of another; it keeps its name.
        let rename = |list: &[String], which: Section| -> Doc {
            Doc::strs(list.iter().map(|x| {
                if c.connectors.contains_key(x) { x.clone() } else { dialect(which, x, v) }
            }))
        };
        let mut pipeline = Doc::map().with("receivers", rename(&p.receivers, Section::Renamed(collector::Section::Receivers)));
        if !p.processors.is_empty() {
            pipeline.set("processors", Doc::strs(p.processors.clone()));
        }
        pipeline.set("exporters", rename(&p.exporters, Section::Renamed(collector::Section::Exporters)));
        pipelines.set(id, pipeline);
    }
    svc.set("pipelines", pipelines);
    doc.set("service", svc);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_collectors_get_old_names() {
        let old = Some(Version::new(0, 143, 0));
        let new = Some(Version::new(0, 159, 0));
        assert_eq!(dialect(Section::Renamed(collector::Section::Exporters), "otlp_grpc/jaeger", old), "otlp/jaeger");
        assert_eq!(dialect(Section::Renamed(collector::Section::Exporters), "otlp_http", old), "otlphttp");
        assert_eq!(dialect(Section::Renamed(collector::Section::Exporters), "otlp_grpc/jaeger", new), "otlp_grpc/jaeger");
        assert_eq!(dialect(Section::Renamed(collector::Section::Receivers), "otlp", old), "otlp");
        assert_eq!(dialect(Section::Renamed(collector::Section::Receivers), "file_log/docker", Some(Version::new(0, 148, 0))), "filelog/docker");
        let v = Some(Version::new(0, 153, 0));
        assert_eq!(dialect(Section::Renamed(collector::Section::Exporters), "prometheus_remote_write/prometheus", v), "prometheusremotewrite/prometheus");
    }
}
