//! The line diff of one text file, grouped into hunks with 3 lines of context as git does.
//!
//! Pure: the hunks are computed from the two texts alone, so rendering never diffs again.

use similar::{Algorithm, DiffTag, capture_diff_slices, group_diff_ops};

use super::compact::compact;

/// Lines of unchanged context around each change, git's default.
const CONTEXT: usize = 3;

/// git copies at most this many bytes of the heading line into a hunk header.
const HEADING_MAX: usize = 80;

/// The hunks of one file and its change counts.
pub(super) struct Lines {
    pub hunks: Vec<Hunk>,
    pub insertions: usize,
    pub deletions: usize,
}

/// One `@@ -old +new @@` block. Starts are 0-based line indices; the rendering decides how to
/// number them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Hunk {
    pub old_start: usize,
    pub old_len: usize,
    pub new_start: usize,
    pub new_len: usize,
    /// The nearest line above the hunk that looks like a heading, shown after `@@` by git.
    pub heading: Option<String>,
    pub lines: Vec<Line>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Context,
    Delete,
    Insert,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Line {
    pub kind: Kind,
    /// The line without its `\n`; a `\r` before it stays, as git shows it.
    pub text: String,
    /// False only for a last line that has no final newline.
    pub newline: bool,
}

/// Diffs two texts line by line. Equal texts give no hunks.
pub(super) fn compute(old: &str, new: &str) -> Lines {
    // Lines end at `\n` only, as in git; a lone `\r` is part of the line.
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    // similar's Myers works as git's xdiff does: lines found on one side only are set aside
    // first, and a search that gets expensive settles for a good split instead of the
    // shortest one. Without that a reordered or rewritten file costs quadratic time.
    let ops = capture_diff_slices(Algorithm::Myers, &old_lines, &new_lines);
    let ops = compact(&old_lines, &new_lines, ops);

    let (mut insertions, mut deletions) = (0, 0);
    for op in &ops {
        if op.tag() != DiffTag::Equal {
            deletions += op.old_range().len();
            insertions += op.new_range().len();
        }
    }

    let mut headings = Headings::default();
    let mut hunks = Vec::new();
    for group in group_diff_ops(ops, CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_start = first.old_range().start;
        let new_start = first.new_range().start;
        let mut lines = Vec::new();
        for op in &group {
            let old_part = old_lines.get(op.old_range()).unwrap_or_default();
            let new_part = new_lines.get(op.new_range()).unwrap_or_default();
            match op.tag() {
                DiffTag::Equal => push_lines(&mut lines, Kind::Context, old_part),
                DiffTag::Delete => push_lines(&mut lines, Kind::Delete, old_part),
                DiffTag::Insert => push_lines(&mut lines, Kind::Insert, new_part),
                DiffTag::Replace => {
                    push_lines(&mut lines, Kind::Delete, old_part);
                    push_lines(&mut lines, Kind::Insert, new_part);
                }
            }
        }
        hunks.push(Hunk {
            old_start,
            old_len: last.old_range().end - old_start,
            new_start,
            new_len: last.new_range().end - new_start,
            heading: headings.above(&old_lines, old_start),
            lines,
        });
    }
    Lines {
        hunks,
        insertions,
        deletions,
    }
}

fn push_lines(lines: &mut Vec<Line>, kind: Kind, values: &[&str]) {
    for value in values {
        let (text, newline) = match value.strip_suffix('\n') {
            Some(text) => (text, true),
            None => (*value, false),
        };
        lines.push(Line {
            kind,
            text: text.to_owned(),
            newline,
        });
    }
}

/// Finds hunk headings the way git's default (no diff driver) does: the closest line above
/// the hunk in the old file that starts with a letter, `_` or `$`. For YAML that is the
/// top-level key the change sits under, which is what a reviewer wants to see.
#[derive(Default)]
struct Headings {
    /// Lines below this index were already searched for an earlier hunk.
    searched_to: usize,
    last: Option<String>,
}

impl Headings {
    /// Hunks come in order, so each search stops where the previous one started and keeps its
    /// answer when nothing closer is found; that keeps the whole file linear.
    fn above(&mut self, old_lines: &[&str], hunk_start: usize) -> Option<String> {
        let floor = self.searched_to.min(hunk_start);
        let found = old_lines
            .get(floor..hunk_start)
            .and_then(|range| range.iter().rev().find_map(|line| heading(line)));
        if found.is_some() {
            self.last = found;
        }
        self.searched_to = hunk_start;
        self.last.clone()
    }
}

fn heading(line: &str) -> Option<String> {
    let first = line.bytes().next()?;
    if !(first.is_ascii_alphabetic() || first == b'_' || first == b'$') {
        return None;
    }
    let mut end = line.len().min(HEADING_MAX);
    // git cuts at a byte count; stay on a character boundary so the header remains UTF-8.
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    // C's isspace, which unlike Rust's ASCII whitespace includes vertical tab.
    let trimmed = line[..end].trim_end_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    Some(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_replacements_on_both_sides() {
        let lines = compute("a\nb\nc\n", "a\nB\nc\nd\n");
        assert_eq!((lines.insertions, lines.deletions), (2, 1));
        assert_eq!(lines.hunks.len(), 1);
    }

    #[test]
    fn equal_texts_have_no_hunks() {
        let lines = compute("a\nb\n", "a\nb\n");
        assert!(lines.hunks.is_empty());
        assert_eq!((lines.insertions, lines.deletions), (0, 0));
    }

    #[test]
    fn headings_follow_git_rules() {
        assert_eq!(
            heading("scrape_configs:  \n").as_deref(),
            Some("scrape_configs:")
        );
        assert_eq!(heading("_x\n").as_deref(), Some("_x"));
        assert_eq!(heading("$x\n").as_deref(), Some("$x"));
        assert_eq!(heading("  indented:\n"), None);
        assert_eq!(heading("- item\n"), None);
        assert_eq!(heading("{\n"), None);
        assert_eq!(heading("\n"), None);
        let long = format!("{}\n", "k".repeat(100));
        assert_eq!(heading(&long).map(|h| h.len()), Some(HEADING_MAX));
        let wide = format!("{}é\n", "k".repeat(79));
        assert_eq!(heading(&wide).map(|h| h.len()), Some(79));
    }

    #[test]
    fn heading_is_the_closest_key_above_each_hunk() {
        let old: String = ["global:", "  a: 1"]
            .into_iter()
            .chain((0..10).map(|_| "  x"))
            .chain(["rules:", "  z", "  z", "  z", "  b: 2"])
            .chain((0..10).map(|_| "  y"))
            .map(|l| format!("{l}\n"))
            .collect();
        let new = old.replace("a: 1", "a: 9").replace("b: 2", "b: 9");
        let lines = compute(&old, &new);
        let headings: Vec<_> = lines.hunks.iter().map(|h| h.heading.as_deref()).collect();
        // The first hunk starts at the top, so nothing is above it; "global:" is inside it.
        assert_eq!(headings, [None, Some("rules:")]);
    }
}
