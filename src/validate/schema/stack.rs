//! Which schema each settings tree of a stack is checked against, and where its errors go.

use super::NotChecked;
use super::format::{Node, SchemaFile};
use super::registry::{Lookup, Registry};
use super::walk::{Finding, Problem, Walk};
use crate::diagnostic::Span;
use crate::model::{Alertmanager, Collector, Component, Container, Entry, Prometheus, Service, Stack, Tree, Version};

/// One finding, with the call it is reported at and the words that name its place.
pub struct Report {
    pub span: Span,
    /// "`loki`", "processor `batch` of `otel-collector`".
    pub owner: String,
    /// "Loki 3.7.6", "the `batch` processor of collector 0.159.0".
    pub product: String,
    pub docs: String,
    pub finding: Finding,
}

#[derive(Default)]
pub struct Walked {
    pub reports: Vec<Report>,
    pub not_checked: Vec<NotChecked>,
}

/// Every settings tree of `stack` against its schema.
pub fn walk_stack(stack: &Stack) -> Walked {
    let mut w = Walked::default();
    for s in stack.services.values() {
        match &s.component {
            Component::Loki(settings) => root(&mut w, s, &s.span, "loki", "Loki", settings, "settings"),
            Component::Prometheus(p) => prometheus(&mut w, s, p),
            Component::Alertmanager(a) => alertmanager(&mut w, s, a),
            Component::Collector(c) => collector(&mut w, s, c),
            Component::Jaeger(settings) => jaeger(&mut w, s, settings),
            Component::Container(c) => traefik(&mut w, s, c),
            Component::Grafana(_) => {}
        }
    }
    w
}

/// The schema of `component` for the service's version, or why there is none (recorded
/// as not checked under `what`).
fn schema<'a>(w: &mut Walked, s: &Service, component: &str, what: &str, version: Option<Version>) -> Option<(&'static str, &'a SchemaFile)> {
    let reason = match Registry::get().lookup(component, version) {
        Lookup::Found { id, file } => return Some((id, file)),
        Lookup::None => format!("no schema of `{component}`"),
        Lookup::OtherVersions(ranges) => {
            let v = version.map(|v| v.to_string()).unwrap_or_default();
            format!("no schema of `{component}` for {v}; schemas cover {}", ranges.join(", "))
        }
        Lookup::Broken(e) => format!("the schema does not load: {e}"),
    };
    w.not_checked.push(NotChecked { service: s.name.clone(), what: what.to_owned(), reason });
    None
}

fn version_text(s: &Service, file: &SchemaFile) -> String {
    s.version.unwrap_or(file.versions.from).to_string()
}

/// Walks `tree` against `node` of schema file `id`, recording what it finds at `span`.
#[allow(clippy::too_many_arguments)]
fn walk(w: &mut Walked, s: &Service, span: &Span, id: &str, file: &SchemaFile, node: &Node, tree: &Tree, owner: String, product: String, what: &str) {
    let mut walk = Walk::new(Registry::get(), id);
    walk.value(node, tree, "", "");
    for finding in walk.found {
        if let Problem::Unchecked { note } = &finding.problem {
            let place = if finding.path.is_empty() { what.to_owned() } else { format!("{what} at `{}`", finding.path) };
            let reason = if note.is_empty() { "the schema leaves it unchecked".to_owned() } else { note.clone() };
            w.not_checked.push(NotChecked { service: s.name.clone(), what: place, reason });
            continue;
        }
        w.reports.push(Report { span: span.clone(), owner: owner.clone(), product: product.clone(), docs: file.docs.clone(), finding });
    }
}

fn root(w: &mut Walked, s: &Service, span: &Span, component: &str, product: &str, tree: &Tree, what: &str) {
    let Some((id, file)) = schema(w, s, component, what, s.version) else { return };
    let Some(node) = &file.root else { return };
    let product = format!("{product} {}", version_text(s, file));
    walk(w, s, span, id, file, node, tree, format!("`{}`", s.name), product, what);
}

