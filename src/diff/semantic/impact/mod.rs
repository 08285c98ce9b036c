//! Impact: which dashboard panels and alert rules a change reaches. A reviewer sees "3
//! panels of task-manager-overview lose their data" beside "exporter prometheus removed",
//! instead of having to know how the pipeline, the scrape job and the panels connect.
//!
//! Pure: the two builds are read into an [`Index`] each (what reads what), and every kind of
//! dependency is followed from what changed to what reads it in the new build, since that
//! is what will run. The dependencies are the ones the files state: pipelines and their
//! exporters' endpoints, scrape jobs and their targets, data source URLs and UIDs, the
//! series each query selects (`job` matchers, recorded metric names, `ALERTS`), and
//! Alertmanager's routes.

mod index;
pub mod promql;
mod routing;
mod sourced;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;

use super::Reading;
pub use index::Index;
use index::{Feed, Job, Rule};
use sourced::{Source, Sourced};

/// The `job` values the Prometheus service `prometheus` has series under: its scrape jobs'
/// names, and the `service.name` of each app pushing to a collector whose pipeline feeds
/// it (pushed, or served by the collector's `prometheus` exporter under the app's `job`).
#[must_use]
pub fn known_jobs(index: &Index, prometheus: &str) -> BTreeSet<String> {
    let mut jobs: BTreeSet<String> = index.jobs.iter().filter(|j| j.prometheus == prometheus).map(|j| j.name.clone()).collect();
    for f in index.feeds.iter().filter(|f| f.signal == "metrics" && f.backend == prometheus) {
        jobs.extend(index.pushers.get(&f.collector).into_iter().flatten().cloned());
    }
    jobs
}

/// What a change does to what reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The panels and alert rules no longer get the series they query.
    LosesData,
    /// Their queries name no `job`: some of their series may come from elsewhere.
    MayLoseData,
    /// They read what changed; their results may change.
    Reads,
    /// An alert rule reaches other receivers.
    Routed,
}

/// A panel of a dashboard.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PanelRef {
    /// The dashboard's UID.
    pub dashboard: String,
    pub panel: String,
}

/// Where an alert rule's alerts go, before (empty for a new rule) and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receivers {
    pub old: Vec<String>,
    pub new: Vec<String>,
}

/// One change followed to what depends on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Impact {
    /// What changed, and why it matters: `metrics stop reaching prometheus (exporter
    /// prometheus left pipeline metrics of otel-collector)`.
    pub cause: String,
    pub effect: Effect,
    pub panels: Vec<PanelRef>,
    pub alerts: Vec<String>,
    /// For [`Effect::Routed`]: the receivers before and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receivers: Option<Receivers>,
    /// The whole statement on one line.
    pub text: String,
}

/// Every impact of going from `old` to `new`.
#[must_use]
pub fn impacts(old: &Reading, new: &Reading) -> Vec<Impact> {
    between(&Index::of(old), &Index::of(new))
}

/// [`impacts`] between two builds already indexed.
#[must_use]
pub fn between(o: &Index, n: &Index) -> Vec<Impact> {
    let mut out = Vec::new();
    lost_feeds(o, n, &mut out);
    datasources(o, n, &mut out);
    scrape_jobs(o, n, &mut out);
    rules(o, n, &mut out);
    routing(o, n, &mut out);
    out
}

/// Every panel of `index` that queries one of the data sources `uids`, in the dashboards'
/// own order, and no alert rule.
fn all_readers(index: &Index, uids: &BTreeSet<String>) -> (Vec<PanelRef>, Vec<String>) {
    let mut panels = Vec::new();
    let mut seen = BTreeSet::new();
    for p in &index.panels {
        let hit = p.queries.iter().any(|q| q.datasource.as_ref().is_some_and(|u| uids.contains(u)));
        if hit && seen.insert((p.dashboard.as_str(), p.title.as_str())) {
            panels.push(PanelRef { dashboard: p.dashboard.clone(), panel: p.title.clone() });
        }
    }
    (panels, Vec::new())
}

/// The data source UIDs served by `service`.
fn served_by(index: &Index, service: &str) -> BTreeSet<String> {
    index.datasources.iter().filter(|(_, d)| d.service.as_deref() == Some(service)).map(|(u, _)| u.clone()).collect()
}

