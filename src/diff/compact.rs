//! Where a change is placed when it could equally sit a few lines higher or lower.
//!
//! Adding `{ "id": 3 },` between two JSON objects can be shown as the whole new object, or as
//! the tail of one object and the head of the next; both are minimal. This is a port of git's
//! `xdl_change_compact` with its default indent heuristic, which picks the placement a reader
//! expects (whole blocks, split at blank lines and outer indentation), so our patches look like
//! the ones reviewers know from `git diff`.
//!
//! Kept by hand because `similar`, which finds the edits, has no such pass: its own unified
//! output leaves each change where Myers put it. `imara-diff` has a port of the same
//! heuristic, but it is not among our dependencies and would replace `similar` for one pass.
//!
//! Pure: works on the line slices and the diff ops only.

use similar::{DiffOp, DiffTag};

/// git's tuning of the heuristic (xdiff/xdiffi.c); the weights come from a study of real
/// patches, so they are kept exactly.
const MAX_INDENT: i32 = 200;
const MAX_BLANKS: i32 = 20;
const START_OF_FILE_PENALTY: i32 = 1;
const END_OF_FILE_PENALTY: i32 = 21;
const TOTAL_BLANK_WEIGHT: i32 = -30;
const POST_BLANK_WEIGHT: i32 = 6;
const RELATIVE_INDENT_PENALTY: i32 = -4;
const RELATIVE_INDENT_WITH_BLANK_PENALTY: i32 = 10;
const RELATIVE_OUTDENT_PENALTY: i32 = 24;
const RELATIVE_OUTDENT_WITH_BLANK_PENALTY: i32 = 17;
const RELATIVE_DEDENT_PENALTY: i32 = 23;
const RELATIVE_DEDENT_WITH_BLANK_PENALTY: i32 = 17;
const INDENT_WEIGHT: i32 = 60;
const MAX_SLIDING: usize = 100;

/// Re-places the changes of `ops` (a diff of `old` against `new`, lines with their `\n`) as git
/// does. Returns `ops` unchanged if they do not describe the two slices.
pub(super) fn compact(old: &[&str], new: &[&str], ops: Vec<DiffOp>) -> Vec<DiffOp> {
    let mut old_side = Side::new(old);
    let mut new_side = Side::new(new);
    for op in ops.iter().filter(|op| op.tag() != DiffTag::Equal) {
        old_side.mark(op.old_range());
        new_side.mark(op.new_range());
    }
    // Deletions first, then insertions, in git's order.
    let compacted = slide_groups(&mut old_side, &mut new_side)
        .and_then(|()| slide_groups(&mut new_side, &mut old_side))
        .and_then(|()| build_ops(&old_side, &new_side));
    compacted.unwrap_or(ops)
}

/// One file's lines and which of them are changed.
struct Side<'a> {
    lines: &'a [&'a str],
    changed: Vec<bool>,
}

/// A run of changed lines `start..end`; empty where the other file has the change.
#[derive(Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
}

impl<'a> Side<'a> {
    fn new(lines: &'a [&'a str]) -> Self {
        Side {
            lines,
            changed: vec![false; lines.len()],
        }
    }

    fn len(&self) -> usize {
        self.lines.len()
    }

    fn mark(&mut self, range: std::ops::Range<usize>) {
        for flag in self.changed.get_mut(range).into_iter().flatten() {
            *flag = true;
        }
    }

    /// Out of range counts as unchanged, like the sentinels around git's arrays.
    fn is_changed(&self, i: usize) -> bool {
        self.changed.get(i).copied().unwrap_or(false)
    }

    fn set(&mut self, i: usize, value: bool) {
        if let Some(flag) = self.changed.get_mut(i) {
            *flag = value;
        }
    }

    fn same(&self, a: usize, b: usize) -> bool {
        matches!((self.lines.get(a), self.lines.get(b)), (Some(x), Some(y)) if x == y)
    }

    fn first_group(&self) -> Group {
        let mut end = 0;
        while self.is_changed(end) {
            end += 1;
        }
        Group { start: 0, end }
    }

    /// Moves to the group after the next unchanged line; false at the end of the file.
    fn next(&self, g: &mut Group) -> bool {
        if g.end >= self.len() {
            return false;
        }
        g.start = g.end + 1;
        g.end = g.start;
        while self.is_changed(g.end) {
            g.end += 1;
        }
        true
    }

    /// Moves to the group before the previous unchanged line; false at the top of the file.
    fn previous(&self, g: &mut Group) -> bool {
        if g.start == 0 {
            return false;
        }
        g.end = g.start - 1;
        g.start = g.end;
        while g.start > 0 && self.is_changed(g.start - 1) {
            g.start -= 1;
        }
        true
    }

    /// Slides `g` one line down if the line after it equals its first line, absorbing a group
    /// it runs into.
    fn slide_down(&mut self, g: &mut Group) -> bool {
        if g.end >= self.len() || !self.same(g.start, g.end) {
            return false;
        }
        self.set(g.start, false);
        self.set(g.end, true);
        g.start += 1;
        g.end += 1;
        while self.is_changed(g.end) {
            g.end += 1;
        }
        true
    }

    /// Slides `g` one line up if the line before it equals its last line, absorbing a group it
    /// runs into.
    fn slide_up(&mut self, g: &mut Group) -> bool {
        if g.start == 0 || g.end == 0 || !self.same(g.start - 1, g.end - 1) {
            return false;
        }
        g.start -= 1;
        g.end -= 1;
        self.set(g.start, true);
        self.set(g.end, false);
        while g.start > 0 && self.is_changed(g.start - 1) {
            g.start -= 1;
        }
        true
    }
}

