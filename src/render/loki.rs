//! Loki's config: the settings tree, top-level keys in the order Loki's docs use.

use super::Doc;
use crate::build::layout::{config_file, in_container};
use crate::model::{Service, Tree};

const ORDER: [&str; 14] = [
    "target",
    "auth_enabled",
    "server",
    "common",
    "schema_config",
    "storage_config",
    "ingester",
    "distributor",
    "limits_config",
    "compactor",
    "ruler",
    "runtime_config",
    "query_range",
    "analytics",
];

pub fn command(service: &Service) -> Vec<String> {
    vec![format!("-config.file={}", in_container(&config_file(service)))]
}

pub fn config(settings: &Tree) -> Doc {
    let mut doc = Doc::from_tree(settings);
    doc.order_keys(&ORDER);
    doc
}
