//! Methods of a `Service` handle: wiring (`send`, `scrape`, `datasource`, ...) and overrides.

use rhai::{Dynamic, Engine, Map, NativeCallContext};

use super::{Api, list};
use crate::evaluate::builder::{Op, Section, ServiceRef};
use crate::evaluate::position::Place;
use crate::evaluate::spec::{
    AlertSpec, AlertTestSpec, DashboardSpec, DatasourceSpec, OneOrMany, PipelineSpec, RouteSpec,
    ScrapeSpec, SendSpec,
};
use crate::evaluate::value;
use crate::model::{Kind, Signal};

pub fn register(engine: &mut Engine, api: &Api) {
    engine.register_type_with_name::<ServiceRef>("Service");
    engine.register_get("name", |s: &mut ServiceRef| s.name.to_string());
    engine.register_get("kind", |s: &mut ServiceRef| s.kind.name().to_owned());
    engine.register_fn("to_string", |s: &mut ServiceRef| s.name.to_string());
    engine.register_fn("to_debug", |s: &mut ServiceRef| format!("Service({})", s.name));

    let a = api.clone();
    engine.register_fn("address", move |ctx: NativeCallContext, s: &mut ServiceRef, endpoint: &str| {
        endpoint_of(&a, &ctx, s, endpoint).map(|p| format!("{}:{p}", s.name)).unwrap_or_default()
    });
    let a = api.clone();
    engine.register_fn("url", move |ctx: NativeCallContext, s: &mut ServiceRef, endpoint: &str| {
        endpoint_of(&a, &ctx, s, endpoint).map(|p| format!("http://{}:{p}", s.name)).unwrap_or_default()
    });

    let a = api.clone();
    engine.register_fn("set", move |ctx: NativeCallContext, s: &mut ServiceRef, path: &str, v: Dynamic| {
        let place = a.place(&ctx);
        if a.failed(s) {
            return;
        }
        if s.kind == Kind::Container {
            a.report(a.diagnostic(&place, format!("`set` changes component settings, and `{}` is a plain container", s.name))
                .help("give a container its config with `file(path, content)`"));
            return;
        }
        let path: Vec<String> = path.split('.').map(str::to_owned).collect();
        if path.iter().any(String::is_empty) {
            a.report(a.diagnostic(&place, "a settings path is dotted keys such as `limits_config.retention_period`"));
            return;
        }
        match value::to_tree(&v) {
            Ok(value) => push(&a, s, Op::Set { path, value, span: place.span }),
            Err(e) => a.report(a.diagnostic(&place, e)),
        }
    });

    for section in Section::ALL {
        let a = api.clone();
        engine.register_fn(section.singular(), move |ctx: NativeCallContext, s: &mut ServiceRef, id: &str, settings: Map| {
            let place = a.place(&ctx);
            if a.failed(s) {
                return;
            }
            let settings = match value::to_tree(&Dynamic::from_map(settings)) {
                Ok(t) => t,
                Err(e) => return a.report(a.diagnostic(&place, e)),
            };
            if section == Section::Receivers && s.kind == Kind::Alertmanager {
                return push(&a, s, Op::AmReceiver { name: id.to_owned(), settings, span: place.span });
            }
            if require(&a, &place, s, section.singular(), &[Kind::Collector]) {
                push(&a, s, Op::Component { section, id: id.to_owned(), settings, span: place.span });
            }
        });
    }

    let a = api.clone();
    engine.register_fn("pipeline", move |ctx: NativeCallContext, s: &mut ServiceRef, id: &str, spec: Map| {
        let place = a.place(&ctx);
        if !require(&a, &place, s, "pipeline", &[Kind::Collector]) {
            return;
        }
        let what = format!("pipeline `{id}`");
        if let Some(spec) = a.spec::<PipelineSpec>(&place, &what, &Dynamic::from_map(spec)) {
            push(&a, s, Op::Pipeline { id: id.to_owned(), spec, span: place.span });
        }
    });

    let a = api.clone();
    engine.register_fn("send", move |ctx: NativeCallContext, s: &mut ServiceRef, signal: &str, backend: ServiceRef| {
        send(&a, &ctx, s, signal, &backend, None);
    });
    let a = api.clone();
    engine.register_fn("send", move |ctx: NativeCallContext, s: &mut ServiceRef, signal: &str, backend: ServiceRef, opts: Map| {
        send(&a, &ctx, s, signal, &backend, Some(opts));
    });

    let a = api.clone();
    engine.register_fn("scrape", move |ctx: NativeCallContext, s: &mut ServiceRef, job: &str, targets: Dynamic| {
        scrape(&a, &ctx, s, job, targets, Map::new());
    });
    let a = api.clone();
    engine.register_fn("scrape", move |ctx: NativeCallContext, s: &mut ServiceRef, job: &str, targets: Dynamic, spec: Map| {
        scrape(&a, &ctx, s, job, targets, spec);
    });
    let a = api.clone();
    engine.register_fn("scrape", move |ctx: NativeCallContext, s: &mut ServiceRef, target: ServiceRef| {
        let place = a.place(&ctx);
        if require(&a, &place, s, "scrape", &[Kind::Prometheus]) && !a.failed(&target) {
            push(&a, s, Op::ScrapeService { service: target.index, span: place.span });
        }
    });

    let a = api.clone();
    engine.register_fn("alert", move |ctx: NativeCallContext, s: &mut ServiceRef, name: &str, spec: Map| {
        let place = a.place(&ctx);
        if !require(&a, &place, s, "alert", &[Kind::Prometheus]) {
            return;
        }
        let what = format!("alert `{name}`");
        if let Some(spec) = a.spec::<AlertSpec>(&place, &what, &Dynamic::from_map(spec)) {
            push(&a, s, Op::Alert { name: name.to_owned(), spec, span: place.span });
        }
    });
    let a = api.clone();
    engine.register_fn("record", move |ctx: NativeCallContext, s: &mut ServiceRef, name: &str, expr: &str| {
        let place = a.place(&ctx);
        if require(&a, &place, s, "record", &[Kind::Prometheus]) {
            push(&a, s, Op::Record { name: name.to_owned(), expr: expr.to_owned(), group: None, span: place.span });
        }
    });
    let a = api.clone();
    engine.register_fn("alert_test", move |ctx: NativeCallContext, s: &mut ServiceRef, spec: Map| {
        let place = a.place(&ctx);
        if !require(&a, &place, s, "alert_test", &[Kind::Prometheus]) {
            return;
        }
        if let Some(spec) = a.spec::<AlertTestSpec>(&place, "alert test", &Dynamic::from_map(spec)) {
            push(&a, s, Op::AlertTest { spec: Box::new(spec), span: place.span });
        }
    });
    let a = api.clone();
    engine.register_fn("alerts_to", move |ctx: NativeCallContext, s: &mut ServiceRef, am: ServiceRef| {
        let place = a.place(&ctx);
        if !require(&a, &place, s, "alerts_to", &[Kind::Prometheus]) || a.failed(&am) {
            return;
        }
        if am.kind != Kind::Alertmanager {
            return a.report(a.diagnostic(&place, format!("`alerts_to` takes an alertmanager service, and `{}` is a {} service", am.name, am.kind)));
        }
        push(&a, s, Op::AlertsTo { alertmanager: am.index, span: place.span });
    });

    let a = api.clone();
    engine.register_fn("route", move |ctx: NativeCallContext, s: &mut ServiceRef, spec: Map| {
        let place = a.place(&ctx);
        if !require(&a, &place, s, "route", &[Kind::Alertmanager]) {
            return;
        }
        if let Some(spec) = a.spec::<RouteSpec>(&place, "route", &Dynamic::from_map(spec)) {
            push(&a, s, Op::Route { spec, span: place.span });
        }
    });

    let a = api.clone();
    engine.register_fn("datasource", move |ctx: NativeCallContext, s: &mut ServiceRef, source: ServiceRef| {
        datasource_of(&a, &ctx, s, &source, None);
    });
    let a = api.clone();
    engine.register_fn("datasource", move |ctx: NativeCallContext, s: &mut ServiceRef, source: ServiceRef, over: Map| {
        datasource_of(&a, &ctx, s, &source, Some(over));
    });
    let a = api.clone();
    engine.register_fn("datasource", move |ctx: NativeCallContext, s: &mut ServiceRef, spec: Map| {
        let place = a.place(&ctx);
        if !require(&a, &place, s, "datasource", &[Kind::Grafana]) {
            return;
        }
        if let Some(spec) = a.spec::<DatasourceSpec>(&place, "data source", &Dynamic::from_map(spec)) {
            push(&a, s, Op::Datasource { spec, span: place.span });
        }
    });
    let a = api.clone();
    engine.register_fn("dashboard", move |ctx: NativeCallContext, s: &mut ServiceRef, spec: Map| {
        let place = a.place(&ctx);
        if !require(&a, &place, s, "dashboard", &[Kind::Grafana]) {
            return;
        }
        if let Some(spec) = a.spec::<DashboardSpec>(&place, "dashboard", &Dynamic::from_map(spec)) {
            push(&a, s, Op::Dashboard { spec: Box::new(spec), span: place.span });
        }
    });

    // Lets a library choose among endpoints without an error for the ones a service lacks.
    let a = api.clone();
    engine.register_fn("has_endpoint", move |s: &mut ServiceRef, endpoint: &str| {
        a.builder.borrow().services.get(s.index).is_some_and(|d| d.spec.endpoints.contains_key(endpoint))
    });

    // Labels can be added after a service is declared, so a proxy declared later can route
    // to it (`lib/traefik.rhai`).
    let a = api.clone();
    engine.register_fn("label", move |ctx: NativeCallContext, s: &mut ServiceRef, key: &str, value: Dynamic| {
        let place = a.place(&ctx);
        if a.failed(s) {
            return;
        }
        let text = if value.is_string() || value.is_int() || value.is_bool() || value.is_float() {
            value.to_string()
        } else {
            a.report(a.diagnostic(&place, format!("label `{key}` of `{}` must be a string, number or boolean", s.name)));
            return;
        };
        if key.is_empty() || key.starts_with("obsbuild.") {
            a.report(a.diagnostic(&place, format!("label `{key}` cannot be set: empty, or in obsbuild's own `obsbuild.` namespace")));
            return;
        }
        push(&a, s, Op::Label { key: key.to_owned(), value: text, span: place.span });
    });

    let a = api.clone();
    engine.register_fn("file", move |ctx: NativeCallContext, s: &mut ServiceRef, path: &str, content: Dynamic| {
        let place = a.place(&ctx);
        if !require(&a, &place, s, "file", &[Kind::Container]) {
            return;
        }
        match value::to_tree(&content) {
            Ok(content) => push(&a, s, Op::File { path: path.to_owned(), content, span: place.span }),
            Err(e) => a.report(a.diagnostic(&place, e)),
        }
    });
}

