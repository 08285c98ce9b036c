//! Quoting of paths in diff output, so a path can never break the line-based format.
//!
//! Pure. Follows git's C-style quoting with `core.quotePath=false`: control characters, `"`
//! and `\` are escaped and the name is put in double quotes; other Unicode stays readable.

use std::fmt::Write;

/// `prefix` + `path` as git prints it in `---`/`+++` and "Binary files" lines, e.g. `a/x.yml`
/// or `"b/odd\tname"`.
pub(super) fn label(prefix: &str, path: &str) -> String {
    quote(&format!("{prefix}{path}"))
}

/// `name` unchanged when it is safe on a line of its own, else in C-style double quotes.
pub(super) fn quote(name: &str) -> String {
    if !name.chars().any(needs_escape) {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        match c {
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\{:03o}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn needs_escape(c: char) -> bool {
    c.is_ascii_control() || c == '"' || c == '\\'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_stay_as_they_are() {
        assert_eq!(label("a/", "configs/loki.yaml"), "a/configs/loki.yaml");
        assert_eq!(label("b/", "dash boards/é.json"), "b/dash boards/é.json");
    }

    #[test]
    fn control_characters_quotes_and_backslashes_are_escaped_like_git() {
        assert_eq!(label("a/", "x\ty"), "\"a/x\\ty\"");
        assert_eq!(label("a/", "x\ny"), "\"a/x\\ny\"");
        assert_eq!(quote("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote("c:\\x"), "\"c:\\\\x\"");
        assert_eq!(quote("del\x7f"), "\"del\\177\"");
        assert_eq!(quote("esc\x1b"), "\"esc\\033\"");
    }
}
