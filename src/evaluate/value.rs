//! Script values → settings trees and typed specs, with errors that name the field.

use rhai::Dynamic;
use serde::de::DeserializeOwned;

use super::builder::ServiceRef;
use crate::model::Tree;

/// Deepest nesting accepted in a value; script limits already bound it, this keeps the
/// conversion itself from recursing without end on a self-referencing shared value.
const MAX_DEPTH: usize = 64;

/// Most bytes one value handed to obsbuild may take as a settings tree (its strings, and a
/// few bytes for every other item). Script values share strings, config files do not: a
/// map of 20,000 entries naming one 1 MiB string is 20 GB once written out.
pub const MAX_VALUE_BYTES: usize = 32 << 20;

/// What one item of a tree costs besides its text, for [`MAX_VALUE_BYTES`].
const ITEM_BYTES: usize = 16;

/// Converts a script value into a settings tree. A service handle becomes its name, so
/// `depends_on: [loki]` and `depends_on: ["loki"]` mean the same.
pub fn to_tree(value: &Dynamic) -> Result<Tree, String> {
    to_tree_within(value, MAX_VALUE_BYTES)
}

/// [`to_tree`], refusing a value that would take more than `max_bytes`.
pub fn to_tree_within(value: &Dynamic, max_bytes: usize) -> Result<Tree, String> {
    let mut left = max_bytes;
    convert(value, Path::Root, 0, &mut left).map_err(|e| match e {
        Refused::TooLarge => format!(
            "the value is larger than {} MiB once written out (shared strings count each time they appear)",
            max_bytes >> 20
        ),
        Refused::Other(message) => message,
    })
}

enum Refused {
    TooLarge,
    Other(String),
}

impl From<String> for Refused {
    fn from(message: String) -> Self {
        Refused::Other(message)
    }
}

impl From<&str> for Refused {
    fn from(message: &str) -> Self {
        Refused::Other(message.to_owned())
    }
}

fn spend(left: &mut usize, bytes: usize) -> Result<(), Refused> {
    *left = left.checked_sub(bytes.saturating_add(ITEM_BYTES)).ok_or(Refused::TooLarge)?;
    Ok(())
}

/// Where a value sits in the one being converted, written out only for an error: a path
/// string per item made every array item and map entry allocate.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    /// `a.b[2].c`; empty at the root.
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, key) => match parent.render() {
                p if p.is_empty() => (*key).to_owned(),
                p => format!("{p}.{key}"),
            },
            Path::Index(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }
}

fn convert(value: &Dynamic, path: Path, depth: usize, left: &mut usize) -> Result<Tree, Refused> {
    if depth > MAX_DEPTH {
        return Err(format!("`{}` is nested more than {MAX_DEPTH} levels deep", path.render()).into());
    }
    spend(left, 0)?;
    if value.is_unit() {
        return Ok(Tree::Null);
    }
    if let Ok(b) = value.as_bool() {
        return Ok(Tree::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Ok(Tree::from(i));
    }
    if let Ok(f) = value.as_float() {
        return serde_json::Number::from_f64(f)
            .map(Tree::Number)
            .ok_or_else(|| format!("`{}` is {f}, which no config file can hold", path.render()).into());
    }
    if let Ok(c) = value.as_char() {
        return Ok(Tree::String(c.to_string()));
    }
    if value.is_string() {
        let text = value.read_lock::<rhai::ImmutableString>().ok_or("string is locked")?;
        spend(left, text.len())?;
        return Ok(Tree::String(text.to_string()));
    }
    if value.is_array() {
        let array = value.read_lock::<rhai::Array>().ok_or("array is locked")?;
        let mut items = Vec::with_capacity(array.len());
        for (i, item) in array.iter().enumerate() {
            items.push(convert(item, Path::Index(&path, i), depth + 1, left)?);
        }
        return Ok(Tree::Array(items));
    }
    if value.is_map() {
        let map = value.read_lock::<rhai::Map>().ok_or("map is locked")?;
        let mut out = serde_json::Map::new();
        for (key, item) in map.iter() {
            spend(left, key.len())?;
            out.insert(key.to_string(), convert(item, Path::Key(&path, key), depth + 1, left)?);
        }
        return Ok(Tree::Object(out));
    }
    // After arrays and maps, which a service handle never is: `try_cast` takes the value,
    // and cloning an array or map to ask copied all of it, at every level.
    if let Some(service) = value.clone().try_cast::<ServiceRef>() {
        return Ok(Tree::String(service.name().to_owned()));
    }
    let shown = match path.render() {
        p if p.is_empty() => "the value".to_owned(),
        p => format!("`{p}`"),
    };
    Err(Refused::Other(format!(
        "{shown} is a {}, which cannot go into a config file; use a string, number, boolean, array or map",
        friendly_type(value.type_name())
    )))
}

pub fn friendly_type(name: &str) -> &str {
    match name {
        "Fn" => "function pointer",
        "blob" => "BLOB",
        "i64" => "number",
        "f64" => "number",
        "bool" => "boolean",
        "char" => "character",
        "array" => "array",
        t if t.contains("String") || t == "&str" => "string",
        n if n.contains("Range") => "range",
        n => n,
    }
}

/// Why a value does not fit a spec: the dotted path of the field and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    pub path: String,
    /// `path` as keys and indexes, to take the failing field out and read the rest.
    pub steps: Vec<Step>,
    pub problem: Problem,
}

