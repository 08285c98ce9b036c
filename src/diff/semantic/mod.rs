//! The semantic diff: what changed between two builds in each component's own terms
//! (scrape jobs, alert rules, pipelines, panels, services) rather than in lines.
//!
//! Pure: two builds in, a list of [`Change`]s out. Each file is shown in the terms of the
//! component its renderer made it for ([`FileKind`], read from the build, never guessed from
//! the content); a component differ names the subject of each path change. A file no component
//! claims still has its changes listed, as YAML/JSON paths or, for other text, a line
//! count: nothing is dropped. Of the deployment document only the secret references are shown
//! here; [`plan`] says what a switch would do with the rest.

mod alertmanager;
mod collector;
mod compose;
mod grafana;
mod loki;
pub mod plan;
mod prometheus;
mod secrets;
pub mod impact;
pub mod reading;
pub mod render;
pub mod tree;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use serde_json::Value;

use crate::build::FileKind;
pub use reading::{Read, Reading};
pub use tree::Kind;
use tree::{PathChange, Seg};

/// What the reader asked to see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Show dashboard layout (panel ids, `gridPos`, dashboard `version`); off, a moved
    /// panel is no change.
    pub layout: bool,
}

/// Whose terms a change is shown in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Prometheus,
    Alertmanager,
    Collector,
    Loki,
    Grafana,
    /// The compose files and the deployment document's secret references.
    Services,
    /// A file no component's terms cover: its paths, or its lines.
    File,
}

impl Area {
    pub fn name(self) -> &'static str {
        match self {
            Area::Prometheus => "prometheus",
            Area::Alertmanager => "alertmanager",
            Area::Collector => "collector",
            Area::Loki => "loki",
            Area::Grafana => "grafana",
            Area::Services => "services",
            Area::File => "file",
        }
    }
}

impl std::fmt::Display for Area {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One change, named in the terms of the component it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// `prometheus`, `alertmanager`, `collector`, `loki`, `grafana`, `services` or `file`.
    pub component: Area,
    /// The build file it was found in.
    pub file: String,
    /// What changed: `scrape job loki`, `alert rule ServiceDown (group alerts)`, `service grafana`.
    pub subject: String,
    pub kind: Kind,
    /// The part of the subject that changed (`scrape_interval`, `exporters`), when not the
    /// whole subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// The values are whole maps (an added scrape job, say): in JSON, too long for a line
    /// of text, where the subject already says what was added or removed.
    #[serde(skip)]
    pub composite: bool,
}

/// Names the subject of a path change: the subject and how many path steps it covers.
type Namer = fn(&[Seg]) -> (String, usize);

/// Every change between `old` and `new`, file by file in path order.
#[must_use]
pub fn changes(old: &Reading, new: &Reading, options: Options) -> Vec<Change> {
    let mut out = Vec::new();
    let renamed = grafana::renamed(old, new);
    let paths: std::collections::BTreeSet<&str> = old.files.keys().chain(new.files.keys()).copied().collect();
    for path in paths {
        if path == crate::deployment::FILE || renamed.iter().any(|(a, b, _)| a == path || b == path) {
            continue;
        }
        let (a, b) = (old.bytes().get(path), new.bytes().get(path));
        if a == b {
            continue;
        }
        out.extend(file_changes(path, old.files.get(path).zip(a), new.files.get(path).zip(b), options));
    }
    for (before, after, uid) in &renamed {
        out.push(Change {
            component: Area::Grafana,
            file: after.clone(),
            subject: format!("dashboard {uid}"),
            kind: Kind::Moved,
            field: Some("file".to_owned()),
            old: Some(before.clone()),
            new: Some(after.clone()),
            composite: false,
        });
        let (Some(a), Some(b)) = (old.bytes().get(before), new.bytes().get(after)) else { continue };
        if a != b {
            out.extend(file_changes(after, old.files.get(before.as_str()).zip(Some(a)), new.files.get(after.as_str()).zip(Some(b)), options));
        }
    }
    out.extend(secrets::changes(old, new));
    out
}

/// A file's document and the component that reads it.
struct Parsed<'a> {
    component: Area,
    namer: Namer,
    value: Cow<'a, Value>,
    /// A Grafana dashboard: subjects are prefixed with its UID.
    dashboard: bool,
}

/// The component whose terms a kind of file is shown in, and how it names subjects.
fn reader(kind: FileKind) -> (Area, Namer) {
    match kind {
        FileKind::StackCompose | FileKind::AppsCompose => (Area::Services, compose::subject),
        FileKind::PrometheusRules => (Area::Prometheus, prometheus::rule_subject),
        // Rule tests are Prometheus' too: `rule_files`, `evaluation_interval`, `tests`.
        FileKind::PrometheusConfig | FileKind::PrometheusRuleTests => (Area::Prometheus, prometheus::subject),
        FileKind::AlertmanagerConfig => (Area::Alertmanager, alertmanager::subject),
        // Jaeger v2 is a collector, configured as one.
        FileKind::CollectorConfig | FileKind::JaegerConfig => (Area::Collector, collector::subject),
        FileKind::LokiConfig => (Area::Loki, loki::subject),
        FileKind::GrafanaDatasources => (Area::Grafana, grafana::datasource_subject),
        FileKind::GrafanaDashboard => (Area::Grafana, grafana::panel_subject),
        FileKind::GrafanaProvider
        | FileKind::GrafanaProvisioning
        | FileKind::ContainerFile
        | FileKind::Readme
        | FileKind::Deployment
        | FileKind::Other => (Area::File, whole_path),
    }
}

