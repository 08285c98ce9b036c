//! Dashboard JSON in Grafana's classic model.
//!
//! Panel ids follow panel order and grid positions come from packing panels left to right
//! into 24 columns, so the JSON changes only where the script changed: the id and layout
//! churn that makes dashboard diffs unreadable cannot happen.

use super::Doc;
use crate::model::{Dashboard, Datasource, Panel, PanelKind, PanelLink, Query, Stack};

/// Grafana migrates older schemas on load; 39 is what current Grafana writes.
const SCHEMA_VERSION: i64 = 39;
const GRID_WIDTH: u32 = 24;

pub fn dashboard(_stack: &Stack, d: &Dashboard, sources: &[Datasource]) -> Doc {
    let mut panels = Vec::new();
    let (mut x, mut y, mut row_height) = (0u32, 0u32, 0u32);
    for (i, p) in d.panels.iter().enumerate() {
        if x + p.width > GRID_WIDTH {
            x = 0;
            y += row_height;
            row_height = 0;
        }
        let grid = Doc::map().with("h", p.height).with("w", p.width).with("x", x).with("y", y);
        panels.push(panel(i + 1, p, grid, sources));
        x += p.width;
        row_height = row_height.max(p.height);
    }
    let links = d.links.iter().map(|l| {
        Doc::map().with("title", &l.title).with("type", "link").with("url", url(l, sources)).with("keepTime", true)
    });
    Doc::map()
        .with("uid", &d.uid)
        .with("title", &d.title)
        .with("tags", Doc::strs(d.tags.clone()))
        .with("timezone", "browser")
        .with("editable", false)
        .with("schemaVersion", SCHEMA_VERSION)
        .with("version", 1i64)
        .with_opt("refresh", d.refresh.as_ref())
        .with("time", Doc::map().with("from", &d.time_from).with("to", "now"))
        .with("links", Doc::Seq(links.collect()))
        .with("panels", Doc::Seq(panels))
}

fn source<'a>(uid: &str, sources: &'a [Datasource]) -> Option<&'a Datasource> {
    sources.iter().find(|s| s.uid == uid)
}

fn panel(id: usize, p: &Panel, grid: Doc, sources: &[Datasource]) -> Doc {
    let mut doc = Doc::map()
        .with("id", id)
        .with("type", p.kind.name())
        .with("title", &p.title)
        .with_opt("description", p.description.as_ref())
        .with("gridPos", grid);
    let ds = p.datasource.as_deref().and_then(|uid| source(uid, sources));
    if let Some(ds) = ds {
        doc.set("datasource", Doc::map().with("type", &ds.r#type).with("uid", &ds.uid));
        let targets = p.queries.iter().enumerate().map(|(i, q)| {
            let t = target(i, q, ds);
            // Without it Grafana reads each `le` bucket as a series of its own, not as the
            // buckets of one histogram.
            if p.kind == PanelKind::Heatmap && ds.r#type == "prometheus" {
                let legend = q.legend.is_none().then_some("{{le}}");
                t.with("format", "heatmap").with_opt("legendFormat", legend)
            } else {
                t
            }
        });
        doc.set("targets", Doc::Seq(targets.collect()));
    }
    if !matches!(p.kind, PanelKind::Text | PanelKind::Logs) {
        let defaults = Doc::map().with_opt("unit", p.unit.as_ref());
        doc.set("fieldConfig", Doc::map().with("defaults", defaults).with("overrides", Doc::Seq(vec![])));
    }
    let mut options = default_options(p);
    options.merge_tree(&p.options);
    if !options.is_empty_map() {
        doc.set("options", options);
    }
    if !p.links.is_empty() {
        let links = p.links.iter().map(|l| Doc::map().with("title", &l.title).with("url", url(l, sources)));
        doc.set("links", Doc::Seq(links.collect()));
    }
    doc
}

fn default_options(p: &Panel) -> Doc {
    match p.kind {
        PanelKind::Logs => Doc::map()
            .with("showTime", true)
            .with("wrapLogMessage", true)
            .with("enableLogDetails", true)
            .with("sortOrder", "Descending"),
        PanelKind::Stat | PanelKind::Gauge | PanelKind::Bargauge => Doc::map().with(
            "reduceOptions",
            Doc::map().with("calcs", Doc::strs(["lastNotNull"])).with("fields", "").with("values", false),
        ),
        PanelKind::Text => Doc::map().with("mode", "markdown").with("content", p.content.clone().unwrap_or_default()),
        _ => Doc::map(),
    }
}

/// A query in the shape the data source's plugin reads.
fn target(index: usize, q: &Query, ds: &Datasource) -> Doc {
    let ref_id = ref_id(index);
    let base = Doc::map()
        .with("refId", ref_id)
        .with("datasource", Doc::map().with("type", &ds.r#type).with("uid", &ds.uid));
    match ds.r#type.as_str() {
        "prometheus" => base.with("expr", &q.expr).with_opt("legendFormat", q.legend.as_ref()).with("range", true),
        "loki" => base.with("expr", &q.expr).with("queryType", "range"),
        "jaeger" => base.with("queryType", "search").with("service", &q.expr),
        "tempo" => base.with("queryType", "traceql").with("query", &q.expr),
        _ => base.with("expr", &q.expr),
    }
}

fn ref_id(index: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut n = index;
    let mut id = Vec::new();
    loop {
        id.push(letters[n % 26] as char);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    id.iter().rev().collect()
}

/// Where a link goes: a dashboard, a query in Explore, or a URL as written.
pub fn url(l: &PanelLink, sources: &[Datasource]) -> String {
    if let Some(uid) = &l.dashboard {
        return format!("/d/{uid}");
    }
    if let Some((uid, query)) = &l.explore {
        let kind = source(uid, sources).map(|s| s.r#type.as_str()).unwrap_or("");
        let ds = Datasource { uid: uid.clone(), r#type: kind.to_owned(), ..placeholder() };
        let mut q = target(0, &Query { expr: query.clone(), legend: None }, &ds);
        q.remove("range");
        let pane = Doc::map()
            .with("datasource", uid.as_str())
            .with("queries", Doc::Seq(vec![q]))
            .with("range", Doc::map().with("from", "now-1h").with("to", "now"));
        let panes = serde_json::to_string(&Doc::map().with("a", pane)).unwrap_or_default();
        return format!("/explore?schemaVersion=1&orgId=1&panes={}", percent_encode(&panes));
    }
    l.url.clone().unwrap_or_default()
}

fn placeholder() -> Datasource {
    Datasource {
        name: String::new(),
        uid: String::new(),
        r#type: String::new(),
        url: String::new(),
        is_default: false,
        json_data: serde_json::Value::Null,
        traces: None,
        logs: None,
        span: None,
    }
}

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` as UTF-8 `%XX`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_ids_count_like_spreadsheet_columns() {
        assert_eq!(ref_id(0), "A");
        assert_eq!(ref_id(25), "Z");
        assert_eq!(ref_id(26), "AA");
    }

    #[test]
    fn percent_encoding_matches_encode_uri_component() {
        assert_eq!(percent_encode("{\"a\":1} é"), "%7B%22a%22%3A1%7D%20%C3%A9");
    }
}
