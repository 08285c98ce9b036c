//! Where each panel query's and alert rule's series come from, worked out once per index,
//! and who reads a given source.
//!
//! Every removed or changed job and rule asks the same question of every reader. Asked
//! afresh each time, a fleet of N services (N jobs, N rules, N panels, all changed) was
//! N^3 matcher calls; with the sources kept per reader and every reader scanned per
//! question, N^2. Here each source lists its readers, and a selector's `job` and recorded
//! metric are looked up, not searched for.

use std::collections::{BTreeMap, BTreeSet};

use super::PanelRef;
use super::index::{Index, Rule};
use super::promql::{Op, Selector};

/// Where a selector's series come from, as far as the build tells.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Source {
    /// A collector pipeline (pushed, or scraped from the collector's `prometheus` exporter).
    Pipeline,
    /// A collector pipeline or a scrape job: the selector names no `job`, and a pipeline
    /// feeds its Prometheus.
    Unscoped,
    /// A scrape job, selected by a `job` matcher.
    Job(String),
    /// A recording rule's output.
    Record(String),
    /// `ALERTS` of an alert rule.
    Alert(String),
}

/// The readers of one source, in the index's order.
#[derive(Debug, Default)]
struct Readers {
    /// (panel, query) of `index.panels`.
    queries: Vec<(usize, usize)>,
    /// Alert rules of `index.rules`.
    rules: Vec<usize>,
}

pub(super) struct Sourced {
    pub(super) index: Index,
    by_source: BTreeMap<Source, Readers>,
}

impl Sourced {
    pub(super) fn of(index: Index) -> Sourced {
        let mut by_source: BTreeMap<Source, Readers> = BTreeMap::new();
        {
            let look = Lookup::new(&index);
            for (p, panel) in index.panels.iter().enumerate() {
                for (q, query) in panel.queries.iter().enumerate() {
                    let server = query.datasource.as_ref().and_then(|uid| index.datasources.get(uid)).and_then(|d| d.service.as_deref()).unwrap_or_default();
                    for source in look.all(server, &query.selectors) {
                        by_source.entry(source).or_default().queries.push((p, q));
                    }
                }
            }
            for (i, rule) in index.rules.iter().enumerate().filter(|(_, r)| r.alert) {
                for source in look.all(&rule.prometheus, &rule.selectors) {
                    by_source.entry(source).or_default().rules.push(i);
                }
            }
        }
        Sourced { index, by_source }
    }

    /// The panels that query the data sources `uids`, and the alert rules of the Prometheus
    /// service `prometheus`, with a selector whose source is `wanted`: in the dashboards'
    /// and the rule files' own order, each once.
    pub(super) fn readers(&self, uids: &BTreeSet<String>, prometheus: &str, wanted: &Source) -> (Vec<PanelRef>, Vec<String>) {
        let Some(readers) = self.by_source.get(wanted) else { return (Vec::new(), Vec::new()) };
        let mut panels: Vec<PanelRef> = Vec::new();
        let mut seen = BTreeSet::new();
        for &(p, q) in &readers.queries {
            let panel = &self.index.panels[p];
            let on = panel.queries[q].datasource.as_ref().is_some_and(|u| uids.contains(u));
            if on && seen.insert((panel.dashboard.as_str(), panel.title.as_str())) {
                panels.push(PanelRef { dashboard: panel.dashboard.clone(), panel: panel.title.clone() });
            }
        }
        let mut alerts = Vec::new();
        let mut named = BTreeSet::new();
        for &i in &readers.rules {
            let r = &self.index.rules[i];
            if r.prometheus == prometheus && named.insert(r.name.as_str()) {
                alerts.push(r.name.clone());
            }
        }
        (panels, alerts)
    }
}

/// An index's scrape jobs and recording rules by name, for [`Lookup::sources`].
struct Lookup<'a> {
    index: &'a Index,
    /// The first recording rule of each (Prometheus, name), as a scan would find it.
    records: BTreeMap<(&'a str, &'a str), &'a Rule>,
    /// Scrape job names by Prometheus.
    jobs: BTreeMap<&'a str, BTreeSet<&'a str>>,
}

impl<'a> Lookup<'a> {
    fn new(index: &'a Index) -> Lookup<'a> {
        let mut records = BTreeMap::new();
        for r in index.rules.iter().filter(|r| !r.alert) {
            records.entry((r.prometheus.as_str(), r.name.as_str())).or_insert(r);
        }
        let mut jobs: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for j in &index.jobs {
            jobs.entry(j.prometheus.as_str()).or_default().insert(j.name.as_str());
        }
        Lookup { index, records, jobs }
    }

    /// The sources of every selector of a query or rule on `prometheus`.
    fn all(&self, prometheus: &str, selectors: &[Selector]) -> BTreeSet<Source> {
        selectors.iter().flat_map(|s| self.sources(prometheus, s, 0)).collect()
    }

    /// The sources of `selector` on the Prometheus service `prometheus`. A recorded metric
    /// has its rule as a source, and whatever the rule's own query reads.
    fn sources(&self, prometheus: &str, selector: &Selector, depth: usize) -> BTreeSet<Source> {
        let index = self.index;
        let mut out = BTreeSet::new();
        let metric = selector.metric.as_deref().unwrap_or_default();
        if metric == "ALERTS" || metric == "ALERTS_FOR_STATE" {
            let names = selector.on("alertname").collect::<Vec<_>>();
            if !names.is_empty() {
                for r in index.rules.iter().filter(|r| r.alert && r.prometheus == prometheus && names.iter().all(|m| m.accepts(&r.name))) {
                    out.insert(Source::Alert(r.name.clone()));
                }
            }
            return out;
        }
        if let Some(rule) = self.records.get(&(prometheus, metric)) {
            out.insert(Source::Record(metric.to_owned()));
            // Rules recording each other in a loop would be refused by Prometheus; stop anyway.
            if depth < 8 {
                for s in rule.selectors.iter() {
                    out.extend(self.sources(prometheus, s, depth + 1));
                }
            }
            return out;
        }
        let pipeline_jobs: BTreeSet<&str> = index.feeds.iter().filter(|f| f.backend == prometheus).filter_map(|f| f.job.as_deref()).collect();
        // `up` and `scrape_*` are written by Prometheus for each scrape, never pushed.
        let scraped_only = metric == "up" || metric.starts_with("scrape_");
        let fed = index.fed("metrics", prometheus) && !scraped_only;
        let job_matchers: Vec<_> = selector.on("job").collect();
        if job_matchers.is_empty() {
            if fed {
                out.insert(Source::Unscoped);
            }
            return out;
        }
        let names = self.jobs.get(prometheus);
        let accepted = |name: &&str| job_matchers.iter().all(|m| m.accepts(name));
        // `job="x"`, the usual matcher, names its one candidate.
        let jobs: Vec<&str> = match job_matchers.iter().find(|m| m.op == Op::Eq) {
            Some(exact) => names.and_then(|n| n.get(exact.value.as_str())).copied().filter(accepted).into_iter().collect(),
            None => names.into_iter().flatten().copied().filter(accepted).collect(),
        };
        for j in &jobs {
            out.insert(if pipeline_jobs.contains(j) { Source::Pipeline } else { Source::Job((*j).to_owned()) });
        }
        // A `job` no scrape job has comes with the series: pushed, or kept by the collector
        // exporter's `honor_labels` (an app's `service.name`).
        if jobs.is_empty() && fed {
            out.insert(Source::Pipeline);
        }
        out
    }
}
