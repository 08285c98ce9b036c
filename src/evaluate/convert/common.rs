//! Fields every service has, apps, settings overrides and plain containers.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use super::{Cx, image};
use crate::diagnostic::Span;
use crate::evaluate::builder::{AppDecl, Op, ServiceDecl};
use crate::evaluate::spec::{DatasourceSpec, DeploySpec, IngestSpec, Scalar};
use crate::model::{
    self, App, Dialect, Component, Container, Datasource, File, FileFormat, Healthcheck, Ingest, Kind, Port,
    Probe, PushReceiver, Restart, Service, Signal, Tree, Volume,
};


pub fn service(cx: &mut Cx, decl: &ServiceDecl) -> Service {
    let spec = &decl.spec;
    let span = &decl.span;
    let owner = format!("service `{}`", decl.name);
    let image = match &spec.image {
        Some(reference) => image(cx, span, &owner, reference, spec.allow_latest.unwrap_or(false)),
        None => {
            cx.error(span, format!("{owner} has no `image`"));
            None
        }
    }
    .unwrap_or_else(|| model::Image {
        reference: String::new(),
        repository: String::new(),
        tag: None,
        digest: None,
    });
    if let Some(v) = &spec.version
        && model::Version::parse(v).is_none() {
            let at = cx.find_value(span, "version", v);
            cx.error(&at, format!("`version` of {owner} is `{v}`, not `MAJOR.MINOR.PATCH`"));
        }
    kind_only_fields(cx, decl);

    let ports = ports(cx, span, &owner, &spec.ports);
    super::secrets::environment(cx, span, &owner, &spec.environment);
    let mut volumes = Vec::new();
    for (name, target) in &spec.volumes {
        if let Err(e) = crate::evaluate::api::check_name("volume", name) {
            let at = cx.find_value(span, "volumes", name);
            cx.error(&at, e);
        }
        absolute(cx, span, &owner, "volumes", target);
        volumes.push(Volume::Named { name: name.clone(), target: target.clone() });
    }
    for (source, target) in &spec.binds {
        absolute(cx, span, &owner, "binds", source);
        absolute(cx, span, &owner, "binds", target);
        volumes.push(Volume::Bind { source: source.clone(), target: target.clone() });
    }
    let ip = spec.ip.as_deref().and_then(|text| match text.parse::<Ipv4Addr>() {
        Ok(ip) => Some(ip),
        Err(_) => {
            let at = cx.find_value(span, "ip", text);
            cx.error(&at, format!("`ip` of {owner} is `{text}`, not an IPv4 address"));
            None
        }
    });
    let healthcheck = spec.healthcheck.as_ref().map(|h| {
        let first = h.test.first().map(String::as_str);
        if !matches!(first, Some("CMD" | "CMD-SHELL" | "NONE")) {
            let at = cx.find(span, "test");
            cx.error(&at, format!("healthcheck `test` of {owner} must start with `CMD`, `CMD-SHELL` or `NONE`"));
        }
        // Compose and the Docker engine read these; Docker takes 0 (its default) or at least 1ms.
        // An invalid duration is an error; the default only stands in so that conversion goes on.
        let mut time = |field: &str, text: &Option<String>, default: u64| match text {
            Some(t) => healthcheck_duration(cx, span, &owner, field, t).unwrap_or_else(|| model::Duration::from_secs(default)),
            None => model::Duration::from_secs(default),
        };
        Healthcheck {
            test: h.test.clone(),
            interval: time("interval", &h.interval, 10),
            timeout: time("timeout", &h.timeout, 5),
            retries: h.retries.unwrap_or(5),
            start_period: time("start_period", &h.start_period, 10),
        }
    });
    let restart = match spec.restart.as_deref() {
        None => Restart::default(),
        Some(text) => Restart::parse(text).unwrap_or_else(|| {
            let names = Restart::ALL.map(Restart::name);
            let at = cx.find_value(span, "restart", text);
            let d = cx.error(&at, format!("`restart` of {owner} is `{text}`"));
            *d = d.clone().suggesting(text, names).help("one of `no`, `always`, `on-failure`, `unless-stopped`");
            Restart::default()
        }),
    };
    let mut accepts = BTreeMap::new();
    for (signal, ingest) in &spec.accepts {
        match Signal::parse(signal) {
            Some(s) => {
                if let Some(i) = self::ingest(cx, span, decl, &owner, ingest, true) {
                    accepts.insert(s, i);
                }
            }
            None => {
                let at = cx.find(span, signal);
                let d = cx.error(&at, format!("`accepts` of {owner} names `{signal}`, which is not a signal"));
                *d = d.clone().suggesting(signal, Signal::ALL.map(Signal::name));
            }
        }
    }
    let datasource = spec.datasource.as_ref().and_then(|d| datasource(cx, span, &decl.name, d));

    let version = spec.version.as_deref().and_then(model::Version::parse).or_else(|| image.version());
    Service {
        name: decl.name.clone(),
        span: span.clone(),
        image,
        version,
        command: spec.command.clone(),
        args: spec.args.clone(),
        entrypoint: spec.entrypoint.clone(),
        environment: strings(&spec.environment),
        ports,
        endpoints: spec.endpoints.clone(),
        volumes,
        ip,
        healthcheck,
        probe: spec.probe.as_ref().map(|p| Probe { port: p.port, path: p.path.clone() }),
        depends_on: spec.depends_on.iter().cloned().collect::<BTreeSet<_>>(),
        depends_on_declared: !spec.depends_on.is_empty(),
        placement: spec.deploy.as_ref().map(|d| placement(cx, span, &owner, d)),
        memory: spec.memory.clone().map(Scalar::into_string).and_then(|m| memory(cx, span, &owner, &m)),
        cpus: spec.cpus.clone().map(Scalar::into_string).and_then(|c| cpus(cx, span, &owner, &c)),
        user: spec.user.clone(),
        labels: strings(&spec.labels),
        secrets: super::secrets::secrets(cx, span, &owner, &spec.secrets),
        restart,
        accepts,
        datasource,
        component: Component::Container(Container::default()),
    }
}

