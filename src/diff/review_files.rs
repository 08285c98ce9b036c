//! The files' view of a review (`diff --rev ... --files` or `--stat`): every stack's
//! per-file diff, in text, Markdown or JSON. Pure.
//!
//! It covers the same stacks as the semantic view and says the same of each (changed,
//! added, removed, failed at one side), so a CI job reads one meaning whichever view and
//! format it asks for.

use std::fmt::Write;

use serde_json::{Value, json};

use super::semantic::render::{SCHEMA, Side, Status};
use super::{Diff, Files, Style};

/// Which of a stack's file diffs to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// The unified diff of every changed file.
    Patch,
    /// Only which files changed and by how much.
    Stat,
}

/// One stack's two sides, compared file by file.
#[derive(Clone, Debug)]
pub struct StackFiles {
    pub stack: String,
    pub status: Status,
    /// Which side does not build, and its diagnostics.
    pub failure: Option<(&'static str, String)>,
    pub diff: Diff,
}

/// Compares one stack's sides file by file; a missing side counts as no files.
pub fn stack(name: &str, old: &Side, new: &Side) -> StackFiles {
    let failure = match (old, new) {
        (Side::Failed(m), _) => Some(("old", m.clone())),
        (_, Side::Failed(m)) => Some(("new", m.clone())),
        _ => None,
    };
    fn files(s: &Side) -> Option<&Files> {
        match s {
            Side::Built(b, _) => Some(&b.files),
            _ => None,
        }
    }
    let (a, b) = (files(old), files(new));
    let empty = Files::new();
    let diff = if failure.is_some() {
        Diff::default()
    } else {
        super::diff(a.unwrap_or(&empty), b.unwrap_or(&empty))
    };
    let status = match (&failure, &a, &b) {
        (Some(_), _, _) => Status::Failed,
        (None, None, _) => Status::Added,
        (None, _, None) => Status::Removed,
        _ if diff.is_empty() => Status::Unchanged,
        _ => Status::Changed,
    };
    StackFiles { stack: name.to_owned(), status, failure, diff }
}

fn body(s: &StackFiles, detail: Detail, style: Style) -> String {
    match detail {
        Detail::Patch => s.diff.unified(style),
        Detail::Stat => s.diff.stat(style),
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Unchanged => "no change",
        Status::Changed => "changed",
        Status::Added => "added",
        Status::Removed => "removed",
        Status::Failed => "does not build",
    }
}

fn failure_line(s: &StackFiles, old: &str, new: &str) -> Option<String> {
    s.failure.as_ref().map(|(side, message)| {
        let at = if *side == "old" { old } else { new };
        format!("`{}` does not build at {at}:\n{message}", s.stack)
    })
}

/// For a terminal: a `# stack` heading and its diff for each stack that changed or
/// failed, then one line naming the stacks without changes.
pub fn text(stacks: &[StackFiles], old: &str, new: &str, detail: Detail, style: Style) -> String {
    let mut out = String::new();
    let mut unchanged = Vec::new();
    for s in stacks {
        if s.status == Status::Unchanged {
            unchanged.push(s.stack.as_str());
            continue;
        }
        let _ = writeln!(out, "# {} ({})", s.stack, status_word(s.status));
        match failure_line(s, old, new) {
            Some(line) => {
                let _ = writeln!(out, "{line}");
            }
            None => out.push_str(&body(s, detail, style)),
        }
    }
    if !unchanged.is_empty() {
        let _ = writeln!(out, "no change ({old} → {new}): {}", unchanged.join(", "));
    }
    out
}

/// For a pull-request comment: a summary line, then a collapsible diff per stack.
pub fn markdown(stacks: &[StackFiles], old: &str, new: &str, detail: Detail) -> String {
    let changed: Vec<&str> = stacks.iter().filter(|s| s.status != Status::Unchanged).map(|s| s.stack.as_str()).collect();
    let mut out = format!(
        "**obsbuild diff** `{old}` → `{new}`: {} of {} stacks changed{}\n",
        changed.len(),
        stacks.len(),
        if changed.is_empty() { String::new() } else { format!(" ({})", changed.join(", ")) }
    );
    for s in stacks.iter().filter(|s| s.status != Status::Unchanged) {
        let _ = write!(out, "\n<details><summary>{} ({})</summary>\n\n", s.stack, status_word(s.status));
        match failure_line(s, old, new) {
            Some(line) => {
                let _ = write!(out, "```\n{line}\n```\n");
            }
            None => {
                let fence = if detail == Detail::Patch { "diff" } else { "" };
                let _ = write!(out, "```{fence}\n{}```\n", body(s, detail, Style::Plain));
            }
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// The review document (schema [`SCHEMA`]) with each stack's `files` diff.
pub fn json(stacks: &[StackFiles], old: &str, new: &str) -> Value {
    let list: Vec<Value> = stacks
        .iter()
        .map(|s| {
            let mut v = json!({"stack": s.stack, "status": s.status, "files": s.diff.to_json()});
            if let (Some((side, message)), Some(o)) = (&s.failure, v.as_object_mut()) {
                o.insert("failure".to_owned(), json!({"side": side, "message": message}));
            }
            v
        })
        .collect();
    let changed = stacks.iter().any(|s| s.status != Status::Unchanged);
    json!({"schema": SCHEMA, "old": old, "new": new, "changed": changed, "stacks": list})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> Side {
        Side::Built(Box::new(crate::build::Build::new("s", pairs.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())).collect())), None)
    }

    #[test]
    fn every_stack_is_covered_and_a_change_in_any_is_seen() {
        let stacks = vec![
            stack("a", &files(&[("x", "1\n")]), &files(&[("x", "1\n")])),
            stack("b", &files(&[("x", "1\n")]), &files(&[("x", "2\n")])),
            stack("c", &Side::Absent, &files(&[("x", "1\n")])),
            stack("d", &Side::Failed("error: boom".into()), &files(&[])),
        ];
        let statuses: Vec<Status> = stacks.iter().map(|s| s.status).collect();
        assert_eq!(statuses, [Status::Unchanged, Status::Changed, Status::Added, Status::Failed]);
        let j = json(&stacks, "HEAD", "work tree");
        assert_eq!(j["changed"], true);
        assert_eq!(j["stacks"].as_array().map(Vec::len), Some(4));
        assert_eq!(j["stacks"][3]["failure"]["side"], "old");
        let t = text(&stacks, "HEAD", "work tree", Detail::Stat, Style::Plain);
        assert!(t.contains("# b (changed)") && t.contains("# c (added)") && t.contains("does not build at HEAD"), "{t}");
        assert!(t.contains("no change (HEAD → work tree): a"), "{t}");
        let m = markdown(&stacks, "HEAD", "work tree", Detail::Patch);
        assert!(m.starts_with("**obsbuild diff** `HEAD` → `work tree`: 3 of 4 stacks changed (b, c, d)"), "{m}");
    }
}
