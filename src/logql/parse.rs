//! A recursive-descent reader of LogQL: log queries (stream selector, line filters,
//! pipeline stages) and, around them, metric queries far enough to find every log query.

use super::lex::{Tok, Token};
use super::{Error, LogQuery, Matcher, Query};
use crate::model::MatcherOp;

pub struct Parser<'t> {
    toks: &'t [Token],
    pos: usize,
    /// Where the text ends, for errors at the end.
    end: usize,
    /// Ranges read so far, to tell whether a range function got one.
    ranges: usize,
    /// Parentheses open now: the reader recurses into each.
    depth: usize,
    out: Query,
}

/// Parentheses nested deeper than this are refused rather than recursed into.
const MAX_DEPTH: usize = 128;

/// Pipeline stages by name; a name that is none of these starts a label filter or is wrong.
pub const STAGES: &[&str] = &["json", "logfmt", "regexp", "pattern", "unpack", "line_format", "label_format", "drop", "keep", "decolorize", "unwrap"];

/// Range aggregations over a log query (`rate({...}[5m])`).
const RANGE_FUNCTIONS: &[&str] = &[
    "rate", "count_over_time", "bytes_rate", "bytes_over_time", "absent_over_time", "rate_counter", "sum_over_time", "avg_over_time",
    "max_over_time", "min_over_time", "first_over_time", "last_over_time", "stdvar_over_time", "stddev_over_time", "quantile_over_time",
];

/// Aggregations over vectors, which may take `by`/`without` before or after.
const AGGREGATIONS: &[&str] = &["sum", "avg", "min", "max", "stddev", "stdvar", "count", "topk", "bottomk", "sort", "sort_desc", "approx_topk"];

const BINARY: &[&str] = &["+", "-", "*", "/", "%", "^", "==", "!=", ">", ">=", "<", "<="];

type R<T> = Result<T, Error>;

impl<'t> Parser<'t> {
    pub fn new(toks: &'t [Token], end: usize) -> Self {
        Parser { toks, pos: 0, end, ranges: 0, depth: 0, out: Query::default() }
    }

    pub fn query(mut self) -> R<Query> {
        self.expr()?;
        if let Some(t) = self.peek() {
            return Err(self.error_at(t.at, format!("unexpected {} after the query", describe(&t.tok))));
        }
        Ok(self.out)
    }

