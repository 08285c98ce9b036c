//! LogQL, read wherever a stack writes it (found by `grafana_queries.rs`): queries of
//! panels and Explore links on Loki data sources, Loki derived fields that open a query,
//! and the trace-to-logs query of Jaeger and Tempo.

use super::Check;
use super::queries::error_at;
use crate::diagnostic::Span;

/// Reports `text` where it is no LogQL.
pub fn query(check: &mut Check, span: &Span, text: &str, fallback: &str, owner: &str) {
    if let Err(e) = crate::logql::parse(text) {
        let (line, col) = position(text, e.offset);
        let at = if text.contains('\n') { format!("line {line}, column {col}") } else { format!("column {col}") };
        let rest = text.get(e.offset..).unwrap_or("");
        let word = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').count();
        let len = if word > 0 { word } else { usize::from(!rest.is_empty()) };
        error_at(check, span, text, e.offset, len, fallback, format!("{owner} is not valid LogQL: {} (at {at})", e.message));
    }
}

fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    (before.matches('\n').count() + 1, before.rsplit('\n').next().unwrap_or("").chars().count() + 1)
}

