//! Every YAML byte obsbuild reads or writes goes through this module, so the YAML library
//! behind it can be swapped without touching a renderer.
//!
//! Writing uses a small emitter of our own: block style, two-space indentation, sequences
//! indented under their key, short lists of simple words in flow style, and a string quoted
//! only when a YAML 1.1 or 1.2 reader could take it for something else. Tests read every
//! emitted document back to prove the emitter right.
//!
//! The emitter is kept rather than a library's serializer because those quote only what
//! YAML 1.2 would misread: serde_yaml's left `yes`, `no`, `on` and `off` bare, which the
//! YAML 1.1 readers of Prometheus, Alertmanager and Loki take for booleans; and they write
//! sequences flush with their key and never in flow style, unlike the tools' own examples.
//!
//! Reading (`parse`: rendered files read back by the review's semantic diff and by tests;
//! no YAML a user hands obsbuild) uses serde-saphyr, which replaced serde_yaml (archived
//! upstream, RUSTSEC-2024-0320): it is maintained, pure Rust on its own parser (no
//! unsafe-libyaml), written and fuzzed not to panic on any input, and it enforces budgets
//! while it reads, so nesting, alias expansion, node counts and documents per text are
//! bounded and a hostile text is an error rather than a hang, an exhausted memory or a
//! blown stack. serde_norway and serde_yaml_ng, the maintained forks of serde_yaml, were
//! not taken: they keep unsafe-libyaml, the C parser translated to unsafe Rust. The reader
//! is set to read a tree as serde_yaml did (see `options`). It is slower: docs/BENCHMARKS.md
//! has the two side by side on a 4,000-service build, serde-saphyr some 2.2 times slower.

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

/// Largest YAML text read: far above any rendered file (a 10,000-service Prometheus config
/// is a few MiB), far below what would strain memory.
pub const MAX_BYTES: usize = 64 << 20;
/// Deepest nesting of mappings and sequences read. Rendered configs nest a dozen levels;
/// serde-saphyr's default, which keeps its recursive reader well inside a 2 MiB thread
/// stack (a level takes some 20 KiB of stack in a debug build).
pub const MAX_DEPTH: usize = 64;
/// Nodes (scalars, mappings, sequences) a document may hold beyond one per byte of its
/// text: without aliases a node takes at least a byte, so only aliases get near it.
const NODES_BEYOND_BYTES: usize = 250_000;
/// Anchors, aliases and the events replayed through them: the emitter writes none, so
/// these only need room for hand-written YAML that uses a few, and stop an alias bomb early.
const ANCHORS: usize = 1_000;
const ALIASES: usize = 10_000;
const REPLAYED: usize = 100_000;

/// The reader's settings: YAML 1.2's core schema as serde_yaml read it into a tree (only
/// `true`/`false` are booleans; `012` and `1_000` stay strings; `<<` is an ordinary key; of
/// a key given twice the last value counts), and budgets so that hostile text (deep nesting, alias
/// bombs, a huge document, a stream of documents) is refused with an error instead of
/// using unbounded time, memory or stack.
fn options(len: usize) -> serde_saphyr::Options {
    use serde_saphyr::{DuplicateKeyPolicy, MergeKeyPolicy, NonFiniteFloatPolicy};
    let nodes = len.saturating_add(NODES_BEYOND_BYTES);
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_documents: 1,
            max_nodes: nodes,
            max_events: nodes.saturating_mul(2),
            max_total_scalar_bytes: MAX_BYTES,
            max_aliases: ALIASES,
            max_anchors: ANCHORS,
            max_recorded_anchor_events: REPLAYED,
            max_recorded_anchor_bytes: MAX_BYTES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: REPLAYED,
            max_replay_stack_depth: MAX_DEPTH,
        },
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        merge_keys: MergeKeyPolicy::AsOrdinary,
        duplicate_keys: DuplicateKeyPolicy::LastWins,
        // serde_json's tree has no NaN or infinity: such a float reads as null, as it did.
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
        with_snippet: false,
    }
}

