//! A stack's block in a hosts file: what it holds, and the edit that puts it in, replaces
//! it or takes it out. Pure: text in, text out; `store` reads and writes the file.
//!
//! ```text
//! # BEGIN obsbuild scaibu: managed by obsbuild; edit the stack instead
//! 127.0.1.1   scaibu.alertmanager scaibu.grafana scaibu.prometheus
//! # END obsbuild scaibu
//! ```
//!
//! (with a tab after the address, as in most hosts files).
//!
//! Everything outside the block is kept byte for byte. The block always ends with a line
//! break, and uses the file's own (`\r\n` when its first line ends so). A file whose last
//! line has no break gets one before the block, and its `BEGIN` line says so (see
//! [`ADDED_BREAK`]): removing the block takes that break out again, giving back the
//! original bytes. Marker lines are recognised with surrounding blanks, so an indented
//! block is replaced where it is, never added a second time.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// Host name → address, as a build's deployment document carries them.
pub type Entries = BTreeMap<String, IpAddr>;

const BEGIN: &str = "# BEGIN obsbuild ";
const END: &str = "# END obsbuild ";

/// The entries a build carries, from its deployment document alone (no script is read).
pub fn of_build(build: &crate::build::Build) -> Result<Entries, String> {
    crate::deployment::Deployment::from_files(&build.stack, &build.files).map(|d| d.hosts).map_err(|e| e.to_string())
}

/// Said after the `BEGIN` line when the file's last line had no line break and obsbuild
/// added one to put the block after it; removing the block removes that break too.
pub const ADDED_BREAK: &str = " (obsbuild added the line break above)";

/// The first line of `stack`'s block.
pub fn begin_line(stack: &str) -> String {
    format!("{BEGIN}{stack}: managed by obsbuild; edit the stack instead")
}

/// The last line of `stack`'s block.
pub fn end_line(stack: &str) -> String {
    format!("{END}{stack}")
}

/// The block for `entries`, ending with a line break; empty when there are none. One line
/// per address (sorted), with its names (sorted).
pub fn block(stack: &str, entries: &Entries) -> String {
    lines_of(stack, entries, "\n", false)
}

/// [`block`] with `eol` ending each line, and [`ADDED_BREAK`] on its first when `added`.
fn lines_of(stack: &str, entries: &Entries, eol: &str, added: bool) -> String {
    if entries.is_empty() {
        return String::new();
    }
    let mut by_address: BTreeMap<IpAddr, Vec<&str>> = BTreeMap::new();
    for (name, ip) in entries {
        by_address.entry(*ip).or_default().push(name);
    }
    let mut out = begin_line(stack);
    if added {
        out.push_str(ADDED_BREAK);
    }
    out.push_str(eol);
    for (ip, names) in by_address {
        out.push_str(&format!("{ip}\t{}{eol}", names.join(" ")));
    }
    out.push_str(&end_line(stack));
    out.push_str(eol);
    out
}

/// The line break `text` uses: `\r\n` when its first line ends with one, else `\n`.
fn line_break(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// A hosts file whose markers do not make one block: the 1-based line and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for BlockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

enum Marker<'a> {
    Begin(&'a str),
    End(&'a str),
}

/// The marker on a line, and the stack it names (up to `:` or a blank). Blanks around the
/// line do not matter (an editor indented it, or left a `\r`): such a line is still the
/// marker, or the block would be added a second time.
fn marker(line: &str) -> Option<Marker<'_>> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix(BEGIN) {
        return Some(Marker::Begin(first_word(rest)));
    }
    line.strip_prefix(END)
        .map(|rest| Marker::End(first_word(rest)))
}

fn first_word(text: &str) -> &str {
    text.split([':', ' ', '\t']).next().unwrap_or("")
}

