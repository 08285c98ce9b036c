//! Walks a settings tree against a schema node: what is unknown, of the wrong kind,
//! missing, or outside the schema.

use super::format::{DurationDialect, Node};
use super::registry::Registry;
use crate::model::{Dialect, Duration, Tree};

/// Something the walk found at `path` (`limits_config.retention_perod`).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub path: String,
    /// The last key of `path`: the text an error points at in the script.
    pub key: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// `key` is not a setting here; `known` are the ones that are, for "did you mean".
    Unknown { known: Vec<String> },
    /// The value is not of the kind the schema says; `expected` reads "a duration such as `15s`".
    Kind { expected: String, found: String },
    /// `missing` is required inside `path`.
    Missing { missing: String },
    /// The schema does not cover this part; `note` says why.
    Unchecked { note: String },
}

/// Where the walk is: the registry (for references) and the file the node came from.
pub struct Walk<'a> {
    pub registry: &'a Registry,
    pub file: &'a str,
    pub found: Vec<Finding>,
    /// Values come from command-line flags (`--entrypoints.web.address=:80`): keys match
    /// whatever their case, every value is text, and `--section=true` turns a section on.
    pub flags: bool,
}

impl<'a> Walk<'a> {
    pub fn new(registry: &'a Registry, file: &'a str) -> Self {
        Walk { registry, file, found: Vec::new(), flags: false }
    }

    /// Checks `value` (at `path`, whose last key is `key`) against `node`.
    pub fn value(&mut self, node: &'a Node, value: &Tree, path: &str, key: &str) {
        let Some((node, file)) = self.resolve(node) else {
            let note = format!("the schema `{}` names a definition it does not have", self.file);
            self.push(path, key, Problem::Unchecked { note });
            return;
        };
        let outer = std::mem::replace(&mut self.file, file);
        self.resolved(node, value, path, key);
        self.file = outer;
    }