/// A signal that reached a backend through some pipeline and reaches it through none now.
fn lost_feeds(o: &Index, n: &Index, out: &mut Vec<Impact>) {
    let lost: BTreeSet<(&str, &str)> =
        o.feeds.iter().map(|f| (f.signal.as_str(), f.backend.as_str())).filter(|(s, b)| !n.fed(s, b)).collect();
    for (signal, backend) in lost {
        let why: Vec<String> = o.feeds.iter().filter(|f| f.signal == signal && f.backend == backend).map(|f| why_lost(f, n)).collect();
        let cause = format!("{signal} stop reaching {backend} ({})", why.join("; "));
        let uids = served_by(n, backend);
        if signal != "metrics" {
            let (panels, alerts) = all_readers(n, &uids);
            out.push(impact(cause, Effect::LosesData, panels, alerts));
            continue;
        }
        // Judged by the old build's wiring: in the new one, no pipeline feeds the backend.
        let judge = Sourced::of(with_feeds(n, o));
        let (panels, alerts) = judge.readers(&uids, backend, &Source::Pipeline);
        let (maybe_panels, maybe_alerts) = judge.readers(&uids, backend, &Source::Unscoped);
        let maybe_panels: Vec<PanelRef> = maybe_panels.into_iter().filter(|p| !panels.contains(p)).collect();
        let maybe_alerts: Vec<String> = maybe_alerts.into_iter().filter(|a| !alerts.contains(a)).collect();
        let maybe = !maybe_panels.is_empty() || !maybe_alerts.is_empty();
        if !panels.is_empty() || !alerts.is_empty() || !maybe {
            out.push(impact(cause.clone(), Effect::LosesData, panels, alerts));
        }
        if maybe {
            out.push(impact(cause, Effect::MayLoseData, maybe_panels, maybe_alerts));
        }
    }
}

/// `n` with `o`'s feeds: to tell which queries read what a pipeline used to deliver.
fn with_feeds(n: &Index, o: &Index) -> Index {
    Index { feeds: o.feeds.clone(), ..n.clone() }
}

/// Why a feed of the old build is gone in the new one.
fn why_lost(f: &Feed, n: &Index) -> String {
    let (pipeline, collector, exporter) = (&f.pipeline, &f.collector, &f.exporter);
    if !n.services.is_empty() && !n.services.contains(collector) {
        return format!("{collector} removed");
    }
    if !n.services.is_empty() && !n.services.contains(&f.backend) {
        return format!("{} removed", f.backend);
    }
    let Some((receivers, exporters)) = n.pipeline(collector, pipeline) else {
        return format!("pipeline {pipeline} of {collector} removed");
    };
    if receivers.is_empty() {
        return format!("pipeline {pipeline} of {collector} has no receivers");
    }
    if !exporters.contains(exporter) {
        return format!("exporter {exporter} left pipeline {pipeline} of {collector}");
    }
    if let Some(job) = &f.job {
        if !n.jobs.iter().any(|j| j.name == *job && j.prometheus == f.backend) {
            return format!("scrape job {job} of {} removed", f.backend);
        }
        return format!("scrape job {job} of {} no longer targets exporter {exporter}", f.backend);
    }
    match n.exporter_target(collector, exporter) {
        Some(Some(to)) => format!("exporter {exporter} of {collector} now sends to {to}"),
        _ => format!("exporter {exporter} of {collector} changed"),
    }
}

fn datasources(o: &Index, n: &Index, out: &mut Vec<Impact>) {
    for (uid, before) in &o.datasources {
        let one: BTreeSet<String> = [uid.clone()].into();
        match n.datasources.get(uid) {
            None => {
                let (panels, _) = all_readers(n, &one);
                if !panels.is_empty() {
                    out.push(impact(format!("datasource {uid} removed"), Effect::LosesData, panels, Vec::new()));
                }
            }
            Some(after) => {
                // A backend a pipeline fed is reported as the pipeline's loss.
                let gone = after.service.as_ref().filter(|s| {
                    !n.services.is_empty() && !n.services.contains(*s) && o.services.contains(*s) && !o.feeds.iter().any(|f| f.backend == **s)
                });
                if let Some(service) = gone {
                    let (panels, _) = all_readers(n, &one);
                    out.push(impact(format!("datasource {uid} points at {service}, which is removed"), Effect::LosesData, panels, Vec::new()));
                } else if after.value != before.value {
                    let (panels, _) = all_readers(n, &one);
                    if !panels.is_empty() {
                        let fields = changed_fields(&before.value, &after.value);
                        out.push(impact(format!("datasource {uid} changed ({fields})"), Effect::Reads, panels, Vec::new()));
                    }
                }
            }
        }
    }
}

