//! `stack`, `network`, `service`, `app`, `hosts_entry` and the small helpers library modules use.

use rhai::{Dynamic, Engine, Map, NativeCallContext};

use super::Api;
use crate::evaluate::builder::{AppDecl, HostDecl, ServiceDecl, ServiceRef};
use crate::evaluate::position::Place;
use crate::evaluate::spec::{AppSpec, NetworkSpec, ServiceSpec, StackSpec};
use crate::evaluate::value;
use crate::model::{self, Kind};

/// Docker and DNS accept these as service, network and stack names.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} name `{name}` must be 1 to 63 lower-case letters, digits and `-`, starting with a letter or digit and not ending with `-`"
        ))
    }
}

/// `stack(name)` and `stack(name, #{ engine: ... })`.
fn stack(a: &Api, ctx: &NativeCallContext, name: &str, spec: Option<Map>) {
    let place = a.place(ctx);
    if let Err(e) = check_name("stack", name) {
        a.report(a.diagnostic(&place, e));
        return;
    }
    let spec = match spec {
        None => StackSpec::default(),
        Some(m) => match a.spec::<StackSpec>(&place, &format!("stack `{name}`"), &Dynamic::from_map(m)) {
            Some(s) => s,
            None => return,
        },
    };
    let mut b = a.builder.borrow_mut();
    if let Some((_, first)) = &b.stack {
        let d = a.diagnostic(&place, "`stack` is called twice").related(first, "first called here");
        b.diagnostics.push(d);
        return;
    }
    b.engine = spec.engine.map(|e| (e, place.span.clone()));
    b.stack = Some((name.to_owned(), place.span));
}

pub fn register(engine: &mut Engine, api: &Api) {
    let a = api.clone();
    engine.register_fn("stack", move |ctx: NativeCallContext, name: &str| stack(&a, &ctx, name, None));
    let a = api.clone();
    engine.register_fn("stack", move |ctx: NativeCallContext, name: &str, spec: Map| {
        stack(&a, &ctx, name, Some(spec))
    });

    // Secret references are plain maps with a `$secret` key, so they survive merges of
    // options like any value; `convert` turns them into `model::Secret`.
    engine.register_fn("secret_env", |var: &str| secret_ref("env", "var", var.into()));
    engine.register_fn("secret_file", |path: &str| secret_ref("file", "path", path.into()));
    engine.register_fn("tls_certificate", |names: rhai::Array| secret_ref("certificate", "names", names.into()));
    engine.register_fn("tls_certificate", |name: &str| secret_ref("certificate", "names", vec![Dynamic::from(name.to_owned())].into()));

    let a = api.clone();
    engine.register_fn("network", move |ctx: NativeCallContext, name: &str| {
        network(&a, &ctx, name, &Dynamic::from_map(Map::new()));
    });
    let a = api.clone();
    engine.register_fn("network", move |ctx: NativeCallContext, name: &str, spec: Map| {
        network(&a, &ctx, name, &Dynamic::from_map(spec));
    });

    let a = api.clone();
    engine.register_fn("service", move |ctx: NativeCallContext, name: &str, spec: Map| {
        service(&a, &ctx, name, spec, None)
    });
    let a = api.clone();
    engine.register_fn(
        "service",
        move |ctx: NativeCallContext, name: &str, spec: Map, overrides: Map| {
            service(&a, &ctx, name, spec, Some(overrides))
        },
    );

    let a = api.clone();
    engine.register_fn("app", move |ctx: NativeCallContext, name: &str, spec: Map| {
        let place = a.place(&ctx);
        if let Err(e) = check_name("app", name) {
            a.report(a.diagnostic(&place, e));
            return;
        }
        let Some(spec) = a.spec::<AppSpec>(&place, &format!("app `{name}`"), &Dynamic::from_map(spec))
        else {
            return;
        };
        let mut b = a.builder.borrow_mut();
        if let Some(first) = b.apps.iter().find(|x| x.name == name) {
            let d = a
                .diagnostic(&place, format!("app `{name}` is declared twice"))
                .related(&first.span, "first declared here");
            b.diagnostics.push(d);
            return;
        }
        b.apps.push(AppDecl { name: name.to_owned(), span: place.span, spec });
    });

    // `hosts_entry(address, name)`: kept as written and checked by `validate`, so that a
    // name given two addresses is reported with both lines.
    let a = api.clone();
    engine.register_fn("hosts_entry", move |ctx: NativeCallContext, address: &str, name: &str| {
        let place = a.place(&ctx);
        let decl = HostDecl { name: name.to_owned(), address: address.to_owned(), span: place.span, via: place.via };
        a.builder.borrow_mut().hosts.push(decl);
    });
    // Anything but two strings (a library passing `()` for a missing option, say).
    let a = api.clone();
    engine.register_fn("hosts_entry", move |ctx: NativeCallContext, address: Dynamic, name: Dynamic| {
        let place = a.place(&ctx);
        let kind = |v: &Dynamic| match crate::evaluate::value::friendly_type(v.type_name()) {
            "()" => "`()`".to_owned(),
            t if t.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {t}"),
            t => format!("a {t}"),
        };
        let d = a
            .diagnostic(&place, format!("`hosts_entry` takes two strings, not {} and {}", kind(&address), kind(&name)))
            .help("write it like `hosts_entry(\"127.0.1.1\", \"grafana.local\")`: the address first, then the name");
        a.report(d);
    });

    engine.register_fn("merge", |base: Map, over: Map| -> Map {
        let mut out = Dynamic::from_map(base);
        merge_dynamic(&mut out, Dynamic::from_map(over));
        out.try_cast::<Map>().unwrap_or_default()
    });

    engine.register_fn("type_of", |value: Dynamic| -> String {
        if value.is::<ServiceRef>() { "Service".to_owned() } else { value.type_name().to_owned() }
    });

    let a = api.clone();
    engine.on_print(move |text| trace(&a, None, text));
    let a = api.clone();
    engine.on_debug(move |text, source, pos| {
        let span = match (source, pos.line()) {
            (Some(src), Some(line)) => Some(crate::diagnostic::Span::new(
                src,
                u32::try_from(line).unwrap_or(0),
                u32::try_from(pos.position().unwrap_or(0)).unwrap_or(0),
            )),
            _ => None,
        };
        trace(&a, span, text);
    });
}

