//! Where Alertmanager sends an alert: its route tree walked as Alertmanager walks it, so a
//! review can say that an alert now pages another receiver.
//!
//! Matching uses the labels the review knows: the rule's own labels and `alertname`. A label
//! that only the series carries (`instance`, say) counts as absent, as Alertmanager treats a
//! label an alert lacks.

use std::collections::BTreeMap;

use serde_json::Value;

use super::promql::{Matcher, Op};

/// The receivers an alert with `labels` reaches under the route tree `root` (the `route:`
/// of alertmanager.yml), in order.
#[must_use]
pub fn receivers(root: &Value, labels: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    let receiver = root.get("receiver").and_then(Value::as_str).unwrap_or("").to_owned();
    walk(root, &receiver, labels, &mut out);
    out.dedup();
    out
}

fn walk(route: &Value, inherited: &str, labels: &BTreeMap<String, String>, out: &mut Vec<String>) {
    let receiver = route.get("receiver").and_then(Value::as_str).unwrap_or(inherited);
    let mut matched = false;
    for child in route.get("routes").and_then(Value::as_array).into_iter().flatten() {
        if !matches(child, labels) {
            continue;
        }
        matched = true;
        walk(child, receiver, labels, out);
        if !child.get("continue").and_then(Value::as_bool).unwrap_or(false) {
            break;
        }
    }
    if !matched {
        out.push(receiver.to_owned());
    }
}

fn matches(route: &Value, labels: &BTreeMap<String, String>) -> bool {
    let get = |l: &str| labels.get(l).map_or("", String::as_str);
    let mut all: Vec<Matcher> = route.get("matchers").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).filter_map(parse).collect();
    for (key, op) in [("match", Op::Eq), ("match_re", Op::Re)] {
        for (label, value) in route.get(key).and_then(Value::as_object).into_iter().flatten() {
            all.push(Matcher::new(label.clone(), op, value.as_str().unwrap_or_default().to_owned()));
        }
    }
    all.iter().all(|m| m.accepts(get(&m.label)))
}

/// One of Alertmanager's matcher strings, as validation reads it.
fn parse(text: &str) -> Option<Matcher> {
    let (label, op, value) = crate::model::parse_matcher(text)?;
    Some(Matcher::new(label, op, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Value {
        serde_json::json!({
            "receiver": "default",
            "routes": [
                {"receiver": "pager", "matchers": ["severity=\"critical\""], "continue": true},
                {"receiver": "team-a", "match_re": {"team": "a|b"}},
                {"matchers": ["severity=~\"warn.*\""], "routes": [{"receiver": "chat", "match": {"alertname": "Noisy"}}]},
            ]
        })
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn walks_like_alertmanager() {
        assert_eq!(receivers(&tree(), &labels(&[])), ["default"]);
        assert_eq!(receivers(&tree(), &labels(&[("severity", "critical"), ("team", "b")])), ["pager", "team-a"], "continue goes on");
        assert_eq!(receivers(&tree(), &labels(&[("severity", "critical")])), ["pager"]);
        assert_eq!(receivers(&tree(), &labels(&[("severity", "warning"), ("alertname", "Noisy")])), ["chat"]);
        assert_eq!(receivers(&tree(), &labels(&[("severity", "warning")])), ["default"], "a child with no receiver inherits");
    }
}
