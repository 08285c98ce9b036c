//! Jaeger v2's config: a collector-shaped settings tree.

use super::Doc;
use super::layout::{config_file, in_container};
use crate::model::{Service, Tree};

const ORDER: [&str; 6] = ["service", "extensions", "receivers", "processors", "exporters", "connectors"];

/// Traces the memory store keeps when neither `max_traces` nor `memory` says: Jaeger's own
/// all-in-one figure.
pub const DEFAULT_MAX_TRACES: i64 = 100_000;
/// Container memory per trace kept in memory when `max_traces` is sized from `memory`: a
/// trace of ~10 spans takes ~16 KiB of Go heap, and half of the container stays free for
/// the query service, the OTLP receiver's batches and the garbage collector.
pub const BYTES_PER_TRACE: i64 = 32 << 10;

pub fn command(service: &Service) -> Vec<String> {
    vec![format!("--config={}", in_container(&config_file(service)))]
}

/// The memory store's `max_traces` for `service` when the script set none.
pub fn max_traces(service: &Service) -> i64 {
    service.memory.as_ref().map_or(DEFAULT_MAX_TRACES, |m| (m.bytes() / BYTES_PER_TRACE).max(1))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_512m_container_keeps_16384_traces() {
        assert_eq!((512i64 << 20) / BYTES_PER_TRACE, 16_384);
    }
}
