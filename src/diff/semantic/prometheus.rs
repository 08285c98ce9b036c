//! Prometheus: scrape jobs in `prometheus.yml`, rule groups and rules in its rule files.


use super::tree::Seg;
use super::{seg_name, top_key};

pub(super) fn subject(path: &[Seg]) -> (String, usize) {
    match (seg_name(path.first()), path.get(1)) {
        (Some("scrape_configs"), Some(Seg::Item { value, .. })) => (format!("scrape job {value}"), 2),
        _ => top_key(path),
    }
}

pub(super) fn rule_subject(path: &[Seg]) -> (String, usize) {
    match path {
        [Seg::Key(g), Seg::Item { value: group, .. }, Seg::Key(r), Seg::Item { key, value }, ..] if g == "groups" && r == "rules" => {
            let what = if key == "record" { "recording rule" } else { "alert rule" };
            (format!("{what} {value} (group {group})"), 4)
        }
        [Seg::Key(g), Seg::Item { value: group, .. }, ..] if g == "groups" => (format!("rule group {group}"), 2),
        _ => top_key(path),
    }
}
