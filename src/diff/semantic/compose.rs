//! Compose files: services (image, ports, addresses, environment, volumes, limits) and the
//! secret, volume and network declarations. Builds hold secret references only, so a
//! secret change shows where the value comes from, never a value.


use super::tree::Seg;
use super::top_key;

pub(super) fn subject(path: &[Seg]) -> (String, usize) {
    let what = |k: &str| match k {
        "services" => Some("service"),
        "secrets" => Some("secret"),
        "volumes" => Some("volume"),
        "networks" => Some("network"),
        _ => None,
    };
    match path {
        [Seg::Key(k), Seg::Key(name), ..] if what(k).is_some() => (format!("{} {name}", what(k).unwrap_or(k)), 2),
        _ => top_key(path),
    }
}
