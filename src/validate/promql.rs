//! PromQL, parsed wherever a stack writes it: alert and recording rules, the input series
//! of alert tests, and (through `grafana_queries.rs`) the queries Grafana sends to
//! Prometheus data sources.

use super::Check;
use super::queries::error_at;
use crate::diagnostic::Span;
use crate::model::{Component, Prometheus, Service};
use crate::promql::{self, Expr, MatchOp, ParseError};

pub fn check(check: &mut Check) {
    for s in check.stack.services.values() {
        if let Component::Prometheus(p) = &s.component {
            rules(check, s, p);
            series(check, s, p);
        }
    }
}

fn rules(check: &mut Check, s: &Service, p: &Prometheus) {
    for r in p.rule_groups.iter().flat_map(|g| &g.rules) {
        if r.expr.trim().is_empty() {
            // Reported as empty by the rule checks.
            continue;
        }
        let (what, name) = match (&r.alert, &r.record) {
            (Some(a), _) => ("alert", a.as_str()),
            (None, Some(rec)) => ("recording rule", rec.as_str()),
            (None, None) => ("rule", ""),
        };
        let owner = format!("`expr` of {what} `{name}` of `{}`", s.name);
        match promql::parse(&r.expr) {
            Ok(e) => or_matchers(check, &r.span, &r.expr, &e, &owner),
            Err(e) => report(check, &r.span, &r.expr, &e, "expr", &owner),
        }
    }
}

/// promtool reads an input series as one series: a name and `label="value"` pairs.
fn series(check: &mut Check, s: &Service, p: &Prometheus) {
    for t in &p.rule_tests {
        for (selector, _) in &t.input_series {
            let owner = format!("input series `{selector}` of an alert test of `{}`", s.name);
            match promql::parse(selector) {
                Err(e) => report(check, &t.span, selector, &e, selector, &owner),
                Ok(Expr::VectorSelector(v))
                    if v.offset.is_none() && v.at.is_none() && v.matchers.or_matchers.is_empty() && v.matchers.matchers.iter().all(|m| m.op == MatchOp::Equal) => {}
                Ok(_) => {
                    let d = check.error(&t.span, selector, format!("{owner} is not one series: promtool reads a metric name and `label=\"value\"` pairs"));
                    *d = d.clone().help("e.g. `http_requests_total{job=\"api\", code=\"500\"}`; no functions, ranges, `!=` or `=~`");
                }
            }
        }
    }
}

/// Reports a query Grafana sends to Prometheus where it is no PromQL.
pub fn grafana_query(check: &mut Check, span: &Span, query: &str, fallback: &str, owner: &str) {
    match promql::parse_grafana(query) {
        Ok(e) => or_matchers(check, span, query, &e, owner),
        Err(e) => report(check, span, query, &e, fallback, owner),
    }
}

fn report(check: &mut Check, span: &Span, query: &str, e: &ParseError, fallback: &str, owner: &str) {
    if e.unsupported {
        let at = check.sources.find_in_call(span, fallback).unwrap_or_else(|| span.clone());
        let why = if e.message.contains("nested") {
            format!("its {}, which obsbuild does not read", e.message)
        } else {
            "it writes numbers with `_` between digits, which Prometheus 3 reads and obsbuild's PromQL parser does not".to_owned()
        };
        let d = check.warning(&at, "", format!("{owner} is not checked: {why}"));
        *d = d.clone().help("write it without them to have it checked");
        return;
    }
    let found = e.found(query);
    let message = format!("{owner} is not valid PromQL: {} (reading stops at {}, {found})", e.message, e.position(query));
    let len = e.token(query).map_or(0, |t| t.chars().count());
    error_at(check, span, query, e.offset, len, fallback, message);
}

/// `{a="1" or b="2"}` parses with the crate but is no PromQL.
fn or_matchers(check: &mut Check, span: &Span, query: &str, e: &Expr, owner: &str) {
    if promql::vector_selectors(e).iter().any(|v| !v.matchers.or_matchers.is_empty()) {
        let offset = query.find(" or ").map_or(0, |i| i + 1);
        let d = error_at(check, span, query, offset, 2, "", format!("{owner} is not valid PromQL: `or` between label matchers is not Prometheus syntax"));
        *d = d.clone().help("use one selector per alternative: `x{a=\"1\"} or x{b=\"2\"}`");
    }
}