    fn peek(&self) -> Option<&'t Token> {
        self.toks.get(self.pos)
    }

    fn at(&self) -> usize {
        self.peek().map_or(self.end, |t| t.at)
    }

    fn error_at(&self, at: usize, message: String) -> Error {
        Error { message, offset: at }
    }

    /// An error at the next token: "expected X, found Y".
    fn expected(&self, what: &str) -> Error {
        let found = self.peek().map_or_else(|| "the end of the query".to_owned(), |t| describe(&t.tok));
        self.error_at(self.at(), format!("expected {what}, found {found}"))
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Op(o), .. }) if *o == op)
    }

    fn is_ident(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Ident(w), .. }) if w == word)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        let yes = self.is_op(op);
        self.pos += usize::from(yes);
        yes
    }

    fn expect_op(&mut self, op: &str) -> R<()> {
        if self.eat_op(op) { Ok(()) } else { Err(self.expected(&format!("`{op}`"))) }
    }

    fn ident(&mut self, what: &str) -> R<String> {
        match self.peek() {
            Some(Token { tok: Tok::Ident(w), .. }) => {
                self.pos += 1;
                Ok(w.clone())
            }
            _ => Err(self.expected(what)),
        }
    }

    fn string(&mut self, what: &str) -> R<String> {
        match self.peek() {
            Some(Token { tok: Tok::Str(s), .. }) => {
                self.pos += 1;
                Ok(s.clone())
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A metric or log expression with binary operators between operands.
    fn expr(&mut self) -> R<()> {
        self.operand()?;
        loop {
            let op = match self.peek() {
                Some(Token { tok: Tok::Op(o), .. }) if BINARY.contains(o) => true,
                Some(Token { tok: Tok::Ident(w), .. }) => matches!(w.as_str(), "and" | "or" | "unless"),
                _ => false,
            };
            if !op {
                return Ok(());
            }
            self.pos += 1;
            if self.is_ident("bool") {
                self.pos += 1;
            }
            if self.is_ident("on") || self.is_ident("ignoring") {
                self.pos += 1;
                self.labels()?;
            }
            if self.is_ident("group_left") || self.is_ident("group_right") {
                self.pos += 1;
                if self.is_op("(") {
                    self.labels()?;
                }
            }
            self.operand()?;
        }
    }

    /// Counts one more level of nesting, refusing too many.
    fn deeper(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(self.at(), format!("parentheses nested more than {MAX_DEPTH} deep")));
        }
        Ok(())
    }

    fn operand(&mut self) -> R<()> {
        self.deeper()?;
        let r = self.operand_inner();
        self.depth -= 1;
        r
    }

    fn operand_inner(&mut self) -> R<()> {
        let Some(t) = self.peek() else { return Err(self.expected("a query")) };
        match &t.tok {
            Tok::Op("{") => {
                self.log()?;
                self.range_suffix()
            }
            Tok::Op("-" | "+") => {
                self.pos += 1;
                self.operand()
            }
            Tok::Op("(") => {
                self.pos += 1;
                self.expr()?;
                self.expect_op(")")?;
                self.range_suffix()
            }
            Tok::Num(_) => {
                self.pos += 1;
                Ok(())
            }
            Tok::Ident(name) => self.call(name.clone(), t.at),
            other => Err(self.error_at(t.at, format!("expected a query, found {}", describe(other)))),
        }
    }

    /// `[5m]` after a log query, and `offset 1h` after it.
    fn range_suffix(&mut self) -> R<()> {
        if self.eat_op("[") {
            match self.peek() {
                Some(Token { tok: Tok::Num(_), .. }) => self.pos += 1,
                _ => return Err(self.expected("a duration such as `5m`")),
            }
            self.expect_op("]")?;
            self.ranges += 1;
        }
        if self.is_ident("offset") {
            self.pos += 1;
            match self.peek() {
                Some(Token { tok: Tok::Num(_), .. }) => self.pos += 1,
                _ => return Err(self.expected("a duration after `offset`")),
            }
        }
        Ok(())
    }

    /// `name(args)`, with an aggregation's `by (...)` before or after its arguments.
    fn call(&mut self, name: String, at: usize) -> R<()> {
        self.pos += 1;
        let aggregation = AGGREGATIONS.contains(&name.as_str());
        if aggregation {
            self.grouping()?;
        }
        if !self.is_op("(") {
            if matches!(name.as_str(), "inf" | "nan") {
                return Ok(());
            }
            return Err(self.error_at(at, format!("`{name}` is no LogQL query: a log query starts with a stream selector `{{label=\"value\"}}`")));
        }
        if !aggregation && !RANGE_FUNCTIONS.contains(&name.as_str()) && !matches!(name.as_str(), "vector" | "label_replace" | "absent" | "scalar") {
            return Err(self.error_at(at, format!("`{name}` is not a LogQL function")));
        }
        self.pos += 1;
        let ranges = self.ranges;
        loop {
            match self.peek() {
                Some(Token { tok: Tok::Str(_), .. }) => self.pos += 1,
                _ => self.expr()?,
            }
            if !self.eat_op(",") {
                break;
            }
        }
        if RANGE_FUNCTIONS.contains(&name.as_str()) && self.ranges == ranges {
            return Err(self.expected(&format!("a duration such as `5m` in brackets: `{name}` reads a range of a log query")));
        }
        self.expect_op(")")?;
        if aggregation || RANGE_FUNCTIONS.contains(&name.as_str()) {
            self.grouping()?;
        }
        Ok(())
    }

    fn grouping(&mut self) -> R<()> {
        if self.is_ident("by") || self.is_ident("without") {
            self.pos += 1;
            self.labels()?;
        }
        Ok(())
    }

    /// `(label, label)`.
    fn labels(&mut self) -> R<()> {
        self.expect_op("(")?;
        while !self.eat_op(")") {
            self.ident("a label name")?;
            if !self.eat_op(",") {
                self.expect_op(")")?;
                break;
            }
        }
        Ok(())
    }

    /// A stream selector and its pipeline.
    fn log(&mut self) -> R<()> {
        let start = self.at();
        self.expect_op("{")?;
        let mut matchers = Vec::new();
        loop {
            if self.is_op("}") && !matchers.is_empty() {
                self.pos += 1;
                break;
            }
            let label = self.ident("a label name")?;
            let op = match self.peek() {
                Some(Token { tok: Tok::Op(o), .. }) => MatcherOp::ALL.into_iter().find(|m| m.symbol() == *o),
                _ => None,
            };
            let Some(op) = op else { return Err(self.expected("`=`, `!=`, `=~` or `!~`")) };
            self.pos += 1;
            let value = self.string("a quoted value")?;
            matchers.push(Matcher { label, op, value });
            if !self.eat_op(",") {
                self.expect_op("}")?;
                break;
            }
        }
        let mut query = LogQuery { offset: start, matchers, line_filters: Vec::new(), stages: Vec::new() };
        self.pipeline(&mut query)?;
        self.out.logs.push(query);
        Ok(())
    }

    fn pipeline(&mut self, q: &mut LogQuery) -> R<()> {
        loop {
            match self.peek() {
                Some(Token { tok: Tok::Op(op @ ("|=" | "!=" | "|~" | "!~" | "|>" | "!>")), .. }) => {
                    self.pos += 1;
                    self.filter_value()?;
                    while self.is_ident("or") && matches!(self.toks.get(self.pos + 1), Some(Token { tok: Tok::Str(_), .. })) {
                        self.pos += 1;
                        self.filter_value()?;
                    }
                    q.line_filters.push(op);
                }
                Some(Token { tok: Tok::Op("|"), .. }) => {
                    self.pos += 1;
                    let stage = self.stage()?;
                    q.stages.push(stage);
                }
                _ => return Ok(()),
            }
        }
    }

    /// A line filter's string, or `ip("...")`.
    fn filter_value(&mut self) -> R<()> {
        if self.is_ident("ip") {
            self.pos += 1;
            self.expect_op("(")?;
            self.string("an address or range in quotes")?;
            return self.expect_op(")");
        }
        self.string("a quoted string to filter lines by").map(drop)
    }

    /// One stage after `|`: its name (`label_filter` for a label filter expression).
    fn stage(&mut self) -> R<String> {
        let Some(t) = self.peek() else { return Err(self.expected("a pipeline stage")) };
        let name = match &t.tok {
            Tok::Op("(") => {
                self.label_filter()?;
                return Ok("label_filter".to_owned());
            }
            Tok::Ident(n) => n.clone(),
            other => return Err(self.error_at(t.at, format!("expected a pipeline stage, found {}", describe(other)))),
        };
        let compares = matches!(self.toks.get(self.pos + 1), Some(Token { tok: Tok::Op("=" | "!=" | "=~" | "!~" | "==" | ">" | ">=" | "<" | "<="), .. }));
        if compares {
            self.label_filter()?;
            return Ok("label_filter".to_owned());
        }
        if !STAGES.contains(&name.as_str()) {
            let e = self.error_at(t.at, format!("`{name}` is not a pipeline stage (stages: {}; or a label filter such as `level=\"error\"`)", STAGES.join(", ")));
            return Err(e);
        }
        self.pos += 1;
        match name.as_str() {
            "regexp" | "pattern" | "line_format" => {
                self.string(&format!("the quoted expression of `{name}`"))?;
            }
            "json" | "logfmt" => {
                while matches!(self.peek(), Some(Token { tok: Tok::Flag(_), .. })) {
                    self.pos += 1;
                }
                self.extractions(false)?;
            }
            "label_format" => self.extractions(true)?,
            "drop" | "keep" => self.drop_keep()?,
            "unwrap" => {
                let label = self.ident("a label to unwrap")?;
                if self.eat_op("(") {
                    if !matches!(label.as_str(), "duration" | "duration_seconds" | "bytes") {
                        let at = self.toks.get(self.pos - 2).map_or(self.end, |t| t.at);
                        return Err(self.error_at(at, format!("`{label}` is not a conversion of `unwrap` (`duration`, `duration_seconds`, `bytes`)")));
                    }
                    self.ident("a label to unwrap")?;
                    self.expect_op(")")?;
                }
            }
            _ => {}
        }
        Ok(name)
    }

    /// `json a="x", b` / `label_format dst=src, dst="{{.x}}"`: (required for label_format).
    fn extractions(&mut self, required: bool) -> R<()> {
        if !required && !matches!(self.peek(), Some(Token { tok: Tok::Ident(_), .. })) {
            return Ok(());
        }
        loop {
            self.ident("a label name")?;
            if self.eat_op("=") {
                match self.peek() {
                    Some(Token { tok: Tok::Str(_) | Tok::Ident(_), .. }) => self.pos += 1,
                    _ => return Err(self.expected("a quoted expression")),
                }
            } else if required {
                return Err(self.expected("`=`"));
            }
            if !self.eat_op(",") {
                return Ok(());
            }
        }
    }

    /// `drop a, b="x"`.
    fn drop_keep(&mut self) -> R<()> {
        loop {
            self.ident("a label name")?;
            if let Some(Token { tok: Tok::Op("=" | "!=" | "=~" | "!~"), .. }) = self.peek() {
                self.pos += 1;
                self.string("a quoted value")?;
            }
            if !self.eat_op(",") {
                return Ok(());
            }
        }
    }

    /// Predicates joined by `and`, `or`, `,` or a space, in parentheses or not.
    fn label_filter(&mut self) -> R<()> {
        self.deeper()?;
        let r = self.label_filter_inner();
        self.depth -= 1;
        r
    }

    fn label_filter_inner(&mut self) -> R<()> {
        loop {
            if self.eat_op("(") {
                self.label_filter()?;
                self.expect_op(")")?;
            } else {
                self.predicate()?;
            }
            if self.is_ident("and") || self.is_ident("or") || self.is_op(",") {
                self.pos += 1;
                continue;
            }
            // A space joins too: another predicate follows when a name and a comparison do.
            let next_compares = matches!(self.toks.get(self.pos + 1), Some(Token { tok: Tok::Op("=" | "!=" | "=~" | "!~" | "==" | ">" | ">=" | "<" | "<="), .. }));
            if !(matches!(self.peek(), Some(Token { tok: Tok::Ident(_), .. })) && next_compares) {
                return Ok(());
            }
        }
    }

    fn predicate(&mut self) -> R<()> {
        self.ident("a label name")?;
        let op = match self.peek() {
            Some(Token { tok: Tok::Op(o @ ("=" | "!=" | "=~" | "!~" | "==" | ">" | ">=" | "<" | "<=")), .. }) => *o,
            _ => return Err(self.expected("a comparison (`=`, `!=`, `=~`, `!~`, `>`, `>=`, `<`, `<=`)")),
        };
        self.pos += 1;
        match self.peek() {
            Some(Token { tok: Tok::Str(_), .. }) => self.pos += 1,
            Some(Token { tok: Tok::Num(_), .. }) if !matches!(op, "=~" | "!~") => self.pos += 1,
            Some(Token { tok: Tok::Ident(w), .. }) if w == "ip" && matches!(op, "=" | "!=") => {
                self.pos += 1;
                self.expect_op("(")?;
                self.string("an address or range in quotes")?;
                self.expect_op(")")?;
            }
            _ => return Err(self.expected("a quoted value, number, duration or byte size")),
        }
        Ok(())
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(w) => format!("`{w}`"),
        Tok::Str(s) => format!("the string \"{s}\""),
        Tok::Num(n) => format!("`{n}`"),
        Tok::Flag(f) => format!("`{f}`"),
        Tok::Op(o) => format!("`{o}`"),
    }
}
