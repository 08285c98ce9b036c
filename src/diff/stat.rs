//! The summary rendering, laid out as `git diff --stat --compact-summary` lays it out on an
//! 80-column terminal: same widths, same bar scaling, same "..." for long paths, same
//! singular and plural in the totals line.
//!
//! Pure: formats counts already computed by [`super::diff`].

use std::fmt::Write;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::quote::quote;
use super::style::Role;
use super::{Diff, FileDiff, Status, Style};

/// Total width the lines are laid out for, git's choice when it is not writing to a terminal.
const WIDTH: usize = 80;

/// Renders the stat of `diff`; empty when nothing differs.
pub(super) fn render(diff: &Diff, style: Style) -> String {
    if diff.is_empty() {
        return String::new();
    }
    let names: Vec<String> = diff.files.iter().map(display_name).collect();
    let layout = Layout::new(diff, &names);

    let mut out = String::new();
    for (file, name) in diff.files.iter().zip(&names) {
        write_line(&mut out, &layout, file, name, style);
    }
    summary(&mut out, diff);
    out
}

/// The path as it appears in the stat, with git's compact-summary marks for whole-file changes.
fn display_name(file: &FileDiff) -> String {
    let name = quote(&file.path);
    match file.status {
        Status::Added => format!("{name} (new)"),
        Status::Removed => format!("{name} (gone)"),
        Status::Changed => name,
    }
}

/// Column widths shared by every line, and the scale of the bars.
struct Layout {
    name_width: usize,
    number_width: usize,
    graph_width: usize,
    /// The largest count of changed lines in one text file; bars are drawn relative to it.
    max_change: usize,
}

impl Layout {
    /// git's `show_stats` sizing: names and bars get what they want, and when that does not fit
    /// the bars shrink to 3/8 of the width at most and the names to the rest.
    fn new(diff: &Diff, names: &[String]) -> Layout {
        let max_len = names.iter().map(|n| n.width()).max().unwrap_or(0);
        let mut max_change = 0;
        let mut bin_width = 0;
        let mut number_width = 0;
        for file in &diff.files {
            if file.is_binary() {
                // "Bin XXX -> YYY bytes", with the counts column as wide as "Bin".
                let w = 14 + decimal_width(file.old_size()) + decimal_width(file.new_size());
                bin_width = bin_width.max(w);
                number_width = 3;
            } else {
                max_change = max_change.max(file.insertions + file.deletions);
            }
        }
        let number_width = number_width.max(decimal_width(max_change));
        // Room for at least a 10-column name and a 6-column bar, whatever the counts.
        let width = WIDTH.max(16 + 6 + number_width);

        let mut graph_width = if max_change + 4 > bin_width {
            max_change
        } else {
            bin_width - 4
        };
        let mut name_width = max_len;
        // The columns around the name and the bar: " ", " | ", the count and " ".
        let fixed = number_width + 6;
        if name_width + fixed + graph_width > width {
            // git computes the 3/8 share signed; a negative share also means the minimum bar.
            match (width * 3 / 8).checked_sub(fixed) {
                Some(share) if graph_width <= share => {}
                Some(share) => graph_width = share.max(6),
                None => graph_width = 6,
            }
            // Never below 10: width is at least 22 + number_width and the bar at most 3/8 of it.
            let name_room = width.saturating_sub(fixed + graph_width);
            if name_width > name_room {
                name_width = name_room;
            } else {
                // Short names leave the bar everything else.
                graph_width = width.saturating_sub(fixed + name_width);
            }
        }
        Layout {
            name_width,
            number_width,
            graph_width,
            max_change,
        }
    }