/// Most trace lines kept; a script printing in a loop must not fill memory before its
/// deadline stops it.
const MAX_TRACES: usize = 1000;

fn trace(a: &Api, span: Option<crate::diagnostic::Span>, text: &str) {
    let mut b = a.builder.borrow_mut();
    if b.traces.len() < MAX_TRACES {
        b.traces.push((span, text.chars().take(1000).collect()));
    } else if b.traces.len() == MAX_TRACES {
        b.traces.push((None, format!("(more output dropped after {MAX_TRACES} lines)")));
    }
}

fn secret_ref(from: &str, key: &str, value: Dynamic) -> Map {
    let mut map = Map::new();
    map.insert("$secret".into(), from.into());
    map.insert(key.into(), value);
    map
}

fn network(a: &Api, ctx: &NativeCallContext, name: &str, spec: &Dynamic) {
    let place = a.place(ctx);
    if let Err(e) = check_name("network", name) {
        a.report(a.diagnostic(&place, e));
        return;
    }
    let Some(spec) = a.spec::<NetworkSpec>(&place, &format!("network `{name}`"), spec) else {
        return;
    };
    let mut b = a.builder.borrow_mut();
    if let Some((_, _, first)) = &b.network {
        let d = a.diagnostic(&place, "`network` is called twice").related(first, "first called here");
        b.diagnostics.push(d);
        return;
    }
    b.network = Some((name.to_owned(), spec, place.span));
}

fn service(a: &Api, ctx: &NativeCallContext, name: &str, spec: Map, overrides: Option<Map>) -> ServiceRef {
    let place = a.place(ctx);
    let what = format!("service `{name}`");
    let (kind, spec, failed) = match parse_service(a, &place, name, &what, spec, overrides) {
        Some((kind, spec)) => (kind, spec, false),
        None => (Kind::Container, ServiceSpec::default(), true),
    };
    let mut b = a.builder.borrow_mut();
    b.options.clear();
    let index = b.services.len();
    // By name, not by a look through every service declared before: that made a fleet's
    // declarations quadratic.
    if let Some(first) = b.service_names.get(name).and_then(|&i| b.services.get(i)) {
        let d = a
            .diagnostic(&place, format!("service `{name}` is declared twice"))
            .related(&first.span, "first declared here")
            .help("give one of them another name, e.g. `loki::server(#{ name: \"loki-2\" })`");
        b.diagnostics.push(d);
    } else {
        b.service_names.insert(name.to_owned(), index);
    }
    b.services.push(ServiceDecl {
        name: name.to_owned(),
        span: place.span,
        via: place.via,
        kind,
        spec,
        ops: Vec::new(),
        failed,
    });
    ServiceRef { index, name: name.into(), kind }
}

fn parse_service(
    a: &Api,
    place: &Place,
    name: &str,
    what: &str,
    spec: Map,
    overrides: Option<Map>,
) -> Option<(Kind, ServiceSpec)> {
    if let Err(e) = check_name("service", name) {
        a.report(a.diagnostic(place, e));
    }
    let mut tree = match value::to_tree(&Dynamic::from_map(spec)) {
        Ok(t) => t,
        Err(e) => {
            a.report(a.diagnostic(place, format!("{e} (in {what})")));
            return None;
        }
    };
    if let Some(over) = overrides {
        match value::to_tree(&Dynamic::from_map(over)) {
            Ok(over) => model::merge(&mut tree, &over),
            Err(e) => a.report(a.diagnostic(place, format!("{e} (in {what})"))),
        }
    }
    let spec = a.spec_of_tree::<ServiceSpec>(place, what, tree)?;
    let kind = match spec.kind.as_deref() {
        None => Kind::Container,
        Some(k) => match Kind::parse(k) {
            Some(kind) => kind,
            None => {
                let names = Kind::ALL.map(Kind::name);
                let d = a
                    .diagnostic(place, format!("unknown kind `{k}` for {what}"))
                    .suggesting(k, names)
                    .help(format!(
                        "kinds obsbuild configures: {}; any other image is a `container`",
                        names.join(", ")
                    ));
                let span = a.find(&place.span, k);
                a.report(Diagnostic { span: Some(span), ..d });
                return None;
            }
        },
    };
    Some((kind, spec))
}

use crate::diagnostic::Diagnostic;

/// Deep merge on script values: maps merge, `()` deletes, anything else replaces.
pub fn merge_dynamic(base: &mut Dynamic, over: Dynamic) {
    if base.is_map() && over.is_map() {
        let over = over.try_cast::<Map>().unwrap_or_default();
        if let Some(mut map) = base.write_lock::<Map>() {
            for (key, value) in over {
                if value.is_unit() {
                    map.remove(&key);
                } else if let Some(existing) = map.get_mut(&key) {
                    merge_dynamic(existing, value);
                } else {
                    map.insert(key, value);
                }
            }
        }
    } else {
        *base = over;
    }
}
