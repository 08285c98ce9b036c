//! The series a PromQL expression reads: its vector selectors (metric name and label
//! matchers), found by a small scanner rather than a full parser, because Grafana queries
//! hold template variables (`$__rate_interval`, `${job}`) that are not PromQL until Grafana
//! fills them in. Anything the scanner does not recognise is skipped, never an error: an
//! impact the review cannot see is left out, not made up.

/// How a label matcher compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Re,
    NotRe,
}

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

/// Words that are PromQL syntax, not metric names.
const KEYWORDS: &[&str] = &[
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "start", "end",
    "inf", "nan", "atan2",
];

/// Aggregations, which may take their `by (...)` before their argument.
const AGGREGATIONS: &[&str] = &[
    "sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "limitk",
    "limit_ratio",
];

/// Keywords followed by a label list in parentheses, which holds label names, not series.
const LABEL_LISTS: &[&str] = &["by", "without", "on", "ignoring", "group_left", "group_right"];

/// Every vector selector of `expr`, in order.
#[must_use]
pub fn selectors(expr: &str) -> Vec<Selector> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '#' {
            // A comment runs to the end of the line.
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if matches!(c, '"' | '\'' | '`') {
            i = skip_string(&chars, i).1;
        } else if c == '[' {
            // A range or subquery duration, or Grafana's `[[var]]`.
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
            i += 1;
        } else if c == '$' {
            i = skip_variable(&chars, i);
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            // A number or a duration (`5m`, `1e3`, `0x1f`).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_') {
                i += 1;
            }
        } else if c == '{' {
            let (matchers, metric, next) = braces(&chars, i);
            out.push(Selector { metric, matchers });
            i = next;
        } else if is_ident_start(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = next_non_space(&chars, i);
            let lower = word.to_ascii_lowercase();
            if LABEL_LISTS.contains(&lower.as_str()) {
                if chars.get(next) == Some(&'(') {
                    i = skip_parens(&chars, next);
                }
            } else if KEYWORDS.contains(&lower.as_str()) || chars.get(next) == Some(&'(') || (AGGREGATIONS.contains(&lower.as_str()) && grouping_follows(&chars, next)) {
                // Syntax, or a function or aggregation called here.
            } else if chars.get(next) == Some(&'{') {
                let (matchers, _, after) = braces(&chars, next);
                out.push(Selector { metric: Some(word), matchers });
                i = after;
            } else {
                out.push(Selector { metric: Some(word), matchers: Vec::new() });
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Whether `by` or `without` starts at `i`: `sum by (le) (...)`.
fn grouping_follows(chars: &[char], i: usize) -> bool {
    let word: String = chars[i.min(chars.len())..].iter().take_while(|c| is_ident(**c)).collect();
    word.eq_ignore_ascii_case("by") || word.eq_ignore_ascii_case("without")
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

fn next_non_space(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

/// The string starting at `i` (its quote), unescaped, and the index after it.
fn skip_string(chars: &[char], i: usize) -> (String, usize) {
    let quote = chars[i];
    let mut out = String::new();
    let mut j = i + 1;
    while j < chars.len() && chars[j] != quote {
        if chars[j] == '\\' && quote != '`' && j + 1 < chars.len() {
            j += 1;
            out.push(match chars[j] {
                'n' => '\n',
                't' => '\t',
                other => other,
            });
        } else {
            out.push(chars[j]);
        }
        j += 1;
    }
    (out, j + 1)
}

/// `$name`, `${name}` or `${name:format}`: a Grafana variable.
fn skip_variable(chars: &[char], i: usize) -> usize {
    let mut j = i + 1;
    if chars.get(j) == Some(&'{') {
        while j < chars.len() && chars[j] != '}' {
            j += 1;
        }
        return j + 1;
    }
    while j < chars.len() && is_ident(chars[j]) {
        j += 1;
    }
    j
}

fn skip_parens(chars: &[char], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while j < chars.len() {
        match chars[j] {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            '"' | '\'' | '`' => {
                j = skip_string(chars, j).1;
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    j
}

/// The matchers between the braces at `i`, a metric name given inside them (`__name__`
/// or Prometheus 3's quoted `{"metric.name"}`), and the index after the closing brace.
fn braces(chars: &[char], i: usize) -> (Vec<Matcher>, Option<String>, usize) {
    let mut matchers = Vec::new();
    let mut metric = None;
    let mut j = i + 1;
    loop {
        j = next_non_space(chars, j);
        match chars.get(j) {
            None => return (matchers, metric, j),
            Some('}') => return (matchers, metric, j + 1),
            Some(',') => {
                j += 1;
                continue;
            }
            _ => {}
        }
        let (label, after) = if matches!(chars[j], '"' | '\'' | '`') {
            skip_string(chars, j)
        } else {
            let start = j;
            while j < chars.len() && (is_ident(chars[j]) || chars[j] == '.') {
                j += 1;
            }
            if j == start {
                // Not a label: skip the character rather than stop.
                j += 1;
                continue;
            }
            (chars[start..j].iter().collect(), j)
        };
        j = next_non_space(chars, after);
        let op = match (chars.get(j), chars.get(j + 1)) {
            (Some('='), Some('~')) => Some((Op::Re, 2)),
            (Some('!'), Some('~')) => Some((Op::NotRe, 2)),
            (Some('!'), Some('=')) => Some((Op::Ne, 2)),
            (Some('='), _) => Some((Op::Eq, 1)),
            _ => None,
        };
        let Some((op, width)) = op else {
            // A bare quoted name is the metric name.
            metric = Some(label);
            continue;
        };
        j = next_non_space(chars, j + width);
        let value = match chars.get(j) {
            Some('"' | '\'' | '`') => {
                let (v, after) = skip_string(chars, j);
                j = after;
                v
            }
            Some('$') => {
                let start = j;
                j = skip_variable(chars, j);
                chars[start..j].iter().collect()
            }
            _ => String::new(),
        };
        // A Grafana variable (`job="$job"`, `job=~"${job:regex}"`) can be any value.
        let (op, value) = if value.contains('$') { (Op::Re, ".*".to_owned()) } else { (op, value) };
        if label == "__name__" && op == Op::Eq {
            metric = Some(value);
        } else {
            matchers.push(Matcher::new(label, op, value));
        }
    }
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
            names(r#"sum(rate(a{code=~"5.."}[5m])) by (job) / on(job) group_left sum(rate(b[5m])) offset 1h"#),
            ["a{codeRe5..}", "b{}"]
        );
        assert_eq!(names("count(up == 0) or vector(0)"), ["up{}"]);
        assert_eq!(names(r#"label_replace(x, "dst", "$1", "src", "(.*)")"#), ["x{}"]);
        assert_eq!(names(r#"{__name__="job:requests:rate5m", job!~"test.*"}"#), ["job:requests:rate5m{jobNotRetest.*}"]);
        assert_eq!(names(r#"{"http.server.duration", job="api"}"#), ["http.server.duration{jobEqapi}"]);
        assert_eq!(names(r#"rate(x{job="$job"}[1m]) > Inf"#), ["x{jobRe.*}"]);
        assert_eq!(names("1e3 * 0.5 + .5"), Vec::<String>::new());
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
