//! Where a query that does not parse is reported: at the error inside the query when the
//! script holds the query literally, else at the field or title that names it. Shared by
//! the PromQL and LogQL checks.

use super::Check;
use crate::diagnostic::{Diagnostic, Span};

/// A query's language, by the type of the data source it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    PromQL,
    LogQL,
}

impl Language {
    pub fn of(datasource_type: &str) -> Option<Language> {
        match datasource_type {
            "prometheus" => Some(Language::PromQL),
            "loki" => Some(Language::LogQL),
            _ => None,
        }
    }
}

/// Records `message` about `query`, declared in the call at `span`, at byte `offset` of
/// the query (or at `fallback`, or at the call).
pub fn error_at<'c>(check: &'c mut Check, span: &Span, query: &str, offset: usize, len: usize, fallback: &str, message: String) -> &'c mut Diagnostic {
    let at = locate(check, span, query, offset, len).unwrap_or_else(|| {
        let found = (!fallback.is_empty()).then(|| check.sources.find_in_call(span, fallback)).flatten();
        found.unwrap_or_else(|| span.clone())
    });
    check.error(&at, "", message)
}

/// The script position of byte `offset` of `query`, when the call writes the query as is
/// (a backtick string, or one without quotes and backslashes) or escaped in double quotes.
fn locate(check: &Check, span: &Span, query: &str, offset: usize, len: usize) -> Option<Span> {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let offset = offset.min(query.len());
    let prefix = query.get(..offset)?;
    let forms = [(query.to_owned(), prefix.to_owned()), (escape(query), escape(prefix))];
    for (form, before) in forms {
        let Some(start) = check.sources.find_in_call(span, &form) else { continue };
        let lines = u32::try_from(before.matches('\n').count()).ok()?;
        let last = before.rsplit('\n').next().unwrap_or("");
        let chars = u32::try_from(last.chars().count()).ok()?;
        let col = if lines == 0 { start.col + chars } else { chars + 1 };
        return Some(Span::new(start.file, start.line + lines, col).with_len(u32::try_from(len).unwrap_or(0)));
    }
    None
}
