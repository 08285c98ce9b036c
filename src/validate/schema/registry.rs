//! The schema files, embedded at compile time and each parsed the first time it is used.

use std::sync::OnceLock;

use super::files::FILES;
use super::format::{Node, SchemaFile};
use crate::model::Version;

/// All schema files, by id: the path under `schemas/` without `.json`
/// (`loki/3.7`, `otel-collector/processor/batch/0.159`). A file's component is its folder.
pub struct Registry {
    parsed: [OnceLock<Result<SchemaFile, String>>; FILES.len()],
}

/// What the registry has for one component at one version.
pub enum Lookup<'a> {
    Found { id: &'static str, file: &'a SchemaFile },
    /// No schema of this component at all.
    None,
    /// Schemas exist, for other versions: these ranges.
    OtherVersions(Vec<String>),
    /// The file exists but does not parse (a test catches this before a release).
    Broken(String),
}

static REGISTRY: Registry = Registry { parsed: [const { OnceLock::new() }; FILES.len()] };

impl Registry {
    pub fn get() -> &'static Registry {
        &REGISTRY
    }

    /// The file `id`, parsed (once).
    pub fn file(&self, id: &str) -> Option<Result<&SchemaFile, &str>> {
        let i = FILES.iter().position(|(fid, _)| *fid == id)?;
        Some(self.parse(i))
    }

    fn parse(&self, i: usize) -> Result<&SchemaFile, &str> {
        let parsed = self.parsed[i].get_or_init(|| {
            let (id, text) = FILES[i];
            serde_json::from_str::<SchemaFile>(text).map_err(|e| format!("schemas/{id}.json: {e}"))
        });
        parsed.as_ref().map_err(String::as_str)
    }

    /// The schema of `component` that covers `version` (`None`: the newest).
    pub fn lookup(&self, component: &str, version: Option<Version>) -> Lookup<'_> {
        let mut ranges = Vec::new();
        let mut newest: Option<(&'static str, &SchemaFile)> = None;
        for (i, (id, _)) in FILES.iter().enumerate() {
            if id.rsplit_once('/').map(|(dir, _)| dir) != Some(component) {
                continue;
            }
            let file = match self.parse(i) {
                Ok(f) => f,
                Err(e) => return Lookup::Broken(e.to_owned()),
            };
            match version {
                Some(v) if file.versions.covers(v) => return Lookup::Found { id, file },
                Some(_) => ranges.push(format!("{} to before {}", file.versions.from, file.versions.below)),
                None => {
                    if newest.is_none_or(|(_, n)| n.versions.below < file.versions.below) {
                        newest = Some((id, file));
                    }
                }
            }
        }
        match (newest, ranges.is_empty()) {
            (Some((id, file)), _) => Lookup::Found { id, file },
            (None, false) => Lookup::OtherVersions(ranges),
            (None, true) => Lookup::None,
        }
    }

    /// The definition `name` as seen from the file `from`: `x` in its own `defs`,
    /// `dir/file#x` in another file's.
    pub fn definition(&self, from: &str, name: &str) -> Option<(&Node, &'static str)> {
        let (id, def) = name.split_once('#').unwrap_or((from, name));
        let i = FILES.iter().position(|(fid, _)| *fid == id)?;
        let file = self.parse(i).ok()?;
        file.defs.get(def).map(|n| (n, FILES[i].0))
    }

    /// Every file id with its parse result, for the tests.
    pub fn all(&self) -> impl Iterator<Item = (&'static str, Result<&SchemaFile, &str>)> {
        (0..FILES.len()).map(|i| (FILES[i].0, self.parse(i)))
    }
}
