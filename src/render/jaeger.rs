//! Jaeger v2's config: a collector-shaped settings tree.

use super::Doc;
use crate::build::layout::{config_file, in_container};
use crate::model::versions::jaeger::max_traces;
use crate::model::{Service, Tree};

const ORDER: [&str; 6] = ["service", "extensions", "receivers", "processors", "exporters", "connectors"];

pub fn command(service: &Service) -> Vec<String> {
    vec![format!("--config={}", in_container(&config_file(service)))]
}

pub fn config(service: &Service, settings: &Tree) -> Doc {
    let mut doc = Doc::from_tree(settings);
    let traces = max_traces(service);
    let backends = doc.get_mut("extensions").and_then(|e| e.get_mut("jaeger_storage")).and_then(|s| s.get_mut("backends"));
    if let Some(Doc::Map(backends)) = backends {
        for (_, backend) in backends.iter_mut() {
            if let Some(memory) = backend.get_mut("memory").filter(|m| m.get("max_traces").is_none()) {
                memory.set("max_traces", traces);
            }
        }
    }
    doc.order_keys(&ORDER);
    doc
}
