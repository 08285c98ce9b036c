//! Rhai's errors, as diagnostics that point at the user's line.

use std::sync::Arc;

use rhai::{EvalAltResult, Position};

use super::position::{is_library, widen};
use super::resolver::ImportError;
use super::sandbox::{Limits, Stopped};
use crate::diagnostic::{Diagnostic, Sources, Span, suggest};

/// Names scripts call most; "did you mean" looks here when a function is unknown.
const KNOWN_FUNCTIONS: &[&str] = &[
    "stack", "network", "service", "app", "merge", "take", "type_of", "address", "url", "set",
    "receiver", "processor", "exporter", "connector", "extension", "pipeline", "send", "scrape",
    "alert", "record", "alerts_to", "route", "datasource", "dashboard", "file", "label", "print", "debug",
    "secret_env", "secret_file", "tls_certificate", "has_endpoint",
];

fn span(source: &str, pos: Position) -> Span {
    Span::new(
        Arc::<str>::from(source),
        u32::try_from(pos.line().unwrap_or(0)).unwrap_or(0),
        u32::try_from(pos.position().unwrap_or(0)).unwrap_or(0),
    )
}

/// A diagnostic for an error raised while evaluating `main`.
pub fn diagnostic(error: &EvalAltResult, main: &str, limits: &Limits, sources: &Sources) -> Diagnostic {
    let mut source: Arc<str> = main.into();
    // Call sites from the outermost inwards, as (span, what happened there).
    let mut chain: Vec<(Span, String)> = Vec::new();
    let mut e = error;
    loop {
        match e {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                chain.push((span(&source, *pos), format!("in the call of `{name}`")));
                if !src.is_empty() {
                    source = src.as_str().into();
                }
                e = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, pos) => {
                if !pos.is_none() {
                    chain.push((span(&source, *pos), format!("while importing `{name}`")));
                }
                source = name.as_str().into();
                e = inner;
            }
            _ => break,
        }
    }
    let here = span(&source, e.position());
    let chain: Vec<(Span, String)> = chain.into_iter().map(|(s, w)| (widen(sources, s), w)).collect();
    let (message, help) = describe(e, limits);

    // Report on the innermost line the user wrote; a library line goes into a note.
    let mut d = Diagnostic::new(message);
    let user_site = std::iter::once(&here)
        .chain(chain.iter().rev().map(|(s, _)| s))
        .find(|s| !is_library(&s.file) && s.line > 0)
        .cloned();
    match user_site {
        Some(site) if site != here => {
            let site = widen(sources, site);
            d = d.at(&site);
            if here.line > 0 {
                d = d.note(format!("raised at {here}, inside the library"));
            }
        }
        Some(site) => d = d.at(&widen(sources, site)),
        None if here.line > 0 => d = d.at(&widen(sources, here.clone())),
        None => {}
    }
    if let Some(help) = help {
        d = d.help(help);
    }
    if let EvalAltResult::ErrorFunctionNotFound(signature, _) = e {
        let name = signature.split([' ', '(']).next().unwrap_or(signature);
        if let Some(best) = suggest(name, KNOWN_FUNCTIONS.iter().copied()) {
            d = d.label(format!("did you mean `{best}`?"));
        }
    }
    d
}

/// Rhai keywords a map key may collide with (`for` of an alert rule, `continue` of a route).
const KEYWORDS: &[&str] = &[
    "for", "in", "if", "else", "let", "const", "fn", "switch", "while", "loop", "do", "until",
    "continue", "break", "return", "throw", "try", "catch", "import", "export", "as", "private",
    "this", "global", "true", "false",
];

/// A diagnostic for a syntax error in `source`; `text` is the script, to name the word at
/// the error when it is a keyword used as a map key.
pub fn parse_diagnostic(error: &rhai::ParseError, source: &str, text: &str) -> Diagnostic {
    let at = span(source, error.position());
    // Strict variables make these parse errors, but they are no mistake of syntax.
    let unknown = match error.err_type() {
        rhai::ParseErrorType::VariableUndefined(name) => Some(("variable", name)),
        rhai::ParseErrorType::ModuleUndefined(name) => Some(("module alias", name)),
        _ => None,
    };
    if let Some((what, name)) = unknown {
        let len = u32::try_from(name.chars().count()).unwrap_or(1);
        let names = declared_names(text);
        let d = Diagnostic::new(format!("unknown {what} `{name}`")).at(&at.with_len(len));
        return match crate::diagnostic::suggest(name, names.iter().map(String::as_str)) {
            Some(best) => d.label(format!("did you mean `{best}`?")),
            None if what == "variable" => d.help(format!("declare it first: `let {name} = ...;`")),
            None => d.help(format!("import it first: `import \"{name}\" as {name};`")),
        };
    }
    let mut d = Diagnostic::new(format!("syntax error: {}", error.err_type())).at(&at);
    let line = text.split('\n').nth((at.line as usize).saturating_sub(1)).unwrap_or("");
    let word: String = line
        .chars()
        .skip((at.col as usize).saturating_sub(1))
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if KEYWORDS.contains(&word.as_str()) {
        d.span = Some(at.with_len(u32::try_from(word.chars().count()).unwrap_or(1)));
        d = d.label(format!("`{word}` is a keyword")).help(format!(
            "to use `{word}` as a map key, quote it: `\"{word}\": ...`"
        ));
    }
    d
}