/// `collector.send(signal, backend)`, or `send(signal, backend, #{ via: "remote_write" })` for
/// one of the backend's other ways of taking the signal.
fn send(a: &Api, ctx: &NativeCallContext, s: &ServiceRef, signal: &str, backend: &ServiceRef, opts: Option<Map>) {
    let place = a.place(ctx);
    if !require(a, &place, s, "send", &[Kind::Collector]) || a.failed(backend) {
        return;
    }
    let Some(sig) = Signal::parse(signal) else {
        let names = Signal::ALL.map(Signal::name);
        let d = a.diagnostic(&place, format!("unknown signal `{signal}`")).suggesting(signal, names);
        return a.report(d.help("signals are `traces`, `metrics` and `logs`"));
    };
    let via = match opts {
        Some(m) => match a.spec::<SendSpec>(&place, "send options", &Dynamic::from_map(m)) {
            Some(spec) => spec.via,
            None => return,
        },
        None => None,
    };
    let (accepted, ways): (Vec<String>, Option<Vec<String>>) = {
        let b = a.builder.borrow();
        let accepts = &b.services[backend.index].spec.accepts;
        (accepts.keys().cloned().collect(), accepts.get(signal).map(|i| i.via.keys().cloned().collect()))
    };
    let Some(ways) = ways else {
        let what = if accepted.is_empty() {
            "accepts no telemetry".to_owned()
        } else {
            format!("accepts {}", list(&accepted))
        };
        let d = a.diagnostic(&place, format!("`{}` does not accept {signal}; it {what}", backend.name));
        return a.report(d.help("declare what a service takes in with `accepts: #{ logs: #{ exporter: ..., settings: ... } }`"));
    };
    if let Some(v) = &via
        && !ways.contains(v)
    {
        let mut d = a.diagnostic(&place, format!("`{}` has no way called `{v}` to take {signal}", backend.name));
        d.span = Some(a.find(&place.span, v));
        let d = match crate::diagnostic::suggest(v, ways.iter().map(String::as_str)) {
            Some(best) => d.label(format!("did you mean `{best}`?")),
            None if ways.is_empty() => d.help(format!("it has one way; leave `via` out, or declare others in `accepts.{signal}.via`")),
            None => d.help(format!("its ways: {}", list(&ways))),
        };
        return a.report(d);
    }
    push(a, s, Op::Send { signal: sig, backend: backend.index, via, span: place.span });
}

