//! The shapes a script may write, exactly: every struct rejects fields it does not know.
//!
//! Script values reach these through [`super::value::to_tree`] and `serde`; `convert` then
//! turns them into the typed [`crate::model`].

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::Tree;

/// A string, number or boolean written where text is wanted (environment values, labels).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    pub fn into_string(self) -> String {
        match self {
            Scalar::Str(s) => s,
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// A secret as a script writes it: a reference made by `secret_env`, `secret_file` or
/// `tls_certificate`, or (refused, with help) a literal value.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum SecretValue {
    Ref(SecretRef),
    Literal(Scalar),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    #[serde(rename = "$secret")]
    pub from: String,
    pub var: Option<String>,
    pub path: Option<String>,
    pub names: Option<Vec<String>>,
}

/// One string or a list of them.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// `service(name, #{ ... })`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub image: Option<String>,
    pub kind: Option<String>,
    pub version: Option<String>,
    pub allow_latest: Option<bool>,
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub args: Vec<String>,
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub environment: BTreeMap<String, Scalar>,
    #[serde(default)]
    pub ports: Vec<Scalar>,
    #[serde(default)]
    pub endpoints: BTreeMap<String, u16>,
    /// Named data volumes: volume name → path in the container.
    #[serde(default)]
    pub volumes: BTreeMap<String, String>,
    /// Host paths mounted read-only: host path → path in the container.
    #[serde(default)]
    pub binds: BTreeMap<String, String>,
    pub ip: Option<String>,
    pub healthcheck: Option<HealthcheckSpec>,
    pub probe: Option<ProbeSpec>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub deploy: Option<DeploySpec>,
    pub memory: Option<Scalar>,
    pub cpus: Option<Scalar>,
    pub user: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, Scalar>,
    /// `name: secret_env("VAR")`, `secret_file("path")` or `tls_certificate([...])`.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretValue>,
    pub restart: Option<String>,
    #[serde(default)]
    pub accepts: BTreeMap<String, IngestSpec>,
    pub datasource: Option<DatasourceSpec>,
    /// The component's own configuration, in its native format.
    pub settings: Option<Tree>,
    /// Files of a `container` service: path → content (format from the extension).
    #[serde(default)]
    pub files: BTreeMap<String, Tree>,
    // Prometheus only.
    pub retention: Option<String>,
    pub retention_size: Option<String>,
    pub otlp_receiver: Option<bool>,
    pub remote_write_receiver: Option<bool>,
    #[serde(default)]
    pub rules: Vec<Tree>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthcheckSpec {
    pub test: Vec<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub retries: Option<u32>,
    pub start_period: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    pub port: u16,
    #[serde(default = "root_path")]
    pub path: String,
}

fn root_path() -> String {
    "/".to_owned()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSpec {
    pub exporter: String,
    #[serde(default)]
    pub settings: Option<Tree>,
    pub scrape_port: Option<u16>,
    /// A Prometheus receiver this way needs (`remote_write_receiver`).
    pub enables: Option<String>,
    /// Other ways, by name, for `send(signal, backend, #{ via: name })`.
    #[serde(default)]
    pub via: BTreeMap<String, IngestSpec>,
}

/// `collector.send(signal, backend, #{ ... })`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendSpec {
    /// One of the backend's other ways for the signal, instead of its default.
    pub via: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasourceSpec {
    pub name: Option<String>,
    pub uid: Option<String>,
    pub r#type: Option<String>,
    pub url: Option<String>,
    pub is_default: Option<bool>,
    pub json_data: Option<Tree>,
    pub traces: Option<String>,
    pub logs: Option<String>,
}

/// `app(name, #{ ... })`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    pub image: String,
    pub allow_latest: Option<bool>,
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub environment: BTreeMap<String, Scalar>,
    #[serde(default)]
    pub ports: Vec<Scalar>,
    pub collector: Option<String>,
    pub protocol: Option<String>,
    #[serde(default)]
    pub resource_attributes: BTreeMap<String, Scalar>,
    pub memory: Option<Scalar>,
    pub cpus: Option<Scalar>,
    #[serde(default)]
    pub labels: BTreeMap<String, Scalar>,
}

