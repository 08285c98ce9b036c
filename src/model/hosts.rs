//! Entries for the machine's hosts file: `hosts_entry(address, name)` calls.
//!
//! A stack behind a proxy (Traefik on `127.0.1.1` routing `https://scaibu.grafana`, ...)
//! needs those names to resolve on the machine; `obsbuild hosts` writes them.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::diagnostic::Span;

/// One `hosts_entry(address, name)` call. The address is kept as written: `validate`
/// checks it, and every declaration is kept so that a name given two addresses can be
/// reported with both lines.
#[derive(Clone, Debug, Serialize)]
pub struct HostEntry {
    pub address: String,
    /// The user's line.
    pub span: Span,
    /// The library line that made the call on the user's behalf, if one did.
    pub via: Option<Span>,
}

/// Host names (sorted) to their declarations, in call order.
pub type Hosts = BTreeMap<String, Vec<HostEntry>>;

/// Name → address, from a validated stack's declarations: the first parseable address of
/// each name (after validation every declaration of a name has the same address).
pub fn addresses(hosts: &Hosts) -> BTreeMap<String, IpAddr> {
    hosts
        .iter()
        .filter_map(|(name, entries)| {
            let ip = entries
                .iter()
                .find_map(|e| e.address.parse::<IpAddr>().ok())?;
            Some((name.clone(), ip))
        })
        .collect()
}

/// Why `name` cannot be a host name in a hosts file, if it cannot: RFC 1123 names, in
/// lower case so that one name is never written two ways.
pub fn host_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".to_owned());
    }
    if name.len() > 253 {
        return Some(format!(
            "it is {} characters long; host names have at most 253",
            name.len()
        ));
    }
    if name.parse::<IpAddr>().is_ok() {
        return Some("it is an address, not a name".to_owned());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some(
                "it has an empty part (two dots in a row, or a dot at the start or end)".to_owned(),
            );
        }
        if label.len() > 63 {
            return Some(format!("its part `{label}` is longer than 63 characters"));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Some(format!(
                "it has `{c}`; host names have letters, digits, `-` and `.` only"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("its part `{label}` starts or ends with `-`"));
        }
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(format!(
            "it has upper-case letters; write `{}`",
            name.to_ascii_lowercase()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        for ok in ["scaibu.grafana", "grafana", "a-b.c1.example", "x"] {
            assert_eq!(host_name_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "Grafana.local",
            "a..b",
            ".a",
            "a.",
            "a_b",
            "-a",
            "a-",
            "127.0.0.1",
            "a b",
            "grafana.lokal/x",
        ] {
            assert!(host_name_problem(bad).is_some(), "{bad}");
        }
        assert!(host_name_problem(&"a".repeat(64)).is_some());
        assert!(host_name_problem(&["a"; 130].join(".")).is_some());
    }
}
