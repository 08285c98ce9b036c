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
//! Everything outside the block is kept byte for byte, including whether the file ends
//! with a line break: a block appended to a file without one carries the break before it
//! and no final one, so removing it gives back the original bytes.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// Host name → address, as a build's activation document carries them.
pub type Entries = BTreeMap<String, IpAddr>;

const BEGIN: &str = "# BEGIN obsbuild ";
const END: &str = "# END obsbuild ";

/// The entries a build carries, from its activation document alone (no script is read).
pub fn of_build(build: &crate::render::Build) -> Result<Entries, String> {
    super::load(build, std::path::Path::new(super::CONFIGS)).map(|a| a.hosts)
}

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
    if entries.is_empty() {
        return String::new();
    }
    let mut by_address: BTreeMap<IpAddr, Vec<&str>> = BTreeMap::new();
    for (name, ip) in entries {
        by_address.entry(*ip).or_default().push(name);
    }
    let mut out = begin_line(stack);
    out.push('\n');
    for (ip, names) in by_address {
        out.push_str(&format!("{ip}\t{}\n", names.join(" ")));
    }
    out.push_str(&end_line(stack));
    out.push('\n');
    out
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

/// The marker on a line, and the stack it names (up to `:` or a blank).
fn marker(line: &str) -> Option<Marker<'_>> {
    let line = line.trim_end();
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
    let new_block = block(stack, entries);
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
        _ => return Ok(append(text, &new_block)),
    };
    let mut prefix: String = lines[..b].concat();
    let suffix: String = lines[e + 1..].concat();
    // No line break after END: the block is the file's last line and the file had none.
    let last_without_break = !lines[e].ends_with('\n');
    if new_block.is_empty() {
        if last_without_break {
            // The break before the block came with it (see `append`).
            prefix.pop();
        }
        return Ok(format!("{prefix}{suffix}"));
    }
    let mut replaced = new_block;
    if last_without_break {
        replaced.pop();
    }
    Ok(format!("{prefix}{replaced}{suffix}"))
}

/// `block` added at the end of `text`. A file without a final line break gets one before
/// the block and none after it, so that it still ends the way it did.
fn append(text: &str, block: &str) -> String {
    if block.is_empty() {
        return text.to_owned();
    }
    if text.is_empty() || text.ends_with('\n') {
        return format!("{text}{block}");
    }
    format!("{text}\n{}", block.trim_end_matches('\n'))
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

    #[test]
    fn keeps_a_missing_final_line_break() {
        let e = entries(&[("s.grafana", "127.0.1.1")]);
        let out = edit("a", "s", &e).unwrap();
        assert_eq!(out, format!("a\n{}", block("s", &e).trim_end()));
        let changed = entries(&[("s.grafana", "127.0.1.9")]);
        let again = edit(&out, "s", &changed).unwrap();
        assert!(
            !again.ends_with('\n') && again.contains("127.0.1.9"),
            "{again:?}"
        );
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
            let changed = edit(&three, "a", &loki).unwrap();
            assert_eq!(
                changed,
                three.replacen(&block("a", &a), &block("a", &loki), 1)
            );
            let gone = edit(&three, "a", &Entries::new()).unwrap();
            assert_eq!(gone, three.replacen(&block("a", &a), "", 1));
            let gone = edit(&gone, "ab", &Entries::new()).unwrap();
            assert_eq!(edit(&gone, "b", &Entries::new()).unwrap(), original);
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