/// `deploy: #{ ... }`: each wrong field is reported at its text, the rest kept.
fn placement(cx: &mut Cx, span: &Span, owner: &str, spec: &DeploySpec) -> model::Placement {
    use model::{Constraint, Mode, UpdateOrder};
    let mode = match (spec.mode.as_deref(), spec.replicas) {
        (None | Some("replicated"), replicas) => {
            let replicas = replicas.unwrap_or(1);
            if replicas == 0 {
                let at = cx.find(span, "replicas");
                cx.error(&at, format!("`replicas` of {owner} is 0")).help = Some("a service with no task is no service: remove it, or give at least 1".to_owned());
            }
            Mode::Replicated { replicas }
        }
        (Some("global"), None) => Mode::Global,
        (Some("global"), Some(n)) => {
            let at = cx.find(span, "replicas");
            let d = cx.error(&at, format!("{owner} is `global` and has `replicas: {n}`"));
            d.help = Some("a global service runs one task on every node its constraints allow; remove `replicas`, or make it `replicated`".to_owned());
            Mode::Global
        }
        (Some(other), _) => {
            let at = cx.find_value(span, "mode", other);
            let d = cx.error(&at, format!("`mode` of {owner} is `{other}`"));
            *d = d.clone().suggesting(other, ["replicated", "global"]).help("`replicated` (with `replicas`) or `global` (one task per node)");
            Mode::Replicated { replicas: 1 }
        }
    };
    let mut constraints = Vec::new();
    for text in &spec.constraints {
        match Constraint::parse(text) {
            Ok(c) => constraints.push(c),
            Err(why) => {
                let at = cx.find_value(span, "constraints", text);
                let d = cx.error(&at, format!("constraint `{text}` of {owner} {why}"));
                d.help = Some(format!(
                    "write it like `node.labels.tier == backend` or `node.hostname != db-1`; Swarm compares {}",
                    model::Attribute::NAMES.join(", ")
                ));
            }
        }
    }
    let order = spec.order.as_deref().and_then(|text| {
        UpdateOrder::parse(text).or_else(|| {
            let at = cx.find_value(span, "order", text);
            let d = cx.error(&at, format!("`order` of {owner} is `{text}`"));
            *d = d.clone().suggesting(text, UpdateOrder::ALL.map(UpdateOrder::name)).help("`start-first` (no gap) or `stop-first`");
            None
        })
    });
    let at = cx.find(span, "deploy");
    model::Placement { mode, constraints, order, span: at }
}

