//! Grafana: data sources by UID, dashboards by UID and their panels by title.

use serde_json::Value;

use super::tree::Seg;
use super::top_key;

pub(super) fn claims_datasources(v: &Value) -> bool {
    v.get("datasources").is_some_and(Value::is_array)
}

pub(super) fn claims_dashboard(path: &str, v: &Value) -> bool {
    path.ends_with(".json") && v.get("panels").is_some_and(Value::is_array)
}

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
/// dashboard's `id` and `version`, unless `layout`. Panels are matched by title, so their
/// order in the list is never a change.
pub(super) fn dashboard(mut v: Value, layout: bool) -> Value {
    if layout {
        return v;
    }
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
pub(super) fn renamed(old: &crate::diff::Files, new: &crate::diff::Files) -> Vec<(String, String, String)> {
    let uid = |path: &str, bytes: &[u8]| {
        let v: Value = serde_json::from_slice(bytes).ok()?;
        if !claims_dashboard(path, &v) {
            return None;
        }
        v.get("uid")?.as_str().map(str::to_owned)
    };
    let gone: Vec<(String, &String)> =
        old.iter().filter(|(p, _)| !new.contains_key(*p)).filter_map(|(p, b)| Some((uid(p, b)?, p))).collect();
    let mut out = Vec::new();
    for (path, bytes) in new.iter().filter(|(p, _)| !old.contains_key(*p)) {
        let Some(u) = uid(path, bytes) else { continue };
        if let Some((_, before)) = gone.iter().find(|(g, _)| *g == u) {
            out.push(((*before).clone(), path.clone(), u));
        }
    }
    out
}
