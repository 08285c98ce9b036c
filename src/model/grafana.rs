use serde::Serialize;

use super::Tree;
use crate::diagnostic::Span;

/// Grafana's provisioning: data sources and dashboards.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Grafana {
    pub datasources: Vec<Datasource>,
    pub dashboards: Vec<Dashboard>,
}

/// A provisioned data source with a fixed UID, so dashboards and links can name it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Datasource {
    pub name: String,
    pub uid: String,
    /// Plugin id: `prometheus`, `loki`, `jaeger`, `alertmanager`, `tempo`, ...
    pub r#type: String,
    pub url: String,
    pub is_default: bool,
    pub json_data: Tree,
    /// UID of the traces data source that trace ids found here open in
    /// (Loki derived fields, Prometheus exemplars).
    pub traces: Option<String>,
    /// UID of the logs data source a span opens its logs in (Jaeger/Tempo trace-to-logs).
    pub logs: Option<String>,
    /// Where it was attached to Grafana.
    pub span: Option<Span>,
}

/// A dashboard described by its panels; ids and grid positions are derived from the order,
/// so a diff shows the panels that changed and nothing else.
#[derive(Clone, Debug, Serialize)]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    pub tags: Vec<String>,
    pub refresh: Option<String>,
    /// Start of the default time range, e.g. `now-1h`.
    pub time_from: String,
    pub panels: Vec<Panel>,
    pub links: Vec<PanelLink>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PanelKind {
    Timeseries,
    Stat,
    Gauge,
    Bargauge,
    Table,
    Heatmap,
    Logs,
    Traces,
    Text,
}

impl PanelKind {
    pub const ALL: [PanelKind; 9] = [
        PanelKind::Timeseries,
        PanelKind::Stat,
        PanelKind::Gauge,
        PanelKind::Bargauge,
        PanelKind::Table,
        PanelKind::Heatmap,
        PanelKind::Logs,
        PanelKind::Traces,
        PanelKind::Text,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PanelKind::Timeseries => "timeseries",
            PanelKind::Stat => "stat",
            PanelKind::Gauge => "gauge",
            PanelKind::Bargauge => "bargauge",
            PanelKind::Table => "table",
            PanelKind::Heatmap => "heatmap",
            PanelKind::Logs => "logs",
            PanelKind::Traces => "traces",
            PanelKind::Text => "text",
        }
    }

    pub fn parse(text: &str) -> Option<PanelKind> {
        PanelKind::ALL.into_iter().find(|k| k.name() == text)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Panel {
    pub title: String,
    pub kind: PanelKind,
    /// Data source UID; `None` only for text panels.
    pub datasource: Option<String>,
    pub queries: Vec<Query>,
    pub unit: Option<String>,
    pub description: Option<String>,
    /// Width in grid columns (1..=24) and height in grid rows.
    pub width: u32,
    pub height: u32,
    pub links: Vec<PanelLink>,
    /// Text of a text panel (markdown).
    pub content: Option<String>,
    /// Panel `options`, merged over the defaults for its kind.
    pub options: Tree,
    /// Where the panel is written: its map in the user's script, or the dashboard's call when
    /// a library function wrote it (`via` is then the panel's map in the library).
    #[serde(skip)]
    pub span: Span,
    #[serde(skip)]
    pub via: Option<Span>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Query {
    /// PromQL, LogQL, or for traces panels the service to search.
    pub expr: String,
    pub legend: Option<String>,
}

/// A link shown on a panel or dashboard: to another dashboard by UID, to a query in
/// Explore on a data source by UID, or to a URL.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PanelLink {
    pub title: String,
    pub dashboard: Option<String>,
    pub explore: Option<(String, String)>,
    pub url: Option<String>,
}
