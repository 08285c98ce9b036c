//! The artifact every stage shares: a build's files by path, and where each file lives.
//!
//! A leaf of the crate (it knows the model's names and nothing of any stage), so `render`
//! makes a [`Build`], `plan` reads it, `store` writes and loads it, `git` and `diff` compare
//! two of them, and none of those needs another to say what a build is.

mod document;
mod launch;
pub mod layout;

use std::collections::BTreeMap;

pub use document::{Document, FileKind, format_of, typed};
pub use launch::Launch;
pub use layout::{CONFIG_MOUNT, config_file, rule_tests_file};

/// A rendered stack: every file of its build by path relative to the build's root
/// (`docker-compose.yml`, `configs/loki.yaml`, ...), with `/` as separator.
///
/// A build is its files: two builds are equal when their stack and files are. What the
/// renderer knew besides the bytes is kept beside them while the build is in memory, for the
/// stages that follow in the same run; the store keeps only the files.
#[derive(Clone, Debug, Default)]
pub struct Build {
    /// The stack's name; it ends the store path (`<hash>-<stack>`).
    pub stack: String,
    pub files: BTreeMap<String, Vec<u8>>,
    /// How each service is started, by service name (only in a build just rendered).
    pub launch: BTreeMap<String, Launch>,
    /// What each file holds, by path (only in a build just rendered: the store keeps bytes).
    pub documents: BTreeMap<String, Document>,
    /// The deployment document the build's `.obsbuild/deployment.json` encodes (only in a
    /// build just made), so its readers need not parse it back.
    pub deployment: Option<crate::deployment::Deployment>,
}

impl PartialEq for Build {
    fn eq(&self, other: &Build) -> bool {
        self.stack == other.stack && self.files == other.files
    }
}

impl Eq for Build {}

impl Build {
    /// A build of `stack` holding `files` and nothing else.
    pub fn new(stack: impl Into<String>, files: BTreeMap<String, Vec<u8>>) -> Build {
        Build { stack: stack.into(), files, launch: BTreeMap::new(), documents: BTreeMap::new(), deployment: None }
    }

    /// Adds (or replaces) a file and what it holds.
    pub fn add_document(&mut self, path: String, text: String, document: Document) {
        self.documents.insert(path.clone(), document);
        self.files.insert(path, text.into_bytes());
    }

    /// Whether the build knows what its files hold (it was rendered in this process), or
    /// has bytes only (loaded from the store or made by hand).
    pub fn is_rendered(&self) -> bool {
        !self.documents.is_empty()
    }
}
