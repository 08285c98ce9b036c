//! Alertmanager: the route tree, receivers and inhibit rules.


use super::tree::Seg;
use super::top_key;

pub(super) fn subject(path: &[Seg]) -> (String, usize) {
    match path {
        [Seg::Key(k), Seg::Item { value, .. }, ..] if k == "receivers" => (format!("receiver {value}"), 2),
        [Seg::Key(k), Seg::Index(i), ..] if k == "inhibit_rules" => (format!("inhibit rule #{}", i + 1), 2),
        [Seg::Key(k), Seg::Key(r), Seg::Item { value, .. }, ..] if k == "route" && r == "routes" => {
            (format!("route to {value}"), 3)
        }
        [Seg::Key(k), Seg::Key(r), Seg::Index(i), ..] if k == "route" && r == "routes" => (format!("route #{}", i + 1), 3),
        [Seg::Key(k), ..] if k == "route" => ("root route".to_owned(), 1),
        _ => top_key(path),
    }
}