/// One way a service takes a signal; `top` allows other ways under `via`.
fn ingest(cx: &mut Cx, span: &Span, decl: &ServiceDecl, owner: &str, spec: &IngestSpec, top: bool) -> Option<Ingest> {
    let enables = match spec.enables.as_deref() {
        None => None,
        Some(text) => {
            let at = cx.find(span, text);
            let Some(receiver) = PushReceiver::parse(text) else {
                let d = cx.error(&at, format!("`enables` in `accepts` of {owner} names `{text}`, which is no receiver obsbuild turns on"));
                *d = d.clone().suggesting(text, PushReceiver::ALL.map(PushReceiver::name));
                return None;
            };
            if decl.kind != Kind::Prometheus {
                let d = cx.error(&at, format!("`enables: \"{text}\"` in `accepts` of {owner}: only a Prometheus has that receiver"));
                *d = d.clone().help("leave `enables` out: the service takes what is sent to it as it is");
                return None;
            }
            Some(receiver)
        }
    };
    if !top && !spec.via.is_empty() {
        let at = cx.find(span, "via");
        cx.error(&at, format!("a way under `via` in `accepts` of {owner} cannot have ways of its own"));
        return None;
    }
    let mut via = BTreeMap::new();
    for (name, way) in &spec.via {
        via.insert(name.clone(), ingest(cx, span, decl, owner, way, false)?);
    }
    Some(Ingest {
        exporter: spec.exporter.clone(),
        settings: spec.settings.clone().unwrap_or_else(empty),
        scrape_port: spec.scrape_port,
        enables,
        via,
    })
}

/// Fields that mean something for one kind only.
fn kind_only_fields(cx: &mut Cx, decl: &ServiceDecl) {
    let spec = &decl.spec;
    let prometheus_fields = [
        ("retention", spec.retention.is_some()),
        ("retention_size", spec.retention_size.is_some()),
        ("otlp_receiver", spec.otlp_receiver.is_some()),
        ("remote_write_receiver", spec.remote_write_receiver.is_some()),
        ("rules", !spec.rules.is_empty()),
    ];
    if decl.kind != Kind::Prometheus {
        for (field, set) in prometheus_fields {
            if set {
                let at = cx.find(&decl.span, field);
                cx.error(&at, format!("`{field}` is a Prometheus setting, and `{}` is a {} service", decl.name, decl.kind));
            }
        }
    }
    if decl.kind != Kind::Container && !spec.files.is_empty() {
        let at = cx.find(&decl.span, "files");
        cx.error(&at, format!("`files` is for plain containers; `{}` is a {} service, configured by `settings`", decl.name, decl.kind));
    }
    if decl.kind == Kind::Container && spec.settings.is_some() {
        let at = cx.find(&decl.span, "settings");
        let d = cx.error(&at, format!("`settings` configures a known component, and `{}` is a plain container", decl.name));
        *d = d.clone().help("give a container its config files with `files: #{ \"config.yaml\": #{ ... } }`");
    }
}

/// The component's settings with every `set(...)` override applied in call order.
pub fn settings(_cx: &mut Cx, decl: &ServiceDecl) -> Tree {
    let mut tree = decl.spec.settings.clone().unwrap_or_else(empty);
    if !tree.is_object() {
        tree = empty();
    }
    for op in &decl.ops {
        if let Op::Set { path, value, .. } = op {
            let keys: Vec<&str> = path.iter().map(String::as_str).collect();
            model::set_path(&mut tree, &keys, value.clone());
        }
    }
    tree
}