/// `text` with `stack`'s block holding `entries`: replaced where it is, appended at the
/// end when there is none, removed when `entries` is empty. Markers that do not make one
/// whole block of `stack` are an error, never a guess.
pub fn edit(text: &str, stack: &str, entries: &Entries) -> Result<String, BlockError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (mut begin, mut end) = (None::<usize>, None::<usize>);
    let fix = format!(
        "fix or delete the block by hand (its lines from `{BEGIN}{stack}` to `{END}{stack}`), then run again"
    );
    let error = |i: usize, message: String| BlockError {
        line: i + 1,
        message,
    };
    for (i, line) in lines.iter().enumerate() {
        let inside = begin.is_some() && end.is_none();
        match marker(line) {
            Some(Marker::Begin(s)) if s == stack => match begin {
                Some(b) => {
                    return Err(error(
                        i,
                        format!(
                            "a second `{BEGIN}{stack}` (the first is on line {}); {fix}",
                            b + 1
                        ),
                    ));
                }
                None => begin = Some(i),
            },
            Some(Marker::End(s)) if s == stack => match (begin, end) {
                (None, _) => {
                    return Err(error(
                        i,
                        format!("`{END}{stack}` without a `{BEGIN}{stack}` before it; {fix}"),
                    ));
                }
                (_, Some(e)) => {
                    return Err(error(
                        i,
                        format!(
                            "a second `{END}{stack}` (the first is on line {}); {fix}",
                            e + 1
                        ),
                    ));
                }
                _ => end = Some(i),
            },
            Some(Marker::Begin(other) | Marker::End(other)) if inside => {
                let b = begin.unwrap_or(i);
                return Err(error(
                    i,
                    format!(
                        "a marker of `{other}` inside the block of `{stack}` that starts on line {}; {fix}",
                        b + 1
                    ),
                ));
            }
            _ => {}
        }
    }
    let (b, e) = match (begin, end) {
        (Some(b), Some(e)) => (b, e),
        (Some(b), None) => {
            return Err(error(
                b,
                format!(
                    "`{BEGIN}{stack}` has no `{END}{stack}` after it; add that line where the block ends, or delete the block's lines, then run again"
                ),
            ));
        }
        _ => return Ok(append(text, stack, entries)),
    };
    let eol = line_break(text);
    let mut prefix: String = lines[..b].concat();
    let suffix: String = lines[e + 1..].concat();
    // Whether the break before the block is obsbuild's: its BEGIN line says so, or END ends
    // the file without a break (how obsbuild wrote such a block before it said so).
    let noted = lines[b].trim().ends_with(ADDED_BREAK);
    let unended = !lines[e].ends_with('\n');
    let new_block = lines_of(stack, entries, eol, noted || unended);
    // Only where nothing follows the block: a line after it needs the break.
    if new_block.is_empty() && (noted || unended) && suffix.is_empty() {
        // The break `append` added (the file's own); obsbuild added `\n` before the note.
        let added = if noted { eol } else { "\n" };
        if let Some(p) = prefix.strip_suffix(added).or_else(|| prefix.strip_suffix('\n')) {
            prefix.truncate(p.len());
        }
    }
    Ok(format!("{prefix}{new_block}{suffix}"))
}