/// A definition of the service's schema (`scrape_config`, `receiver`, `route`).
fn part(w: &mut Walked, s: &Service, span: &Span, (component, product): (&str, &str), def: &str, tree: &Tree, owner: String) {
    let what = format!("{def} settings");
    let Some((id, file)) = schema(w, s, component, &what, s.version) else { return };
    let Some(node) = file.defs.get(def) else {
        w.not_checked.push(NotChecked { service: s.name.clone(), what, reason: format!("the schema `{id}` has no `{def}`") });
        return;
    };
    let product = format!("{product} {}", version_text(s, file));
    walk(w, s, span, id, file, node, tree, owner, product, &format!("{def} settings"));
}

/// `tree` with `key` set to `value`: the fields obsbuild models apart, put back so that the
/// schema's required keys hold.
fn with(tree: &Tree, key: &str, value: &str) -> Tree {
    let mut t = if tree.is_object() { tree.clone() } else { Tree::Object(Default::default()) };
    if let Tree::Object(m) = &mut t {
        m.insert(key.to_owned(), Tree::String(value.to_owned()));
    }
    t
}

fn prometheus(w: &mut Walked, s: &Service, p: &Prometheus) {
    root(w, s, &s.span, "prometheus", "Prometheus", &p.settings, "settings");
    for job in &p.scrape_jobs {
        let owner = format!("scrape job `{}` of `{}`", job.name, s.name);
        part(w, s, &job.span, ("prometheus", "Prometheus"), "scrape_config", &with(&job.settings, "job_name", &job.name), owner);
    }
}

fn alertmanager(w: &mut Walked, s: &Service, a: &Alertmanager) {
    root(w, s, &s.span, "alertmanager", "Alertmanager", &a.settings, "settings");
    for (name, r) in &a.receivers {
        let owner = format!("receiver `{name}` of `{}`", s.name);
        part(w, s, &r.span, ("alertmanager", "Alertmanager"), "receiver", &with(&r.settings, "name", name), owner);
    }
    for route in &a.routes {
        let owner = format!("the route to `{}` of `{}`", route.receiver, s.name);
        part(w, s, &route.span, ("alertmanager", "Alertmanager"), "route", &with(&route.settings, "receiver", &route.receiver), owner);
    }
}

/// The newest collector the schemas know, for a collector whose version is not pinned and
/// for the collector inside Jaeger (its components are the collector's).
use crate::model::versions::collector::NEWEST as NEWEST_COLLECTOR;
use crate::model::versions::collector::{Section, current_name};

fn collector(w: &mut Walked, s: &Service, c: &Collector) {
    let version = s.version.unwrap_or(NEWEST_COLLECTOR);
    for section in Section::ALL {
        let entries = match section {
            Section::Receivers => &c.receivers,
            Section::Processors => &c.processors,
            Section::Exporters => &c.exporters,
            Section::Connectors => &c.connectors,
            Section::Extensions => &c.extensions,
        };
        for (id, e) in entries {
            component(w, s, &[], section, id, e, version, "collector");
        }
    }
    if c.telemetry.as_object().is_some_and(|t| !t.is_empty()) {
        let what = "service.telemetry";
        if let Some((id, file)) = schema(w, s, "otel-collector/service", what, Some(version))
            && let Some(node) = file.defs.get("telemetry")
        {
            let product = format!("collector {version}");
            walk(w, s, &s.span, id, file, node, &c.telemetry, format!("`service.telemetry` of `{}`", s.name), product, what);
        }
    }
}

/// Where schemas of collector components live: the collector's own folder, and before it,
/// for Jaeger, Jaeger's (its extensions and storage exporter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Jaeger,
    Collector,
}

impl Family {
    fn folder(self) -> &'static str {
        match self {
            Family::Jaeger => "jaeger",
            Family::Collector => "otel-collector",
        }
    }
}