/// `grafana.datasource(service)` or `grafana.datasource(service, #{ overrides })`.
fn datasource_of(a: &Api, ctx: &NativeCallContext, s: &ServiceRef, source: &ServiceRef, over: Option<Map>) {
    let place = a.place(ctx);
    if !require(a, &place, s, "datasource", &[Kind::Grafana]) || a.failed(source) {
        return;
    }
    let has = a.builder.borrow().services[source.index].spec.datasource.is_some();
    if !has {
        let d = a.diagnostic(&place, format!("`{}` declares no data source for Grafana", source.name));
        return a.report(d.help("pass a map instead: `datasource(#{ name, type, uid, url })`, or give the service `datasource: #{ ... }`"));
    }
    let overrides = match over {
        Some(m) => match a.spec::<DatasourceSpec>(&place, "data source", &Dynamic::from_map(m)) {
            Some(spec) => Some(spec),
            None => return,
        },
        None => None,
    };
    push(a, s, Op::DatasourceOf { service: source.index, overrides, span: place.span });
}

fn push(a: &Api, s: &ServiceRef, op: Op) {
    if a.failed(s) {
        return;
    }
    a.builder.borrow_mut().services[s.index].ops.push(op);
}

/// Whether `s` is of one of `kinds`; records why not otherwise.
fn require(a: &Api, place: &Place, s: &ServiceRef, method: &str, kinds: &[Kind]) -> bool {
    if a.failed(s) {
        return false;
    }
    if kinds.contains(&s.kind) {
        return true;
    }
    let wanted: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    a.report(a.diagnostic(
        place,
        format!("`{method}` is for {} services, and `{}` is a {} service", wanted.join(" or "), s.name, s.kind),
    ));
    false
}

