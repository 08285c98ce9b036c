//! Jaeger v2's config: a collector-shaped settings tree.

use super::Doc;
use super::layout::{config_file, in_container};
use crate::model::{Service, Tree};

const ORDER: [&str; 6] = ["service", "extensions", "receivers", "processors", "exporters", "connectors"];

pub fn command(service: &Service) -> Vec<String> {
    vec![format!("--config={}", in_container(&config_file(service)))]
}

pub fn config(settings: &Tree) -> Doc {
    let mut doc = Doc::from_tree(settings);
    doc.order_keys(&ORDER);
    doc
}
