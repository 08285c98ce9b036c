//! Whether diff output carries ANSI colour, and the colours git uses for each part.
//!
//! Pure: the caller decides (terminal detection and `NO_COLOR` live at the CLI edge).

use crate::paint;

/// How to render a diff: plain text for files and pipes, or coloured for a terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Style {
    /// No escape codes at all.
    #[default]
    Plain,
    /// ANSI SGR codes in git's default colours: bold file headers, cyan hunk headers, red
    /// deletions, green insertions.
    Color,
}

/// The roles a span of diff output can play; each maps to one of git's default colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    FileHeader,
    HunkHeader,
    Deletion,
    Insertion,
}

impl Style {
    /// Appends `text` to `out`, wrapped in the role's colour when colouring. Callers keep the
    /// newline outside, so a pager that cuts a line never leaves the colour switched on.
    pub(super) fn paint(self, out: &mut String, role: Role, text: &str) {
        match self {
            Style::Plain => out.push_str(text),
            Style::Color => {
                let style = match role {
                    Role::FileHeader => paint::BOLD,
                    Role::HunkHeader => paint::CYAN,
                    Role::Deletion => paint::RED,
                    Role::Insertion => paint::GREEN,
                };
                paint::push(out, style, text);
            }
        }
    }
}