/// Parses one YAML document into a settings tree (used to read back rendered files; no
/// user-supplied YAML is read). An error says where (line and column) and what; text past
/// the budgets above is refused, never read whole.
pub fn parse(text: &str) -> Result<Tree, String> {
    if text.len() > MAX_BYTES {
        return Err(format!("the YAML text is {} MiB; at most {} MiB is read", text.len() >> 20, MAX_BYTES >> 20));
    }
    serde_saphyr::from_str_with_options::<Tree>(text, options(text.len())).map_err(|e| {
        if breached(&e) {
            format!("{e}: obsbuild reads one YAML document of at most {MAX_DEPTH} levels of nesting, {ANCHORS} anchors and {ALIASES} aliases")
        } else {
            e.to_string()
        }
    })
}

/// Whether the reader stopped at one of its budgets (perhaps inside an alias's expansion).
fn breached(e: &serde_saphyr::Error) -> bool {
    use serde_saphyr::Error;
    match e {
        Error::Budget { .. } => true,
        Error::AliasError { error, .. } | Error::WithSnippet { error, .. } => breached(error),
        _ => false,
    }
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
    fn numbers_keep_their_kind_and_words_stay_strings() {
        let back = parse("i: 7\nf: 7.0\nneg: -3\nexp: 1e3\nbig: 18446744073709551615\nyes: yes\non: off\nzero: 012\nsep: 1_000\nhex: 0x1F\nt: true\nn: null\n").unwrap();
        let want = serde_json::json!({
            "i": 7, "f": 7.0, "neg": -3, "exp": 1000.0, "big": 18446744073709551615u64, "yes": "yes", "on": "off",
            "zero": "012", "sep": "1_000", "hex": 31, "t": true, "n": null,
        });
        assert_eq!(back, want);
        assert!(back["i"].is_i64() && back["f"].is_f64() && back["exp"].is_f64());
    }

    #[test]
    fn a_billion_laughs_is_refused() {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        for pair in names.windows(2) {
            let (prev, name) = (pair[0], pair[1]);
            text.push_str(&format!("{name}: &{name} [{}]\n", vec![format!("*{prev}"); 10].join(", ")));
        }
        let e = parse(&text).unwrap_err();
        assert!(e.starts_with("budget breached: RecordedAnchorEvents"), "{e}");
        assert!(e.contains("at line"), "{e}");
        assert!(e.contains("1000 anchors and 10000 aliases"), "{e}");
    }

    #[test]
    fn nesting_ten_thousand_deep_is_refused() {
        let flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let e = parse(&flow).unwrap_err();
        assert!(e.starts_with("recursion limit exceeded at line 1"), "{e}");
        // Block sequences: `- - - ... x`.
        let block = format!("{}x\n", "- ".repeat(10_000));
        let e = parse(&block).unwrap_err();
        assert!(e.starts_with("budget breached: Depth"), "{e}");
        assert!(e.contains(&format!("at most {MAX_DEPTH} levels of nesting")), "{e}");
        let block = (0..10_000).map(|i| format!("{:i$}k:\n", "")).take(200).collect::<String>();
        let e = parse(&block).unwrap_err();
        assert!(e.starts_with("budget breached: Depth"), "{e}");
        // The limit itself is taken.
        let at_limit = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&at_limit).is_ok(), "{MAX_DEPTH} deep");
    }

    #[test]
    fn a_huge_document_is_refused_before_reading() {
        let text = "k: v\n".repeat(MAX_BYTES / 5 + 1);
        let e = parse(&text).unwrap_err();
        assert!(e.contains("at most 64 MiB is read"), "{e}");
    }

    #[test]
    fn many_documents_are_refused_and_a_repeated_key_keeps_its_last_value() {
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(e.starts_with("budget breached: Documents"), "{e}");
        assert_eq!(parse("a: 1\nb: 0\na: 2\n").unwrap(), serde_json::json!({ "a": 2, "b": 0 }));
        // An error says what and where.
        let e = parse("a: [1\n").unwrap_err();
        assert_eq!(e, "unclosed bracket '[' at line 1, column 4");
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
