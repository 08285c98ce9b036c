use std::collections::BTreeMap;
use std::sync::Arc;

use super::position::{byte_to_line_col, char_offset_to_byte};

/// A place in a script: project-relative path, 1-based line, 1-based column counted in
/// characters (as Rhai counts them), and the length of the marked text in characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: Arc<str>,
    pub line: u32,
    pub col: u32,
    /// Characters to underline; 0 marks a single point.
    pub len: u32,
}

impl Span {
    pub fn new(file: impl Into<Arc<str>>, line: u32, col: u32) -> Self {
        Span { file: file.into(), line, col, len: 0 }
    }

    pub fn with_len(mut self, len: u32) -> Self {
        self.len = len;
        self
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

impl serde::Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The text of every script read during one evaluation, by project-relative path, so that a
/// diagnostic can show the offending line without reading the file system again.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: BTreeMap<Arc<str>, Arc<str>>,
    /// Every quoted string of every file, made when first asked for (`literal.rs`).
    literals: std::sync::OnceLock<super::literal::Literals>,
}

impl Sources {
    pub fn insert(&mut self, path: Arc<str>, text: Arc<str>) {
        self.files.insert(path, text);
        self.literals = std::sync::OnceLock::new();
    }

    /// The scripts read, by name, in name order.
    pub(super) fn files(&self) -> impl Iterator<Item = (&Arc<str>, &str)> {
        self.files.iter().map(|(k, v)| (k, &**v))
    }

    pub(super) fn literals(&self) -> &super::literal::Literals {
        self.literals.get_or_init(|| super::literal::index(self))
    }

    /// Names of the scripts read, in name order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(|k| &**k)
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(|t| &**t)
    }

    /// The 1-based `line` of `path`, without its line ending.
    pub fn line(&self, path: &str, line: u32) -> Option<&str> {
        let text = self.get(path)?;
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        text.split('\n').nth(index).map(|l| l.strip_suffix('\r').unwrap_or(l))
    }

    /// Looks for `needle` as a map key or quoted string in the text that starts at `from` and
    /// runs to the end of the call that starts there (balanced brackets), and returns its span.
    ///
    /// Rhai keeps positions for calls but not for the entries of a map literal, so an error
    /// about one field would otherwise point at the start of the call; this moves the caret to
    /// the field itself when it is written there literally.
    pub fn find_in_call(&self, from: &Span, needle: &str) -> Option<Span> {
        if needle.is_empty() {
            return None;
        }
        let text = self.get(&from.file)?;
        let start = char_offset_to_byte(text, from.line, from.col)?;
        let tail = &text[start..];
        let end = call_extent(tail);
        let region = &tail[..end];
        let mut search = 0;
        while let Some(found) = region[search..].find(needle) {
            let at = search + found;
            let before = region[..at].chars().next_back();
            let after = region[at + needle.len()..].chars().next();
            let word_start = !before.is_some_and(is_ident_char);
            let word_end = !after.is_some_and(is_ident_char);
            let quoted = before == Some('"') && after == Some('"');
            let key = word_start && word_end && region[at + needle.len()..].trim_start().starts_with(':');
            if quoted || key || (word_start && word_end) {
                let abs = start + at;
                let (line, col) = byte_to_line_col(text, abs);
                let len = u32::try_from(needle.chars().count()).unwrap_or(0);
                return Some(Span::new(from.file.clone(), line, col).with_len(len));
            }
            search = at + needle.len();
        }
        None
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Length in bytes of the call starting at the head of `text`: up to the bracket that closes
/// the first one opened, ignoring brackets inside string literals.
fn call_extent(text: &str) -> usize {
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth <= 0 {
                    return i + 1;
                }
            }
            ';' if depth == 0 => return i,
            _ => {}
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(text: &str) -> Sources {
        let mut s = Sources::default();
        s.insert("s.rhai".into(), text.into());
        s
    }

    #[test]
    fn finds_a_key_inside_the_call_after_multibyte_text() {
        let s = sources("let é = 1;\nservice(\"ünï\", #{ imgae: \"x\" });\nimgae();");
        let found = s.find_in_call(&Span::new("s.rhai", 2, 1), "imgae");
        assert_eq!(found, Some(Span::new("s.rhai", 2, 19).with_len(5)));
    }

    #[test]
    fn stops_at_the_end_of_the_call() {
        let s = sources("service(\"a\", #{});\nlet imgae = 1;");
        assert_eq!(s.find_in_call(&Span::new("s.rhai", 1, 1), "imgae"), None);
    }

    #[test]
    fn ignores_partial_words() {
        let s = sources("f(#{ images: 1, image: 2 })");
        let found = s.find_in_call(&Span::new("s.rhai", 1, 1), "image");
        assert_eq!(found, Some(Span::new("s.rhai", 1, 17).with_len(5)));
    }

    #[test]
    fn line_lookup_strips_carriage_returns() {
        let s = sources("a\r\nb\r\n");
        assert_eq!(s.line("s.rhai", 2), Some("b"));
        assert_eq!(s.line("s.rhai", 9), None);
    }
}
