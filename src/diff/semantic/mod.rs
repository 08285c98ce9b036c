//! The semantic diff: what changed between two builds in each component's own terms
//! (scrape jobs, alert rules, pipelines, panels, services) rather than in lines.
//!
//! Pure: two builds' files in, a list of [`Change`]s out. Each file is claimed by the
//! component whose document it holds (recognised by content, so renamed services still
//! count); a component differ names the subject of each path change. A file no component
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
pub mod render;
pub mod tree;

#[cfg(test)]
mod tests;

use serde_json::Value;

use super::Files;
pub use tree::Kind;
use tree::{PathChange, Seg};

/// What the reader asked to see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Show dashboard layout (panel ids, `gridPos`, dashboard `version`); off, a moved
    /// panel is no change.
    pub layout: bool,
}

/// One change, named in the terms of the component it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// `prometheus`, `alertmanager`, `collector`, `loki`, `grafana`, `services` or `file`.
    pub component: &'static str,
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
pub fn changes(old: &Files, new: &Files, options: Options) -> Vec<Change> {
    let mut out = Vec::new();
    let renamed = grafana::renamed(old, new);
    let paths: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for path in paths {
        if path == crate::deployment::FILE || renamed.iter().any(|(a, b, _)| a == path || b == path) {
            continue;
        }
        let (a, b) = (old.get(path), new.get(path));
        if a == b {
            continue;
        }
        out.extend(file_changes(path, a.map(Vec::as_slice), b.map(Vec::as_slice), options));
    }
    for (before, after, uid) in &renamed {
        out.push(Change {
            component: "grafana",
            file: after.clone(),
            subject: format!("dashboard {uid}"),
            kind: Kind::Moved,
            field: Some("file".to_owned()),
            old: Some(before.clone()),
            new: Some(after.clone()),
            composite: false,
        });
        let (Some(a), Some(b)) = (old.get(before), new.get(after)) else { continue };
        if a != b {
            out.extend(file_changes(after, Some(a), Some(b), options));
        }
    }
    out.extend(secrets::changes(old, new));
    out
}

/// A parsed document and the component that reads it.
struct Parsed {
    component: &'static str,
    namer: Namer,
    value: Value,
    /// A Grafana dashboard: subjects are prefixed with its UID.
    dashboard: bool,
}

fn file_changes(path: &str, old: Option<&[u8]>, new: Option<&[u8]>, options: Options) -> Vec<Change> {
    let parse = |bytes: Option<&[u8]>| bytes.map(|b| parse(path, b, options));
    match (parse(old), parse(new)) {
        (Some(Some(a)), Some(Some(b))) if a.component == b.component => named(path, &a, &tree::diff(&a.value, &b.value, tree::DEFAULT_KEYS)),
        (None, Some(Some(b))) => vec![whole(path, &b, Kind::Added)],
        (Some(Some(a)), None) => vec![whole(path, &a, Kind::Removed)],
        // Unparseable, or the file now holds another component's document: say so by lines.
        _ => vec![text_change(path, old, new)],
    }
}

/// A build file as a document, by its extension: JSON, or YAML; `None` for other text or
/// content that does not parse.
fn document(path: &str, bytes: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    if path.ends_with(".json") {
        serde_json::from_str(text).ok()
    } else if path.ends_with(".yml") || path.ends_with(".yaml") {
        crate::yaml::parse(text).ok()
    } else {
        None
    }
}

fn parse(path: &str, bytes: &[u8], options: Options) -> Option<Parsed> {
    let value = document(path, bytes)?;
    let (component, namer): (&'static str, Namer) = if compose::claims(path, &value) {
        ("services", compose::subject)
    } else if prometheus::claims_rules(path, &value) {
        ("prometheus", prometheus::rule_subject)
    } else if prometheus::claims(&value) {
        ("prometheus", prometheus::subject)
    } else if alertmanager::claims(&value) {
        ("alertmanager", alertmanager::subject)
    } else if collector::claims(&value) {
        ("collector", collector::subject)
    } else if loki::claims(&value) {
        ("loki", loki::subject)
    } else if grafana::claims_datasources(&value) {
        ("grafana", grafana::datasource_subject)
    } else if grafana::claims_dashboard(path, &value) {
        return Some(Parsed {
            component: "grafana",
            namer: grafana::panel_subject,
            value: grafana::dashboard(value, options.layout),
            dashboard: true,
        });
    } else {
        ("file", whole_path)
    };
    Some(Parsed { component, namer, value, dashboard: false })
}

/// Whether `bytes` at `path` is a Grafana dashboard (whose layout is hidden unless asked).
pub(crate) fn is_dashboard(path: &str, bytes: Option<&Vec<u8>>) -> bool {
    bytes.and_then(|b| serde_json::from_slice::<Value>(b).ok()).is_some_and(|v| grafana::claims_dashboard(path, &v))
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
            if parsed.component == "file" || subject.is_empty() {
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
    Change { component: "file", file: path.to_owned(), subject: path.to_owned(), kind, field: None, old: None, new: Some(lines), composite: false }
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
