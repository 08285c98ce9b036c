//! The marker `DIR/.obsbuild-export`: the files an export wrote into its folder, so the
//! next export removes those the build no longer has, and nothing else.
//!
//! The marker is read from folders other people commit, so it is parsed strictly and a
//! marker that does not parse is an error naming the line, never a list of things to
//! delete. The format is the one export has always written:
//!
//! ```text
//! # Files written by `obsbuild export` of stack `task-manager`; do not edit.
//! README.md
//! configs/loki.yaml
//! ```
//!
//! A header line, then one path per line, each ending in a newline, in any order. Before an
//! export changes any file it writes a second kind of marker, whose header reads
//! ``# Files an unfinished `obsbuild export` of stack `NAME` may have written; do not
//! edit.``, listing the earlier marker's files and the new build's: if it is killed, the
//! next export still knows every file it may have to remove. Paths follow the rule of a
//! build's file paths (`store::hash::file_path_problem`), have no control characters, and
//! never name the marker, export's temporaries or `.obsbuild/` (activation data export
//! never writes). A file and a
//! file under it may both be listed: an unfinished marker can hold an old file `a` and a
//! new `a/b`.
//!
//! Pure: reading and writing the file is the caller's.

use std::collections::BTreeSet;

use crate::store::hash;

/// The marker's file name inside an export folder.
pub const MARKER: &str = ".obsbuild-export";

/// Where a file being written waits, in the folder of its target, until it is renamed over
/// it: `.obsbuild-export-tmp-<pid>-<n>`.
pub const TMP_PREFIX: &str = ".obsbuild-export-tmp-";

/// A marker is one line per file; a build has tens. This bounds what a planted one costs.
pub const MAX_BYTES: u64 = 1 << 20;

const FINISHED: (&str, &str) = ("# Files written by `obsbuild export` of stack `", "`; do not edit.");
const UNFINISHED: (&str, &str) =
    ("# Files an unfinished `obsbuild export` of stack `", "` may have written; do not edit.");

/// What a marker says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    /// The stack the export was of.
    pub stack: String,
    /// False for the marker written before an export changes anything.
    pub finished: bool,
    /// Paths relative to the folder.
    pub files: BTreeSet<String>,
}

/// What is wrong with a path as a file export writes, if anything.
pub fn path_problem(path: &str) -> Option<&'static str> {
    if let Some(why) = hash::file_path_problem(path) {
        return Some(why);
    }
    // A newline would split one path into two lines of the marker.
    if path.chars().any(char::is_control) {
        return Some("contains a control character (a newline, a carriage return, ...)");
    }
    if path == MARKER {
        return Some("is the marker itself");
    }
    if path == ".obsbuild" || path.starts_with(".obsbuild/") {
        return Some("is activation data under `.obsbuild/`, which export never writes");
    }
    if path.split('/').any(|part| part.starts_with(TMP_PREFIX)) {
        return Some("has the name of an export's temporary file");
    }
    None
}

impl Marker {
    /// The marker's bytes.
    pub fn to_text(&self) -> String {
        let (head, tail) = if self.finished { FINISHED } else { UNFINISHED };
        let mut text = format!("{head}{}{tail}\n", self.stack);
        for path in &self.files {
            text.push_str(path);
            text.push('\n');
        }
        text
    }

    /// Reads a marker's bytes; the error is the 1-based line and what is wrong with it.
    pub fn parse(bytes: &[u8]) -> Result<Marker, (usize, String)> {
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let line = 1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count();
                return Err((line, "is not UTF-8 text".to_owned()));
            }
        };
        let mut lines = text.split_inclusive('\n').enumerate().map(|(i, l)| (i + 1, l));
        let Some((_, first)) = lines.next() else {
            return Err((1, "is missing: the marker is empty".to_owned()));
        };
        let header = complete(1, first)?;
        let (stack, finished) = parse_header(header).ok_or_else(|| {
            let expected = format!("{}NAME{}", FINISHED.0, FINISHED.1);
            (1, format!("`{}` is not the header export writes (`{expected}`)", header.escape_debug()))
        })?;
        let mut files = BTreeSet::new();
        for (n, line) in lines {
            let path = complete(n, line)?;
            if path.starts_with('#') {
                return Err((n, format!("`{}` is a comment, but only the first line is one", path.escape_debug())));
            }
            if let Some(why) = path_problem(path) {
                return Err((n, format!("`{}` {why}; export never wrote such a file", path.escape_debug())));
            }
            files.insert(path.to_owned());
        }
        Ok(Marker { stack: stack.to_owned(), finished, files })
    }
}

