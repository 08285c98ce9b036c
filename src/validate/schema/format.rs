//! The schema files' format (`schemas/README.md`): a header naming the upstream source and
//! a tree of keys with kinds, read from JSON once.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::Version;

/// One schema file: a component at a range of versions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaFile {
    /// `loki`, `prometheus`, `otel-collector/processor/batch`, `traefik/dynamic`, ...
    pub component: String,
    pub versions: Versions,
    pub source: Source,
    /// The documentation page of the pinned release.
    pub docs: String,
    /// Other names the same component is configured under (`otlp` for `otlp_grpc`).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// Named nodes, for `{ "ref": name }`.
    #[serde(default)]
    pub defs: BTreeMap<String, Node>,
    /// What the component's settings are; absent in a file of shared `defs` only.
    #[serde(default)]
    pub root: Option<Node>,
}

/// The releases a schema covers: `from` up to (not including) `below`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Versions {
    #[serde(deserialize_with = "version")]
    pub from: Version,
    #[serde(deserialize_with = "version")]
    pub below: Version,
}

impl Versions {
    pub fn covers(&self, v: Version) -> bool {
        self.from <= v && v < self.below
    }
}

fn version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
    let text = String::deserialize(d)?;
    Version::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a version")))
}

/// Where the schema was derived from, so it can be derived again for a new release.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `owner/name` of the upstream repository.
    pub repository: String,
    pub tag: String,
    /// The Go files of the config structs (and the generated reference, where there is one).
    pub files: Vec<String>,
    /// How the file was made: by hand from `files`, or by a script (`schemas/tools/...`).
    #[serde(default)]
    pub derived: Option<String>,
}

/// How a duration is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DurationDialect {
    /// Go's `time.ParseDuration` (`1m30s`; no days).
    Go,
    /// Prometheus' `model.Duration` (`1d`, `2w`; largest unit first).
    Prometheus,
    /// Either: the upstream reference does not say which type the field has (Loki's
    /// generated reference writes `<duration>` for both).
    Either,
}

/// A key's kind. In a file, a scalar kind may be written as a bare string (`"bool"`,
/// `"duration/go"`); everything else is an object with `kind`.
#[derive(Debug)]
pub enum Node {
    Object { keys: BTreeMap<String, Node>, required: Vec<String>, additional: Option<Box<Node>> },
    List(Box<Node>),
    String,
    /// One of `values`; `any_case` where upstream lower-cases what it reads (zap's and the
    /// collector's levels, the attributes processor's actions).
    Enum { values: Vec<String>, any_case: bool },
    /// Whichever of the nodes fits: upstream reads both shapes (a header map, or a list of
    /// `{name, value}` pairs).
    OneOf(Vec<Node>),
    Bool,
    Int,
    Float,
    Duration(DurationDialect),
    Size,
    /// Upstream takes any value here (the file's `note` says why).
    Any,
    /// Not covered by the schema: values here are listed as not checked.
    Unchecked(String),
    /// A node of `defs`: `name` in this file, `file#name` in another one.
    Ref(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Full {
    kind: Option<String>,
    #[serde(default)]
    keys: BTreeMap<String, Node>,
    #[serde(default)]
    required: Vec<String>,
    additional: Option<Box<Node>>,
    of: Option<Box<Node>>,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    any_case: bool,
    #[serde(default)]
    nodes: Vec<Node>,
    dialect: Option<DurationDialect>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Short(String),
    Full(Box<Full>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        use serde::de::Error;
        match Raw::deserialize(d)? {
            Raw::Short(kind) => scalar(&kind).ok_or_else(|| D::Error::custom(format!("`{kind}` is not a scalar kind"))),
            Raw::Full(f) => {
                if let Some(r) = f.reference {
                    return Ok(Node::Ref(r));
                }
                let kind = f.kind.as_deref().unwrap_or("object");
                Ok(match kind {
                    "object" => Node::Object { keys: f.keys, required: f.required, additional: f.additional },
                    "list" => Node::List(f.of.ok_or_else(|| D::Error::custom("a `list` needs `of`"))?),
                    "enum" if !f.values.is_empty() => Node::Enum { values: f.values, any_case: f.any_case },
                    "one_of" if f.nodes.len() >= 2 => Node::OneOf(f.nodes),
                    "one_of" => return Err(D::Error::custom("a `one_of` needs at least two `nodes`")),
                    "duration" => Node::Duration(f.dialect.unwrap_or(DurationDialect::Go)),
                    "any" if f.note.is_some() => Node::Any,
                    "any" => return Err(D::Error::custom("`any` needs a `note` saying why upstream takes anything")),
                    "unchecked" => Node::Unchecked(f.note.unwrap_or_default()),
                    other => scalar(other).ok_or_else(|| D::Error::custom(format!("unknown kind `{other}`")))?,
                })
            }
        }
    }
}

fn scalar(kind: &str) -> Option<Node> {
    Some(match kind {
        "string" => Node::String,
        "bool" => Node::Bool,
        "int" => Node::Int,
        "float" => Node::Float,
        "size" => Node::Size,
        "duration" | "duration/go" => Node::Duration(DurationDialect::Go),
        "duration/prometheus" => Node::Duration(DurationDialect::Prometheus),
        "duration/either" => Node::Duration(DurationDialect::Either),
        "unchecked" => Node::Unchecked(String::new()),
        _ => return None,
    })
}
