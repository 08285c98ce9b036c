//! PromQL read with a maintained parser (`promql-parser`), the one way obsbuild reads a
//! query: validation reports what does not parse, the review's impact reads the selectors
//! of what does.
//!
//! Grafana queries hold template variables that are not PromQL until Grafana fills them
//! in; [`grafana`] stands values in for them that keep the query parseable and maps
//! offsets back. The crate reports a grammar error without a position, so [`stop`] finds
//! how far the query reads by parsing its prefixes.

pub mod grafana;
mod stop;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::collections::HashMap;

pub use promql_parser::label::{MatchOp, Matcher};
pub use promql_parser::parser::{Expr, VectorSelector};

/// Why a query does not parse, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The parser's own message.
    pub message: String,
    /// Byte offset in the query as written where reading stops: everything before it is
    /// the start of some valid query.
    pub offset: usize,
    /// The crate refuses syntax Prometheus 3 reads (underscores between digits): the query
    /// is not known to be wrong, only not checked.
    pub unsupported: bool,
}

impl ParseError {
    /// `line L, column C` inside a query of several lines, else `column C` (1-based,
    /// counted in characters).
    #[must_use]
    pub fn position(&self, query: &str) -> String {
        let before = query.get(..self.offset).unwrap_or(query);
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        if query.contains('\n') { format!("line {line}, column {col}") } else { format!("column {col}") }
    }

    /// What stands at the error: `` `==` `` or `the end of the query`.
    #[must_use]
    pub fn found(&self, query: &str) -> String {
        self.token(query).map_or_else(|| "the end of the query".to_owned(), |t| format!("`{t}`"))
    }

    /// The word or operator at the error; `None` at the end of the query.
    #[must_use]
    pub fn token(&self, query: &str) -> Option<String> {
        let rest = query.get(self.offset..).unwrap_or("");
        let token: String = match rest.chars().next()? {
            c if c.is_alphanumeric() || c == '_' => rest.chars().take_while(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '.')).collect(),
            _ => rest.chars().take_while(|c| !c.is_alphanumeric() && !c.is_whitespace() && !matches!(c, '"' | '\'' | '`' | '(' | '{' | '[')).take(3).collect(),
        };
        Some(if token.is_empty() { rest.chars().take(1).collect() } else { token })
    }
}

/// Brackets nested deeper than this are not read: the parsed tree would be walked (and
/// dropped) recursively. No real query comes near.
const MAX_DEPTH: usize = 128;

fn too_deep(text: &str) -> Option<ParseError> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            return Some(ParseError { message: format!("brackets nested more than {MAX_DEPTH} deep"), offset: i, unsupported: true });
        }
    }
    None
}

/// `expr` as Prometheus reads it (rule expressions, promtool series).
pub fn parse(expr: &str) -> Result<Expr, ParseError> {
    memo(expr, false)
}

/// A Grafana panel's query: variables stood in for, then parsed. An error's offset is in
/// `expr` as written.
pub fn parse_grafana(expr: &str) -> Result<Expr, ParseError> {
    memo(expr, true)
}

/// Most readings [`memo`] keeps at once: a fleet's rules and panels and more; past it the
/// memo starts over, so a long-lived process holds a bounded amount.
const MEMO_SIZE: usize = 1 << 16;

/// Readings by query text: `plain` as Prometheus reads it, `grafana` with variables stood
/// in for (only texts that have some: without, both readings are the same).
#[derive(Default)]
struct Memo {
    plain: HashMap<String, Result<Expr, ParseError>>,
    grafana: HashMap<String, Result<Expr, ParseError>>,
}