type Side<'a, 'b> = Option<(&'b Read<'a>, &'b Vec<u8>)>;

fn file_changes(path: &str, old: Side, new: Side, options: Options) -> Vec<Change> {
    let (a, b) = (old.map(|(read, _)| parse(read, options)), new.map(|(read, _)| parse(read, options)));
    match (a, b) {
        (Some(Some(a)), Some(Some(b))) if a.component == b.component => named(path, &a, &tree::diff(&a.value, &b.value, tree::DEFAULT_KEYS)),
        (None, Some(Some(b))) => vec![whole(path, &b, Kind::Added)],
        (Some(Some(a)), None) => vec![whole(path, &a, Kind::Removed)],
        // Unparseable, or the file now holds another component's document: say so by lines.
        _ => vec![text_change(path, old.map(|(_, b)| b.as_slice()), new.map(|(_, b)| b.as_slice()))],
    }
}

fn parse<'a>(read: &Read<'a>, options: Options) -> Option<Parsed<'a>> {
    let value = read.tree.clone()?;
    let (component, namer) = reader(read.kind);
    let dashboard = read.kind == FileKind::GrafanaDashboard;
    let value = if dashboard && !options.layout { Cow::Owned(grafana::dashboard(value.into_owned())) } else { value };
    Some(Parsed { component, namer, value, dashboard })
}

/// The fallback namer: the file is the subject, the path is the field.
fn whole_path(_: &[Seg]) -> (String, usize) {
    (String::new(), 0)
}

fn named(path: &str, parsed: &Parsed, diffs: &[PathChange]) -> Vec<Change> {
    diffs
        .iter()
        .map(|d| {
            let (mut subject, used) = (parsed.namer)(&d.path);
            if parsed.component == Area::File || subject.is_empty() {
                subject = path.to_owned();
            }
            if parsed.dashboard {
                subject = grafana::dashboard_subject(&parsed.value, &subject);
            }
            let rest = &d.path[used.min(d.path.len())..];
            let field = (!rest.is_empty()).then(|| tree::path_text(rest).trim_start_matches('.').to_owned());
            let kind = match &field {
                Some(f) if f.starts_with("gridPos") && d.kind == Kind::Changed => Kind::Moved,
                _ => d.kind,
            };
            Change {
                component: parsed.component,
                file: path.to_owned(),
                subject,
                kind,
                field,
                old: d.old.as_ref().map(show),
                new: d.new.as_ref().map(show),
                composite: d.old.iter().chain(d.new.iter()).any(Value::is_object),
            }
        })
        .collect()
}

fn whole(path: &str, parsed: &Parsed, kind: Kind) -> Change {
    // Grafana knows a dashboard by its UID, not its file.
    let subject = if parsed.dashboard { grafana::dashboard_subject(&parsed.value, "").trim_end_matches(": ").to_owned() } else { path.to_owned() };
    Change { component: parsed.component, file: path.to_owned(), subject, kind, field: None, old: None, new: None, composite: false }
}

fn text_change(path: &str, old: Option<&[u8]>, new: Option<&[u8]>) -> Change {
    let kind = match (old, new) {
        (None, _) => Kind::Added,
        (_, None) => Kind::Removed,
        _ => Kind::Changed,
    };
    let d = super::diff(
        &old.map(|b| [(path.to_owned(), b.to_vec())].into()).unwrap_or_default(),
        &new.map(|b| [(path.to_owned(), b.to_vec())].into()).unwrap_or_default(),
    );
    let lines = match d.files.first() {
        Some(f) if f.is_binary() => "binary".to_owned(),
        Some(f) => format!("+{} −{} lines", f.insertions, f.deletions),
        None => String::new(),
    };
    Change { component: Area::File, file: path.to_owned(), subject: path.to_owned(), kind, field: None, old: None, new: Some(lines), composite: false }
}

/// A value on one line: strings bare, lists of scalars as `[a, b]`, the rest compact JSON.
fn show(v: &Value) -> String {
    match v {
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            format!("[{}]", items.iter().map(tree::scalar).collect::<Vec<_>>().join(", "))
        }
        other => tree::scalar(other),
    }
}

/// The value of a `Key`/`Item` step, for namers.
fn seg_name(seg: Option<&Seg>) -> Option<&str> {
    match seg? {
        Seg::Key(k) => Some(k),
        Seg::Item { value, .. } => Some(value),
        Seg::Index(_) => None,
    }
}

/// The default subject: the top-level key.
fn top_key(path: &[Seg]) -> (String, usize) {
    match seg_name(path.first()) {
        Some(k) => (k.to_owned(), 1),
        None => (String::new(), 0),
    }
}
