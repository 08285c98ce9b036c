//! A review of every stack between two revisions, and its three renderings: text for a
//! terminal, Markdown for a pull-request comment, JSON (schema 1) for tools.
//!
//! Pure: [`stack`] compares what was built; rendering takes a [`Style`] decided by the caller.

use std::fmt::Write;

use serde_json::{Value, json};

use super::impact::{self, Effect, Impact, Index};
use super::plan::{self, Step};
use super::{Area, Change, Kind, Options, Reading};
use crate::build::{Build, FileKind};
use crate::diff::Files;
use crate::diff::Style;
use crate::diff::style::Role;

/// The version of the JSON document; bumped when a field changes meaning or goes away.
pub const SCHEMA: u32 = 1;

/// A stack on one side of the comparison.
#[derive(Clone, Debug)]
pub enum Side {
    /// No script of that name at this revision.
    Absent,
    /// The script exists but does not evaluate, validate or render; the diagnostics.
    Failed(String),
    /// Built, with what each file holds when it was rendered in this process, and what
    /// reads what in it if the build's checks already worked that out (else the review
    /// does).
    Built(Box<Build>, Option<Box<Index>>),
}

/// What happened to one stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Unchanged,
    Changed,
    Added,
    Removed,
    /// It does not build on one side: nothing can be compared.
    Failed,
}

#[derive(Clone, Debug)]
pub struct StackReview {
    pub stack: String,
    pub status: Status,
    /// Which side failed and its diagnostics, for [`Status::Failed`].
    pub failure: Option<(&'static str, String)>,
    pub changes: Vec<Change>,
    /// What the changes reach: panels and alert rules that lose data or read what changed,
    /// alerts routed elsewhere.
    pub impact: Vec<Impact>,
    /// The switch plan, or why it could not be made.
    pub plan: Result<Vec<Step>, String>,
    /// The builds differ only in dashboard layout, which was not asked for: no change.
    pub layout_only: bool,
}

/// Every stack compared, by name.
#[derive(Clone, Debug)]
pub struct Review {
    pub old: String,
    pub new: String,
    pub stacks: Vec<StackReview>,
}

impl Review {
    pub fn has_changes(&self) -> bool {
        self.stacks.iter().any(|s| s.status != Status::Unchanged)
    }

    pub fn has_failures(&self) -> bool {
        self.stacks.iter().any(|s| s.status == Status::Failed)
    }
}

/// The index a side's checks made, or one made here.
fn indexed<'a>(side: &'a Side, reading: &Reading) -> std::borrow::Cow<'a, Index> {
    match side {
        Side::Built(_, Some(index)) => std::borrow::Cow::Borrowed(&**index),
        _ => std::borrow::Cow::Owned(Index::of(reading)),
    }
}

/// Compares one stack's two sides.
pub fn stack(name: &str, old: &Side, new: &Side, options: Options) -> StackReview {
    fn build(s: &Side) -> Option<Reading<'_>> {
        match s {
            Side::Built(b, _) => Some(Reading::of(b)),
            _ => None,
        }
    }
    let failure = match (old, new) {
        (Side::Failed(m), _) => Some(("old", m.clone())),
        (_, Side::Failed(m)) => Some(("new", m.clone())),
        _ => None,
    };
    let (a, b) = (build(old), build(new));
    let status = match (&failure, &a, &b) {
        (Some(_), _, _) => Status::Failed,
        (None, None, _) => Status::Added,
        (None, _, None) => Status::Removed,
        (None, Some(x), Some(y)) if x.bytes() == y.bytes() => Status::Unchanged,
        _ => Status::Changed,
    };
    let empty_build = Build::default();
    let empty = Reading::of(&empty_build);
    // Three readings of the same two builds, independent of each other: the impacts (the
    // longest, for a fleet) on a thread of their own.
    let (mut changes, plan, impacts) = std::thread::scope(|scope| {
        let impacts = scope.spawn(|| match (&a, &b) {
            (Some(x), Some(y)) if status == Status::Changed => {
                impact::between(&indexed(old, x), &indexed(new, y))
            }
            _ => Vec::new(),
        });
        let changes = if failure.is_some() { Vec::new() } else { super::changes(a.as_ref().unwrap_or(&empty), b.as_ref().unwrap_or(&empty), options) };
        let plan = if failure.is_some() { Ok(Vec::new()) } else { plan::simulate(a.as_ref(), b.as_ref()) };
        // A panic there is a bug, and goes on as if it had happened here.
        (changes, plan, impacts.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    });
    let mut review = StackReview { stack: name.to_owned(), status, failure, changes: Vec::new(), impact: Vec::new(), plan, layout_only: false };
    if status == Status::Changed && changes.is_empty() {
        let no_files = Files::new();
        let (x, y) = (a.as_ref().map_or(&no_files, Reading::bytes), b.as_ref().map_or(&no_files, Reading::bytes));
        let differing = crate::diff::diff(x, y);
        let dashboard = |p: &str| {
            let kind = |r: &Option<Reading>| r.as_ref().and_then(|r| r.files.get(p)).map(|f| f.kind);
            kind(&b).or(kind(&a)) == Some(FileKind::GrafanaDashboard)
        };
        let hidden = |p: &str| p == crate::deployment::FILE || dashboard(p);
        if differing.files.iter().all(|f| hidden(&f.path)) && !options.layout {
            review.status = Status::Unchanged;
            review.layout_only = true;
        } else {
            // Only the deployment document differs: the containers' specs changed in a way
            // no config file shows. The plan says which; never report "no change" for it.
            changes.push(Change {
                component: Area::File,
                file: crate::deployment::FILE.to_owned(),
                subject: crate::deployment::FILE.to_owned(),
                kind: Kind::Changed,
                field: None,
                old: None,
                new: Some("container specs; see the switch plan".to_owned()),
                composite: false,
            });
        }
    }
    if review.status == Status::Changed {
        review.impact = impacts;
    }
    review.changes = changes;
    review
}

