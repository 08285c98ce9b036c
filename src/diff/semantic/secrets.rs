//! Secret references: which secrets each service mounts and where their values come from.
//! A build holds only these references (the deployment document has them), never values,
//! so this is all a review can show, and all it should.

use std::collections::BTreeMap;

use super::{Area, Change, Kind, Reading};
use crate::deployment::FILE;
use crate::model::Secret;

/// Secrets added, removed or taken from another source, per service.
pub(super) fn changes(old: &Reading, new: &Reading) -> Vec<Change> {
    let (a, b) = (by_service(old), by_service(new));
    let none = BTreeMap::new();
    let services: std::collections::BTreeSet<&str> = a.keys().chain(b.keys()).copied().collect();
    let mut out = Vec::new();
    for service in services {
        let (sa, sb) = (a.get(service).copied().unwrap_or(&none), b.get(service).copied().unwrap_or(&none));
        let names: std::collections::BTreeSet<&String> = sa.keys().chain(sb.keys()).collect();
        for name in names {
            let (x, y) = (sa.get(name), sb.get(name));
            let kind = match (x, y) {
                (Some(x), Some(y)) if x == y => continue,
                (None, _) => Kind::Added,
                (_, None) => Kind::Removed,
                _ => Kind::Changed,
            };
            out.push(Change {
                component: Area::Services,
                file: FILE.to_owned(),
                subject: format!("service {service}"),
                kind,
                field: Some(format!("secret {name}")),
                old: x.map(Secret::describe),
                new: y.map(Secret::describe),
                composite: false,
            });
        }
    }
    out
}

/// An unreadable or missing deployment document has no secrets to compare; the plan
/// reports it as an error.
fn by_service<'a>(build: &'a Reading) -> BTreeMap<&'a str, &'a BTreeMap<String, Secret>> {
    build.deployment.as_ref().map(|d| d.services.iter().map(|u| (u.service.as_str(), &u.secrets)).collect()).unwrap_or_default()
}
