//! OpenTelemetry Collector: components by kind, and how pipelines wire them.


use super::tree::Seg;
use super::top_key;

pub(super) fn subject(path: &[Seg]) -> (String, usize) {
    let kind = |k: &str| match k {
        "receivers" => Some("receiver"),
        "processors" => Some("processor"),
        "exporters" => Some("exporter"),
        "extensions" => Some("extension"),
        "connectors" => Some("connector"),
        _ => None,
    };
    match path {
        [Seg::Key(s), Seg::Key(p), Seg::Key(name), ..] if s == "service" && p == "pipelines" => (format!("pipeline {name}"), 3),
        [Seg::Key(s), Seg::Key(part), ..] if s == "service" => (format!("service {part}"), 2),
        [Seg::Key(k), Seg::Key(name), ..] if kind(k).is_some() => (format!("{} {name}", kind(k).unwrap_or(k)), 2),
        _ => top_key(path),
    }
}