/// A line without its newline; a last line without one means the file was cut short.
fn complete(n: usize, line: &str) -> Result<&str, (usize, String)> {
    line.strip_suffix('\n').ok_or_else(|| (n, "does not end with a newline: the marker is cut short".to_owned()))
}

fn parse_header(line: &str) -> Option<(&str, bool)> {
    [(FINISHED, true), (UNFINISHED, false)].into_iter().find_map(|((head, tail), finished)| {
        let stack = line.strip_prefix(head)?.strip_suffix(tail)?;
        hash::check_name("stack name", stack).is_ok().then_some((stack, finished))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(stack: &str, finished: bool, files: &[&str]) -> Marker {
        Marker { stack: stack.into(), finished, files: files.iter().map(|f| f.to_string()).collect() }
    }

    #[test]
    fn the_committed_marker_reads_and_writes_back_byte_for_byte() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deployment/observability/.obsbuild-export");
        let bytes = std::fs::read(path).unwrap();
        let m = Marker::parse(&bytes).unwrap();
        assert_eq!((m.stack.as_str(), m.finished), ("task-manager", true));
        assert!(m.files.contains("configs/loki.yaml"), "{m:?}");
        assert_eq!(m.to_text().as_bytes(), bytes);
    }

    #[test]
    fn both_headers_round_trip() {
        for m in [marker("scaibu", true, &["a", "b/c"]), marker("s", false, &["a", "a/b"]), marker("e", true, &[])] {
            assert_eq!(Marker::parse(m.to_text().as_bytes()), Ok(m));
        }
    }

    #[test]
    fn a_bad_line_is_an_error_with_its_number() {
        let head = "# Files written by `obsbuild export` of stack `s`; do not edit.\n";
        let bad = [
            "/abs/path",
            "../outside",
            "a/../../b",
            "./x",
            "a//b",
            "a/",
            "",
            "a\\b",
            "a\0b",
            ".obsbuild-export",
            ".obsbuild/activation.json",
            ".obsbuild",
            "configs/.obsbuild-export-tmp-1-2",
            ".manifest.json",
            "a\rb",
            "\u{1b}[31m",
        ];
        for line in bad {
            let text = format!("{head}README.md\n{line}\n");
            let (n, why) = Marker::parse(text.as_bytes()).unwrap_err();
            assert_eq!(n, 3, "{line:?}: {why}");
            assert!(why.contains("never wrote"), "{line:?}: {why}");
        }
    }

    #[test]
    fn a_marker_that_is_not_one_export_wrote_is_refused() {
        let cases: [(&[u8], usize, &str); 8] = [
            (b"", 1, "empty"),
            (b"README.md\n", 1, "not the header"),
            (b"# Files written by `obsbuild export` of stack `s`; do not edit.", 1, "cut short"),
            (b"# Files written by `obsbuild export` of stack `s`; do not edit.\r\nREADME.md\r\n", 1, "not the header"),
            (b"# Files written by `obsbuild export` of stack `../s`; do not edit.\n", 1, "not the header"),
            (b"# Files written by `obsbuild export` of stack `s`; do not edit.\nREADME.md", 2, "cut short"),
            (b"# Files written by `obsbuild export` of stack `s`; do not edit.\na\n\xff\n", 3, "UTF-8"),
            (b"# Files written by `obsbuild export` of stack `s`; do not edit.\n# a comment\n", 2, "is a comment"),
        ];
        for (bytes, line, why) in cases {
            let (n, reason) = Marker::parse(bytes).unwrap_err();
            assert_eq!(n, line, "{:?}: {reason}", String::from_utf8_lossy(bytes));
            assert!(reason.contains(why), "{:?}: {reason}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn odd_but_valid_names_are_kept_as_they_are() {
        let text = "# Files written by `obsbuild export` of stack `s`; do not edit.\n with space\n-rf\n*\n\u{e9}t\u{e9}.yaml\n.hidden/x\n";
        let m = Marker::parse(text.as_bytes()).unwrap();
        assert_eq!(m.files.len(), 5);
        assert!(m.files.contains(" with space") && m.files.contains("*"), "{m:?}");
    }
}
