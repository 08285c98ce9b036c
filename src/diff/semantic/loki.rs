//! Loki: retention, limits and schema periods.


use super::tree::Seg;
use super::top_key;

pub(super) fn subject(path: &[Seg]) -> (String, usize) {
    match path {
        [Seg::Key(s), Seg::Key(c), Seg::Item { value, .. }, ..] if s == "schema_config" && c == "configs" => {
            (format!("schema period from {value}"), 3)
        }
        [Seg::Key(s), Seg::Key(c), Seg::Index(i), ..] if s == "schema_config" && c == "configs" => (format!("schema period #{}", i + 1), 3),
        [Seg::Key(k), ..] if k == "limits_config" => ("limits".to_owned(), 1),
        [Seg::Key(k), ..] if k == "compactor" => ("compactor (retention)".to_owned(), 1),
        _ => top_key(path),
    }
}