/// One component `id` of `section`, by its type: the schema folder `<family>/<one>/<type>`
/// (`one` the section's singular, `processor`) of the first family that has it, under its
/// current name.
#[allow(clippy::too_many_arguments)]
fn component(w: &mut Walked, s: &Service, families: &[Family], section: Section, id: &str, e: &Entry, version: Version, host: &str) {
    let kind = current_name(section, Entry::type_of(id));
    let one = section.singular();
    let what = format!("{one} `{id}`");
    let mut found = None;
    for family in families.iter().chain(&[Family::Collector]) {
        let name = format!("{}/{one}/{kind}", family.folder());
        let v = if *family == Family::Collector { version } else { s.version.unwrap_or(version) };
        if let Lookup::Found { id, file } = Registry::get().lookup(&name, Some(v)) {
            found = Some((id, file));
            break;
        }
    }
    let found = found.or_else(|| schema(w, s, &format!("otel-collector/{one}/{kind}"), &what, Some(version)));
    let Some((schema_id, file)) = found else { return };
    let Some(node) = &file.root else { return };
    let owner = format!("{one} `{id}` of `{}`", s.name);
    let product = format!("the `{kind}` {one} of {host} {}", s.version.unwrap_or(version));
    walk(w, s, &e.span, schema_id, file, node, &e.settings, owner, product, &what);
}

/// Jaeger v2's config is a collector's: its own extensions and exporter, and the
/// collector's components, with a `service` section.
fn jaeger(w: &mut Walked, s: &Service, settings: &Tree) {
    let Some(map) = settings.as_object() else {
        return root(w, s, &s.span, "jaeger", "Jaeger", settings, "settings");
    };
    for (key, value) in map {
        let Some(section) = Section::from_key(key) else {
            if key == "service" {
                let what = "settings `service`";
                if let Some((id, file)) = schema(w, s, "otel-collector/service", what, Some(NEWEST_COLLECTOR))
                    && let Some(node) = &file.root
                {
                    let product = format!("Jaeger {}", version_text(s, file));
                    walk(w, s, &s.span, id, file, node, value, format!("`service` of `{}`", s.name), product, what);
                }
                continue;
            }
            let known: Vec<String> = Section::ALL.iter().map(|s| s.key().to_owned()).chain(["service".to_owned()]).collect();
            let finding = Finding { path: key.clone(), key: key.clone(), problem: Problem::Unknown { known } };
            let product = format!("Jaeger {}", s.version.map(|v| v.to_string()).unwrap_or_default());
            w.reports.push(Report { span: s.span.clone(), owner: format!("`{}`", s.name), product, docs: JAEGER_DOCS.to_owned(), finding });
            continue;
        };
        for (id, v) in value.as_object().into_iter().flatten() {
            let e = Entry { settings: v.clone(), span: s.span.clone() };
            component(w, s, &[Family::Jaeger], section, id, &e, NEWEST_COLLECTOR, "Jaeger");
        }
    }
}

const JAEGER_DOCS: &str = "https://www.jaegertracing.io/docs/2.20/deployment/configuration/";

/// Traefik is a plain container to obsbuild: its dynamic configuration files are checked
/// against Traefik's dynamic schema.
fn traefik(w: &mut Walked, s: &Service, c: &Container) {
    let repo = s.image.repository.as_str();
    if repo != "traefik" && !repo.ends_with("/traefik") {
        return;
    }
    for (path, f) in &c.files {
        let what = format!("file `{path}`");
        if !path.starts_with("dynamic/") || f.format == crate::model::FileFormat::Text {
            let reason = "only the dynamic configuration files under `dynamic/` (YAML or JSON) have a schema".to_owned();
            w.not_checked.push(NotChecked { service: s.name.clone(), what, reason });
            continue;
        }
        let Some((id, file)) = schema(w, s, "traefik/dynamic", &what, s.version) else { continue };
        let Some(node) = &file.root else { continue };
        let product = format!("Traefik {} (dynamic configuration)", version_text(s, file));
        walk(w, s, &f.span, id, file, node, &f.content, format!("`{path}` of `{}`", s.name), product, &what);
    }
    let flags = super::flags::tree(s);
    if flags.as_object().is_some_and(|m| !m.is_empty()) {
        static_flags(w, s, &flags);
    }
}