/// The top-level keys that differ between two maps: `url, jsonData`.
fn changed_fields(a: &serde_json::Value, b: &serde_json::Value) -> String {
    let empty = serde_json::Map::new();
    let (a, b) = (a.as_object().unwrap_or(&empty), b.as_object().unwrap_or(&empty));
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).filter(|k| a.get(*k) != b.get(*k)).collect();
    keys.into_iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// A scrape job removed or changed, and the queries whose `job` matcher selects it. Jobs
/// that scrape the collector's exporter are pipelines, followed by [`lost_feeds`].
fn scrape_jobs(o: &Index, n: &Index, out: &mut Vec<Impact>) {
    let pipeline_jobs: BTreeSet<&str> = o.feeds.iter().chain(n.feeds.iter()).filter_map(|f| f.job.as_deref()).collect();
    let new_jobs: BTreeMap<(&str, &str), &Job> = n.jobs.iter().map(|j| ((j.name.as_str(), j.prometheus.as_str()), j)).collect();
    // Who selected a job, judged by the jobs that existed; made once, for the first change.
    let mut judge: Option<Sourced> = None;
    for job in o.jobs.iter().filter(|j| !pipeline_jobs.contains(j.name.as_str())) {
        let after = new_jobs.get(&(job.name.as_str(), job.prometheus.as_str())).copied();
        if after.is_some_and(|a| a.value == job.value) {
            continue;
        }
        let uids = served_by(n, &job.prometheus);
        let judge = judge.get_or_insert_with(|| Sourced::of(Index { jobs: o.jobs.clone(), ..n.clone() }));
        let (panels, alerts) = judge.readers(&uids, &job.prometheus, &Source::Job(job.name.clone()));
        match after {
            None => out.push(impact(format!("scrape job {} removed", job.name), Effect::LosesData, panels, alerts)),
            Some(a) if !panels.is_empty() || !alerts.is_empty() => {
                let fields = changed_fields(&job.value, &a.value);
                out.push(impact(format!("scrape job {} changed ({fields})", job.name), Effect::Reads, panels, alerts));
            }
            Some(_) => {}
        }
    }
}

/// Recording rules removed or changed, and alert rules removed, followed to the queries of
/// their output (the recorded metric, `ALERTS{alertname=...}`).
fn rules(o: &Index, n: &Index, out: &mut Vec<Impact>) {
    let mut new_rules: BTreeMap<(&str, bool, &str), &Rule> = BTreeMap::new();
    for r in &n.rules {
        // The first of a name, as a scan would find it.
        new_rules.entry((r.name.as_str(), r.alert, r.prometheus.as_str())).or_insert(r);
    }
    let new_names: BTreeSet<&str> = n.rules.iter().map(|r| r.name.as_str()).collect();
    // Made once, for the first change.
    let mut judge: Option<Sourced> = None;
    for rule in &o.rules {
        let after = new_rules.get(&(rule.name.as_str(), rule.alert, rule.prometheus.as_str())).copied();
        if after.is_some_and(|a| a.expr == rule.expr && a.labels == rule.labels) {
            continue;
        }
        let source = if rule.alert { Source::Alert(rule.name.clone()) } else { Source::Record(rule.name.clone()) };
        let judge = judge.get_or_insert_with(|| Sourced::of(Index { rules: merged_rules(o, n), ..n.clone() }));
        let uids = served_by(n, &rule.prometheus);
        let (panels, alerts) = judge.readers(&uids, &rule.prometheus, &source);
        let alerts: Vec<String> = alerts.into_iter().filter(|a| *a != rule.name && new_names.contains(a.as_str())).collect();
        let what = if rule.alert { "alert rule" } else { "recording rule" };
        match after {
            None => {
                if !rule.alert || !panels.is_empty() {
                    out.push(impact(format!("{what} {} removed", rule.name), Effect::LosesData, panels, alerts));
                }
            }
            Some(_) if !panels.is_empty() || !alerts.is_empty() => {
                out.push(impact(format!("{what} {} changed", rule.name), Effect::Reads, panels, alerts));
            }
            Some(_) => {}
        }
    }
}

/// The new build's rules plus the old build's that are gone: a query of a removed rule's
/// output still names it.
fn merged_rules(o: &Index, n: &Index) -> Vec<Rule> {
    let mut rules = n.rules.clone();
    let kept: BTreeSet<(&str, bool)> = n.rules.iter().map(|r| (r.name.as_str(), r.alert)).collect();
    rules.extend(o.rules.iter().filter(|r| !kept.contains(&(r.name.as_str(), r.alert))).cloned());
    rules
}

