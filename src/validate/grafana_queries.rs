//! Every query a Grafana of the stack sends, found where it is written and sorted by the
//! language of the data source it goes to: panel and Explore-link queries, Loki derived
//! fields that open a query, and the trace-to-logs query of Jaeger and Tempo. Each is then
//! read by `promql.rs` or `logql.rs`.

use super::queries::Language;
use super::{Check, logql, promql};
use crate::diagnostic::Span;
use crate::model::{Component, Datasource, Grafana};

pub fn check(check: &mut Check) {
    for s in check.stack.services.values() {
        if let Component::Grafana(g) = &s.component {
            panels(check, g);
            for d in &g.datasources {
                let span = d.span.clone().unwrap_or_else(|| s.span.clone());
                linked(check, &span, g, d);
            }
        }
    }
}

fn panels(check: &mut Check, g: &Grafana) {
    let language = |uid: &str| g.datasources.iter().find(|d| d.uid == uid).and_then(|d| Language::of(&d.r#type));
    for d in &g.dashboards {
        for p in &d.panels {
            let Some(lang) = p.datasource.as_deref().and_then(language) else { continue };
            let owner = format!("the query of panel `{}` of dashboard `{}`", p.title, d.uid);
            for q in &p.queries {
                panel_query(check, &d.span, lang, &q.expr, &p.title, &owner);
            }
            for l in p.links.iter().chain(&d.links) {
                let Some((uid, query)) = &l.explore else { continue };
                let Some(lang) = language(uid) else { continue };
                let owner = format!("the Explore query of link `{}` of dashboard `{}`", l.title, d.uid);
                panel_query(check, &d.span, lang, query, &l.title, &owner);
            }
        }
    }
}

fn panel_query(check: &mut Check, span: &Span, lang: Language, query: &str, fallback: &str, owner: &str) {
    if query.trim().is_empty() {
        return;
    }
    match lang {
        Language::PromQL => promql::grafana_query(check, span, query, fallback, owner),
        Language::LogQL => logql::query(check, span, query, fallback, owner),
    }
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
            Some(Language::LogQL) => logql::query(check, span, url, url, &owner),
            Some(Language::PromQL) => promql::grafana_query(check, span, url, url, &owner),
            None => {}
        }
    }
    if matches!(d.r#type.as_str(), "jaeger" | "tempo" | "zipkin") {
        let v2 = d.json_data.get("tracesToLogsV2");
        let custom = v2.and_then(|v| v.get("customQuery")).and_then(serde_json::Value::as_bool) == Some(true);
        let text = v2.and_then(|v| v.get("query")).and_then(|q| q.as_str());
        let target = v2.and_then(|v| v.get("datasourceUid")).and_then(|u| u.as_str()).or(d.logs.as_deref());
        if let (true, Some(text), Some(Language::LogQL)) = (custom, text, language(target)) {
            logql::query(check, span, text, text, &format!("the trace-to-logs query of data source `{}`", d.name));
        }
    }
}
