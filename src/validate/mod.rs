//! Stage 2: cross-reference checks on a typed stack, before anything is rendered.
//!
//! Pure. Every check returns diagnostics at the declaration that is wrong, with a fix when
//! one is obvious. All checks run, so one build reports every problem.

mod collector;
mod components;
mod grafana;
mod grafana_queries;
mod hosts;
mod hosts_file;
mod network;
mod logql;
mod prometheus;
mod promql;
mod queries;
mod selects;
mod swarm;
pub mod schema;

use crate::diagnostic::{Diagnostic, Diagnostics, Sources, Span};
use crate::model::Stack;

/// What the checks share: the stack, the script text (to point at a field inside a call),
/// and the diagnostics found so far.
pub struct Check<'a> {
    pub stack: &'a Stack,
    pub sources: &'a Sources,
    pub found: Vec<Diagnostic>,
}

impl Check<'_> {
    /// Records a warning at `needle` inside the call at `span` (or at the call).
    pub fn warning(&mut self, span: &Span, needle: &str, message: impl Into<String>) -> &mut Diagnostic {
        let d = self.error(span, needle, message);
        d.severity = crate::diagnostic::Severity::Warning;
        d
    }

    /// Records a diagnostic at `needle` inside the call at `span` (or at the call).
    pub fn error(&mut self, span: &Span, needle: &str, message: impl Into<String>) -> &mut Diagnostic {
        let at = if needle.is_empty() {
            span.clone()
        } else {
            self.sources.find_in_call(span, needle).unwrap_or_else(|| span.clone())
        };
        self.found.push(Diagnostic::new(message).at(&at));
        let last = self.found.len() - 1;
        &mut self.found[last]
    }

    /// Names of the stack's services, for suggestions.
    pub fn service_names(&self) -> Vec<&str> {
        self.stack.services.keys().map(String::as_str).collect()
    }
}

/// Runs every check on `stack`: the warnings when nothing is wrong, else the errors (with
/// the warnings among them, so both read in order).
pub fn validate(stack: &Stack, sources: &Sources) -> Result<Vec<Diagnostic>, Diagnostics> {
    let mut check = Check { stack, sources, found: Vec::new() };
    network::check(&mut check);
    swarm::check(&mut check);
    collector::check(&mut check);
    prometheus::check(&mut check);
    grafana::check(&mut check);
    promql::check(&mut check);
    grafana_queries::check(&mut check);
    components::check(&mut check);
    schema::check(&mut check);
    hosts_file::check(&mut check);
    let found = Diagnostics(check.found).sorted().0;
    if found.iter().all(Diagnostic::is_warning) { Ok(found) } else { Err(Diagnostics(found)) }
}

/// The checks judged on the rendered files of a stack that passed [`validate`] (what its
/// panels and rules select), read through the build's impact `index`: warnings only, in
/// script order.
pub fn rendered(stack: &Stack, sources: &Sources, index: &crate::diff::semantic::impact::Index) -> Vec<Diagnostic> {
    let mut check = Check { stack, sources, found: Vec::new() };
    selects::check(&mut check, index);
    Diagnostics(check.found).sorted().0
}
