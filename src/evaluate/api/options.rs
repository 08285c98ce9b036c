//! `opts.take(defaults)` and `opts.take(defaults, types)`: a library function's own options,
//! typed and checked before its body runs.
//!
//! An option's type is its default's (`memory_limit_mib: 512` takes a whole number), or what
//! `types` declares for it (`#{ collector: "string|Service" }`) when it takes more than one
//! kind of value or has no default. A value of another type is an error at the user's line,
//! and the default stands in, so the library's body does not fail on it a second time
//! (`no function '/(string, int)'` at a library line, as it did).

use rhai::{Dynamic, Engine, EvalAltResult, Map, NativeCallContext};

use super::Api;
use crate::diagnostic::{Diagnostic, Span};
use crate::evaluate::builder::ServiceRef;
use crate::evaluate::position::is_library;

/// The kinds of value an option can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Type {
    String,
    Int,
    Float,
    Bool,
    Array,
    Map,
    Service,
}

impl Type {
    const ALL: [Type; 7] = [Type::String, Type::Int, Type::Float, Type::Bool, Type::Array, Type::Map, Type::Service];

    /// The type of a default; `None` for `()` (no default: any value).
    fn of(value: &Dynamic) -> Option<Type> {
        Type::ALL.into_iter().find(|t| t.is(value))
    }

    fn is(self, value: &Dynamic) -> bool {
        match self {
            Type::String => value.is_string(),
            Type::Int => value.is_int(),
            Type::Float => value.is_float(),
            Type::Bool => value.is_bool(),
            Type::Array => value.is_array(),
            Type::Map => value.is_map(),
            Type::Service => value.is::<ServiceRef>(),
        }
    }

    /// Whether an option of this type takes `value`: a number option also takes a whole one.
    fn accepts(self, value: &Dynamic) -> bool {
        self.is(value) || (self == Type::Float && value.is_int())
    }

    fn keyword(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Int => "int",
            Type::Float => "float",
            Type::Bool => "bool",
            Type::Array => "array",
            Type::Map => "map",
            Type::Service => "Service",
        }
    }

    fn parse(word: &str) -> Option<Type> {
        Type::ALL.into_iter().find(|t| t.keyword() == word)
    }

    fn described(self) -> &'static str {
        match self {
            Type::String => "a string",
            Type::Int => "a whole number",
            Type::Float => "a number",
            Type::Bool => "`true` or `false`",
            Type::Array => "an array",
            Type::Map => "a map",
            Type::Service => "a service",
        }
    }
}

/// What a value is, in the words of the types above (or Rhai's for anything else).
fn describe(value: &Dynamic) -> String {
    match Type::of(value) {
        Some(Type::Float) => "a decimal number".to_owned(),
        Some(t) => t.described().to_owned(),
        None if value.is_unit() => "`()`".to_owned(),
        None => format!("a {}", crate::evaluate::value::friendly_type(value.type_name())),
    }
}

/// `"15d"`, `512`, `["a", "b"]`: how a default is written in a script.
fn example(value: &Dynamic) -> Option<String> {
    match Type::of(value)? {
        Type::Service => None,
        Type::Map => Some("#{ ... }".to_owned()),
        Type::String => Some(format!("{:?}", value.clone().into_string().unwrap_or_default())),
        _ => Some(format!("{value:?}")),
    }
}

pub fn register(engine: &mut Engine, api: &Api) {
    // Removes the library's own options from `opts` and returns them with defaults filled
    // in; what is left goes on to `service(...)`, which rejects anything it does not know.
    let a = api.clone();
    engine.register_fn("take", move |ctx: NativeCallContext, opts: &mut Map, defaults: Map| -> Map {
        take(&a, &ctx, opts, defaults, Vec::new())
    });
    let a = api.clone();
    engine.register_fn(
        "take",
        move |ctx: NativeCallContext, opts: &mut Map, defaults: Map, types: Map| -> Result<Map, Box<EvalAltResult>> {
            let types = declared(types)?;
            Ok(take(&a, &ctx, opts, defaults, types))
        },
    );

    // Library functions take a map of options; say so when they get something else.
    let refuse = |value: &mut Dynamic| -> Result<Map, Box<EvalAltResult>> {
        let kind = crate::evaluate::value::friendly_type(value.type_name()).to_owned();
        Err(format!("options are a map such as `#{{ name: \"x\" }}`, not a {kind}").into())
    };
    engine.register_fn("take", move |value: &mut Dynamic, _: Map| refuse(value));
    engine.register_fn("take", move |value: &mut Dynamic, _: Map, _: Map| refuse(value));
}

