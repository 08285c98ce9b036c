//! LogQL, read wherever a stack writes it: queries of panels and Explore links on Loki
//! data sources (called from the PromQL checks, which sort queries by data source), and
//! the queries data sources link to: Loki derived fields that open a query, and the
//! trace-to-logs query of Jaeger and Tempo.

use super::Check;
use super::queries::{Language, error_at};
use crate::diagnostic::Span;
use crate::model::{Component, Datasource, Grafana};

pub fn check(check: &mut Check) {
    for s in check.stack.services.values() {
        if let Component::Grafana(g) = &s.component {
            for d in &g.datasources {
                let span = d.span.clone().unwrap_or_else(|| s.span.clone());
                linked(check, &span, g, d);
            }
        }
    }
}

/// Reports `text` where it is no LogQL.
pub fn query(check: &mut Check, span: &Span, text: &str, fallback: &str, owner: &str) {
    if let Err(e) = crate::logql::parse(text) {
        let (line, col) = position(text, e.offset);
        let at = if text.contains('\n') { format!("line {line}, column {col}") } else { format!("column {col}") };
        let rest = text.get(e.offset..).unwrap_or("");
        let word = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').count();
        let len = if word > 0 { word } else { usize::from(!rest.is_empty()) };
        error_at(check, span, text, e.offset, len, fallback, format!("{owner} is not valid LogQL: {} (at {at})", e.message));
    }
}

fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    (before.matches('\n').count() + 1, before.rsplit('\n').next().unwrap_or("").chars().count() + 1)
}

fn linked(check: &mut Check, span: &Span, g: &Grafana, d: &Datasource) {
    let language = |uid: Option<&str>| uid.and_then(|u| g.datasources.iter().find(|x| x.uid == u)).and_then(|x| Language::of(&x.r#type));
    let fields = d.json_data.get("derivedFields").and_then(|f| f.as_array()).into_iter().flatten();
    for (i, f) in fields.enumerate() {
        let Some(url) = f.get("url").and_then(|u| u.as_str()) else { continue };
        let target = f.get("datasourceUid").and_then(|u| u.as_str());
        let name = f.get("name").and_then(|n| n.as_str()).map_or_else(|| format!("#{}", i + 1), |n| format!("`{n}`"));
        let owner = format!("the query of derived field {name} of data source `{}`", d.name);
        match language(target) {
            Some(Language::LogQL) => query(check, span, url, url, &owner),
            Some(Language::PromQL) => super::promql::grafana_query(check, span, url, url, &owner),
            None => {}
        }
    }
    if matches!(d.r#type.as_str(), "jaeger" | "tempo" | "zipkin") {
        let v2 = d.json_data.get("tracesToLogsV2");
        let custom = v2.and_then(|v| v.get("customQuery")).and_then(serde_json::Value::as_bool) == Some(true);
        let text = v2.and_then(|v| v.get("query")).and_then(|q| q.as_str());
        let target = v2.and_then(|v| v.get("datasourceUid")).and_then(|u| u.as_str()).or(d.logs.as_deref());
        if let (true, Some(text), Some(Language::LogQL)) = (custom, text, language(target)) {
            query(check, span, text, text, &format!("the trace-to-logs query of data source `{}`", d.name));
        }
    }
}