pub fn container(cx: &mut Cx, decl: &ServiceDecl) -> Container {
    let mut files = BTreeMap::new();
    let given = decl.spec.files.iter().map(|(p, c)| (p.clone(), c.clone(), decl.span.clone()));
    let added = decl.ops.iter().filter_map(|op| match op {
        Op::File { path, content, span } => Some((path.clone(), content.clone(), span.clone())),
        _ => None,
    });
    for (path, content, span) in given.chain(added) {
        if let Err(e) = relative_path(&path) {
            let at = cx.find(&span, &path);
            cx.error(&at, format!("file `{path}` of service `{}`: {e}", decl.name));
            continue;
        }
        let format = match (&content, path.rsplit('.').next()) {
            (Tree::String(_), _) => FileFormat::Text,
            (Tree::Null, _) => {
                let at = cx.find(&span, &path);
                let d = cx.error(&at, format!("file `{path}` of service `{}` has no content (`()`)", decl.name));
                *d = d.clone().help("give it its text as a string, or a map or array for a `.yaml` or `.json` file; to leave a file out, do not name it");
                continue;
            }
            (_, Some("yaml" | "yml")) => FileFormat::Yaml,
            (_, Some("json")) => FileFormat::Json,
            (other, _) => {
                let what = match other {
                    Tree::Object(_) => "a map",
                    Tree::Array(_) => "an array",
                    Tree::Number(_) => "a number",
                    _ => "a boolean",
                };
                let at = cx.find(&span, &path);
                let d = cx.error(&at, format!("file `{path}` of service `{}` is {what}, but its name does not end in `.yaml`, `.yml` or `.json`", decl.name));
                *d = d.clone().help("a file of another kind takes its text as a string");
                continue;
            }
        };
        files.insert(path, File { format, content, span });
    }
    Container { files }
}

/// A path inside a config folder: relative, no `..`, a conservative alphabet.
pub fn relative_path(path: &str) -> Result<(), String> {
    let ok_chars = path.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if path.is_empty() || path.starts_with('/') || !ok_chars {
        return Err("a file name is a relative path of letters, digits, `-`, `_`, `.` and `/`".to_owned());
    }
    if path.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..") {
        return Err("a file name may not have empty, `.` or `..` segments".to_owned());
    }
    Ok(())
}

pub fn app(cx: &mut Cx, decl: &AppDecl, sole_collector: Option<&str>) -> Option<App> {
    let spec = &decl.spec;
    let owner = format!("app `{}`", decl.name);
    super::secrets::environment(cx, &decl.span, &owner, &decl.spec.environment);
    let image = image(cx, &decl.span, &owner, &spec.image, spec.allow_latest.unwrap_or(false));
    let ports = ports(cx, &decl.span, &owner, &spec.ports);
    let collector = match (&spec.collector, sole_collector) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => c.to_owned(),
        (None, None) => {
            let d = cx.error(&decl.span, format!("{owner} needs a collector to send to"));
            *d = d.clone().help("declare one (`otel::collector()`), or name it: `collector: \"otel-collector\"`");
            return None;
        }
    };
    let protocol = match spec.protocol.as_deref().unwrap_or("grpc") {
        "grpc" => "grpc".to_owned(),
        "http" | "http/protobuf" => "http/protobuf".to_owned(),
        other => {
            let at = cx.find(&decl.span, other);
            cx.error(&at, format!("`protocol` of {owner} is `{other}`; use `grpc` or `http`"));
            return None;
        }
    };
    Some(App {
        name: decl.name.clone(),
        span: decl.span.clone(),
        image: image?,
        command: spec.command.clone(),
        environment: strings(&spec.environment),
        ports,
        collector,
        protocol,
        resource_attributes: strings(&spec.resource_attributes),
        memory: spec.memory.clone().map(Scalar::into_string).and_then(|m| memory(cx, &decl.span, &owner, &m)),
        cpus: spec.cpus.clone().map(Scalar::into_string).and_then(|c| cpus(cx, &decl.span, &owner, &c)),
        labels: strings(&spec.labels),
    })
}

