//! Every YAML byte obsbuild reads or writes goes through this module, so the YAML library
//! behind it can be swapped without touching a renderer.
//!
//! Writing uses a small emitter of our own: block style, two-space indentation, sequences
//! indented under their key, short lists of simple words in flow style, and a string quoted
//! only when a YAML 1.1 or 1.2 reader could take it for something else. Reading uses
//! `serde_yaml`; tests read every emitted document back to prove the emitter right.
//!
//! The emitter is kept rather than `serde_yaml`'s serializer because that one quotes only
//! what YAML 1.2 would misread: it leaves `yes`, `no`, `on` and `off` bare, which the YAML
//! 1.1 readers of Prometheus, Alertmanager and Loki take for booleans; and it writes
//! sequences flush with their key and never in flow style, unlike the tools' own examples.

use std::fmt::Write;

use crate::model::Tree;
use crate::doc::Doc;

/// Longest line a flow-style list may make.
const FLOW_WIDTH: usize = 100;

/// YAML text of `doc`, after `header` lines written as comments.
pub fn emit(doc: &Doc, header: &[&str]) -> String {
    let mut out = String::new();
    for line in header {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
    match doc {
        Doc::Map(entries) if !entries.is_empty() => map(&mut out, entries, 0),
        Doc::Seq(items) if !items.is_empty() => seq(&mut out, items, 0),
        other => {
            out.push_str(&scalar_or_empty(other));
            out.push('\n');
        }
    }
    out
}

/// Parses YAML into a settings tree (used to read back output and user-supplied YAML).
pub fn parse(text: &str) -> Result<Tree, String> {
    serde_yaml::from_str::<Tree>(text).map_err(|e| e.to_string())
}

fn map(out: &mut String, entries: &[(String, Doc)], indent: usize) {
    for (key, value) in entries {
        let _ = write!(out, "{:indent$}{}:", "", scalar_str(key, false));
        value_after_key(out, value, indent, indent + key.len() + 2);
    }
}

fn value_after_key(out: &mut String, value: &Doc, indent: usize, used: usize) {
    match value {
        Doc::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            map(out, entries, indent + 2);
        }
        Doc::Seq(items) if !items.is_empty() => match flow(items, used) {
            Some(text) => {
                let _ = writeln!(out, " {text}");
            }
            None => {
                out.push('\n');
                seq(out, items, indent + 2);
            }
        },
        other => {
            let _ = writeln!(out, " {}", scalar_or_empty(other));
        }
    }
}

fn seq(out: &mut String, items: &[Doc], indent: usize) {
    for item in items {
        let _ = write!(out, "{:indent$}- ", "");
        match item {
            Doc::Map(entries) if !entries.is_empty() => {
                // The first entry shares the line with the dash; the rest align under it.
                let mut nested = String::new();
                map(&mut nested, entries, indent + 2);
                out.push_str(&nested[indent + 2..]);
            }
            Doc::Seq(items) if !items.is_empty() => match flow(items, indent + 2) {
                Some(text) => {
                    let _ = writeln!(out, "{text}");
                }
                None => {
                    let mut nested = String::new();
                    seq(&mut nested, items, indent + 2);
                    out.push_str(&nested[indent + 2..]);
                }
            },
            other => {
                let _ = writeln!(out, "{}", scalar_or_empty(other));
            }
        }
    }
}

/// `[a, b, c]` when every item is a simple word and the line stays short.
fn flow(items: &[Doc], used: usize) -> Option<String> {
    let mut words = Vec::with_capacity(items.len());
    for item in items {
        let word = match item {
            Doc::Str(s) if flow_word(s) => s.clone(),
            Doc::Int(i) => i.to_string(),
            Doc::Bool(b) => b.to_string(),
            _ => return None,
        };
        words.push(word);
    }
    let text = format!("[{}]", words.join(", "));
    (used + text.len() <= FLOW_WIDTH).then_some(text)
}

fn flow_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c))
        && !s.starts_with(['-', '.'])
        && plain_ok(s)
}

fn scalar_or_empty(doc: &Doc) -> String {
    match doc {
        Doc::Null => "null".to_owned(),
        Doc::Bool(b) => b.to_string(),
        Doc::Int(i) => i.to_string(),
        Doc::Float(f) => float(*f),
        Doc::Str(s) => scalar_str(s, false),
        Doc::Seq(_) => "[]".to_owned(),
        Doc::Map(_) => "{}".to_owned(),
    }
}

fn float(f: f64) -> String {
    if f.is_nan() {
        ".nan".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf".to_owned() } else { "-.inf".to_owned() }
    } else {
        let s = format!("{f}");
        if s.contains(['.', 'e', 'E']) { s } else { format!("{s}.0") }
    }
}