/// git's `xdl_change_compact` for the changes of `side`, keeping `other`'s groups in step.
/// `None` means the two sides went out of step, which valid ops never cause.
fn slide_groups(side: &mut Side, other: &mut Side) -> Option<()> {
    let mut g = side.first_group();
    let mut go = other.first_group();
    loop {
        if g.end != g.start {
            let (earliest_end, faces_other, size) = slide_to_bottom(side, other, &mut g, &mut go)?;
            if g.end == earliest_end {
                // It cannot move.
            } else if faces_other {
                // Line it up with the last change on the other side it can face, which turns a
                // delete and an insert into one replacement.
                while go.end == go.start {
                    step(side.slide_up(&mut g) && other.previous(&mut go))?;
                }
            } else {
                let best = best_shift(side, g, size, earliest_end);
                while g.end > best {
                    step(side.slide_up(&mut g) && other.previous(&mut go))?;
                }
            }
        }
        if !side.next(&mut g) {
            return Some(());
        }
        step(other.next(&mut go))?;
    }
}

/// Slides the group up as far as it goes, then down as far as it goes, merging groups it meets
/// until its size settles. Returns the highest end it reached, whether some position faced a
/// change on the other side, and its size.
fn slide_to_bottom(
    side: &mut Side,
    other: &mut Side,
    g: &mut Group,
    go: &mut Group,
) -> Option<(usize, bool, usize)> {
    loop {
        let size = g.end - g.start;
        let mut faces_other = false;
        while side.slide_up(g) {
            step(other.previous(go))?;
        }
        let earliest_end = g.end;
        if go.end > go.start {
            faces_other = true;
        }
        while side.slide_down(g) {
            step(other.next(go))?;
            if go.end > go.start {
                faces_other = true;
            }
        }
        if size == g.end - g.start {
            return Some((earliest_end, faces_other, size));
        }
    }
}

fn step(ok: bool) -> Option<()> {
    ok.then_some(())
}

/// The end position, at or above the current one, whose two splits score best.
fn best_shift(side: &Side, g: Group, size: usize, earliest_end: usize) -> usize {
    let lowest = earliest_end
        .max(g.end.saturating_sub(size + 1))
        .max(g.end.saturating_sub(MAX_SLIDING));
    let mut best: Option<(usize, Score)> = None;
    for shift in lowest..=g.end {
        let mut score = Score::default();
        score.add(&Split::measure(side.lines, shift));
        score.add(&Split::measure(side.lines, shift.saturating_sub(size)));
        // On a tie the later position wins, as in git.
        if best.as_ref().is_none_or(|(_, b)| score.compare(b) <= 0) {
            best = Some((shift, score));
        }
    }
    best.map_or(g.end, |(shift, _)| shift)
}

/// The surroundings of a split before line `split`; indents are -1 for blank or missing lines.
struct Split {
    end_of_file: bool,
    indent: i32,
    pre_blank: i32,
    pre_indent: i32,
    post_blank: i32,
    post_indent: i32,
}

impl Split {
    fn measure(lines: &[&str], split: usize) -> Split {
        let indent = lines.get(split).map_or(-1, |l| indent_of(l));
        let mut pre_blank = 0;
        let mut pre_indent = -1;
        for line in lines.get(..split).unwrap_or_default().iter().rev() {
            pre_indent = indent_of(line);
            if pre_indent != -1 {
                break;
            }
            pre_blank += 1;
            if pre_blank == MAX_BLANKS {
                pre_indent = 0;
                break;
            }
        }
        let mut post_blank = 0;
        let mut post_indent = -1;
        for line in lines.get(split + 1..).unwrap_or_default() {
            post_indent = indent_of(line);
            if post_indent != -1 {
                break;
            }
            post_blank += 1;
            if post_blank == MAX_BLANKS {
                post_indent = 0;
                break;
            }
        }
        Split {
            end_of_file: split >= lines.len(),
            indent,
            pre_blank,
            pre_indent,
            post_blank,
            post_indent,
        }
    }
}

/// Badness of a placement: lower is better.
#[derive(Default)]
struct Score {
    effective_indent: i32,
    penalty: i32,
}

