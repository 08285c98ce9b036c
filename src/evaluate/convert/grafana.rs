//! Grafana data sources (with trace ↔ logs links) and dashboards.

use super::{Cx, common};
use crate::diagnostic::Span;
use crate::evaluate::spec::{DashboardSpec, DatasourceSpec, LinkSpec, QuerySpec};
use crate::model::{Component, Dashboard, Datasource, Grafana, Panel, PanelKind, PanelLink, Query, Service};

/// Types Grafana opens trace ids in, and types that hold logs.
const TRACE_TYPES: [&str; 3] = ["jaeger", "tempo", "zipkin"];
const LOG_TYPES: [&str; 1] = ["loki"];

fn grafana(services: &mut [Service], index: usize) -> Option<&mut Grafana> {
    match &mut services[index].component {
        Component::Grafana(g) => Some(g),
        _ => None,
    }
}

/// A service's own data source, with the script's overrides (`name`, `uid`, links, ...).
pub fn datasource_of(services: &mut [Service], index: usize, source: usize, over: Option<&DatasourceSpec>, span: &Span) {
    let Some(mut ds) = services[source].datasource.clone() else { return };
    ds.span = Some(span.clone());
    if let Some(o) = over {
        if let Some(v) = &o.name { ds.name = v.clone(); }
        if let Some(v) = &o.uid { ds.uid = v.clone(); }
        if let Some(v) = &o.r#type { ds.r#type = v.clone(); }
        if let Some(v) = &o.url { ds.url = v.clone(); }
        if let Some(v) = o.is_default { ds.is_default = v; }
        if let Some(v) = &o.json_data { crate::model::merge(&mut ds.json_data, v); }
        if o.traces.is_some() { ds.traces = o.traces.clone(); }
        if o.logs.is_some() { ds.logs = o.logs.clone(); }
    }
    let name = services[source].name.clone();
    services[index].depends_on.insert(name);
    add(services, index, ds);
}

pub fn datasource(cx: &mut Cx, services: &mut [Service], index: usize, spec: &DatasourceSpec, span: &Span) {
    let Some(name) = spec.name.clone().or_else(|| spec.uid.clone()) else {
        cx.error(span, "a data source needs a `name` or a `uid`");
        return;
    };
    let slug: String = name.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let spec = DatasourceSpec { uid: spec.uid.clone().or(Some(slug)), name: Some(name), ..spec.clone() };
    if let Some(mut ds) = common::datasource(cx, span, "grafana", &spec) {
        ds.span = Some(span.clone());
        add(services, index, ds);
    }
}

fn add(services: &mut [Service], index: usize, ds: Datasource) {
    if let Some(g) = grafana(services, index) {
        match g.datasources.iter_mut().find(|d| d.uid == ds.uid) {
            Some(existing) => *existing = ds,
            None => g.datasources.push(ds),
        }
    }
}