/// One step of a path into a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Removes the value at `steps` from `tree`; false when nothing is there (or `steps` is empty).
pub fn remove_at(tree: &mut Tree, steps: &[Step]) -> bool {
    let Some((last, parents)) = steps.split_last() else { return false };
    let mut node = tree;
    for step in parents {
        let next = match (node, step) {
            (Tree::Object(m), Step::Key(k)) => m.get_mut(k),
            (Tree::Array(a), Step::Index(i)) => a.get_mut(*i),
            _ => None,
        };
        let Some(next) = next else { return false };
        node = next;
    }
    match (node, last) {
        (Tree::Object(m), Step::Key(k)) => m.remove(k).is_some(),
        (Tree::Array(a), Step::Index(i)) if *i < a.len() => {
            a.remove(*i);
            true
        }
        _ => false,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    UnknownField { field: String, expected: Vec<String> },
    Other(String),
}

/// Deserializes a tree into a spec, keeping the path of a failing field.
pub fn from_tree<T: DeserializeOwned>(tree: Tree) -> Result<T, ShapeError> {
    serde_path_to_error::deserialize(tree).map_err(|e| {
        use serde_path_to_error::Segment;
        let steps = e
            .path()
            .iter()
            .filter_map(|s| match s {
                Segment::Map { key } => Some(Step::Key(key.clone())),
                Segment::Seq { index } => Some(Step::Index(*index)),
                _ => None,
            })
            .collect();
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let path = if path == "." { String::new() } else { path };
        ShapeError { path, steps, problem: parse_problem(&message) }
    })
}

/// serde reports unknown fields as "unknown field `x`, expected one of `a`, `b`" (or
/// "expected `a` or `b`"); split that into parts a diagnostic can use.
fn parse_problem(message: &str) -> Problem {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return Problem::Other(message.to_owned());
    };
    let Some((field, tail)) = rest.split_once('`') else {
        return Problem::Other(message.to_owned());
    };
    let expected = tail
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_owned())
        .collect();
    Problem::UnknownField { field: field.to_owned(), expected }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::spec::HealthcheckSpec;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_reported_with_their_path_and_the_expected_names() {
        let err = from_tree::<crate::evaluate::spec::ServiceSpec>(json!({
            "image": "x:1.0.0",
            "healthcheck": {"tset": ["CMD", "true"]}
        }))
        .unwrap_err();
        assert_eq!(err.path, "healthcheck.tset");
        match err.problem {
            Problem::UnknownField { field, expected } => {
                assert_eq!(field, "tset");
                assert!(expected.contains(&"test".to_owned()));
            }
            other => panic!("{other:?}"),
        }
        let ok: HealthcheckSpec = from_tree(json!({"test": ["CMD", "true"]})).unwrap();
        assert_eq!(ok.test.len(), 2);
    }

    #[test]
    fn script_values_convert() {
        let engine = rhai::Engine::new_raw();
        let v: Dynamic = engine.eval_expression("#{ a: [1, 2.5, true, ()], b: \"x\" }").unwrap();
        assert_eq!(to_tree(&v).unwrap(), json!({"a": [1, 2.5, true, null], "b": "x"}));
    }

    #[test]
    fn a_refused_value_is_named_by_its_path() {
        let engine = rhai::Engine::new_raw();
        let v: Dynamic = engine.eval_expression("#{ a: [1, #{ b: [0, || 1] }] }").unwrap();
        let e = to_tree(&v).unwrap_err();
        assert!(e.starts_with("`a[1].b[1]` is a function pointer"), "{e}");
        let top: Dynamic = engine.eval_expression("|| 1").unwrap();
        assert!(to_tree(&top).unwrap_err().starts_with("the value is a function pointer"));
        let listed: Dynamic = engine.eval_expression("[|| 1]").unwrap();
        assert!(to_tree(&listed).unwrap_err().starts_with("`[0]` is a function pointer"));
    }
}