/// A data source as a service offers it; `uid` defaults to the service name.
pub fn datasource(cx: &mut Cx, span: &Span, service: &str, d: &DatasourceSpec) -> Option<Datasource> {
    let Some(kind) = d.r#type.clone() else {
        let at = cx.find(span, "datasource");
        cx.error(&at, format!("the data source of `{service}` has no `type` (`prometheus`, `loki`, `jaeger`, ...)"));
        return None;
    };
    let Some(url) = d.url.clone() else {
        let at = cx.find(span, "datasource");
        cx.error(&at, format!("the data source of `{service}` has no `url`"));
        return None;
    };
    let uid = d.uid.clone().unwrap_or_else(|| service.to_owned());
    if uid.is_empty() || uid.len() > 40 || !uid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        let at = cx.find(span, &uid);
        cx.error(&at, format!("data source uid `{uid}` must be 1 to 40 letters, digits, `-` or `_`"));
    }
    Some(Datasource {
        name: d.name.clone().unwrap_or_else(|| title_case(service)),
        uid,
        r#type: kind,
        url,
        is_default: d.is_default.unwrap_or(false),
        json_data: d.json_data.clone().unwrap_or_else(empty),
        traces: d.traces.clone(),
        logs: d.logs.clone(),
        span: None,
    })
}

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn ports(cx: &mut Cx, span: &Span, owner: &str, list: &[Scalar]) -> Vec<Port> {
    let mut out = Vec::new();
    for p in list {
        let text = p.clone().into_string();
        match Port::parse(&text) {
            Ok(port) => out.push(port),
            Err(e) => {
                let at = cx.find_value(span, "ports", &text);
                cx.error(&at, format!("port `{text}` of {owner}: {e}"));
            }
        }
    }
    out
}

fn absolute(cx: &mut Cx, span: &Span, owner: &str, field: &str, path: &str) {
    if !path.starts_with('/') || path.split('/').any(|s| s == "..") {
        let at = cx.find_value(span, field, path);
        cx.error(&at, format!("`{path}` in {owner} must be an absolute path without `..`"));
    }
}

/// A duration `dialect` reads, or an error at its text (or its `field`).
pub fn duration(cx: &mut Cx, span: &Span, owner: &str, field: &str, text: &str, dialect: Dialect) -> Option<model::Duration> {
    match model::Duration::parse(text, dialect) {
        Ok(d) => Some(d),
        Err(e) => {
            let at = cx.find_value(span, field, text);
            cx.error(&at, format!("`{text}` in {owner} {e}"));
            None
        }
    }
}

/// A healthcheck duration: Go's dialect, and 0 or at least the 1ms Docker takes.
fn healthcheck_duration(cx: &mut Cx, span: &Span, owner: &str, field: &str, text: &str) -> Option<model::Duration> {
    let owner = format!("the healthcheck of {owner}");
    let d = duration(cx, span, &owner, field, text, Dialect::Go)?;
    if !d.value().is_zero() && d.value() < std::time::Duration::from_millis(1) {
        let at = cx.find_value(span, field, text);
        cx.error(&at, format!("`{text}` in {owner} is shorter than the 1ms Docker allows; write `0s` or at least `1ms`"));
        return None;
    }
    Some(d)
}

fn memory(cx: &mut Cx, span: &Span, owner: &str, text: &str) -> Option<model::Memory> {
    limit(cx, span, owner, "memory", text, model::Memory::parse)
}

fn cpus(cx: &mut Cx, span: &Span, owner: &str, text: &str) -> Option<model::Cpus> {
    limit(cx, span, owner, "cpus", text, model::Cpus::parse)
}

/// A limit parsed by `parse`, or an error at its text (or its `field`).
fn limit<T>(cx: &mut Cx, span: &Span, owner: &str, field: &str, text: &str, parse: fn(&str) -> Result<T, String>) -> Option<T> {
    match parse(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let at = cx.find_value(span, field, text);
            cx.error(&at, format!("`{field}` of {owner}: {e}"));
            None
        }
    }
}

pub fn strings(map: &BTreeMap<String, Scalar>) -> BTreeMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.clone().into_string())).collect()
}

pub fn empty() -> Tree {
    Tree::Object(Default::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert!(relative_path("conf/app.yaml").is_ok());
        assert!(relative_path("../x").is_err());
        assert!(relative_path("/x").is_err());
        assert!(relative_path("a//b").is_err());
    }
}