/// Links logs and traces both ways when a Grafana has exactly one of each; a link the
/// user set (even to `""`, meaning none) is left alone. Prometheus exemplars are not
/// linked: the pinned Prometheus stores none unless started with
/// `--enable-feature=exemplar-storage`, and the collector's `prometheus` exporter sends
/// none without `enable_open_metrics`, so the link would promise what never shows.
pub fn link_datasources(g: &mut Grafana) {
    if !g.datasources.iter().any(|d| d.is_default)
        && let Some(first) = g.datasources.iter_mut().find(|d| d.r#type == "prometheus") {
            first.is_default = true;
        }
    let uids = |types: &[&str]| -> Vec<String> {
        g.datasources.iter().filter(|d| types.contains(&d.r#type.as_str())).map(|d| d.uid.clone()).collect()
    };
    let traces = uids(&TRACE_TYPES);
    let logs = uids(&LOG_TYPES);
    let (Some(trace_uid), Some(log_uid)) = (single(&traces), single(&logs)) else {
        return;
    };
    for d in &mut g.datasources {
        match d.r#type.as_str() {
            t if LOG_TYPES.contains(&t) && d.traces.is_none() => d.traces = Some(trace_uid.clone()),
            t if TRACE_TYPES.contains(&t) && d.logs.is_none() => d.logs = Some(log_uid.clone()),
            _ => {}
        }
    }
}

fn single(v: &[String]) -> Option<String> {
    if v.len() == 1 { v.first().cloned() } else { None }
}

pub fn dashboard(cx: &mut Cx, services: &mut [Service], index: usize, spec: &DashboardSpec, span: &Span) {
    let mut panels = Vec::new();
    for p in &spec.panels {
        let (at_panel, via) = panel_place(cx, span, &p.title);
        let owner = format!("panel `{}` of dashboard `{}`", p.title, spec.uid);
        let kind = match p.r#type.as_deref() {
            None => PanelKind::Timeseries,
            Some(t) => match PanelKind::parse(t) {
                Some(k) => k,
                None => {
                    let at = cx.find(&at_panel, t);
                    let d = cx.error(&at, format!("{owner} has unknown type `{t}`"));
                    *d = d.clone().suggesting(t, PanelKind::ALL.map(PanelKind::name)).written_in_library(&via);
                    continue;
                }
            },
        };
        let mut queries: Vec<Query> = p.query.iter().chain(&p.queries).map(query).collect();
        if kind == PanelKind::Text {
            queries.clear();
        }
        let full = matches!(kind, PanelKind::Logs | PanelKind::Traces | PanelKind::Text);
        let width = p.width.unwrap_or(if full { 24 } else { 12 });
        if !(1..=24).contains(&width) {
            let at = cx.find(&at_panel, "width");
            let d = cx.error(&at, format!("{owner} is {width} columns wide; the grid has 24"));
            *d = d.clone().written_in_library(&via);
        }
        panels.push(Panel {
            title: p.title.clone(),
            kind,
            datasource: p.datasource.clone(),
            queries,
            unit: p.unit.clone(),
            description: p.description.clone(),
            width: width.clamp(1, 24),
            height: p.height.unwrap_or(if full { 10 } else { 8 }),
            links: p.links.iter().map(link).collect(),
            content: p.content.clone(),
            options: p.options.clone().unwrap_or_else(common::empty),
            span: at_panel,
            via,
        });
    }
    let dashboard = Dashboard {
        uid: spec.uid.clone(),
        title: spec.title.clone(),
        tags: spec.tags.clone(),
        refresh: spec.refresh.clone(),
        time_from: spec.time.clone().unwrap_or_else(|| "now-1h".to_owned()),
        panels,
        links: spec.links.iter().map(link).collect(),
        span: span.clone(),
    };
    if let Some(g) = grafana(services, index) {
        g.dashboards.push(dashboard);
    }
}

/// Where the panel titled `title` is written (see `model::Panel::span`).
fn panel_place(cx: &Cx, dashboard: &Span, title: &str) -> (Span, Option<Span>) {
    use crate::diagnostic::Found;
    match cx.sources.find_map_of(dashboard, title, crate::evaluate::position::is_library) {
        Some(Found::User(at)) => (at, None),
        Some(Found::Library(at)) => (dashboard.clone(), Some(at)),
        None => (dashboard.clone(), None),
    }
}

fn query(q: &QuerySpec) -> Query {
    match q {
        QuerySpec::Expr(e) => Query { expr: e.clone(), legend: None },
        QuerySpec::Full(f) => Query { expr: f.expr.clone(), legend: f.legend.clone() },
    }
}

fn link(l: &LinkSpec) -> PanelLink {
    PanelLink {
        title: l.title.clone(),
        dashboard: l.dashboard.clone(),
        explore: l.explore.clone().map(|uid| (uid, l.query.clone().unwrap_or_default())),
        url: l.url.clone(),
    }
}
