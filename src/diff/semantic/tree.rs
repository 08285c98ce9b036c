//! The structured path diff every component differ builds on, and the fallback for files no
//! component claims: two parsed documents in, a list of leaf-most changes with their paths out.
//!
//! Pure. Lists of maps are matched by an identity key (`job_name`, `alert`, `uid`, ...) when
//! every item has one, so reordering a list is not a change and an edit names its item
//! (`scrape_configs[job_name=loki].scrape_interval`) rather than an index that shifts.

use serde_json::Value;

/// One step of a path into a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A map key.
    Key(String),
    /// A list item matched by its identity key: `[job_name=loki]`.
    Item { key: String, value: String },
    /// A list item matched by position, when its items have no identity key.
    Index(usize),
}

/// What happened at a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Added,
    Removed,
    Changed,
    /// Same content at another place (dashboard panels with `--layout`).
    Moved,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Removed => "removed",
            Kind::Changed => "changed",
            Kind::Moved => "moved",
        }
    }
}

/// A difference at one path: the old and new values (absent on the side that lacks it).
#[derive(Clone, Debug, PartialEq)]
pub struct PathChange {
    pub path: Vec<Seg>,
    pub kind: Kind,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// Identity keys tried in this order; the first one every item of a list has (with
/// distinct scalar values) matches the items of both sides.
/// `a|b` takes whichever of `a` and `b` an item has (Prometheus rules mix `alert` and `record`).
pub const DEFAULT_KEYS: &[&str] = &["job_name", "alert|record", "uid", "name", "title", "refId", "from", "receiver"];

/// Every difference between `old` and `new`, in document order.
pub fn diff(old: &Value, new: &Value, keys: &[&str]) -> Vec<PathChange> {
    let mut out = Vec::new();
    walk(&mut Vec::new(), old, new, keys, &mut out);
    out
}

fn walk(path: &mut Vec<Seg>, old: &Value, new: &Value, keys: &[&str], out: &mut Vec<PathChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                path.push(Seg::Key(k.clone()));
                match b.get(k) {
                    Some(vb) => walk(path, va, vb, keys, out),
                    None => out.push(removed(path, va)),
                }
                path.pop();
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    path.push(Seg::Key(k.clone()));
                    out.push(added(path, vb));
                    path.pop();
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if !all_scalars(a) || !all_scalars(b) => match identity(a, b, keys) {
            Some(key) => keyed(path, a, b, key, keys, out),
            None => {
                for i in 0..a.len().max(b.len()) {
                    path.push(Seg::Index(i));
                    match (a.get(i), b.get(i)) {
                        (Some(va), Some(vb)) => walk(path, va, vb, keys, out),
                        (Some(va), None) => out.push(removed(path, va)),
                        (None, Some(vb)) => out.push(added(path, vb)),
                        (None, None) => {}
                    }
                    path.pop();
                }
            }
        },
        // Scalars, lists of scalars (`[loki] → [loki, debug]` reads best whole) and type changes.
        _ => out.push(PathChange { path: path.clone(), kind: Kind::Changed, old: Some(old.clone()), new: Some(new.clone()) }),
    }
}

fn keyed(path: &mut Vec<Seg>, a: &[Value], b: &[Value], key: &str, keys: &[&str], out: &mut Vec<PathChange>) {
    let id = |v: &Value| ident(v, key).map(|(_, id)| id).unwrap_or_default();
    let seg = |v: &Value| {
        let (k, value) = ident(v, key).unwrap_or_default();
        Seg::Item { key: k.to_owned(), value }
    };
    // `identity` made sure each id is unique on its side, so a map finds the same item a
    // scan would, without comparing every item with every other (a thousand scrape jobs).
    let in_b: std::collections::BTreeMap<String, &Value> = b.iter().map(|vb| (id(vb), vb)).collect();
    let in_a: std::collections::BTreeSet<String> = a.iter().map(id).collect();
    for va in a {
        path.push(seg(va));
        match in_b.get(&id(va)) {
            Some(vb) => walk(path, va, vb, keys, out),
            None => out.push(removed(path, va)),
        }
        path.pop();
    }
    for vb in b {
        if !in_a.contains(&id(vb)) {
            path.push(seg(vb));
            out.push(added(path, vb));
            path.pop();
        }
    }
}

/// The first key of `keys` that every item on both sides has, with values unique per side.
fn identity<'k>(a: &[Value], b: &[Value], keys: &[&'k str]) -> Option<&'k str> {
    keys.iter().copied().find(|key| [a, b].iter().all(|side| unique_scalars(side, key)))
}

/// The alternative of `key` the item has, and its value, when that is a scalar.
fn ident<'k>(v: &Value, key: &'k str) -> Option<(&'k str, String)> {
    key.split('|').find_map(|k| v.get(k).filter(|x| !x.is_object() && !x.is_array()).map(|x| (k, scalar(x))))
}

fn unique_scalars(items: &[Value], key: &str) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    items.iter().all(|v| ident(v, key).is_some_and(|id| seen.insert(id)))
}

fn all_scalars(items: &[Value]) -> bool {
    items.iter().all(|v| !v.is_object() && !v.is_array())
}

fn added(path: &[Seg], v: &Value) -> PathChange {
    PathChange { path: path.to_vec(), kind: Kind::Added, old: None, new: Some(v.clone()) }
}

fn removed(path: &[Seg], v: &Value) -> PathChange {
    PathChange { path: path.to_vec(), kind: Kind::Removed, old: Some(v.clone()), new: None }
}

/// A value on one line: strings bare, everything else as compact JSON.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `a.b[job_name=x].c[0]`, the form a reader can find in the file.
pub fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Item { key, value } => out.push_str(&format!("[{key}={value}]")),
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keyed_lists_match_by_identity_not_position() {
        let old = json!({"scrape_configs": [{"job_name": "a", "scrape_interval": "15s"}, {"job_name": "b"}]});
        let new = json!({"scrape_configs": [{"job_name": "b"}, {"job_name": "a", "scrape_interval": "30s"}]});
        let d = diff(&old, &new, DEFAULT_KEYS);
        assert_eq!(d.len(), 1);
        assert_eq!(path_text(&d[0].path), "scrape_configs[job_name=a].scrape_interval");
        assert_eq!(d[0].old, Some(json!("15s")));
    }

    #[test]
    fn scalar_lists_change_whole_and_unkeyed_lists_by_index() {
        let old = json!({"e": ["loki"], "r": [{"x": 1}]});
        let new = json!({"e": ["loki", "debug"], "r": [{"x": 2}, {"x": 3}]});
        let d: Vec<String> = diff(&old, &new, DEFAULT_KEYS).iter().map(|c| format!("{} {}", path_text(&c.path), c.kind.as_str())).collect();
        assert_eq!(d, ["e changed", "r[0].x changed", "r[1] added"]);
    }
}