    fn resolved(&mut self, node: &'a Node, value: &Tree, path: &str, key: &str) {
        if value.is_null() {
            return;
        }
        if self.flags && let Tree::String(text) = value && flag_fits(node, text) {
            return;
        }
        match node {
            Node::Any => {}
            Node::Unchecked(note) => self.push(path, key, Problem::Unchecked { note: note.clone() }),
            Node::Object { keys, required, additional } => {
                let Tree::Object(map) = value else {
                    return self.kind(path, key, "a map of settings (`#{ ... }`)", value);
                };
                for (k, v) in map {
                    let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    let key_here = if self.flags { keys.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, n)| n) } else { keys.get(k) };
                    match key_here.or(additional.as_deref()) {
                        Some(n) => self.value(n, v, &here, k),
                        None => self.push(&here, k, Problem::Unknown { known: keys.keys().cloned().collect() }),
                    }
                }
                for r in required {
                    if !map.contains_key(r) {
                        self.push(path, key, Problem::Missing { missing: r.clone() });
                    }
                }
            }
            Node::List(of) => {
                let Tree::Array(items) = value else {
                    return self.kind(path, key, "a list (`[...]`)", value);
                };
                for (i, item) in items.iter().enumerate() {
                    self.value(of, item, &format!("{path}[{i}]"), key);
                }
            }
            Node::String => {
                if value.is_object() || value.is_array() {
                    self.kind(path, key, "a string", value);
                }
            }
            Node::Enum { values, any_case } => {
                let text = scalar_text(value);
                let fits = |t: &str| values.iter().any(|v| if *any_case { v.eq_ignore_ascii_case(t) } else { v == t });
                if !text.as_deref().is_some_and(fits) {
                    let list: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                    let case = if *any_case { " (in any case)" } else { "" };
                    self.kind(path, key, &format!("one of {}{case}", list.join(", ")), value);
                }
            }
            Node::OneOf(nodes) => self.one_of(nodes, value, path, key),
            Node::Bool => {
                if !value.is_boolean() {
                    self.kind(path, key, "`true` or `false`", value);
                }
            }
            Node::Int => {
                if !(value.is_i64() || value.is_u64()) {
                    self.kind(path, key, "a whole number such as `10`", value);
                }
            }
            Node::Float => {
                if !value.is_number() {
                    self.kind(path, key, "a number such as `0.5`", value);
                }
            }
            Node::Duration(dialect) => {
                let ok = value.as_str().is_some_and(|t| is_duration(t, *dialect));
                if !ok {
                    self.kind(path, key, duration_example(*dialect), value);
                }
            }
            Node::Size => {
                let ok = value.is_u64() || value.as_str().is_some_and(is_size);
                if !ok {
                    self.kind(path, key, "a size such as `10MB` (or a number of bytes)", value);
                }
            }
            Node::Ref(_) => {
                let note = format!("a definition of the schema `{}` refers only to another", self.file);
                self.push(path, key, Problem::Unchecked { note });
            }
        }
    }

    /// Accepts `value` when one of `nodes` takes it (what is unchecked inside it is still
    /// listed); otherwise reports what the closest one found: a node of another shape
    /// altogether (a map where a list was written) is the farthest.
    fn one_of(&mut self, nodes: &'a [Node], value: &Tree, path: &str, key: &str) {
        let mut closest: Option<(usize, Vec<Finding>)> = None;
        for node in nodes {
            let mut alone = Walk { registry: self.registry, file: self.file, found: Vec::new(), flags: self.flags };
            alone.value(node, value, path, key);
            if alone.found.iter().all(|f| matches!(f.problem, Problem::Unchecked { .. })) {
                self.found.extend(alone.found);
                return;
            }
            let other_shape = alone.found.iter().any(|f| f.path == path && matches!(f.problem, Problem::Kind { .. }));
            let distance = if other_shape { usize::MAX } else { alone.found.len() };
            if closest.as_ref().is_none_or(|(d, _)| distance < *d) {
                closest = Some((distance, alone.found));
            }
        }
        self.found.extend(closest.map(|(_, found)| found).unwrap_or_default());
    }

    /// Follows references (at most a few hops: a file that refers in a circle is broken,
    /// and its test says so) to a node and the file it is in.
    fn resolve(&self, node: &'a Node) -> Option<(&'a Node, &'a str)> {
        let (mut node, mut file) = (node, self.file);
        for _ in 0..8 {
            let Node::Ref(name) = node else { return Some((node, file)) };
            (node, file) = self.registry.definition(file, name)?;
        }
        None
    }

    fn kind(&mut self, path: &str, key: &str, expected: &str, value: &Tree) {
        let found = serde_json::to_string(value).unwrap_or_default();
        self.push(path, key, Problem::Kind { expected: expected.to_owned(), found });
    }

    fn push(&mut self, path: &str, key: &str, problem: Problem) {
        self.found.push(Finding { path: path.to_owned(), key: key.to_owned(), problem });
    }
}

/// Whether the text of a flag is a value of `node`, which flags write as text.
fn flag_fits(node: &Node, text: &str) -> bool {
    match node {
        Node::Bool | Node::Object { .. } => text == "true" || text == "false",
        Node::Int => text.parse::<i64>().is_ok(),
        Node::Float => text.parse::<f64>().is_ok(),
        Node::List(_) => true,
        _ => false,
    }
}