/// Alert rules that reach other receivers: their labels changed, the routes changed, or
/// the rule is new (where does it page?).
fn routing(o: &Index, n: &Index, out: &mut Vec<Impact>) {
    let Some(tree) = &n.route else { return };
    let mut old_alerts: BTreeMap<(&str, &str), &Rule> = BTreeMap::new();
    for r in o.rules.iter().filter(|r| r.alert) {
        old_alerts.entry((r.name.as_str(), r.prometheus.as_str())).or_insert(r);
    }
    for rule in n.rules.iter().filter(|r| r.alert) {
        let labels = |r: &Rule| {
            let mut l: BTreeMap<String, String> = r.labels.clone();
            l.insert("alertname".to_owned(), r.name.clone());
            l
        };
        let now = routing::receivers(tree, &labels(rule));
        let before = old_alerts.get(&(rule.name.as_str(), rule.prometheus.as_str())).copied();
        let was = match (before, &o.route) {
            (Some(b), Some(t)) => routing::receivers(t, &labels(b)),
            (Some(_), None) => Vec::new(),
            (None, _) => {
                let text = format!("alert rule {} (new) goes to {}", rule.name, now.join(", "));
                out.push(Impact { cause: text.clone(), effect: Effect::Routed, panels: Vec::new(), alerts: vec![rule.name.clone()], receivers: Some(Receivers { old: Vec::new(), new: now }), text });
                continue;
            }
        };
        if was != now {
            let text = format!("alert rule {} now goes to {} (was {})", rule.name, now.join(", "), if was.is_empty() { "no Alertmanager".to_owned() } else { was.join(", ") });
            out.push(Impact { cause: text.clone(), effect: Effect::Routed, panels: Vec::new(), alerts: vec![rule.name.clone()], receivers: Some(Receivers { old: was, new: now }), text });
        }
    }
}

fn impact(cause: String, effect: Effect, panels: Vec<PanelRef>, alerts: Vec<String>) -> Impact {
    let text = statement(&cause, effect, &panels, &alerts);
    Impact { cause, effect, panels, alerts, receivers: None, text }
}

/// `<cause>: 3 panels of dashboard d (A, B, C) and alert rule X lose their data`.
fn statement(cause: &str, effect: Effect, panels: &[PanelRef], alerts: &[String]) -> String {
    let mut who = Vec::new();
    let mut by_dashboard: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in panels {
        by_dashboard.entry(&p.dashboard).or_default().push(&p.panel);
    }
    for (dashboard, titles) in by_dashboard {
        let n = titles.len();
        who.push(format!("{n} panel{} of dashboard {dashboard} ({})", if n == 1 { "" } else { "s" }, titles.join(", ")));
    }
    if !alerts.is_empty() {
        who.push(format!("alert rule{} {}", if alerts.len() == 1 { "" } else { "s" }, alerts.join(", ")));
    }
    let mut text = format!("{cause}: ");
    if who.is_empty() {
        text.push_str("no panel or alert rule of the stack depends on it");
        return text;
    }
    let one = who.len() == 1 && panels.len() + alerts.len() == 1;
    let _ = write!(
        text,
        "{} {}",
        who.join(" and "),
        match (effect, one) {
            (Effect::LosesData, true) => "loses its data",
            (Effect::LosesData, false) => "lose their data",
            (Effect::MayLoseData, true) => "may lose its data (its queries select no job)",
            (Effect::MayLoseData, false) => "may lose their data (their queries select no job)",
            (_, true) => "reads it",
            (_, false) => "read it",
        }
    );
    text
}

/// Panels and alert rules that lose data, for a headline: `3 panels, 1 alert rule`.
#[must_use]
pub fn losses(impacts: &[Impact]) -> Option<String> {
    let lost: Vec<&Impact> = impacts.iter().filter(|i| i.effect == Effect::LosesData).collect();
    let panels: BTreeSet<&PanelRef> = lost.iter().flat_map(|i| &i.panels).collect();
    let alerts: BTreeSet<&String> = lost.iter().flat_map(|i| &i.alerts).collect();
    let mut parts = Vec::new();
    if !panels.is_empty() {
        parts.push(format!("{} panel{}", panels.len(), if panels.len() == 1 { "" } else { "s" }));
    }
    if !alerts.is_empty() {
        parts.push(format!("{} alert rule{}", alerts.len(), if alerts.len() == 1 { "" } else { "s" }));
    }
    let verb = if panels.len() + alerts.len() == 1 { "loses" } else { "lose" };
    (!parts.is_empty()).then(|| format!("{} {verb} data", parts.join(" and ")))
}