    /// Bar lengths for one file. Every change gets at least one character, and a file with
    /// both insertions and deletions shows both.
    fn bars(&self, insertions: usize, deletions: usize) -> (usize, usize) {
        if self.graph_width > self.max_change {
            return (insertions, deletions);
        }
        let scale = |n: usize| {
            if n == 0 {
                0
            } else {
                1 + n * self.graph_width.saturating_sub(1) / self.max_change
            }
        };
        let mut total = scale(insertions + deletions);
        if total < 2 && insertions > 0 && deletions > 0 {
            total = 2;
        }
        if insertions < deletions {
            let add = scale(insertions);
            (add, total.saturating_sub(add))
        } else {
            let del = scale(deletions);
            (total.saturating_sub(del), del)
        }
    }
}

fn write_line(out: &mut String, layout: &Layout, file: &FileDiff, name: &str, style: Style) {
    let (prefix, name, padding) = fit_name(name, layout.name_width);
    let _ = write!(out, " {prefix}{name}{:padding$} | ", "");
    let nw = layout.number_width;
    if file.is_binary() {
        let _ = write!(out, "{:>nw$} ", "Bin");
        style.paint(out, Role::Deletion, &file.old_size().to_string());
        out.push_str(" -> ");
        style.paint(out, Role::Insertion, &file.new_size().to_string());
        out.push_str(" bytes\n");
        return;
    }
    let changes = file.insertions + file.deletions;
    let _ = write!(out, "{changes:>nw$}");
    if changes > 0 {
        out.push(' ');
    }
    let (plus, minus) = layout.bars(file.insertions, file.deletions);
    if plus > 0 {
        style.paint(out, Role::Insertion, &"+".repeat(plus));
    }
    if minus > 0 {
        style.paint(out, Role::Deletion, &"-".repeat(minus));
    }
    out.push('\n');
}

/// Shortens a name that does not fit to `...` and its tail, starting at a `/` when there is
/// one so the reader sees whole directory names. Returns the prefix, the name and the padding.
fn fit_name(name: &str, width: usize) -> (&'static str, &str, usize) {
    let name_len = name.width();
    if name_len <= width {
        return ("", name, width - name_len);
    }
    let room = width.saturating_sub(3);
    let mut rest = name;
    let mut rest_len = name_len;
    let mut chars = name.char_indices();
    while rest_len > room {
        let Some((_, c)) = chars.next() else { break };
        rest_len -= c.width().unwrap_or(0).min(rest_len);
        rest = chars.as_str();
    }
    if let Some(slash) = rest.find('/') {
        rest = &rest[slash..];
    }
    ("...", rest, room.saturating_sub(rest.width()))
}

/// " N files changed, X insertions(+), Y deletions(-)", leaving out a zero count unless both
/// are zero, as git does.
fn summary(out: &mut String, diff: &Diff) {
    let files = diff.files.len();
    let (insertions, deletions) = (diff.insertions(), diff.deletions());
    let _ = write!(out, " {files} {} changed", plural(files, "file", "files"));
    if insertions > 0 || deletions == 0 {
        let _ = write!(
            out,
            ", {insertions} {}(+)",
            plural(insertions, "insertion", "insertions")
        );
    }
    if deletions > 0 || insertions == 0 {
        let _ = write!(
            out,
            ", {deletions} {}(-)",
            plural(deletions, "deletion", "deletions")
        );
    }
    out.push('\n');
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

fn decimal_width(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |digits| digits as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_width_counts_digits() {
        assert_eq!(decimal_width(0), 1);
        assert_eq!(decimal_width(9), 1);
        assert_eq!(decimal_width(10), 2);
        assert_eq!(decimal_width(12345), 5);
    }

    #[test]
    fn long_names_keep_their_tail_from_a_slash() {
        assert_eq!(
            fit_name("configs/loki.yaml", 20),
            ("", "configs/loki.yaml", 3)
        );
        // 46 columns into 30: keep the last 27, then start at the next slash.
        assert_eq!(
            fit_name("configs/grafana/provisioning/dashboards/x.json", 30),
            ("...", "/dashboards/x.json", 9)
        );
    }
}