/// `stack`'s block added at the end of `text`. A last line without a line break gets one
/// first, which the block's BEGIN line records (see [`ADDED_BREAK`]).
fn append(text: &str, stack: &str, entries: &Entries) -> String {
    if entries.is_empty() {
        return text.to_owned();
    }
    if text.is_empty() || text.ends_with('\n') {
        return format!("{text}{}", lines_of(stack, entries, line_break(text), false));
    }
    // The break the file is read to use once it has one (a file whose only line ends in a
    // lone `\r` then reads as `\r\n`): removing the block takes out exactly this one.
    let eol = line_break(&format!("{text}\n"));
    format!("{text}{eol}{}", lines_of(stack, entries, eol, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[(&str, &str)]) -> Entries {
        list.iter()
            .map(|(n, a)| ((*n).to_owned(), a.parse().unwrap()))
            .collect()
    }

    const BASE: &str = "127.0.0.1\tlocalhost\n# my own\n10.0.0.5 nas\n";

    #[test]
    fn block_sorts_addresses_and_names() {
        let e = entries(&[
            ("s.prometheus", "127.0.1.1"),
            ("s.grafana", "127.0.1.1"),
            ("s.db", "10.0.0.2"),
            ("s.v6", "::1"),
        ]);
        assert_eq!(
            block("s", &e),
            "# BEGIN obsbuild s: managed by obsbuild; edit the stack instead\n10.0.0.2\ts.db\n127.0.1.1\ts.grafana s.prometheus\n::1\ts.v6\n# END obsbuild s\n"
        );
        assert_eq!(block("s", &Entries::new()), "");
    }

    #[test]
    fn inserts_at_the_end() {
        let e = entries(&[("s.grafana", "127.0.1.1")]);
        let out = edit(BASE, "s", &e).unwrap();
        assert_eq!(out, format!("{BASE}{}", block("s", &e)));
        assert_eq!(edit("", "s", &e).unwrap(), block("s", &e));
    }

    #[test]
    fn replaces_in_place_and_is_idempotent() {
        let old = entries(&[("s.grafana", "127.0.1.1")]);
        let new = entries(&[("s.grafana", "127.0.1.2"), ("s.loki", "127.0.1.2")]);
        let text = format!("a\n{}b\n", block("s", &old));
        let out = edit(&text, "s", &new).unwrap();
        assert_eq!(out, format!("a\n{}b\n", block("s", &new)));
        assert_eq!(edit(&out, "s", &new).unwrap(), out);
    }

    #[test]
    fn removes_and_gives_back_the_original() {
        let e = entries(&[("s.grafana", "127.0.1.1")]);
        for original in [BASE, "", "a", "a\n", "a\n\n", "x\ny"] {
            let with = edit(original, "s", &e).unwrap();
            assert_eq!(
                edit(&with, "s", &e).unwrap(),
                with,
                "idempotent on {original:?}"
            );
            assert_eq!(
                edit(&with, "s", &Entries::new()).unwrap(),
                original,
                "removal from {with:?}"
            );
        }
        // Nothing to remove: unchanged.
        assert_eq!(edit(BASE, "s", &Entries::new()).unwrap(), BASE);
    }

    /// `block` as `append` writes it after a last line that had no line break.
    fn noted(stack: &str, e: &Entries) -> String {
        block(stack, e).replacen('\n', &format!("{ADDED_BREAK}\n"), 1)
    }

    #[test]
    fn a_missing_final_line_break_is_added_and_taken_out_with_the_block() {
        let e = entries(&[("s.grafana", "127.0.1.1")]);
        let out = edit("a", "s", &e).unwrap();
        assert_eq!(out, format!("a\n{}", noted("s", &e)));
        assert!(out.ends_with("# END obsbuild s\n"), "{out:?}");
        assert_eq!(edit(&out, "s", &e).unwrap(), out, "idempotent");
        let changed = entries(&[("s.grafana", "127.0.1.9")]);
        let again = edit(&out, "s", &changed).unwrap();
        assert_eq!(again, format!("a\n{}", noted("s", &changed)));
        assert_eq!(edit(&again, "s", &Entries::new()).unwrap(), "a");
        // A line added after the block keeps the break it needs.
        let more = format!("{again}b\n");
        assert_eq!(edit(&more, "s", &Entries::new()).unwrap(), "a\nb\n");
    }

    #[test]
    fn a_block_obsbuild_wrote_without_a_final_break_still_gives_the_bytes_back() {
        // How obsbuild appended to such a file before the note: no break after END.
        let e = entries(&[("s.grafana", "127.0.1.1")]);
        let old = format!("a\n{}", block("s", &e).trim_end());
        assert_eq!(edit(&old, "s", &Entries::new()).unwrap(), "a");
        assert_eq!(edit(&old, "s", &e).unwrap(), format!("a\n{}", noted("s", &e)));
    }

    #[test]
    fn crlf_files_get_a_crlf_block() {
        let e = entries(&[("s.grafana", "127.0.1.1"), ("s.v6", "::1")]);
        let crlf = |t: &str| t.replace('\n', "\r\n");
        let base = crlf(BASE);
        let with = edit(&base, "s", &e).unwrap();
        assert_eq!(with, format!("{base}{}", crlf(&block("s", &e))));
        assert_eq!(edit(&with, "s", &e).unwrap(), with, "idempotent");
        assert_eq!(edit(&with, "s", &Entries::new()).unwrap(), base);
        assert_eq!(edit("x\r\ny", "s", &e).unwrap(), format!("x\r\ny\r\n{}", crlf(&noted("s", &e))));
        // A lone `\r` ending the last line is kept as it is.
        for original in ["x\r\ny", "a\r", "x\ny\r", "\r", "x\r\n"] {
            let with = edit(original, "s", &e).unwrap();
            assert!(with.starts_with(original), "{with:?}");
            assert_eq!(edit(&with, "s", &e).unwrap(), with, "idempotent on {original:?}");
            assert_eq!(edit(&with, "s", &Entries::new()).unwrap(), original, "removal from {with:?}");
        }
    }

    #[test]
    fn markers_with_blanks_around_them_are_the_block() {
        let new = entries(&[("s.loki", "127.0.1.2")]);
        let indented = format!("a\n  \t{}  \n127.0.1.1 s.grafana\n\t{} \t\nb\n", begin_line("s"), end_line("s"));
        let out = edit(&indented, "s", &new).unwrap();
        assert_eq!(out, format!("a\n{}b\n", block("s", &new)), "replaced in place, not added again");
        assert_eq!(edit(&indented, "s", &Entries::new()).unwrap(), "a\nb\n");
        // A BEGIN without its END is still an error that names its line.
        let unended = format!("a\n   {} \n127.0.1.1 s.grafana\n", begin_line("s"));
        let err = edit(&unended, "s", &new).unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.message.contains("has no `# END obsbuild s` after it"), "{err}");
    }

    #[test]
    fn other_blocks_are_untouched() {
        let a = entries(&[("a.grafana", "127.0.1.1")]);
        let b = entries(&[("b.grafana", "127.0.1.2")]);
        let ab = entries(&[("ab.x", "127.0.1.3")]);
        for original in [BASE, "no-newline"] {
            let one = edit(original, "a", &a).unwrap();
            let two = edit(&one, "b", &b).unwrap();
            // `a` is a prefix of `ab`: their markers must not be confused.
            let three = edit(&two, "ab", &ab).unwrap();
            // Adding blocks after `a` leaves everything up to its end as it was.
            assert!(three.starts_with(&one), "{three:?}");
            // Change and remove `a` in the middle: only its lines change.
            let loki = entries(&[("a.loki", "127.0.1.1")]);
            // After a last line without a break, `a`'s BEGIN line says it added one.
            let first = |e: &Entries| if original.ends_with('\n') { block("a", e) } else { noted("a", e) };
            let changed = edit(&three, "a", &loki).unwrap();
            assert_eq!(changed, three.replacen(&first(&a), &first(&loki), 1));
            let gone = edit(&three, "a", &Entries::new()).unwrap();
            assert_eq!(gone, three.replacen(&first(&a), "", 1));
            let gone = edit(&gone, "ab", &Entries::new()).unwrap();
            // `a` went while blocks followed it, which needed its break: the break stays.
            let end = if original.ends_with('\n') { original.to_owned() } else { format!("{original}\n") };
            assert_eq!(edit(&gone, "b", &Entries::new()).unwrap(), end);
            // Taken out last to first, the blocks give back the original bytes.
            let gone = edit(&three, "ab", &Entries::new()).unwrap();
            let gone = edit(&gone, "b", &Entries::new()).unwrap();
            assert_eq!(edit(&gone, "a", &Entries::new()).unwrap(), original);
        }
    }

    #[test]
    fn broken_markers_are_errors() {
        let e = entries(&[("s.grafana", "127.0.1.1")]);
        let begin = begin_line("s");
        let end = end_line("s");
        let missing_end = format!("a\n{begin}\n127.0.1.1 s.grafana\n");
        let err = edit(&missing_end, "s", &e).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.message.contains("has no `# END obsbuild s` after it"),
            "{err}"
        );
        assert!(
            edit(&missing_end, "s", &Entries::new()).is_err(),
            "removal must not guess either"
        );

        let lone_end = format!("a\n{end}\n");
        assert!(
            edit(&lone_end, "s", &e)
                .unwrap_err()
                .message
                .contains("without a")
        );
        let twice = format!("{begin}\n{end}\n{begin}\n{end}\n");
        assert_eq!(edit(&twice, "s", &e).unwrap_err().line, 3);
        let nested = format!("{begin}\n{}\n{end}\n", begin_line("t"));
        assert!(
            edit(&nested, "s", &e)
                .unwrap_err()
                .message
                .contains("marker of `t` inside")
        );
        // Another stack's broken block is not ours to judge.
        let others = format!("{}\n1.2.3.4 t\n", begin_line("t"));
        assert!(edit(&others, "s", &e).is_ok());
    }
}