impl Score {
    fn add(&mut self, m: &Split) {
        if m.pre_indent == -1 && m.pre_blank == 0 {
            self.penalty += START_OF_FILE_PENALTY;
        }
        if m.end_of_file {
            self.penalty += END_OF_FILE_PENALTY;
        }
        let post_blank = if m.indent == -1 { 1 + m.post_blank } else { 0 };
        let total_blank = m.pre_blank + post_blank;
        self.penalty += TOTAL_BLANK_WEIGHT * total_blank;
        self.penalty += POST_BLANK_WEIGHT * post_blank;

        let indent = if m.indent != -1 {
            m.indent
        } else {
            m.post_indent
        };
        let any_blanks = total_blank != 0;
        self.effective_indent += indent;

        if indent == -1 || m.pre_indent == -1 || indent == m.pre_indent {
            // Nothing to compare with, or level with what comes before.
        } else if indent > m.pre_indent {
            self.penalty += if any_blanks {
                RELATIVE_INDENT_WITH_BLANK_PENALTY
            } else {
                RELATIVE_INDENT_PENALTY
            };
        } else if m.post_indent != -1 && m.post_indent > indent {
            self.penalty += if any_blanks {
                RELATIVE_OUTDENT_WITH_BLANK_PENALTY
            } else {
                RELATIVE_OUTDENT_PENALTY
            };
        } else {
            self.penalty += if any_blanks {
                RELATIVE_DEDENT_WITH_BLANK_PENALTY
            } else {
                RELATIVE_DEDENT_PENALTY
            };
        }
    }

    fn compare(&self, other: &Score) -> i32 {
        let indents = self.effective_indent.cmp(&other.effective_indent) as i32;
        INDENT_WEIGHT * indents + (self.penalty - other.penalty)
    }
}

/// Columns of leading whitespace (tabs to multiples of 8), capped; -1 for a blank line.
fn indent_of(line: &str) -> i32 {
    let mut columns = 0;
    for b in line.bytes() {
        match b {
            b' ' => columns += 1,
            b'\t' => columns += 8 - columns % 8,
            b'\n' | b'\r' | b'\x0b' | b'\x0c' => {}
            _ => return columns,
        }
        if columns >= MAX_INDENT {
            return MAX_INDENT;
        }
    }
    -1
}

/// Turns the changed flags back into ops: unchanged lines pair up in order, and the changed
/// runs between them become deletes, inserts or replacements.
fn build_ops(old: &Side, new: &Side) -> Option<Vec<DiffOp>> {
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let (i0, j0) = (i, j);
        while i < old.len() && old.is_changed(i) {
            i += 1;
        }
        while j < new.len() && new.is_changed(j) {
            j += 1;
        }
        match (i - i0, j - j0) {
            (0, 0) => {}
            (old_len, 0) => ops.push(DiffOp::Delete {
                old_index: i0,
                old_len,
                new_index: j0,
            }),
            (0, new_len) => ops.push(DiffOp::Insert {
                old_index: i0,
                new_index: j0,
                new_len,
            }),
            (old_len, new_len) => {
                ops.push(DiffOp::Replace {
                    old_index: i0,
                    old_len,
                    new_index: j0,
                    new_len,
                });
            }
        }
        let (e0, f0) = (i, j);
        while i < old.len() && j < new.len() && !old.is_changed(i) && !new.is_changed(j) {
            i += 1;
            j += 1;
        }
        if i > e0 {
            ops.push(DiffOp::Equal {
                old_index: e0,
                new_index: f0,
                len: i - e0,
            });
        } else if i0 == i && j0 == j {
            // Unchanged lines left on one side only: the flags do not describe a diff.
            return None;
        }
    }
    Some(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indent_counts_columns_and_blank_lines_have_none() {
        assert_eq!(indent_of("    x: 1\n"), 4);
        assert_eq!(indent_of("\t x\n"), 9);
        assert_eq!(indent_of("x\n"), 0);
        assert_eq!(indent_of("   \r\n"), -1);
        assert_eq!(indent_of(&format!("{}x", " ".repeat(300))), MAX_INDENT);
    }

    #[test]
    fn a_block_is_moved_to_its_blank_line_boundary() {
        let old = ["a\n", "\n", "b\n"];
        let new = ["a\n", "\n", "x\n", "\n", "b\n"];
        // Either placement is minimal; git prefers the one after the blank line.
        let ops = vec![
            DiffOp::Equal {
                old_index: 0,
                new_index: 0,
                len: 1,
            },
            DiffOp::Insert {
                old_index: 1,
                new_index: 1,
                new_len: 2,
            },
            DiffOp::Equal {
                old_index: 1,
                new_index: 3,
                len: 2,
            },
        ];
        let compacted = compact(&old, &new, ops);
        assert_eq!(
            compacted,
            [
                DiffOp::Equal {
                    old_index: 0,
                    new_index: 0,
                    len: 2
                },
                DiffOp::Insert {
                    old_index: 2,
                    new_index: 2,
                    new_len: 2
                },
                DiffOp::Equal {
                    old_index: 2,
                    new_index: 4,
                    len: 1
                },
            ]
        );
    }

    #[test]
    fn ops_that_do_not_fit_the_lines_are_returned_as_they_are() {
        let ops = vec![DiffOp::Equal {
            old_index: 0,
            new_index: 0,
            len: 1,
        }];
        assert_eq!(compact(&["a\n", "b\n"], &["a\n"], ops.clone()), ops);
    }
}
