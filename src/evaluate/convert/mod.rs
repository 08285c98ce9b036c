//! Declarations → typed model. Pure: reads the builder, returns the stack or diagnostics.
//!
//! Shapes were checked when the script called each function; here values are parsed
//! (images, ports, addresses), per-kind settings are split into the typed parts obsbuild
//! reasons about, and wiring between services (`send`, `scrape`, `datasource`) is resolved.

mod collector;
mod common;
mod grafana;
mod prometheus;
mod secrets;

use std::collections::{BTreeMap, BTreeSet};

use super::builder::{Builder, Op};
use crate::diagnostic::{Diagnostic, Sources, Span};
use crate::model::{Component, HostEntry, Image, Kind, Network, ScrapeJob, Service, Stack, Subnet};

/// Collects diagnostics while converting; `sources` lets a message point at the exact text.
pub struct Cx<'a> {
    pub sources: &'a Sources,
    pub diagnostics: Vec<Diagnostic>,
    /// The targets of each Prometheus's scrape jobs (by service index), and how many of its
    /// jobs they cover: see [`Cx::scrapes`].
    scraped: BTreeMap<usize, (usize, BTreeSet<String>)>,
}

impl Cx<'_> {
    /// Whether a scrape job of the Prometheus at `index`, whose jobs so far are `jobs`,
    /// already scrapes `target`. Jobs are only ever added, so the jobs added since the last
    /// question are read into a set; asking the jobs themselves each time was quadratic in
    /// a fleet's scrape targets.
    pub fn scrapes(&mut self, index: usize, jobs: &[ScrapeJob], target: &str) -> bool {
        let (read, targets) = self.scraped.entry(index).or_default();
        for job in jobs.get(*read..).unwrap_or_default() {
            targets.extend(job.targets.iter().cloned());
        }
        *read = jobs.len();
        targets.contains(target)
    }

    pub fn error(&mut self, span: &Span, message: impl Into<String>) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic::new(message).at(span));
        let last = self.diagnostics.len() - 1;
        &mut self.diagnostics[last]
    }

    /// The span of `needle` written inside the call at `span`, else the call.
    pub fn find(&self, span: &Span, needle: &str) -> Span {
        self.sources.find_in_call(span, needle).unwrap_or_else(|| span.clone())
    }

    /// The span of `value` inside the call at `span`; when the value is not written there
    /// (a module passes `opts.memory` on), its `field`; else the call.
    pub fn find_value(&self, span: &Span, field: &str, value: &str) -> Span {
        self.sources
            .find_in_call(span, value)
            .or_else(|| self.sources.find_in_call(span, field))
            .unwrap_or_else(|| span.clone())
    }
}

/// Converts everything the script declared into a stack named after `default_name` unless
/// the script called `stack(name)`.
pub fn convert(builder: Builder, default_name: &str, sources: &Sources) -> Result<Stack, Vec<Diagnostic>> {
    let mut cx = Cx { sources, diagnostics: Vec::new(), scraped: BTreeMap::new() };
    let (name, span) = match &builder.stack {
        Some((n, s)) => (n.clone(), Some(s.clone())),
        None => (default_name.to_owned(), None),
    };
    let (engine, engine_span) = match &builder.engine {
        None => (crate::model::Engine::default(), None),
        Some((text, at)) => {
            let engine = crate::model::Engine::parse(text).unwrap_or_else(|| {
                let at = cx.find(at, text);
                let d = cx.error(&at, format!("`engine` of stack `{name}` is `{text}`"));
                *d = d.clone().suggesting(text, crate::model::Engine::ALL.map(crate::model::Engine::name)).help("one of `compose` (one Docker host) or `swarm`");
                crate::model::Engine::default()
            });
            (engine, Some(at.clone()))
        }
    };
    let network = match &builder.network {
        Some((n, spec, s)) => {
            let subnet = spec.subnet.as_deref().and_then(|text| match Subnet::parse(text) {
                Ok(sub) => Some(sub),
                Err(e) => {
                    let at = cx.find(s, text);
                    cx.error(&at, format!("invalid subnet of network `{n}`: {e}"));
                    None
                }
            });
            Network { name: n.clone(), subnet, external: spec.external.unwrap_or(false), span: Some(s.clone()) }
        }
        None => Network { name: name.clone(), subnet: None, external: false, span: None },
    };

    let mut services: Vec<Service> =
        builder.services.iter().map(|d| quietly(&mut cx, d.failed, |cx| common::service(cx, d))).collect();
    for (index, decl) in builder.services.iter().enumerate() {
        let mark = cx.diagnostics.len();
        let component = match decl.kind {
            Kind::Collector => Component::Collector(collector::collector(&mut cx, decl)),
            Kind::Prometheus => Component::Prometheus(prometheus::prometheus(&mut cx, decl)),
            Kind::Alertmanager => Component::Alertmanager(prometheus::alertmanager(&mut cx, decl)),
            Kind::Grafana => Component::Grafana(Default::default()),
            Kind::Loki => Component::Loki(common::settings(&mut cx, decl)),
            Kind::Jaeger => Component::Jaeger(common::settings(&mut cx, decl)),
            Kind::Container => Component::Container(common::container(&mut cx, decl)),
        };
        services[index].component = component;
        if decl.failed {
            cx.diagnostics.truncate(mark);
        }
    }
    // Wiring last: it reads and writes more than one service.
    for (index, decl) in builder.services.iter().enumerate() {
        for op in &decl.ops {
            wire(&mut cx, &mut services, index, op);
        }
    }
    for service in services.iter_mut() {
        if let Component::Grafana(g) = &mut service.component {
            grafana::link_datasources(g);
        }
    }

    let mut by_name = BTreeMap::new();
    for service in services {
        // Duplicates were reported when declared; keep the first.
        by_name.entry(service.name.clone()).or_insert(service);
    }
    let collector = {
        let mut collectors = by_name.values().filter(|s| s.kind() == Kind::Collector);
        match (collectors.next(), collectors.next()) {
            (Some(c), None) => Some(c.name.clone()),
            _ => None,
        }
    };
    let mut apps = BTreeMap::new();
    for decl in &builder.apps {
        if let Some(app) = common::app(&mut cx, decl, collector.as_deref()) {
            apps.insert(app.name.clone(), app);
        }
    }

    // Kept as declared; `validate` checks addresses, names and conflicts.
    let mut hosts = crate::model::Hosts::new();
    for h in builder.hosts {
        let entry = HostEntry { address: h.address, span: h.span, via: h.via };
        hosts.entry(h.name).or_default().push(entry);
    }

    if cx.diagnostics.is_empty() {
        Ok(Stack { name, span, engine, engine_span, network, services: by_name, apps, hosts })
    } else {
        Err(cx.diagnostics)
    }
}

