//! Finding a map literal by a string it holds, for values Rhai keeps no position of: a
//! dashboard's panel is a map inside a map, often built in a variable or by a library
//! function, far from the `dashboard(...)` call that Rhai does place.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::position::{byte_to_line_col, char_offset_to_byte};
use super::{Sources, Span};

const QUOTES: [char; 2] = ['"', '`'];

/// Each quoted string of the scripts, by its quote and the text between its quotes: the
/// file and byte offset of each opening quote. Asked for once per panel, a scan of every
/// script each time cost a fleet's dashboard the panels times the size of the library.
pub type Literals = BTreeMap<(char, String), Vec<(Arc<str>, usize)>>;

/// The index of `sources`: every stretch from one quote to the next of its kind (in a
/// comment too, as a text search would find it).
pub fn index(sources: &Sources) -> Literals {
    let mut literals = Literals::new();
    for (name, text) in sources.files() {
        for quote in QUOTES {
            let quotes: Vec<usize> = text.match_indices(quote).map(|(at, _)| at).collect();
            for pair in quotes.windows(2) {
                let (open, close) = (pair[0], pair[1]);
                literals.entry((quote, text[open + 1..close].to_owned())).or_default().push((name.clone(), open));
            }
        }
    }
    literals
}

/// Where a map literal holding `literal` as a quoted string was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// In a file of the user's: the span of the map's `#{`.
    User(Span),
    /// Only in a library file: the span of the map there.
    Library(Span),
}

impl Sources {
    /// The map holding `"literal"`: inside the call at `from` first, else the one place in
    /// the user's files that has it, else the one place in a library file. `None` when it is
    /// nowhere, or in more than one place of the same rank (a guess would mislead).
    pub fn find_map_of(&self, from: &Span, literal: &str, is_library: fn(&str) -> bool) -> Option<Found> {
        if literal.is_empty() {
            return None;
        }
        if let Some(inside) = self.find_in_call(from, literal)
            && let Some(map) = self.enclosing_map(&inside) {
                return Some(Found::User(map));
            }
        let mut user = Vec::new();
        let mut library = Vec::new();
        let mut found = |name: &Arc<str>, text: &str, at: usize| {
            let (line, col) = byte_to_line_col(text, at + 1);
            let span = Span::new(name.clone(), line, col);
            if is_library(name) { library.push(span) } else { user.push(span) }
        };
        for quote in QUOTES {
            if literal.contains(quote) {
                // Not in the index, which holds what lies between two quotes.
                let needle = format!("{quote}{literal}{quote}");
                for (name, text) in self.files() {
                    text.match_indices(&needle).for_each(|(at, _)| found(name, text, at));
                }
                continue;
            }
            for (name, at) in self.literals().get(&(quote, literal.to_owned())).into_iter().flatten() {
                found(name, self.get(name).unwrap_or_default(), *at);
            }
        }
        let only = |v: Vec<Span>| if v.len() == 1 { v.into_iter().next() } else { None };
        match (only(user.clone()), user.is_empty()) {
            (Some(s), _) => Some(Found::User(self.enclosing_map(&s).unwrap_or(s))),
            (None, true) => only(library).map(|s| Found::Library(self.enclosing_map(&s).unwrap_or(s))),
            (None, false) => None,
        }
    }

    /// The `#{` of the innermost map that contains `at`, counting brackets backwards (brackets
    /// inside strings are rare there and come in pairs).
    fn enclosing_map(&self, at: &Span) -> Option<Span> {
        let text = self.get(&at.file)?;
        let end = char_offset_to_byte(text, at.line, at.col)?;
        let mut depth = 0i32;
        for (i, c) in text[..end].char_indices().rev() {
            match c {
                '}' | ']' | ')' => depth += 1,
                '(' | '[' => depth -= 1,
                '{' if depth == 0 => {
                    let start = if text[..i].ends_with('#') { i - 1 } else { i };
                    let (line, col) = byte_to_line_col(text, start);
                    return Some(Span::new(at.file.clone(), line, col).with_len(2));
                }
                '{' => depth -= 1,
                _ => {}
            }
            if depth < 0 {
                return None;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(files: &[(&str, &str)]) -> Sources {
        let mut s = Sources::default();
        for (name, text) in files {
            s.insert((*name).into(), (*text).into());
        }
        s
    }

    fn lib(name: &str) -> bool {
        name.starts_with("lib/")
    }

    #[test]
    fn a_panel_inside_the_call_is_found_at_its_map() {
        let s = sources(&[("s.rhai", "ui.dashboard(#{ uid: \"d\", panels: [\n  #{ title: \"Up\", query: \"up{a=\\\"b\\\"}\" }] });\n")]);
        let call = Span::new("s.rhai", 1, 1);
        assert_eq!(s.find_map_of(&call, "Up", lib), Some(Found::User(Span::new("s.rhai", 2, 3).with_len(2))));
    }

    #[test]
    fn a_panel_built_in_a_variable_is_found_once_or_not_at_all() {
        let s = sources(&[("s.rhai", "let p = #{ title: \"Up\" };\nui.dashboard(#{ uid: \"d\", panels: [p] });\n"), ("lib/g.rhai", "#{ title: \"Up\" }")]);
        let call = Span::new("s.rhai", 2, 1);
        assert_eq!(s.find_map_of(&call, "Up", lib), Some(Found::User(Span::new("s.rhai", 1, 9).with_len(2))));
        let twice = sources(&[("s.rhai", "let p = #{ title: \"Up\" };\nlet q = #{ title: \"Up\" };\nui.dashboard(#{ panels: [p, q] });\n")]);
        assert_eq!(twice.find_map_of(&Span::new("s.rhai", 3, 1), "Up", lib), None);
    }

    #[test]
    fn a_library_panel_is_found_in_the_library() {
        let s = sources(&[("s.rhai", "ui.dashboard(g::overview(#{}));\n"), ("lib/g.rhai", "fn overview() {\n  [#{ title: `Latency` }]\n}\n")]);
        let call = Span::new("s.rhai", 1, 1);
        assert_eq!(s.find_map_of(&call, "Latency", lib), Some(Found::Library(Span::new("lib/g.rhai", 2, 4).with_len(2))));
    }
}
