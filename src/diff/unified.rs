//! The patch rendering: the same text `git diff` prints after its `diff --git` and `index`
//! lines, so reviewers read it without learning anything new and `patch -p1` can apply it.
//! Written here rather than with `similar`'s `udiff`, which writes file labels as given
//! (git quotes unusual names) and puts no heading after a hunk's `@@`.
//!
//! Pure: formats hunks already computed by [`super::diff`].

use std::fmt::Write;

use super::hunks::{Hunk, Kind};
use super::quote::label;
use super::style::Role;
use super::{Body, FileDiff, Status, Style};

const DEV_NULL: &str = "/dev/null";

/// Appends the patch of one file to `out`.
pub(super) fn write_file(out: &mut String, file: &FileDiff, style: Style) {
    let old = match file.status {
        Status::Added => DEV_NULL.to_owned(),
        _ => label("a/", &file.path),
    };
    let new = match file.status {
        Status::Removed => DEV_NULL.to_owned(),
        _ => label("b/", &file.path),
    };
    match &file.body {
        Body::Binary => {
            let _ = writeln!(out, "Binary files {old} and {new} differ");
        }
        Body::Text(hunks) => {
            file_header(out, "--- ", &old, style);
            file_header(out, "+++ ", &new, style);
            for hunk in hunks {
                write_hunk(out, hunk, style);
            }
        }
    }
}

fn file_header(out: &mut String, marker: &str, label: &str, style: Style) {
    style.paint(out, Role::FileHeader, &format!("{marker}{label}"));
    // git ends a label holding a space with a tab, so `patch` knows where the name stops.
    if label.contains(' ') {
        out.push('\t');
    }
    out.push('\n');
}

fn write_hunk(out: &mut String, hunk: &Hunk, style: Style) {
    let header = format!(
        "@@ -{} +{} @@",
        range(hunk.old_start, hunk.old_len),
        range(hunk.new_start, hunk.new_len)
    );
    style.paint(out, Role::HunkHeader, &header);
    // The heading is the file's own text, so git leaves it uncoloured.
    if let Some(heading) = &hunk.heading {
        out.push(' ');
        out.push_str(heading);
    }
    out.push('\n');

    for line in &hunk.lines {
        let (marker, role) = match line.kind {
            Kind::Context => (' ', None),
            Kind::Delete => ('-', Some(Role::Deletion)),
            Kind::Insert => ('+', Some(Role::Insertion)),
        };
        if let Some(role) = role {
            style.paint(out, role, &format!("{marker}{}", line.text));
        } else {
            out.push(marker);
            out.push_str(&line.text);
        }
        out.push('\n');
        if !line.newline {
            out.push_str("\\ No newline at end of file\n");
        }
    }
}

/// A hunk range as unified diffs number it: 1-based, the length left out when it is 1, and an
/// empty range named by the line before it (`0,0` at the top of the file).
fn range(start: usize, len: usize) -> String {
    match len {
        1 => format!("{}", start + 1),
        0 => format!("{start},0"),
        _ => format!("{},{len}", start + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_numbered_like_unified_diffs() {
        assert_eq!(range(0, 0), "0,0");
        assert_eq!(range(0, 1), "1");
        assert_eq!(range(4, 0), "4,0");
        assert_eq!(range(4, 7), "5,7");
    }
}
