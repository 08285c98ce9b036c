use std::collections::BTreeMap;

use serde::Serialize;

use super::Tree;
use crate::diagnostic::Span;

/// A telemetry signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    pub fn name(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    pub fn parse(text: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.name() == text)
    }
}

/// A named collector component (`otlp_http/loki`) with its settings and where it was declared.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub settings: Tree,
    pub span: Span,
}

impl Entry {
    /// The component type: the part of the id before `/`.
    pub fn type_of(id: &str) -> &str {
        id.split_once('/').map(|(t, _)| t).unwrap_or(id)
    }
}

/// An OpenTelemetry Collector's configuration.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Collector {
    pub receivers: BTreeMap<String, Entry>,
    pub processors: BTreeMap<String, Entry>,
    pub exporters: BTreeMap<String, Entry>,
    pub connectors: BTreeMap<String, Entry>,
    pub extensions: BTreeMap<String, Entry>,
    pub pipelines: BTreeMap<String, Pipeline>,
    /// `service.telemetry`.
    pub telemetry: Tree,
}

/// A pipeline, named `<signal>` or `<signal>/<name>`.
#[derive(Clone, Debug, Serialize)]
pub struct Pipeline {
    pub receivers: Vec<String>,
    pub processors: Vec<String>,
    pub exporters: Vec<String>,
    pub span: Span,
}

impl Pipeline {
    /// The signal a pipeline id names, if it names one.
    pub fn signal(id: &str) -> Option<Signal> {
        Signal::parse(Entry::type_of(id))
    }
}
