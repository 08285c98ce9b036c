//! Scrape jobs, alert rules and where their alerts go, for Prometheus and Alertmanager.

use std::collections::{BTreeMap, BTreeSet};

use super::Check;
use super::hosts::{check_target, host_port};
use crate::diagnostic::{Span, suggest};
use crate::model::{Alertmanager, Component, Prometheus, Service};
use crate::model::versions::prometheus::{OTLP_RECEIVER, RETENTION_IN_CONFIG, version};

pub fn check(check: &mut Check) {
    for s in check.stack.services.values() {
        match &s.component {
            Component::Prometheus(p) => {
                jobs(check, s, p);
                rules(check, s, p);
                tests(check, s, p);
                dialect(check, s, p);
            }
            Component::Alertmanager(a) => routes(check, s, a),
            _ => {}
        }
    }
}

fn jobs(check: &mut Check, s: &Service, p: &Prometheus) {
    let mut seen: BTreeMap<&str, &Span> = BTreeMap::new();
    for job in &p.scrape_jobs {
        if let Some(first) = seen.get(job.name.as_str()) {
            let first = (*first).clone();
            let d = check.error(&job.span, &job.name, format!("`{}` has two scrape jobs named `{}`", s.name, job.name));
            *d = d.clone().related(&first, "the first one").help("give one of them another name");
            continue;
        }
        seen.insert(&job.name, &job.span);
        let owner = format!("scrape job `{}` of `{}`", job.name, s.name);
        for target in &job.targets {
            check_target(check, &job.span, &owner, "target", target, true);
            target_port(check, &job.span, &owner, target);
        }
    }
}

/// A target at a service with declared endpoints must use one of their ports.
fn target_port(check: &mut Check, span: &Span, owner: &str, target: &str) {
    let Some((host, Some(port))) = host_port(target) else { return };
    let Some(service) = check.stack.services.get(&host) else { return };
    if service.endpoints.is_empty() || service.endpoints.values().any(|p| *p == port) {
        return;
    }
    let listed: Vec<String> = service.endpoints.iter().map(|(n, p)| format!("{p} ({n})")).collect();
    let d = check.error(span, target, format!("{owner} scrapes `{target}`, but `{host}` listens on {}", listed.join(", ")));
    if let Some(m) = service.endpoints.get("metrics") {
        *d = d.clone().label(format!("metrics are at `{host}:{m}`"));
    }
}

fn rules(check: &mut Check, s: &Service, p: &Prometheus) {
    let alertmanagers: Vec<&Service> = p.alertmanagers.iter().filter_map(|(n, _)| check.stack.services.get(n)).collect();
    let known: BTreeSet<String> = alertmanagers
        .iter()
        .filter_map(|am| match &am.component {
            Component::Alertmanager(a) => Some(a.receivers.keys().cloned()),
            _ => None,
        })
        .flatten()
        .collect();
    for g in &p.rule_groups {
        for r in &g.rules {
            let name = r.alert.as_deref().or(r.record.as_deref()).unwrap_or("");
            if r.expr.trim().is_empty() {
                check.error(&r.span, name, format!("rule `{name}` of `{}` has an empty `expr`", s.name));
            }
            for label in r.labels.keys().chain(r.annotations.keys()) {
                if !crate::model::is_label_name(label) {
                    check.error(&r.span, label, format!("`{label}` in rule `{name}` is not a label name (`[a-zA-Z_][a-zA-Z0-9_]*`)"));
                }
            }
            let Some(receiver) = &r.receiver else { continue };
            if alertmanagers.is_empty() {
                let d = check.error(&r.span, receiver, format!("alert `{name}` goes to receiver `{receiver}`, but `{}` sends alerts to no Alertmanager", s.name));
                *d = d.clone().help(format!("connect one: `{}.alerts_to(alertmanager)`", s.name));
            } else if !known.contains(receiver) {
                let d = check.error(&r.span, receiver, format!("alert `{name}` goes to receiver `{receiver}`, which no Alertmanager of `{}` has", s.name));
                *d = match suggest(receiver, known.iter().map(String::as_str)) {
                    Some(b) => d.clone().label(format!("did you mean `{b}`?")),
                    None => d.clone().help(format!("add it: `alertmanager.receiver(\"{receiver}\", #{{ ... }})`")),
                };
            }
        }
    }
}