/// Runs `f`, keeping what it reports only when the declaration did not fail: a failed one
/// has its error already, and anything more would follow from it.
fn quietly<T>(cx: &mut Cx, failed: bool, f: impl FnOnce(&mut Cx) -> T) -> T {
    let mark = cx.diagnostics.len();
    let out = f(cx);
    if failed {
        cx.diagnostics.truncate(mark);
    }
    out
}

fn wire(cx: &mut Cx, services: &mut [Service], index: usize, op: &Op) {
    match op {
        Op::Send { signal, backend, via, span } => collector::send(cx, services, index, *signal, *backend, via.as_deref(), span),
        Op::ScrapeService { service, span } => prometheus::scrape_service(cx, services, index, *service, span),
        Op::AlertsTo { alertmanager, span } => {
            let target = services[*alertmanager].name.clone();
            if let Component::Prometheus(p) = &mut services[index].component
                && !p.alertmanagers.iter().any(|(n, _)| *n == target) {
                    p.alertmanagers.push((target.clone(), span.clone()));
                }
            services[index].depends_on.insert(target);
        }
        Op::DatasourceOf { service, overrides, span } => grafana::datasource_of(services, index, *service, overrides.as_ref(), span),
        Op::Datasource { spec, span } => grafana::datasource(cx, services, index, spec, span),
        Op::Dashboard { spec, span } => grafana::dashboard(cx, services, index, spec, span),
        Op::Label { key, value, .. } => {
            services[index].labels.insert(key.clone(), value.clone());
        }
        _ => {}
    }
}

/// An image reference as the model wants it, or a diagnostic at the text that names it.
pub fn image(cx: &mut Cx, span: &Span, owner: &str, reference: &str, allow_latest: bool) -> Option<Image> {
    use crate::model::ImageProblem;
    // Found only for a diagnostic: searching the call's text costs more than the parse.
    let image = match Image::parse(reference) {
        Ok(i) => i,
        Err(ImageProblem::Malformed(why)) => {
            let at = cx.find_value(span, "image", reference);
            cx.error(&at, format!("image `{reference}` of {owner} {why}"));
            return None;
        }
        Err(_) => return None,
    };
    if allow_latest {
        return Some(image);
    }
    let problem = match image.check_pinned() {
        Ok(()) => return Some(image),
        Err(p) => p,
    };
    let tag_at = image
        .tag
        .as_deref()
        .map(|t| cx.find(span, t))
        .filter(|s| s.len > 0)
        .unwrap_or_else(|| cx.find_value(span, "image", reference));
    let (message, label) = match problem {
        ImageProblem::Latest => (format!("image `{reference}` of {owner} is `:latest`"), "not a version"),
        ImageProblem::NoTag => (format!("image `{reference}` of {owner} has no tag"), "no version"),
        ImageProblem::NotExact(tag) => (format!("image `{reference}` of {owner} has the moving tag `{tag}`"), "not an exact version"),
        ImageProblem::Malformed(_) => return None,
    };
    cx.diagnostics.push(
        Diagnostic::new(message)
            .at(&tag_at)
            .label(label)
            .help("pin an exact version (`3.7.6`) or a digest (`@sha256:...`); to run a moving tag on purpose, add `allow_latest: true`")
            .note("a moving tag starts different software from the same script on different days"),
    );
    None
}