fn endpoint_of(a: &Api, ctx: &NativeCallContext, s: &ServiceRef, endpoint: &str) -> Option<u16> {
    if a.failed(s) {
        return None;
    }
    let b = a.builder.borrow();
    let endpoints = &b.services[s.index].spec.endpoints;
    if let Some(port) = endpoints.get(endpoint) {
        return Some(*port);
    }
    let known: Vec<String> = endpoints.keys().cloned().collect();
    drop(b);
    let place = a.place(ctx);
    let d = a
        .diagnostic(&place, format!("`{}` has no endpoint `{endpoint}`", s.name))
        .suggesting(endpoint, known.iter().map(String::as_str));
    let d = if known.is_empty() { d.help("declare it: `endpoints: #{ http: 8080 }`") } else { d.help(format!("its endpoints: {}", list(&known))) };
    a.report(d);
    None
}

fn scrape(a: &Api, ctx: &NativeCallContext, s: &ServiceRef, job: &str, targets: Dynamic, spec: Map) {
    let place = a.place(ctx);
    if !require(a, &place, s, "scrape", &[Kind::Prometheus]) {
        return;
    }
    let what = format!("scrape job `{job}`");
    let Some(targets) = a.spec::<OneOrMany>(&place, &format!("targets of {what}"), &targets) else {
        return;
    };
    let Some(spec) = a.spec::<ScrapeSpec>(&place, &what, &Dynamic::from_map(spec)) else {
        return;
    };
    push(a, s, Op::Scrape { job: job.to_owned(), targets: targets.into_vec(), spec, span: place.span });
}