/// The library's declared types, `#{ key: "string|Service" }`. A word that is no type is
/// the library's mistake, thrown at its line.
fn declared(types: Map) -> Result<Vec<(String, Vec<Type>)>, Box<EvalAltResult>> {
    let mut out = Vec::new();
    for (key, spec) in types {
        let text = spec.into_string().map_err(|t| format!("the type of option `{key}` is a string such as \"string|Service\", not a {t}"))?;
        let mut alternatives = Vec::new();
        for word in text.split('|').map(str::trim) {
            match Type::parse(word) {
                Some(t) => alternatives.push(t),
                None => {
                    let words: Vec<&str> = Type::ALL.iter().map(|t| t.keyword()).collect();
                    return Err(format!("`{word}` (type of option `{key}`) is not a type; types are {}", words.join(", ")).into());
                }
            }
        }
        out.push((key.to_string(), alternatives));
    }
    Ok(out)
}

fn take(a: &Api, ctx: &NativeCallContext, opts: &mut Map, defaults: Map, types: Vec<(String, Vec<Type>)>) -> Map {
    let mut keys: Vec<String> = defaults.keys().map(|k| k.to_string()).collect();
    keys.extend(types.iter().map(|(k, _)| k.clone()).filter(|k| !defaults.contains_key(k.as_str())));
    a.builder.borrow_mut().options = keys.clone();
    let mut out = Map::new();
    for key in keys {
        let default = defaults.get(key.as_str()).cloned().unwrap_or(Dynamic::UNIT);
        let wanted: Vec<Type> = match types.iter().find(|(k, _)| *k == key) {
            Some((_, alternatives)) => alternatives.clone(),
            None => Type::of(&default).into_iter().collect(),
        };
        let value = match opts.remove(key.as_str()).filter(|v| !v.is_unit()) {
            Some(v) if !wanted.is_empty() && !wanted.iter().any(|t| t.accepts(&v)) => {
                a.report(wrong_type(a, ctx, &key, &v, &wanted, &default));
                default
            }
            Some(v) => v,
            None => default,
        };
        out.insert(key.into(), value);
    }
    out
}

fn wrong_type(a: &Api, ctx: &NativeCallContext, key: &str, value: &Dynamic, wanted: &[Type], default: &Dynamic) -> Diagnostic {
    let (call, unplaced) = caller(a, ctx);
    let function = call_name(a, &call);
    let expected: Vec<&str> = wanted.iter().map(|t| t.described()).collect();
    let expected = expected.join(" or ");
    let at = a.find(&call, key);
    let mut d = Diagnostic::new(format!("option `{key}` of `{function}` is {}, not {expected}", describe(value))).at(&at);
    d.unplaced = unplaced;
    match example(default).filter(|_| wanted != [Type::Bool]) {
        Some(e) => d.label(format!("expected {expected} such as `{e}`")).help(format!("write it like `{key}: {e}`")),
        None => d.label(format!("expected {expected}")),
    }
}

/// The call of the function whose body called `take`: the user's `otel::collector(...)`, or
/// the call of a user's own module function. A library function called by another library
/// function is placed at the user's line, as every other diagnostic is.
/// Without the call stack (the first, fast evaluation) only the `take` line is known: the
/// diagnostic then says it wants the stack.
fn caller(a: &Api, ctx: &NativeCallContext) -> (Span, bool) {
    let sites = a.placer.sites(ctx);
    match sites.len().checked_sub(2).and_then(|i| sites.get(i)) {
        Some(site) if !is_library(&site.file) => (site.clone(), false),
        Some(_) => (a.place(ctx).span, false),
        None => (a.place(ctx).span, a.placer.trace == crate::evaluate::Trace::Fast),
    }
}

/// The name of the function called at `span` (`otel::collector`), read from the script.
fn call_name(a: &Api, span: &Span) -> String {
    let sources = a.placer.sources.borrow();
    let line = sources.line(&span.file, span.line).unwrap_or_default();
    let name: String = line
        .chars()
        .skip((span.col as usize).saturating_sub(1))
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    if name.is_empty() { "the library function".to_owned() } else { name }
}