/// `network(name, #{ ... })`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    pub subnet: Option<String>,
    /// Shared beyond the compose project (see `model::Network::external`).
    pub external: Option<bool>,
}

/// `deploy: #{ ... }` of a service: its tasks on a swarm.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySpec {
    /// `replicated` (the default) or `global`.
    pub mode: Option<String>,
    pub replicas: Option<u32>,
    #[serde(default)]
    pub constraints: Vec<String>,
    /// `start-first` or `stop-first`.
    pub order: Option<String>,
}

/// `stack(name, #{ ... })`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackSpec {
    /// `compose` (the default) or `swarm`.
    pub engine: Option<String>,
}

/// `collector.pipeline(name, #{ ... })`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    #[serde(default)]
    pub receivers: Vec<String>,
    #[serde(default)]
    pub processors: Vec<String>,
    #[serde(default)]
    pub exporters: Vec<String>,
}

/// `prometheus.scrape(job, targets, #{ ... })`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeSpec {
    pub metrics_path: Option<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub scheme: Option<String>,
    pub settings: Option<Tree>,
}

/// `prometheus.alert(name, #{ ... })`; `severity`, `summary` and `description` are
/// shorthands for the usual label and annotations.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSpec {
    pub expr: String,
    pub r#for: Option<String>,
    pub keep_firing_for: Option<String>,
    pub group: Option<String>,
    pub severity: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub receiver: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, Scalar>,
    #[serde(default)]
    pub annotations: BTreeMap<String, Scalar>,
}

/// `prometheus.alert_test(#{ ... })`: one test group of `promtool test rules`, in its own
/// field names so its documentation applies.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTestSpec {
    pub name: Option<String>,
    pub interval: Option<String>,
    pub input_series: Vec<InputSeriesSpec>,
    pub alert_rule_test: Vec<AlertRuleTestSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSeriesSpec {
    pub series: String,
    pub values: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRuleTestSpec {
    pub eval_time: String,
    pub alertname: String,
    #[serde(default)]
    pub exp_alerts: Vec<ExpAlertSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpAlertSpec {
    #[serde(default)]
    pub exp_labels: BTreeMap<String, Scalar>,
    #[serde(default)]
    pub exp_annotations: BTreeMap<String, Scalar>,
}

/// A rule written in Prometheus' own format inside `rules: [...]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleGroupSpec {
    pub name: String,
    pub interval: Option<String>,
    pub rules: Vec<RawRuleSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuleSpec {
    pub alert: Option<String>,
    pub record: Option<String>,
    pub expr: String,
    pub r#for: Option<String>,
    pub keep_firing_for: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, Scalar>,
    #[serde(default)]
    pub annotations: BTreeMap<String, Scalar>,
}

/// `alertmanager.route(#{ ... })`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    pub receiver: String,
    #[serde(default)]
    pub matchers: Vec<String>,
    pub group_by: Option<Vec<String>>,
    pub group_wait: Option<String>,
    pub group_interval: Option<String>,
    pub repeat_interval: Option<String>,
    pub r#continue: Option<bool>,
}

/// `grafana.dashboard(#{ ... })`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardSpec {
    pub uid: String,
    pub title: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub refresh: Option<String>,
    pub time: Option<String>,
    #[serde(default)]
    pub panels: Vec<PanelSpec>,
    #[serde(default)]
    pub links: Vec<LinkSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelSpec {
    pub title: String,
    pub r#type: Option<String>,
    pub datasource: Option<String>,
    pub query: Option<QuerySpec>,
    #[serde(default)]
    pub queries: Vec<QuerySpec>,
    pub unit: Option<String>,
    pub description: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    pub content: Option<String>,
    pub options: Option<Tree>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum QuerySpec {
    Expr(String),
    Full(FullQuerySpec),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullQuerySpec {
    pub expr: String,
    pub legend: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub title: String,
    pub dashboard: Option<String>,
    pub url: Option<String>,
    /// A data source UID to open in Explore, with `query`.
    pub explore: Option<String>,
    pub query: Option<String>,
}