fn headline(s: &StackReview) -> String {
    let n = s.changes.len();
    let count = if n == 1 { "1 change".to_owned() } else { format!("{n} changes") };
    let what = match s.status {
        Status::Unchanged if s.layout_only => {
            let plan = s.plan.as_ref().map(|p| plan::summary(p)).unwrap_or_default();
            return format!("no change (dashboard layout only, shown with --layout; switch: {plan})");
        }
        Status::Unchanged => return "no change".to_owned(),
        Status::Failed => return format!("does not build at the {} revision", s.failure.as_ref().map_or("", |f| f.0)),
        Status::Added => format!("added, {count}"),
        Status::Removed => "removed".to_owned(),
        Status::Changed => match impact::losses(&s.impact) {
            Some(lost) => format!("{count}; {lost}"),
            None => count,
        },
    };
    match &s.plan {
        Ok(steps) => format!("{what}; switch: {}", plan::summary(steps)),
        Err(e) => format!("{what}; no plan: {e}"),
    }
}

/// One line per change, without the component.
fn line(c: &Change, quote: fn(&str) -> String) -> String {
    let mut out = c.subject.clone();
    if c.kind == Kind::Moved {
        out.push_str(" moved");
    }
    let value = |v: &Option<String>| v.as_deref().filter(|_| !c.composite).map(|v| quote(&v.replace('\n', "\\n")));
    match (&c.field, c.kind) {
        (None, Kind::Added | Kind::Removed) if c.component != Area::File => {
            let _ = write!(out, " {}", c.kind.as_str());
        }
        (field, _) => {
            out.push(':');
            if let Some(f) = field {
                let _ = write!(out, " {}", quote(f));
            }
            match (value(&c.old), value(&c.new), c.kind) {
                (Some(o), Some(n), _) => {
                    let _ = write!(out, " {o} → {n}");
                }
                (_, Some(n), Kind::Added) if field.is_some() => {
                    let _ = write!(out, " added ({n})");
                }
                (_, Some(n), _) => {
                    let _ = write!(out, " {} ({n})", c.kind.as_str());
                }
                (Some(o), _, Kind::Removed) => {
                    let _ = write!(out, " removed (was {o})");
                }
                _ => {
                    let _ = write!(out, " {}", c.kind.as_str());
                }
            }
        }
    }
    out
}

fn marker(kind: Kind) -> (&'static str, Option<Role>) {
    match kind {
        Kind::Added => ("+", Some(Role::Insertion)),
        Kind::Removed => ("-", Some(Role::Deletion)),
        Kind::Changed => ("~", Some(Role::HunkHeader)),
        Kind::Moved => (">", Some(Role::HunkHeader)),
    }
}

/// Changes grouped by component, in order of first appearance.
fn groups(changes: &[Change]) -> Vec<(Area, Vec<&Change>)> {
    let mut out: Vec<(Area, Vec<&Change>)> = Vec::new();
    for c in changes {
        match out.iter_mut().find(|(k, _)| *k == c.component) {
            Some((_, v)) => v.push(c),
            None => out.push((c.component, vec![c])),
        }
    }
    out
}

