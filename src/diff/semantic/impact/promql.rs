//! The series a PromQL expression reads: its vector selectors (metric name and label
//! matchers), taken from the parsed query ([`crate::promql`], Grafana's variables stood in
//! for), so the review reads a query the way validation does.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::promql::MatchOp;
use crate::promql::grafana::IN_STRING;

pub use crate::model::MatcherOp as Op;

#[derive(Clone, Debug)]
pub struct Matcher {
    pub label: String,
    pub op: Op,
    pub value: String,
    /// `value` compiled, for `=~` and `!~`; `None` when Rust's regex cannot read it.
    regex: Option<regex::Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        (&self.label, self.op, &self.value) == (&other.label, other.op, &other.value)
    }
}

impl Eq for Matcher {}

impl Matcher {
    pub fn new(label: String, op: Op, value: String) -> Matcher {
        // Prometheus anchors its regular expressions at both ends.
        let regex = matches!(op, Op::Re | Op::NotRe).then(|| regex::Regex::new(&format!("^(?:{value})$")).ok()).flatten();
        Matcher { label, op, value, regex }
    }

    /// Whether a series whose `label` is `value` (empty when it has none) is selected.
    pub fn accepts(&self, value: &str) -> bool {
        match self.op {
            Op::Eq => self.value == value,
            Op::Ne => self.value != value,
            // A regular expression Rust cannot read is taken to match: better to name a
            // dependent too many than to miss one.
            Op::Re => self.regex.as_ref().is_none_or(|r| r.is_match(value)),
            Op::NotRe => self.regex.as_ref().is_none_or(|r| !r.is_match(value)),
        }
    }
}

/// One vector selector: `http_requests_total{job="api", code=~"5.."}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    /// The metric name, when the selector gives one (before the braces or as `__name__="x"`).
    pub metric: Option<String>,
    pub matchers: Vec<Matcher>,
}

impl Selector {
    /// The matchers on `label`.
    pub fn on<'a>(&'a self, label: &'a str) -> impl Iterator<Item = &'a Matcher> + 'a {
        self.matchers.iter().filter(move |m| m.label == label)
    }
}

/// Most query texts [`selectors`] keeps the reading of at once; past it, it starts over.
const KEPT: usize = 1 << 16;

thread_local! {
    /// The selectors of each query text read on this thread: a build's checks and its
    /// impact index read every rule and panel query, and regular expressions are compiled
    /// once per text.
    static READ: RefCell<HashMap<String, Arc<[Selector]>>> = RefCell::new(HashMap::new());
}

/// Every vector selector of `expr`, in order; none when it does not parse (an impact the
/// review cannot see is left out, not made up). A selector with `or` alternatives gives
/// one selector each.
#[must_use]
pub fn selectors(expr: &str) -> Arc<[Selector]> {
    if let Ok(Some(hit)) = READ.try_with(|r| r.borrow().get(expr).cloned()) {
        return hit;
    }
    let read: Arc<[Selector]> = read(expr).into();
    let _ = READ.try_with(|r| {
        let mut r = r.borrow_mut();
        if r.len() >= KEPT {
            r.clear();
        }
        r.insert(expr.to_owned(), read.clone());
    });
    read
}

