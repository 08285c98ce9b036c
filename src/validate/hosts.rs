//! Hosts named in endpoints, URLs and scrape targets, and whether they are in the stack.

use std::net::Ipv4Addr;

use super::Check;
use crate::diagnostic::{Span, suggest};

/// The host and port of `http://loki:3100/otlp`, `jaeger:4317`, `0.0.0.0:8889`, `[::1]:80`.
pub fn host_port(text: &str) -> Option<(String, Option<u16>)> {
    let rest = text.split_once("://").map(|(_, r)| r).unwrap_or(text);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map(|(_, a)| a).unwrap_or(authority);
    if authority.is_empty() {
        return None;
    }
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, tail) = v6.split_once(']')?;
        let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((host.to_owned(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_owned(), port.parse().ok())),
        None => Some((authority.to_owned(), None)),
    }
}

/// Whether the host is a loopback name, which inside a container means the container itself.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// A host that can only mean a service of this stack: a single DNS label (no dots) or an
/// address inside the stack's subnet. Names with dots and outside addresses are external.
fn should_be_in_stack(check: &Check, host: &str) -> bool {
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return check.stack.network.subnet.is_some_and(|s| s.contains(ip));
    }
    !host.contains('.') && !host.contains(':') && !host.is_empty()
}

/// Whether `host` names a service (or an app) of the stack, by name or static IP.
pub fn in_stack(check: &Check, host: &str) -> bool {
    if check.stack.services.contains_key(host) || check.stack.apps.contains_key(host) {
        return true;
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| check.stack.services.values().any(|s| s.ip == Some(ip)))
}

/// Checks that `target` (`what` of `owner`, declared at `span`) points at a service of the
/// stack, unless it names an external host. `needle` is the text to underline.
pub fn check_target(check: &mut Check, span: &Span, owner: &str, what: &str, target: &str, allow_loopback: bool) {
    let Some((host, _)) = host_port(target) else { return };
    if is_loopback(&host) {
        if !allow_loopback {
            let d = check.error(span, target, format!("{what} `{target}` of {owner} is `{host}`, which inside a container is the container itself"));
            *d = d.clone().help("name the service instead, e.g. `loki:3100`");
        }
        return;
    }
    if host == "0.0.0.0" || !should_be_in_stack(check, &host) || in_stack(check, &host) {
        return;
    }
    let names = check.service_names().join("`, `");
    let best = suggest(&host, check.stack.services.keys().map(String::as_str)).map(str::to_owned);
    let d = check.error(span, target, format!("{what} `{target}` of {owner} names `{host}`, which is not a service of this stack"));
    *d = match best {
        Some(b) => d.clone().label(format!("did you mean `{b}`?")),
        None => d.clone().help(format!("services of this stack: `{names}`")),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports() {
        assert_eq!(host_port("http://loki:3100/otlp"), Some(("loki".into(), Some(3100))));
        assert_eq!(host_port("jaeger:4317"), Some(("jaeger".into(), Some(4317))));
        assert_eq!(host_port("https://user:pw@x.example.com/a"), Some(("x.example.com".into(), None)));
        assert_eq!(host_port("[::1]:80"), Some(("::1".into(), Some(80))));
        assert_eq!(host_port("http://"), None);
        assert!(is_loopback("127.0.0.2"));
        assert!(!is_loopback("0.0.0.0"));
    }
}