/// For a terminal: each stack's headline, then its changes by component.
pub fn text(review: &Review, style: Style) -> String {
    let mut out = String::new();
    for s in &review.stacks {
        style.paint(&mut out, Role::FileHeader, &s.stack);
        let _ = writeln!(out, ": {}", headline(s));
        if let Some((_, message)) = &s.failure {
            for l in message.lines() {
                let _ = writeln!(out, "    {l}");
            }
        }
        for (component, changes) in groups(&s.changes) {
            let _ = writeln!(out, "  {component}");
            for c in changes {
                let (m, role) = marker(c.kind);
                out.push_str("    ");
                match role {
                    Some(r) => style.paint(&mut out, r, m),
                    None => out.push_str(m),
                }
                let _ = writeln!(out, " {}", line(c, |s| s.to_owned()));
            }
        }
        if !s.impact.is_empty() {
            let _ = writeln!(out, "  impact");
            for i in &s.impact {
                out.push_str("    ");
                match i.effect {
                    Effect::LosesData => style.paint(&mut out, Role::Deletion, "!"),
                    Effect::MayLoseData => out.push('?'),
                    _ => out.push('i'),
                }
                let _ = writeln!(out, " {}", i.text);
            }
        }
        if let Ok(steps) = &s.plan {
            for step in steps.iter().filter(|st| st.action.touches()) {
                let reason = if step.reason.is_unchanged() { String::new() } else { format!(": {}", step.reason) };
                let _ = writeln!(out, "  switch: {} {}{reason}", step.action.name(), step.service);
            }
        }
    }
    out
}

fn code(s: &str) -> String {
    // A backtick inside would end the span; a double-backtick span with padding holds it.
    if s.contains('`') { format!("`` {s} ``") } else { format!("`{s}`") }
}

/// For a pull request: a one-line summary, then a collapsible section per changed stack.
pub fn markdown(review: &Review) -> String {
    let mut out = String::new();
    let changed: Vec<&StackReview> = review.stacks.iter().filter(|s| s.status != Status::Unchanged).collect();
    let _ = writeln!(
        out,
        "**obsbuild diff** {} → {}: {} of {} stacks changed{}",
        code(&review.old),
        code(&review.new),
        changed.len(),
        review.stacks.len(),
        if changed.is_empty() { String::new() } else { format!(" ({})", changed.iter().map(|s| s.stack.as_str()).collect::<Vec<_>>().join(", ")) }
    );
    for s in review.stacks.iter().filter(|s| s.layout_only) {
        let _ = write!(out, "\n{}: {}\n", html(&s.stack), html(&headline(s)));
    }
    for s in changed {
        let _ = write!(out, "\n<details><summary><b>{}</b>: {}</summary>\n\n", html(&s.stack), html(&headline(s)));
        if let Some((_, message)) = &s.failure {
            let _ = writeln!(out, "```\n{}\n```\n", message.trim_end());
        }
        for (component, changes) in groups(&s.changes) {
            let _ = writeln!(out, "**{component}**\n");
            for c in changes {
                let _ = writeln!(out, "- {} {}", marker(c.kind).0.replace('-', "−"), line(c, code));
            }
            out.push('\n');
        }
        if !s.impact.is_empty() {
            out.push_str("**impact**\n\n");
            for i in &s.impact {
                let mark = if i.effect == Effect::LosesData { "⚠️ " } else { "" };
                let _ = writeln!(out, "- {mark}{}", html(&i.text));
            }
            out.push('\n');
        }
        if let Ok(steps) = &s.plan {
            let touched: Vec<&Step> = steps.iter().filter(|st| st.action.touches()).collect();
            if !touched.is_empty() {
                out.push_str("**switch plan**\n\n");
                for step in touched {
                    let _ = writeln!(out, "- {} {}{}", step.action.name(), code(&step.service), if step.reason.is_unchanged() { String::new() } else { format!(": {}", step.reason) });
                }
                out.push('\n');
            }
        }
        out.push_str("</details>\n");
    }
    out
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The documented JSON document (docs/REVIEW.md): `{"schema": 1, "old", "new", "changed",
/// "stacks": [{"stack", "status", "summary", "failure"?, "changes": [...], "plan": [...] |
/// "plan_error"}]}`.
pub fn json(review: &Review) -> Value {
    let stacks: Vec<Value> = review
        .stacks
        .iter()
        .map(|s| {
            let mut v = json!({
                "stack": s.stack,
                "status": s.status,
                "summary": headline(s),
                "changes": s.changes,
                "impact": s.impact,
            });
            if let Some(o) = v.as_object_mut() {
                if let Some((side, message)) = &s.failure {
                    o.insert("failure".to_owned(), json!({"side": side, "message": message}));
                }
                match &s.plan {
                    Ok(steps) => o.insert("plan".to_owned(), json!(steps)),
                    Err(e) => o.insert("plan_error".to_owned(), json!(e)),
                };
            }
            v
        })
        .collect();
    json!({"schema": SCHEMA, "old": review.old, "new": review.new, "changed": review.has_changes(), "stacks": stacks})
}

#[cfg(test)]
pub(super) fn line_for_tests(c: &Change) -> String {
    line(c, |s| s.to_owned())
}
