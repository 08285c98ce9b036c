use std::collections::BTreeMap;

use serde::Serialize;

use super::{Duration, Entry, PrometheusSize, Tree};
use crate::diagnostic::Span;

/// A Prometheus server's configuration.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Prometheus {
    /// Top-level settings merged into `prometheus.yml` (`global`, ...).
    pub settings: Tree,
    pub scrape_jobs: Vec<ScrapeJob>,
    pub rule_groups: Vec<RuleGroup>,
    /// Alertmanager services alerts go to, with where each was wired.
    pub alertmanagers: Vec<(String, Span)>,
    /// How long samples are kept (`15d`); rendered as a flag or config block by version.
    pub retention: Option<Duration>,
    pub retention_size: Option<PrometheusSize>,
    /// Accept OTLP metrics pushed to `/api/v1/otlp`.
    pub otlp_receiver: bool,
    /// Accept remote-write pushes to `/api/v1/write`.
    pub remote_write_receiver: bool,
    /// Unit tests of the alerting rules, run by `promtool test rules`.
    pub rule_tests: Vec<RuleTest>,
}

/// One `promtool test rules` test group: input series, and which alerts fire when.
#[derive(Clone, Debug, Serialize)]
pub struct RuleTest {
    pub name: Option<String>,
    /// Step of the input series' values.
    pub interval: Option<Duration>,
    /// Series selector → values in promtool's expanding notation (`0+10x5`, `1x3 _ 4`).
    pub input_series: Vec<(String, String)>,
    pub cases: Vec<AlertCase>,
    pub span: Span,
}

/// At `eval_time`, alert `alertname` fires exactly the `expected` alerts (none: it is quiet).
#[derive(Clone, Debug, Serialize)]
pub struct AlertCase {
    pub eval_time: Duration,
    pub alertname: String,
    pub expected: Vec<ExpectedAlert>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExpectedAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScrapeJob {
    pub name: String,
    /// `host:port`; hosts that are services of the stack are checked to exist.
    pub targets: Vec<String>,
    pub metrics_path: Option<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub scheme: Option<String>,
    /// Any other scrape_config keys.
    pub settings: Tree,
    pub span: Span,
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleGroup {
    pub name: String,
    pub interval: Option<Duration>,
    pub rules: Vec<Rule>,
}

/// An alerting rule (`alert` set) or a recording rule (`record` set).
#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    pub alert: Option<String>,
    pub record: Option<String>,
    pub expr: String,
    pub r#for: Option<Duration>,
    pub keep_firing_for: Option<Duration>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// The Alertmanager receiver this alert is routed to; rendered as a `receiver` label
    /// with a matching route, so the link can be checked before anything runs.
    pub receiver: Option<String>,
    pub span: Span,
}

/// An Alertmanager's configuration.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Alertmanager {
    /// Top-level settings merged into `alertmanager.yml` (`global`, `inhibit_rules`, `route`
    /// defaults such as `group_by`).
    pub settings: Tree,
    pub receivers: BTreeMap<String, Entry>,
    pub routes: Vec<Route>,
    /// The root route's receiver.
    pub default_receiver: Option<(String, Span)>,
}

impl Alertmanager {
    /// The receiver alerts go to when no route claims them and the stack names none.
    pub const DEFAULT_RECEIVER: &str = "default";

    /// The root route's receiver.
    pub fn root_receiver(&self) -> String {
        self.default_receiver.as_ref().map_or_else(|| Self::DEFAULT_RECEIVER.to_owned(), |(r, _)| r.clone())
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Route {
    pub receiver: String,
    pub matchers: Vec<String>,
    /// Other route keys (`group_by`, `continue`, `repeat_interval`, ...).
    pub settings: Tree,
    pub span: Span,
}

/// Whether `name` is a Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// How a label matcher compares: `=`, `!=`, `=~`, `!~` (Prometheus, Alertmanager and
/// Loki write the same four).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatcherOp {
    Eq,
    Ne,
    Re,
    NotRe,
}

impl MatcherOp {
    /// Longest first, so `=~` is not read as `=`.
    pub const ALL: [MatcherOp; 4] = [MatcherOp::Re, MatcherOp::NotRe, MatcherOp::Ne, MatcherOp::Eq];

    pub fn symbol(self) -> &'static str {
        match self {
            MatcherOp::Eq => "=",
            MatcherOp::Ne => "!=",
            MatcherOp::Re => "=~",
            MatcherOp::NotRe => "!~",
        }
    }

    /// The operator `text` starts with.
    pub fn prefix_of(text: &str) -> Option<MatcherOp> {
        MatcherOp::ALL.into_iter().find(|op| text.starts_with(op.symbol()))
    }

    pub fn is_regex(self) -> bool {
        matches!(self, MatcherOp::Re | MatcherOp::NotRe)
    }
}

impl std::fmt::Display for MatcherOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.symbol())
    }
}

/// One of Alertmanager's matcher strings (`severity="critical"`, `team =~ "db|infra"`,
/// `receiver=oncall`) as (label, operator, value without its quotes); `None` when it is not
/// one. Validation refuses what this refuses; the review reads routes with it.
pub fn parse_matcher(text: &str) -> Option<(String, MatcherOp, String)> {
    let m = text.trim();
    let name_len = m.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').count();
    if name_len == 0 || !is_label_name(&m[..name_len]) {
        return None;
    }
    let rest = m[name_len..].trim_start();
    let op = MatcherOp::prefix_of(rest)?;
    let value = rest[op.symbol().len()..].trim();
    let value = if let Some(inner) = value.strip_prefix('"') {
        inner.strip_suffix('"')?.replace("\\\"", "\"")
    } else if value.contains(char::is_whitespace) {
        return None;
    } else {
        value.to_owned()
    };
    Some((m[..name_len].to_owned(), op, value))
}
