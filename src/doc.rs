//! An ordered document tree: what renderers build and `yaml`/JSON emitters print.
//!
//! Map entries keep the order renderers put them in (the order people read a component's
//! documentation in); settings that come from scripts arrive sorted. Either way the order is a
//! function of the input alone, which is what the store's hash needs.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::model::Tree;

#[derive(Clone, Debug, PartialEq)]
pub enum Doc {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Doc>),
    Map(Vec<(String, Doc)>),
}

impl Doc {
    pub fn map() -> Doc {
        Doc::Map(Vec::new())
    }

    pub fn str(s: impl Into<String>) -> Doc {
        Doc::Str(s.into())
    }

    pub fn strs<I, S>(items: I) -> Doc
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Doc::Seq(items.into_iter().map(|s| Doc::Str(s.into())).collect())
    }

    /// Builder form of [`Doc::set`].
    pub fn with(mut self, key: &str, value: impl Into<Doc>) -> Doc {
        self.set(key, value);
        self
    }

    /// Builder form that skips `None`.
    pub fn with_opt<V: Into<Doc>>(mut self, key: &str, value: Option<V>) -> Doc {
        if let Some(v) = value {
            self.set(key, v);
        }
        self
    }

    /// Sets `key`, replacing its value in place if present, else appending it.
    pub fn set(&mut self, key: &str, value: impl Into<Doc>) {
        let value = value.into();
        if let Doc::Map(entries) = self {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key.to_owned(), value)),
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&Doc> {
        match self {
            Doc::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Doc> {
        match self {
            Doc::Map(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Doc> {
        match self {
            Doc::Map(entries) => {
                let at = entries.iter().position(|(k, _)| k == key)?;
                Some(entries.remove(at).1)
            }
            _ => None,
        }
    }

    pub fn is_empty_map(&self) -> bool {
        matches!(self, Doc::Map(e) if e.is_empty())
    }

    /// Converts a settings tree, keeping the sorted order of its maps.
    pub fn from_tree(tree: &Tree) -> Doc {
        match tree {
            Tree::Null => Doc::Null,
            Tree::Bool(b) => Doc::Bool(*b),
            Tree::Number(n) => match n.as_i64() {
                Some(i) => Doc::Int(i),
                None => Doc::Float(n.as_f64().unwrap_or(0.0)),
            },
            Tree::String(s) => Doc::Str(s.clone()),
            Tree::Array(items) => Doc::Seq(items.iter().map(Doc::from_tree).collect()),
            Tree::Object(map) => {
                Doc::Map(map.iter().map(|(k, v)| (k.clone(), Doc::from_tree(v))).collect())
            }
        }
    }

    /// The settings tree a reader of the emitted YAML or JSON gets back: what the review
    /// compares, without parsing the file it was written to. Non-finite floats become
    /// `null`, as serde_json reads `.nan` and `.inf`; a key set twice keeps its last value.
    pub fn into_tree(self) -> Tree {
        match self {
            Doc::Null => Tree::Null,
            Doc::Bool(b) => Tree::Bool(b),
            Doc::Int(i) => Tree::Number(i.into()),
            Doc::Float(f) => serde_json::Number::from_f64(f).map_or(Tree::Null, Tree::Number),
            Doc::Str(s) => Tree::String(s),
            Doc::Seq(items) => Tree::Array(items.into_iter().map(Doc::into_tree).collect()),
            Doc::Map(entries) => Tree::Object(entries.into_iter().map(|(k, v)| (k, v.into_tree())).collect()),
        }
    }

    /// Deep merge of a settings tree over this document: maps merge key by key (new keys are
    /// appended in sorted order), anything else replaces; `null` removes the key.
    pub fn merge_tree(&mut self, over: &Tree) {
        match (self, over) {
            (Doc::Map(entries), Tree::Object(map)) => {
                for (key, value) in map {
                    let at = entries.iter().position(|(k, _)| k == key);
                    match (at, value) {
                        (Some(i), Tree::Null) => {
                            entries.remove(i);
                        }
                        (None, Tree::Null) => {}
                        (Some(i), v) => entries[i].1.merge_tree(v),
                        (None, v) => entries.push((key.clone(), Doc::from_tree(v))),
                    }
                }
            }
            (this, v) => *this = Doc::from_tree(v),
        }
    }

    /// Moves the keys named in `order` to the front, in that order; others keep theirs.
    pub fn order_keys(&mut self, order: &[&str]) {
        if let Doc::Map(entries) = self {
            let mut front = Vec::new();
            for key in order {
                if let Some(i) = entries.iter().position(|(k, _)| k == key) {
                    front.push(entries.remove(i));
                }
            }
            front.append(entries);
            *entries = front;
        }
    }

    /// Applies `f` to every string in the document (values, not keys).
    pub fn map_strings(&mut self, f: &dyn Fn(&str) -> String) {
        match self {
            Doc::Str(s) => *s = f(s),
            Doc::Seq(items) => items.iter_mut().for_each(|d| d.map_strings(f)),
            Doc::Map(entries) => entries.iter_mut().for_each(|(_, d)| d.map_strings(f)),
            _ => {}
        }
    }

    /// Pretty JSON with two-space indentation and a final newline.
    pub fn to_json(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).unwrap_or_default();
        out.push('\n');
        out
    }
}

impl From<&str> for Doc {
    fn from(s: &str) -> Doc {
        Doc::Str(s.to_owned())
    }
}
impl From<String> for Doc {
    fn from(s: String) -> Doc {
        Doc::Str(s)
    }
}
impl From<&String> for Doc {
    fn from(s: &String) -> Doc {
        Doc::Str(s.clone())
    }
}
/// A duration or size is written as the script wrote it.
impl From<&crate::model::Duration> for Doc {
    fn from(d: &crate::model::Duration) -> Doc {
        Doc::Str(d.text().to_owned())
    }
}
impl From<&crate::model::PrometheusSize> for Doc {
    fn from(s: &crate::model::PrometheusSize) -> Doc {
        Doc::Str(s.text().to_owned())
    }
}
impl From<bool> for Doc {
    fn from(b: bool) -> Doc {
        Doc::Bool(b)
    }
}
impl From<i64> for Doc {
    fn from(i: i64) -> Doc {
        Doc::Int(i)
    }
}
impl From<u16> for Doc {
    fn from(i: u16) -> Doc {
        Doc::Int(i64::from(i))
    }
}
impl From<u32> for Doc {
    fn from(i: u32) -> Doc {
        Doc::Int(i64::from(i))
    }
}
impl From<usize> for Doc {
    fn from(i: usize) -> Doc {
        Doc::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Doc {
    fn from(f: f64) -> Doc {
        Doc::Float(f)
    }
}
impl From<Vec<Doc>> for Doc {
    fn from(v: Vec<Doc>) -> Doc {
        Doc::Seq(v)
    }
}
impl From<&Tree> for Doc {
    fn from(t: &Tree) -> Doc {
        Doc::from_tree(t)
    }
}

impl Serialize for Doc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Doc::Null => s.serialize_unit(),
            Doc::Bool(b) => s.serialize_bool(*b),
            Doc::Int(i) => s.serialize_i64(*i),
            Doc::Float(f) => s.serialize_f64(*f),
            Doc::Str(v) => s.serialize_str(v),
            Doc::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Doc::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_keeps_order_and_appends_new_keys() {
        let mut d = Doc::map().with("b", 1i64).with("a", Doc::map().with("x", 1i64));
        d.merge_tree(&json!({"a": {"y": 2}, "c": 3, "b": null}));
        assert_eq!(d.to_json(), "{\n  \"a\": {\n    \"x\": 1,\n    \"y\": 2\n  },\n  \"c\": 3\n}\n");
    }

    #[test]
    fn order_keys_moves_named_keys_first() {
        let mut d = Doc::map().with("c", 1i64).with("a", 2i64).with("b", 3i64);
        d.order_keys(&["b", "zzz", "c"]);
        let keys: Vec<_> = match &d {
            Doc::Map(e) => e.iter().map(|(k, _)| k.as_str()).collect(),
            _ => vec![],
        };
        assert_eq!(keys, ["b", "c", "a"]);
    }
}
