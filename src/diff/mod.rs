//! Stage 5: what changed between two builds, for code review.
//!
//! Owns the comparison of two builds' files and its three renderings: a git-like patch
//! ([`Diff::unified`]), a `git diff --stat` like summary ([`Diff::stat`]) and a JSON value for
//! tools ([`Diff::to_json`]).
//!
//! Pure: [`diff`] and every rendering are functions of their arguments only; no I/O, no clock,
//! no environment. Whether to colour is the caller's decision, passed as a [`Style`].

mod compact;
mod hunks;
mod json;
mod quote;
mod stat;
mod style;
mod unified;
pub mod review_files;
pub mod semantic;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use style::Style;

use hunks::Hunk;

/// A build's files by path relative to its root, `/` as separator (see [`crate::build::Build`]).
pub type Files = BTreeMap<String, Vec<u8>>;

/// How a file differs between the old and the new build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Only in the new build.
    Added,
    /// Only in the old build.
    Removed,
    /// In both builds, with different bytes.
    Changed,
}

impl Status {
    /// The lower-case name used in JSON: `added`, `removed` or `changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
        }
    }
}

/// One file whose bytes differ between the two builds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDiff {
    /// Path relative to the build root, as in [`Files`].
    pub path: String,
    pub status: Status,
    /// Lines only in the new file; 0 for binary files, as in git.
    pub insertions: usize,
    /// Lines only in the old file; 0 for binary files, as in git.
    pub deletions: usize,
    /// The old bytes; `None` when the file was added.
    pub old: Option<Vec<u8>>,
    /// The new bytes; `None` when the file was removed.
    pub new: Option<Vec<u8>>,
    body: Body,
}

/// The line-level comparison, computed once in [`diff`] so every rendering agrees with the counts.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Body {
    Text(Vec<Hunk>),
    /// At least one side is not UTF-8 text (or holds a NUL byte); only sizes are reported.
    Binary,
}

impl FileDiff {
    /// Whether the file was compared as bytes rather than as lines of text.
    pub fn is_binary(&self) -> bool {
        matches!(self.body, Body::Binary)
    }

    /// Size in bytes of the old file, 0 when it was added.
    pub fn old_size(&self) -> usize {
        self.old.as_ref().map_or(0, Vec::len)
    }

    /// Size in bytes of the new file, 0 when it was removed.
    pub fn new_size(&self) -> usize {
        self.new.as_ref().map_or(0, Vec::len)
    }

    /// This file's part of [`Diff::unified`]: headers and hunks, or the "Binary files" line.
    pub fn unified(&self, style: Style) -> String {
        let mut out = String::new();
        unified::write_file(&mut out, self, style);
        out
    }
}

/// The files that differ between two builds, sorted by path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Only files whose bytes differ, sorted by path.
    pub files: Vec<FileDiff>,
}

impl Diff {
    /// True when both builds hold the same paths with the same bytes.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Lines added over all text files.
    pub fn insertions(&self) -> usize {
        self.files.iter().map(|f| f.insertions).sum()
    }

    /// Lines removed over all text files.
    pub fn deletions(&self) -> usize {
        self.files.iter().map(|f| f.deletions).sum()
    }

    /// The whole patch, file after file, in the format of `git diff` without its `diff --git`
    /// and `index` lines. Empty when nothing differs.
    pub fn unified(&self, style: Style) -> String {
        let mut out = String::new();
        for file in &self.files {
            unified::write_file(&mut out, file, style);
        }
        out
    }

    /// One line per file with its count of changed lines and a bar of `+` and `-`, then a
    /// summary line, like `git diff --stat --compact-summary` on an 80-column terminal.
    /// Empty when nothing differs.
    pub fn stat(&self, style: Style) -> String {
        stat::render(self, style)
    }

    /// `{"equal", "files": [{"path", "status", "binary", "insertions", "deletions", "diff"}],
    /// "insertions", "deletions"}`, where `diff` is the file's plain [`FileDiff::unified`].
    pub fn to_json(&self) -> serde_json::Value {
        json::render(self)
    }
}

/// Compares two builds. Files with identical bytes are skipped before any line diff, so
/// comparing large builds that differ in a few files costs little more than reading them.
#[must_use]
pub fn diff(old: &Files, new: &Files) -> Diff {
    let mut files = Vec::new();
    for (path, old_bytes) in old {
        match new.get(path) {
            Some(new_bytes) if new_bytes == old_bytes => {}
            Some(new_bytes) => files.push(file_diff(path, Some(old_bytes), Some(new_bytes))),
            None => files.push(file_diff(path, Some(old_bytes), None)),
        }
    }
    for (path, new_bytes) in new {
        if !old.contains_key(path) {
            files.push(file_diff(path, None, Some(new_bytes)));
        }
    }
    // Both maps iterate in path order, but added files were appended after the others.
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Diff { files }
}

fn file_diff(path: &str, old: Option<&Vec<u8>>, new: Option<&Vec<u8>>) -> FileDiff {
    let status = match (old, new) {
        (None, _) => Status::Added,
        (_, None) => Status::Removed,
        _ => Status::Changed,
    };
    let old_text = old.map_or(Some(""), |b| as_text(b));
    let new_text = new.map_or(Some(""), |b| as_text(b));
    let (body, insertions, deletions) = match (old_text, new_text) {
        (Some(o), Some(n)) => {
            let lines = hunks::compute(o, n);
            (Body::Text(lines.hunks), lines.insertions, lines.deletions)
        }
        _ => (Body::Binary, 0, 0),
    };
    FileDiff {
        path: path.to_owned(),
        status,
        insertions,
        deletions,
        old: old.cloned(),
        new: new.cloned(),
        body,
    }
}

/// Text is what can be shown line by line: valid UTF-8 without NUL, the byte git's own
/// binary detection looks for.
fn as_text(bytes: &[u8]) -> Option<&str> {
    if bytes.contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}