fn read(expr: &str) -> Vec<Selector> {
    let Some(parsed) = crate::promql::read_grafana(expr) else { return Vec::new() };
    let mut out = Vec::new();
    for v in crate::promql::vector_selectors(&parsed) {
        // The crate's `{a="1" or b="2"}` (no Prometheus syntax; validation refuses it).
        let alternatives: Vec<Vec<&crate::promql::Matcher>> = if v.matchers.or_matchers.is_empty() {
            vec![v.matchers.matchers.iter().collect()]
        } else {
            v.matchers.or_matchers.iter().map(|alt| v.matchers.matchers.iter().chain(alt).collect()).collect()
        };
        for set in alternatives {
            let mut selector = Selector { metric: v.name.clone(), matchers: Vec::new() };
            for m in set {
                let op = match m.op {
                    MatchOp::Equal => Op::Eq,
                    MatchOp::NotEqual => Op::Ne,
                    MatchOp::Re(_) => Op::Re,
                    MatchOp::NotRe(_) => Op::NotRe,
                };
                // A Grafana variable (`job="$job"`, `job=~"${job:regex}"`) can be any value.
                let (op, value) = if m.value.contains(IN_STRING) { (Op::Re, ".*".to_owned()) } else { (op, m.value.clone()) };
                if m.name == "__name__" && op == Op::Eq {
                    selector.metric = Some(value);
                } else {
                    selector.matchers.push(Matcher::new(m.name.clone(), op, value));
                }
            }
            out.push(selector);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        selectors(expr)
            .iter()
            .map(|s| {
                let m: Vec<String> = s.matchers.iter().map(|m| format!("{}{:?}{}", m.label, m.op, m.value)).collect();
                format!("{}{{{}}}", s.metric.as_deref().unwrap_or(""), m.join(","))
            })
            .collect()
    }

    #[test]
    fn finds_selectors_past_functions_keywords_and_variables() {
        assert_eq!(names(r#"up{job="otel-collector"} == 0"#), ["up{jobEqotel-collector}"]);
        assert_eq!(
            names(r#"histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{job="task-manager"}[$__rate_interval])))"#),
            ["http_server_request_duration_seconds_bucket{jobEqtask-manager}"]
        );
        assert_eq!(
            names(r#"sum(rate(a{code=~"5.."}[5m])) by (job) / on(job) group_left sum(rate(b[5m] offset 1h))"#),
            ["a{codeRe5..}", "b{}"]
        );
        assert_eq!(names("count(up == 0) or vector(0)"), ["up{}"]);
        assert_eq!(names(r#"label_replace(x, "dst", "$1", "src", "(.*)")"#), ["x{}"]);
        assert_eq!(names(r#"{__name__="job:requests:rate5m", job!~"test.*"}"#), ["job:requests:rate5m{jobNotRetest.*}"]);
        assert_eq!(names(r#"{"http.server.duration", job="api"}"#), ["http.server.duration{jobEqapi}"]);
        assert_eq!(names(r#"rate(x{job="$job"}[1m]) > Inf"#), ["x{jobRe.*}"]);
        assert_eq!(names("1e3 * 0.5 + .5"), Vec::<String>::new());
        assert_eq!(names(r#"x{a="1" or b="2"}"#), ["x{aEq1}", "x{bEq2}"]);
        assert_eq!(names(r#"up{job="otel-collector" == 0"#), Vec::<String>::new(), "a query that does not parse reads nothing");
    }

    #[test]
    fn every_truncation_and_garbage_scans_without_panicking() {
        let exprs = [
            r#"sum by (le) (rate(x{job=~"a|b", c!="d\"e"}[5m] offset 1h)) / on(job) group_left(a) {"q.r", z=`y`}"#,
            "${a:b} [[c]] $d {{{ }}} ((( ))) \" ' ` # comment\n é漢字{é=\"😀\"}",
        ];
        for e in exprs {
            let chars: Vec<char> = e.chars().collect();
            for end in 0..=chars.len() {
                let prefix: String = chars[..end].iter().collect();
                let _ = selectors(&prefix);
                let suffix: String = chars[end..].iter().collect();
                let _ = selectors(&suffix);
            }
        }
    }

    #[test]
    fn matchers_follow_prometheus() {
        let m = |op, value: &str| Matcher::new("job".into(), op, value.into());
        assert!(m(Op::Re, "otel.*").accepts("otel-collector"));
        assert!(!m(Op::Re, "otel").accepts("otel-collector"), "anchored at both ends");
        assert!(m(Op::NotRe, "loki").accepts("prometheus"));
        assert!(m(Op::Ne, "a").accepts(""));
        assert!(m(Op::Re, "(unclosed").accepts("anything"), "an unreadable regex selects everything");
    }
}
