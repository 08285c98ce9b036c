use std::fmt::Write;

use unicode_width::UnicodeWidthChar;

use super::{Diagnostic, Sources, Span};
use crate::paint::{self, BOLD, BOLD_BLUE, BOLD_RED, BOLD_YELLOW, Style};

/// Whether rendered text carries ANSI colour codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paint {
    Plain,
    Ansi,
}

impl Paint {
    fn wrap(self, style: Style, text: &str) -> String {
        match self {
            Paint::Plain => text.to_owned(),
            Paint::Ansi => paint::wrapped(style, text),
        }
    }
}

const TAB: &str = "    ";

/// Renders every diagnostic, separated by blank lines, followed by a count.
pub fn render_all(diagnostics: &[Diagnostic], sources: &Sources, paint: Paint) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&render(d, sources, paint));
        out.push('\n');
    }
    let errors = diagnostics.iter().filter(|d| !d.is_warning()).count();
    let warnings = diagnostics.len() - errors;
    if errors > 1 {
        let _ = writeln!(out, "{}", paint.wrap(BOLD_RED, &format!("{errors} errors")));
    }
    if warnings > 1 {
        let _ = writeln!(out, "{}", paint.wrap(BOLD_YELLOW, &format!("{warnings} warnings")));
    }
    out
}

/// Renders one diagnostic the way compilers do: message, location, the line with a caret
/// under the offending text, then help and notes.
pub fn render(d: &Diagnostic, sources: &Sources, paint: Paint) -> String {
    let mut spans: Vec<&Span> = d.span.iter().collect();
    spans.extend(d.related.iter().map(|(s, _)| s));
    let gutter = spans.iter().map(|s| s.line.to_string().len()).max().unwrap_or(1);
    let pad = " ".repeat(gutter);
    let bar = paint.wrap(BOLD_BLUE, "|");

    let mut out = String::new();
    let (head, colour) = if d.is_warning() { ("warning", BOLD_YELLOW) } else { ("error", BOLD_RED) };
    let _ = writeln!(out, "{}: {}", paint.wrap(colour, head), paint.wrap(BOLD, &d.message));
    if let Some(span) = &d.span {
        let _ = writeln!(out, "{pad}{} {span}", paint.wrap(BOLD_BLUE, "-->"));
        snippet(&mut out, sources, span, d.label.as_deref(), '^', BOLD_RED, &pad, &bar, paint);
    } else if let Some(label) = &d.label {
        let _ = writeln!(out, "{pad} {bar} {label}");
    }
    for (span, text) in &d.related {
        let _ = writeln!(out, "{pad}{} {span}", paint.wrap(BOLD_BLUE, ":::"));
        snippet(&mut out, sources, span, Some(text), '-', BOLD_BLUE, &pad, &bar, paint);
    }
    if d.help.is_some() || !d.notes.is_empty() {
        if d.span.is_some() || !d.related.is_empty() {
            let _ = writeln!(out, "{pad} {bar}");
        }
        if let Some(help) = &d.help {
            let _ = writeln!(out, "{pad} {} {}: {help}", paint.wrap(BOLD_BLUE, "="), paint.wrap(BOLD, "help"));
        }
        for note in &d.notes {
            let _ = writeln!(out, "{pad} {} {}: {note}", paint.wrap(BOLD_BLUE, "="), paint.wrap(BOLD, "note"));
        }
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn snippet(
    out: &mut String,
    sources: &Sources,
    span: &Span,
    label: Option<&str>,
    mark: char,
    colour: Style,
    pad: &str,
    bar: &str,
    paint: Paint,
) {
    let Some(line) = sources.line(&span.file, span.line) else {
        return;
    };
    let number = span.line.to_string();
    let _ = writeln!(out, "{pad} {bar}");
    let shown = line.replace('\t', TAB);
    let _ = writeln!(out, "{}{number} {bar} {shown}", " ".repeat(pad.len() - number.len()));
    let (offset, width) = caret_geometry(line, span.col, span.len);
    let marks: String = std::iter::repeat_n(mark, width).collect();
    let text = match label {
        Some(l) => format!("{marks} {l}"),
        None => marks,
    };
    let _ = writeln!(out, "{pad} {bar} {}{}", " ".repeat(offset), paint.wrap(colour, &text));
}

/// Display offset and width of the marked text. Columns count characters; the caret has to
/// sit under them on screen, so wide characters count twice and tabs as the spaces shown.
fn caret_geometry(line: &str, col: u32, len: u32) -> (usize, usize) {
    let width = |c: char| if c == '\t' { TAB.len() } else { c.width().unwrap_or(0) };
    let skip = col.saturating_sub(1) as usize;
    let offset: usize = line.chars().take(skip).map(width).sum();
    let marked: usize = line.chars().skip(skip).take(len as usize).map(width).sum();
    (offset, marked.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_counts_characters_not_bytes() {
        assert_eq!(caret_geometry("é = x", 5, 1), (4, 1));
        assert_eq!(caret_geometry("\tx", 2, 1), (4, 1));
        assert_eq!(caret_geometry("日本 x", 4, 1), (5, 1));
        assert_eq!(caret_geometry("x", 1, 0), (0, 1));
    }
}