fn scalar_str(s: &str, _flow: bool) -> String {
    if plain_ok(s) { s.to_owned() } else { quoted(s) }
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `s` reads back as the same string when written without quotes, under YAML 1.1
/// (Go's yaml.v2, used by Prometheus and Loki) as well as YAML 1.2.
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s || s.contains(['\n', '\r', '\t']) || s.chars().any(char::is_control) {
        return false;
    }
    if "?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if first == '-' && (s.len() == 1 || s.starts_with("- ") || s.starts_with("---")) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if s.contains(['\u{85}', '\u{2028}', '\u{2029}', '\u{feff}']) {
        return false;
    }
    !reserved_word(s) && !number_like(s) && !date_like(s)
}

fn reserved_word(s: &str) -> bool {
    const WORDS: [&str; 14] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", "-.inf", "+.inf", ".nan",
    ];
    let lower = s.to_ascii_lowercase();
    WORDS.contains(&lower.as_str()) || lower == "<<" || lower == "="
}

/// Anything a YAML 1.1 reader may parse as a number: ints (with `_`, `0x`, `0o`, `0b`,
/// leading zeros), floats, exponents and sexagesimal `1:30`.
fn number_like(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let Some(first) = body.chars().next() else {
        return false;
    };
    if !(first.is_ascii_digit() || first == '.') {
        return false;
    }
    let lower = body.to_ascii_lowercase();
    let hexish = lower.starts_with("0x") || lower.starts_with("0o") || lower.starts_with("0b");
    if hexish && lower[2..].chars().all(|c| c.is_ascii_hexdigit() || c == '_') {
        return true;
    }
    // Digits with at most `.`, `_`, `:` and an exponent: treat as a number.
    let mut chars = lower.chars().peekable();
    let mut seen_digit = false;
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => seen_digit = true,
            '.' | '_' | ':' => {}
            'e' => {
                if chars.peek().is_some_and(|c| *c == '+' || *c == '-') {
                    chars.next();
                }
            }
            _ => return false,
        }
    }
    seen_digit
}

fn date_like(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(doc: &Doc) {
        let text = emit(doc, &[]);
        let back = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let want: Tree = serde_json::to_value(doc).unwrap();
        assert_eq!(back, want, "\n{text}");
    }

    #[test]
    fn tricky_strings_read_back_unchanged() {
        let tricky = [
            "", " ", "true", "False", "yes", "NO", "on", "off", "y", "n", "null", "~", "1", "-1", "1.5",
            "1e3", "0x1F", "0o17", "012", "1_000", "3001:3000", "22:22", "1:30", ".inf", ".NaN",
            "2024-04-01", "- a", "-", "---", "--config.file=/etc/x.yml", "a: b", "a #b", "a#b", "key:",
            "#x", "&x", "*x", "!x", "|x", ">x", "'x'", "\"x\"", "%x", "@x", "`x`", "{x}", "[x]", "x, y",
            "? x", ": x", "multi\nline", "tab\there", "{{ $labels.job }} is down", "$${__value.raw}",
            "é ü 日本", "trailing ", " leading", "\u{7f}", "a\u{2028}b", "10s", "v3.14.0", "<<", "=",
            "http://loki:3100/otlp", "0.0.0.0:4317", "E1", "1e", "+", ".", "..", "1.2.3",
        ];
        for s in tricky {
            round_trip(&Doc::map().with("k", s).with(s, "v"));
            round_trip(&Doc::Seq(vec![Doc::str(s), Doc::strs([s, "a"])]));
        }
    }

    #[test]
    fn numbers_and_nesting_read_back() {
        let doc = Doc::map()
            .with("i", -42i64)
            .with("f", 1.0f64)
            .with("g", 0.25f64)
            .with("big", 1e21f64)
            .with("empty_map", Doc::map())
            .with("empty_seq", Doc::Seq(vec![]))
            .with("null", Doc::Null)
            .with(
                "list",
                Doc::Seq(vec![
                    Doc::map().with("a", 1i64).with("b", Doc::map().with("c", Doc::strs(["x"]))),
                    Doc::Seq(vec![Doc::map().with("deep", true)]),
                    Doc::Seq(vec![Doc::Int(1), Doc::Int(2)]),
                ]),
            );
        round_trip(&doc);
    }

    #[test]
    fn layout_is_the_conventional_one() {
        let doc = Doc::map()
            .with("scrape_configs", Doc::Seq(vec![Doc::map()
                .with("job_name", "otel-collector")
                .with("static_configs", Doc::Seq(vec![Doc::map().with("targets", Doc::strs(["otel-collector:8889"]))]))]))
            .with("processors", Doc::strs(["memory_limiter", "batch"]));
        let text = emit(&doc, &["generated"]);
        assert_eq!(
            text,
            "# generated\nscrape_configs:\n  - job_name: otel-collector\n    static_configs:\n      - targets:\n          - otel-collector:8889\nprocessors: [memory_limiter, batch]\n"
        );
    }
}
