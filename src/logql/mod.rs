//! LogQL, read far enough to check it: stream selectors and their label matchers, line
//! filters, the names and arguments of pipeline stages, label filter expressions, and the
//! metric queries around log queries. No maintained LogQL crate exists; this is a small
//! reader of our own, table-tested against the examples of Loki's documentation.

mod lex;
mod parse;

use crate::model::MatcherOp;
#[cfg(test)]
mod tests;

pub use parse::STAGES;

/// Why a query is no LogQL, at a byte offset of the query as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub offset: usize,
}

/// `label op "value"` of a stream selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matcher {
    pub label: String,
    pub op: MatcherOp,
    pub value: String,
}

/// One log query: its stream selector, line filter operators and stage names in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogQuery {
    /// Where its selector starts.
    pub offset: usize,
    pub matchers: Vec<Matcher>,
    pub line_filters: Vec<&'static str>,
    /// Stage names; a label filter expression is `label_filter`.
    pub stages: Vec<String>,
}

/// A query: the log queries in it (one for a log query, one or more inside a metric query).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub logs: Vec<LogQuery>,
}

/// `text` as LogQL, Grafana's variables stood in for as in PromQL.
pub fn parse(text: &str) -> Result<Query, Error> {
    let s = crate::promql::grafana::substitute(text, crate::promql::grafana::Outside::Name);
    let back = |e: Error| Error { offset: s.original(e.offset), ..e };
    let toks = lex::tokens(&s.text).map_err(|(message, offset)| back(Error { message, offset }))?;
    let query = parse::Parser::new(&toks, s.text.len()).query().map_err(back)?;
    for log in &query.logs {
        if !log.matchers.iter().any(selects) {
            let message = "a stream selector needs a `=` or `=~` matcher that does not match the empty value (Loki refuses `{job=~\".*\"}` alone)".to_owned();
            return Err(Error { message, offset: s.original(log.offset) });
        }
    }
    Ok(query)
}

/// Whether `m` narrows the streams: `=` a value, or `=~` a regex the empty value fails.
fn selects(m: &Matcher) -> bool {
    match m.op {
        MatcherOp::Eq => !m.value.is_empty(),
        // A regex Rust cannot read is Loki's to judge.
        MatcherOp::Re => regex::Regex::new(&format!("^(?:{})$", m.value)).map_or(true, |r| !r.is_match("")),
        MatcherOp::Ne | MatcherOp::NotRe => false,
    }
}