/// Alert tests must name alerts that exist: promtool passes a test expecting a misspelt
/// alert to stay quiet, which proves nothing.
fn tests(check: &mut Check, s: &Service, p: &Prometheus) {
    let alerts: Vec<&str> = p.rule_groups.iter().flat_map(|g| g.rules.iter().filter_map(|r| r.alert.as_deref())).collect();
    for t in &p.rule_tests {
        for c in &t.cases {
            if !alerts.contains(&c.alertname.as_str()) {
                let d = check.error(&t.span, &c.alertname, format!("an alert test of `{}` checks alert `{}`, which `{}` does not have", s.name, c.alertname, s.name));
                *d = match suggest(&c.alertname, alerts.iter().copied()) {
                    Some(b) => d.clone().label(format!("did you mean `{b}`?")),
                    None if alerts.is_empty() => d.clone().help(format!("declare it: `{}.alert(\"{}\", #{{ expr: ... }})`", s.name, c.alertname)),
                    None => d.clone().help(format!("its alerts: `{}`", alerts.join("`, `"))),
                };
            }
            for label in c.expected.iter().flat_map(|e| e.labels.keys().chain(e.annotations.keys())) {
                if !crate::model::is_label_name(label) {
                    check.error(&t.span, label, format!("`{label}` in an alert test of `{}` is not a label name", s.name));
                }
            }
        }
    }
}

/// Settings the pinned version does not have.
fn dialect(check: &mut Check, s: &Service, p: &Prometheus) {
    let v = version(s);
    if p.otlp_receiver && v < OTLP_RECEIVER {
        let d = check.error(&s.span, "otlp", format!("Prometheus {v} of `{}` has no OTLP receiver (added in {OTLP_RECEIVER})", s.name));
        *d = d.clone().help("scrape the collector instead (`ingest: \"scrape\"`), or pin a newer Prometheus");
    }
    let retention_block = p.settings.get("storage").and_then(|st| st.get("tsdb")).and_then(|t| t.get("retention")).is_some();
    if retention_block && v < RETENTION_IN_CONFIG {
        let d = check.error(&s.span, "retention", format!("Prometheus {v} of `{}` reads retention from flags only; `storage.tsdb.retention` arrived in {RETENTION_IN_CONFIG}", s.name));
        *d = d.clone().help("use the `retention` option, which obsbuild writes in the form the version understands");
    }
    for arg in &s.args {
        let removed = [
            ("--storage.tsdb.retention=", "use the `retention` option"),
            ("--web.console.templates", "console templates were removed in Prometheus 3"),
            ("--web.console.libraries", "console libraries were removed in Prometheus 3"),
            ("--enable-feature=otlp-write-receiver", "write `otlp_receiver: true`; obsbuild picks the flag"),
            ("--enable-feature=remote-write-receiver", "write `remote_write_receiver: true`; obsbuild picks the flag"),
        ];
        for (flag, fix) in removed {
            if arg.starts_with(flag) && v.major >= 3 {
                let d = check.error(&s.span, flag, format!("`{arg}` of `{}` does not exist in Prometheus {v}", s.name));
                *d = d.clone().help(fix);
            }
        }
    }
}

fn routes(check: &mut Check, s: &Service, a: &Alertmanager) {
    let names: Vec<&str> = a.receivers.keys().map(String::as_str).collect();
    let default = a.root_receiver();
    if !a.receivers.contains_key(&default) {
        let span = a.default_receiver.as_ref().map(|(_, sp)| sp.clone()).unwrap_or_else(|| s.span.clone());
        let d = check.error(&span, &default, format!("the root route of `{}` sends to receiver `{default}`, which is not declared", s.name));
        *d = d.clone().suggesting(&default, names.iter().copied());
    }
    for r in &a.routes {
        if !a.receivers.contains_key(&r.receiver) {
            let d = check.error(&r.span, &r.receiver, format!("a route of `{}` sends to receiver `{}`, which is not declared", s.name, r.receiver));
            *d = match suggest(&r.receiver, names.iter().copied()) {
                Some(b) => d.clone().label(format!("did you mean `{b}`?")),
                None => d.clone().help(format!("declared receivers: `{}`", names.join("`, `"))),
            };
        }
        for m in &r.matchers {
            if !matcher(m) {
                let d = check.error(&r.span, m, format!("matcher `{m}` of a route of `{}` is not `label=\"value\"` (or `!=`, `=~`, `!~`)", s.name));
                *d = d.clone().help("e.g. `severity=\"critical\"` or `team=~\"db|infra\"`");
            }
        }
    }
}

fn matcher(m: &str) -> bool {
    crate::model::parse_matcher(m).is_some()
}

#[cfg(test)]
mod tests {
    use super::matcher;

    #[test]
    fn matchers() {
        assert!(matcher("severity=\"critical\""));
        assert!(matcher("team =~ \"db|infra\""));
        assert!(matcher("receiver=oncall"));
        assert!(!matcher("severity critical"));
        assert!(!matcher("=\"x\""));
        assert!(!matcher("a=\"x"));
    }
}