/// The names a script declares (`let`, `const`, `for`, function parameters, `import ... as`),
/// as candidates for "did you mean". A scan of the text, not of scopes: it only suggests.
fn declared_names(text: &str) -> Vec<String> {
    static DECLARED: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b(?:let|const|for|as)\s+([A-Za-z_][A-Za-z0-9_]*)|\bfn\s+[A-Za-z_][A-Za-z0-9_]*\s*\(([^)]*)\)").ok()
    });
    let Some(re) = DECLARED.as_ref() else { return Vec::new() };
    let mut names = Vec::new();
    for c in re.captures_iter(text) {
        if let Some(m) = c.get(1) {
            names.push(m.as_str().to_owned());
        }
        if let Some(params) = c.get(2) {
            names.extend(params.as_str().split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()));
        }
    }
    names.sort();
    names.dedup();
    names
}

fn describe(e: &EvalAltResult, limits: &Limits) -> (String, Option<String>) {
    let loop_help = Some("look for a loop or recursion that never ends".to_owned());
    match e {
        EvalAltResult::ErrorParsing(t, _) => (format!("syntax error: {t}"), None),
        EvalAltResult::ErrorTerminated(token, _) => match token.clone().try_cast::<Stopped>() {
            Some(Stopped::Deadline) => (
                format!("the script ran for more than {} ms and was stopped", limits.deadline.as_millis()),
                loop_help,
            ),
            Some(Stopped::Operations) => (
                format!("the script ran more than {} operations and was stopped", limits.max_operations),
                loop_help,
            ),
            Some(Stopped::Memory) => (
                format!("the script held more than {} MiB of memory and was stopped", limits.max_memory >> 20),
                Some("look for a loop that keeps building larger values or declaring things".to_owned()),
            ),
            // Reported from the `Stop` itself, which knows the call that asked.
            Some(Stopped::Asked) => ("the script was stopped".to_owned(), None),
            None => ("the script was stopped".to_owned(), None),
        },
        EvalAltResult::ErrorTooManyOperations(_) => (
            format!("the script ran more than {} operations and was stopped", limits.max_operations),
            loop_help,
        ),
        EvalAltResult::ErrorStackOverflow(_) => (
            format!("function calls nest deeper than {} levels", limits.max_call_levels),
            Some("look for a function that calls itself without end".to_owned()),
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => (
            format!(
                "{} grew past the limit (strings {} bytes, arrays {} items, maps {} entries)",
                what.to_lowercase(),
                limits.max_string_size,
                limits.max_array_size,
                limits.max_map_size
            ),
            None,
        ),
        EvalAltResult::ErrorTooManyModules(_) => {
            (format!("more than {} modules were imported", limits.max_modules), None)
        }
        EvalAltResult::ErrorTooManyVariables(_) => {
            (format!("more than {} variables are in scope", limits.max_variables), None)
        }
        EvalAltResult::ErrorSystem(message, _) => (message.clone(), None),
        EvalAltResult::ErrorModuleNotFound(name, _) => (format!("no module `{name}`"), None),
        EvalAltResult::ErrorFunctionNotFound(signature, _) => (
            format!("no function `{}`", friendly_signature(signature)),
            Some("check the name and the number and types of its arguments".to_owned()),
        ),
        EvalAltResult::ErrorVariableNotFound(name, _) => (format!("unknown variable `{name}`"), None),
        EvalAltResult::ErrorRuntime(value, _) => match value.clone().try_cast::<ImportError>() {
            Some(import) => (import.0, None),
            None => (value.to_string(), None),
        },
        other => {
            // Rhai appends " (line L, position P)"; the diagnostic shows the place itself.
            let text = other.to_string();
            let text = text.rfind(" (line ").map(|i| &text[..i]).unwrap_or(&text);
            (lower_first(text), None)
        }
    }
}

/// `servce (&str | ImmutableString | String, map)` → `servce(string, map)`.
fn friendly_signature(signature: &str) -> String {
    let signature = signature.trim();
    let Some((name, args)) = signature.split_once(" (") else { return signature.to_owned() };
    let args = args.trim_end_matches(')');
    let friendly: Vec<&str> = if args.trim().is_empty() {
        Vec::new()
    } else {
        args.split(", ")
            .map(|a| match a.trim() {
                t if t.contains("String") || t == "&str" => "string",
                "i64" => "int",
                "f64" => "float",
                "bool" => "bool",
                "()" => "()",
                "array" => "array",
                "map" => "map",
                t if t.contains("ServiceRef") || t == "Service" => "Service",
                t => t,
            })
            .collect()
    };
    format!("{name}({})", friendly.join(", "))
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
