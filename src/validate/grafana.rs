//! Data sources, their links, and the dashboards that name them.

use std::collections::BTreeMap;

use super::Check;
use super::hosts::check_target;
use crate::diagnostic::{Span, suggest};
use crate::model::{Component, Grafana, PanelKind, PanelLink, Service};

pub fn check(check: &mut Check) {
    for s in check.stack.services.values() {
        if let Component::Grafana(g) = &s.component {
            datasources(check, s, g);
            dashboards(check, s, g);
        }
    }
}

fn datasources(check: &mut Check, s: &Service, g: &Grafana) {
    let uids: Vec<&str> = g.datasources.iter().map(|d| d.uid.as_str()).collect();
    let mut seen_uid: BTreeMap<&str, Span> = BTreeMap::new();
    let mut seen_name: BTreeMap<&str, Span> = BTreeMap::new();
    for d in &g.datasources {
        let span = d.span.clone().unwrap_or_else(|| s.span.clone());
        if let Some(first) = seen_uid.get(d.uid.as_str()).cloned() {
            let e = check.error(&span, &d.uid, format!("two data sources of `{}` have the uid `{}`", s.name, d.uid));
            *e = e.clone().related(&first, "the first one");
        }
        if let Some(first) = seen_name.get(d.name.as_str()).cloned() {
            let e = check.error(&span, &d.name, format!("two data sources of `{}` are named `{}`", s.name, d.name));
            *e = e.clone().related(&first, "the first one");
        }
        seen_uid.insert(&d.uid, span.clone());
        seen_name.insert(&d.name, span.clone());
        check_target(check, &span, &format!("data source `{}`", d.name), "url", &d.url, false);
        for (link, target) in [("traces", &d.traces), ("logs", &d.logs)] {
            let Some(target) = target.as_deref().filter(|t| !t.is_empty()) else { continue };
            if !uids.contains(&target) {
                let e = check.error(&span, target, format!("data source `{}` links its {link} to uid `{target}`, which `{}` does not provision", d.name, s.name));
                *e = match suggest(target, uids.iter().copied()) {
                    Some(b) => e.clone().label(format!("did you mean `{b}`?")),
                    None => e.clone().help(format!("provisioned uids: `{}`", uids.join("`, `"))),
                };
            }
        }
    }
    if g.datasources.iter().filter(|d| d.is_default).count() > 1 {
        check.error(&s.span, "", format!("more than one data source of `{}` is the default", s.name));
    }
}

fn dashboards(check: &mut Check, s: &Service, g: &Grafana) {
    let uids: Vec<&str> = g.datasources.iter().map(|d| d.uid.as_str()).collect();
    let dashboards: Vec<&str> = g.dashboards.iter().map(|d| d.uid.as_str()).collect();
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for d in &g.dashboards {
        if let Some(first) = seen.get(d.uid.as_str()).cloned() {
            let e = check.error(&d.span, &d.uid, format!("two dashboards of `{}` have the uid `{}`", s.name, d.uid));
            *e = e.clone().related(&first, "the first one");
        }
        seen.insert(&d.uid, d.span.clone());
        let uid_ok = !d.uid.is_empty() && d.uid.len() <= 40 && d.uid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !uid_ok {
            check.error(&d.span, &d.uid, format!("dashboard uid `{}` must be 1 to 40 letters, digits, `-` or `_`", d.uid));
        }
        // One mistake (a wrong data source passed to a library dashboard) is read by many
        // panels and links: one error per missing uid, naming every reader.
        let mut missing = Missing::default();
        for p in &d.panels {
            let owner = format!("panel `{}` of dashboard `{}`", p.title, d.uid);
            let mark = check.found.len();
            match (&p.datasource, p.kind) {
                (None, PanelKind::Text) => {}
                (None, _) => {
                    let e = check.error(&p.span, "", format!("{owner} has no `datasource`"));
                    *e = e.clone().help(format!("name one of `{}`", uids.join("`, `")));
                }
                (Some(uid), _) if !uids.contains(&uid.as_str()) => {
                    missing.add(uid, format!("panel `{}`", p.title), "reads", &p.span, &p.via);
                }
                _ => {}
            }
            if p.kind != PanelKind::Text && p.queries.is_empty() {
                check.error(&p.span, "", format!("{owner} has no `query`"));
            }
            links(check, &p.span, &p.via, &owner, &p.links, &uids, &dashboards, &mut missing);
            for e in &mut check.found[mark..] {
                *e = e.clone().written_in_library(&p.via);
            }
        }
        links(check, &d.span, &None, &format!("dashboard `{}`", d.uid), &d.links, &uids, &dashboards, &mut missing);
        missing.report(check, &s.name, &d.uid, &uids);
    }
}

/// Data source uids a dashboard reads that are not provisioned: by uid, who reads it.
#[derive(Default)]
struct Missing {
    readers: BTreeMap<String, Vec<Reader>>,
}

/// Who reads a data source: `panel `X``, its verb (`reads`, `explores`), where it is written.
type Reader = (String, &'static str, Span, Option<Span>);

impl Missing {
    fn add(&mut self, uid: &str, reader: String, verb: &'static str, span: &Span, via: &Option<Span>) {
        self.readers.entry(uid.to_owned()).or_default().push((reader, verb, span.clone(), via.clone()));
    }

    fn report(self, check: &mut Check, grafana: &str, dashboard: &str, uids: &[&str]) {
        for (uid, readers) in self.readers {
            let Some((first, verb, span, via)) = readers.first().cloned() else { continue };
            let names: Vec<&str> = readers.iter().map(|(r, ..)| r.as_str()).collect();
            let message = if names.len() == 1 {
                format!("{first} of dashboard `{dashboard}` {verb} data source `{uid}`, which `{grafana}` does not provision")
            } else {
                format!("dashboard `{dashboard}` reads data source `{uid}` in {} places, which `{grafana}` does not provision", names.len())
            };
            let e = check.error(&span, &uid, message);
            let mut d = match suggest(&uid, uids.iter().copied()) {
                Some(b) => e.clone().label(format!("did you mean `{b}`?")),
                None => e.clone().help(format!("provisioned uids: `{}`", uids.join("`, `"))),
            };
            if names.len() > 1 {
                d = d.note(format!("read by {}", names.join(", ")));
            }
            *e = d.written_in_library(&via);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn links(
    check: &mut Check,
    span: &Span,
    via: &Option<Span>,
    owner: &str,
    links: &[PanelLink],
    uids: &[&str],
    dashboards: &[&str],
    missing: &mut Missing,
) {
    for l in links {
        let set = [l.dashboard.is_some(), l.explore.is_some(), l.url.is_some()].iter().filter(|x| **x).count();
        if set != 1 {
            check.error(span, &l.title, format!("link `{}` of {owner} needs exactly one of `dashboard`, `explore` or `url`", l.title));
        }
        if let Some(target) = &l.dashboard
            && !dashboards.contains(&target.as_str()) {
                let e = check.error(span, target, format!("link `{}` of {owner} opens dashboard `{target}`, which is not provisioned", l.title));
                *e = e.clone().suggesting(target, dashboards.iter().copied());
            }
        if let Some((uid, _)) = &l.explore
            && !uids.contains(&uid.as_str()) {
                // The dashboard is named once, in the error itself.
                let short = owner.split_once(" of dashboard ").map_or(owner, |(panel, _)| panel);
                missing.add(uid, format!("link `{}` of {short}", l.title), "explores", span, via);
            }
    }
}