thread_local! {
    /// Each query read on this thread. A build reads every rule and panel query twice
    /// (validation checks it, the review's impact index takes its selectors), and the
    /// parser's work is the cost: a clone of the tree is a fraction of it.
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

/// The readings this thread kept, taken from it.
pub struct Readings(#[allow(dead_code)] Memo);

/// Takes this thread's readings away, leaving it none: a thread about to end gives them to
/// a caller that lets them go with the process (`cli::discard`) instead of freeing a
/// fleet's syntax trees on the way out.
#[must_use]
pub fn take_readings() -> Readings {
    Readings(MEMO.try_with(|m| std::mem::take(&mut *m.borrow_mut())).unwrap_or_default())
}

/// Whether `expr` holds something [`grafana::substitute`] stands a value in for: a `$` or
/// a `[[`. Without either the substituted text is `expr` itself.
fn has_variables(expr: &str) -> bool {
    expr.contains('$') || expr.contains("[[")
}

/// `expr` read once per text on this thread (reading is pure: the same result each time);
/// `grafana` for a panel's query.
fn memo(expr: &str, grafana: bool) -> Result<Expr, ParseError> {
    let grafana = grafana && has_variables(expr);
    let pick = |m: &Memo| if grafana { m.grafana.get(expr).cloned() } else { m.plain.get(expr).cloned() };
    if let Ok(Some(hit)) = MEMO.try_with(|m| pick(&m.borrow())) {
        return hit;
    }
    let read = if grafana { read_with_variables(expr) } else { read_plain(expr) };
    let _ = MEMO.try_with(|m| {
        let mut m = m.borrow_mut();
        if m.plain.len() + m.grafana.len() >= MEMO_SIZE {
            *m = Memo::default();
        }
        let map = if grafana { &mut m.grafana } else { &mut m.plain };
        map.insert(expr.to_owned(), read.clone());
    });
    read
}

fn read_plain(expr: &str) -> Result<Expr, ParseError> {
    if let Some(e) = too_deep(expr) {
        return Err(e);
    }
    promql_parser::parser::parse(expr).map_err(|message| ParseError { offset: stop::offset(expr), unsupported: gap(expr), message })
}

fn read_with_variables(expr: &str) -> Result<Expr, ParseError> {
    if let Some(e) = too_deep(expr) {
        return Err(e);
    }
    let mut first = None;
    for outside in [grafana::Outside::Name, grafana::Outside::Number] {
        let s = grafana::substitute(expr, outside);
        match promql_parser::parser::parse(&s.text) {
            Ok(e) => return Ok(e),
            Err(message) if first.is_none() => {
                first = Some(ParseError { offset: s.original(stop::offset(&s.text)), unsupported: gap(&s.text), message });
            }
            Err(_) => {}
        }
        if !s.outside {
            // No variable stood for a name or number: the second reading is the same.
            break;
        }
    }
    Err(first.unwrap_or_else(|| ParseError { message: "invalid promql query".to_owned(), offset: 0, unsupported: false }))
}

/// Whether `text` parses once underscores between digits (`1_000`, `0x_ff`), which
/// Prometheus 3 reads and the crate does not, are taken out.
fn gap(text: &str) -> bool {
    let b = text.as_bytes();
    let kept: String = text
        .char_indices()
        .filter(|&(i, c)| {
            let prev = i.checked_sub(1).and_then(|j| b.get(j)).is_some_and(|p| p.is_ascii_hexdigit() || *p == b'x');
            c != '_' || !prev || !b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
        })
        .map(|(_, c)| c)
        .collect();
    kept != text && promql_parser::parser::parse(&kept).is_ok()
}

/// A Grafana panel's query, parsed, or `None`: for readers that skip what does not parse
/// and need no position. The same reading as [`parse_grafana`], shared with it.
#[must_use]
pub fn read_grafana(expr: &str) -> Option<Expr> {
    parse_grafana(expr).ok()
}

/// Every vector selector of `expr`, inside matrix selectors and subqueries too, in order.
#[must_use]
pub fn vector_selectors(expr: &Expr) -> Vec<&VectorSelector> {
    let mut out = Vec::new();
    collect(expr, &mut out);
    out
}

fn collect<'a>(expr: &'a Expr, out: &mut Vec<&'a VectorSelector>) {
    match expr {
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                collect(p, out);
            }
            collect(&a.expr, out);
        }
        Expr::Unary(u) => collect(&u.expr, out),
        Expr::Binary(b) => {
            collect(&b.lhs, out);
            collect(&b.rhs, out);
        }
        Expr::Paren(p) => collect(&p.expr, out),
        Expr::Subquery(s) => collect(&s.expr, out),
        Expr::VectorSelector(v) => out.push(v),
        Expr::MatrixSelector(m) => out.push(&m.vs),
        Expr::Call(c) => c.args.args.iter().for_each(|a| collect(a, out)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}
