//! The machine-readable rendering, for CI bots and review tools.
//!
//! Pure. Deterministic: files keep the diff's path order and object keys serialise sorted.

use serde_json::{Value, json};

use super::{Diff, Style};

/// The JSON value of `diff`; see [`Diff::to_json`] for its shape.
pub(super) fn render(diff: &Diff) -> Value {
    let files: Vec<Value> = diff
        .files
        .iter()
        .map(|file| {
            json!({
                "path": file.path,
                "status": file.status.as_str(),
                // Tells a reader why a file with zero counts is listed and has no hunks.
                "binary": file.is_binary(),
                "insertions": file.insertions,
                "deletions": file.deletions,
                "diff": file.unified(Style::Plain),
            })
        })
        .collect();
    json!({
        "equal": diff.is_empty(),
        "files": files,
        "insertions": diff.insertions(),
        "deletions": diff.deletions(),
    })
}