fn scalar_text(value: &Tree) -> Option<String> {
    match value {
        Tree::String(s) => Some(s.clone()),
        Tree::Number(n) => Some(n.to_string()),
        Tree::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn duration_example(dialect: DurationDialect) -> &'static str {
    match dialect {
        DurationDialect::Go => "a duration such as `15s` or `1m30s` (units ns, us, ms, s, m, h; a day is `24h`)",
        DurationDialect::Prometheus => "a duration such as `15s`, `5m` or `1d` (units ms, s, m, h, d, w, y, largest first)",
        DurationDialect::Either => "a duration such as `15s`, `10m` or `24h`",
    }
}

fn is_duration(text: &str, dialect: DurationDialect) -> bool {
    let prometheus = || Duration::parse(text, Dialect::Prometheus).is_ok();
    match dialect {
        DurationDialect::Go => is_go_duration(text),
        DurationDialect::Prometheus => prometheus(),
        DurationDialect::Either => is_go_duration(text) || prometheus(),
    }
}

/// Go's `time.ParseDuration` grammar: `[-+]` then one or more decimal numbers (fractions
/// allowed) each with a unit; `0` alone. The model's parser is stricter (whole numbers, for
/// Docker), so it is not the one to judge what the collector or Loki accept.
fn is_go_duration(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    if t == "0" {
        return true;
    }
    let mut rest = t;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let number = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        let digits = &rest[..number];
        if number == 0 || digits == "." || digits.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[number..];
        let Some(unit) = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"].into_iter().find(|u| rest.starts_with(u)) else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

/// A byte size as the Go libraries upstream read them (`256KB`, `1MiB`, `10GB`, `512`).
fn is_size(text: &str) -> bool {
    let t = text.trim();
    let number = t.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
    if number == 0 {
        return false;
    }
    let unit = t[number..].trim_start().to_ascii_lowercase();
    ["", "b", "k", "kb", "kib", "m", "mb", "mib", "g", "gb", "gib", "t", "tb", "tib", "p", "pb", "pib", "e", "eb", "eib"].contains(&unit.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_their_dialect() {
        assert!(is_go_duration("1m30s") && is_go_duration("1.5h") && is_go_duration("0") && is_go_duration("500ms"));
        assert!(!is_go_duration("1d") && !is_go_duration("15") && !is_go_duration("") && !is_go_duration("s"));
        assert!(is_duration("1d", DurationDialect::Prometheus) && !is_duration("30m1h", DurationDialect::Prometheus));
        assert!(is_duration("1w", DurationDialect::Either) && is_duration("1.5s", DurationDialect::Either));
    }

    fn walk_json(node: &str, value: serde_json::Value) -> Vec<Finding> {
        let node: Node = serde_json::from_str(node).expect("a test node parses");
        let mut w = Walk::new(Registry::get(), "test");
        w.value(&node, &value, "x", "x");
        w.found
    }

    #[test]
    fn one_of_takes_either_shape() {
        let headers = r#"{"kind":"one_of","nodes":[{"kind":"object","additional":"string"},
            {"kind":"list","of":{"kind":"object","keys":{"name":"string","value":"string"}}}]}"#;
        assert!(walk_json(headers, serde_json::json!({"X-Tenant": "a"})).is_empty());
        assert!(walk_json(headers, serde_json::json!([{"name": "X-Tenant", "value": "a"}])).is_empty());
        let wrong = walk_json(headers, serde_json::json!([{"name": "X-Tenant", "valeu": "a"}]));
        assert!(matches!(&wrong[..], [Finding { problem: Problem::Unknown { .. }, .. }]), "{wrong:?}");
    }

    #[test]
    fn enums_may_take_any_case() {
        let level = r#"{"kind":"enum","values":["basic","detailed"],"any_case":true}"#;
        assert!(walk_json(level, serde_json::json!("Detailed")).is_empty());
        assert!(!walk_json(level, serde_json::json!("loud")).is_empty());
        assert!(!walk_json(r#"{"kind":"enum","values":["basic"]}"#, serde_json::json!("Basic")).is_empty());
    }

    #[test]
    fn sizes_take_upstream_units() {
        assert!(is_size("256KB") && is_size("10MiB") && is_size("512") && is_size("1.5 GB"));
        assert!(!is_size("ten") && !is_size("10 parsecs") && !is_size(""));
    }
}
