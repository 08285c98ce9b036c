//! Grafana: data sources by UID, dashboards by UID and their panels by title.

use serde_json::Value;

use super::tree::Seg;
use super::{Read, Reading, top_key};
use crate::build::FileKind;

pub(super) fn datasource_subject(path: &[Seg]) -> (String, usize) {
    match path {
        [Seg::Key(k), Seg::Item { value, .. }, ..] if k == "datasources" => (format!("datasource {value}"), 2),
        _ => top_key(path),
    }
}

pub(super) fn panel_subject(path: &[Seg]) -> (String, usize) {
    match path {
        [Seg::Key(k), Seg::Item { value, .. }, ..] if k == "panels" => (format!("panel {value}"), 2),
        [Seg::Key(k), Seg::Index(i), ..] if k == "panels" => (format!("panel #{}", i + 1), 2),
        _ => top_key(path),
    }
}

/// `dashboard <uid>: <subject>`; the UID, not the file name, names a dashboard in Grafana.
pub(super) fn dashboard_subject(dashboard: &Value, subject: &str) -> String {
    let uid = dashboard.get("uid").and_then(Value::as_str).unwrap_or("(no uid)");
    format!("dashboard {uid}: {subject}")
}

/// The dashboard without what only places panels: panel ids and `gridPos` and the
/// dashboard's `id` and `version` (shown only when the reader asks for layout). Panels are
/// matched by title, so their order in the list is never a change.
pub(super) fn dashboard(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("id");
        o.remove("version");
    }
    strip_panels(&mut v);
    v
}

fn strip_panels(v: &mut Value) {
    let Some(panels) = v.get_mut("panels").and_then(Value::as_array_mut) else { return };
    for p in panels {
        if let Some(o) = p.as_object_mut() {
            o.remove("id");
            o.remove("gridPos");
        }
        // Rows hold their own panels.
        strip_panels(p);
    }
}

/// Dashboards whose file changed name but whose UID stayed: (old path, new path, uid).
/// Grafana knows a dashboard by its UID, so this is the same dashboard, not a removal and
/// an addition.
pub(super) fn renamed(old: &Reading, new: &Reading) -> Vec<(String, String, String)> {
    let uid = |read: &Read| -> Option<String> {
        if read.kind != FileKind::GrafanaDashboard {
            return None;
        }
        read.tree.as_ref()?.get("uid")?.as_str().map(str::to_owned)
    };
    // Of two old files with one UID, Grafana kept one; the first stands for it.
    let mut gone: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for (path, read) in old.files.iter().filter(|(p, _)| !new.files.contains_key(*p)) {
        if let Some(u) = uid(read) {
            gone.entry(u).or_insert(path);
        }
    }
    let mut out = Vec::new();
    for (path, read) in new.files.iter().filter(|(p, _)| !old.files.contains_key(*p)) {
        let Some(u) = uid(read) else { continue };
        if let Some(before) = gone.get(&u) {
            out.push(((*before).to_owned(), (*path).to_owned(), u));
        }
    }
    out
}