/// What a rendered file of a `kind` component at `version` breaks of its schema, as
/// `path: problem` lines (the coverage test: every key obsbuild writes is in a schema).
pub fn rendered(kind: crate::model::Kind, version: Option<Version>, tree: &Tree) -> Vec<String> {
    use crate::model::Kind;
    let component = match kind {
        Kind::Loki => Some("loki"),
        Kind::Prometheus => Some("prometheus"),
        Kind::Alertmanager => Some("alertmanager"),
        Kind::Collector | Kind::Jaeger => None,
        Kind::Grafana | Kind::Container => return Vec::new(),
    };
    let registry = Registry::get();
    let mut problems = Vec::new();
    let check = |family: &str, v: Option<Version>, tree: &Tree, at: &str| -> Vec<String> {
        match registry.lookup(family, v) {
            Lookup::Found { id, file } => match &file.root {
                Some(node) => {
                    let mut walk = Walk::new(registry, id);
                    walk.value(node, tree, "", "");
                    // A section the schema marks unchecked is not missing from it: `check`
                    // lists it as not checked.
                    walk.found
                        .into_iter()
                        .filter(|f| !matches!(f.problem, Problem::Unchecked { .. }))
                        .map(|f| format!("{at}{}: {:?}", f.path, f.problem))
                        .collect()
                }
                None => vec![format!("{at}: schema `{id}` has no root")],
            },
            _ => vec![format!("{at}: no schema `{family}` for {v:?}")],
        }
    };
    if let Some(component) = component {
        return check(component, version, tree, "");
    }
    let families: &[Family] = if kind == Kind::Jaeger { &[Family::Jaeger, Family::Collector] } else { &[Family::Collector] };
    let cv = if kind == Kind::Jaeger { Some(NEWEST_COLLECTOR) } else { version.or(Some(NEWEST_COLLECTOR)) };
    for (key, value) in tree.as_object().into_iter().flatten() {
        if key == "service" {
            problems.extend(check("otel-collector/service", cv, value, "service."));
            continue;
        }
        let Some(section) = Section::from_key(key) else {
            problems.push(format!("{key}: not a section of a collector config"));
            continue;
        };
        for (id, settings) in value.as_object().into_iter().flatten() {
            let (kind, one) = (current_name(section, Entry::type_of(id)), section.singular());
            let at = |f: Family| if f == Family::Jaeger { version } else { cv };
            let (family, v) = families
                .iter()
                .map(|f| (format!("{}/{one}/{kind}", f.folder()), at(*f)))
                .find(|(name, v)| matches!(registry.lookup(name, *v), Lookup::Found { .. }))
                .unwrap_or_else(|| (format!("otel-collector/{one}/{kind}"), cv));
            problems.extend(check(&family, v, settings, &format!("{key}.{id}.")));
        }
    }
    problems
}

/// Traefik's static configuration from its flags, against `traefik/static`.
pub fn static_flags(w: &mut Walked, s: &Service, flags: &Tree) {
    let what = "command flags (static configuration)";
    let Some((id, file)) = schema(w, s, "traefik/static", what, s.version) else { return };
    let Some(node) = &file.root else { return };
    let mut walk = Walk::new(Registry::get(), id);
    walk.flags = true;
    walk.value(node, flags, "", "");
    let product = format!("Traefik {} (static configuration)", version_text(s, file));
    for finding in walk.found {
        if let Problem::Unchecked { note } = &finding.problem {
            w.not_checked.push(NotChecked { service: s.name.clone(), what: format!("flag `--{}`", finding.path), reason: note.clone() });
            continue;
        }
        let owner = format!("the command flags of `{}`", s.name);
        w.reports.push(Report { span: s.span.clone(), owner, product: product.clone(), docs: file.docs.clone(), finding });
    }
}
