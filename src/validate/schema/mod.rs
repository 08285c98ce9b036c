//! Native settings checked against a schema of the component at its pinned version
//! (`schemas/`, described in `schemas/README.md`).
//!
//! Pure. [`check`] turns what the walk finds into diagnostics at the declaring call;
//! [`not_checked`] lists what no schema covers, so `check` never calls it valid silently.

mod files;
mod flags;
mod format;
mod registry;
mod stack;
mod walk;

use serde::Serialize;

pub use registry::Registry;
pub use stack::{rendered, walk_stack};
pub use walk::{Finding, Problem};

use super::Check;
use crate::model::Stack;

/// Settings no schema covers: a component without one, a version outside every schema's
/// range, a section a schema marks `unchecked`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NotChecked {
    pub service: String,
    /// `settings`, `processor transform/x`, `settings.ruler`, `file dynamic/x.yaml`, ...
    pub what: String,
    pub reason: String,
}

impl std::fmt::Display for NotChecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.service, self.what, self.reason)
    }
}

pub fn check(check: &mut Check) {
    for report in walk_stack(check.stack).reports {
        let f = &report.finding;
        let at = if f.path.is_empty() { "the settings".to_owned() } else { format!("`{}`", f.path) };
        match &f.problem {
            Problem::Unchecked { .. } => {}
            // A setting a check of its own reported (removed in this release, renamed) is
            // said once, by that check, which knows the fix.
            Problem::Unknown { .. } if said_already(check, &report.span, &f.key) => {}
            Problem::Unknown { known } => {
                let d = check.error(&report.span, &f.key, format!("{at} of {} is not a setting {} has", report.owner, report.product));
                let mut fixed = d.clone().suggesting(&f.key, known.iter().map(String::as_str));
                if fixed.label.is_none() && !known.is_empty() && known.len() <= 12 {
                    fixed = fixed.help(format!("the settings here are {}", quoted(known)));
                }
                *d = fixed.note(format!("settings of {}: {}", report.product, report.docs));
            }
            Problem::Kind { expected, found } => {
                let d = check.error(&report.span, &f.key, format!("{at} of {} is {found}: expected {expected}", report.owner));
                *d = d.clone().note(format!("as {} reads it: {}", report.product, report.docs));
            }
            Problem::Missing { missing } => {
                let d = check.error(&report.span, &f.key, format!("{at} of {} has no `{missing}`, which {} requires", report.owner, report.product));
                *d = d.clone().help(format!("add `{missing}`"));
            }
        }
    }
}

fn said_already(check: &Check, span: &crate::diagnostic::Span, key: &str) -> bool {
    let at = check.sources.find_in_call(span, key);
    at.is_some() && check.found.iter().any(|d| d.span == at)
}

fn quoted(keys: &[String]) -> String {
    keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

/// What the schemas do not cover in `stack`, sorted.
pub fn not_checked(stack: &Stack) -> Vec<NotChecked> {
    let mut all = walk_stack(stack).not_checked;
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests;
