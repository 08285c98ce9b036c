//! ANSI colour: the styles obsbuild paints with, as anstyle values (the crate clap already
//! builds for its help), and text wrapped in one of them.
//!
//! Pure: whether to colour at all is decided once at the CLI edge (`cli/output.rs`), from
//! `--color`, NO_COLOR and a terminal check. anstream's automatic choice is not used: it
//! also reads CLICOLOR, CLICOLOR_FORCE and TERM, which would change when obsbuild colours
//! from what `--help` documents.

pub use anstyle::Style;
use anstyle::AnsiColor;

pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();
pub const RED: Style = AnsiColor::Red.on_default();
pub const GREEN: Style = AnsiColor::Green.on_default();
pub const YELLOW: Style = AnsiColor::Yellow.on_default();
pub const CYAN: Style = AnsiColor::Cyan.on_default();
pub const BOLD_RED: Style = RED.bold();
pub const BOLD_YELLOW: Style = YELLOW.bold();
pub const BOLD_BLUE: Style = AnsiColor::Blue.on_default().bold();

/// Appends `text` in `style` and the reset after it. Callers keep newlines outside, so a
/// pager that cuts a line never leaves the colour switched on.
pub fn push(out: &mut String, style: Style, text: &str) {
    use std::fmt::Write as _;
    let _ = write!(out, "{}{text}{}", style.render(), style.render_reset());
}

/// `text` in `style`, followed by the reset.
pub fn wrapped(style: Style, text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    push(&mut out, style, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact bytes: tests and users' scripts match on them. A bold colour is two SGR
    /// sequences (anstyle writes each attribute on its own), which terminals show the same
    /// as the single `ESC[1;31m` obsbuild wrote before.
    #[test]
    fn styles_are_the_sgr_codes_obsbuild_has_always_used() {
        assert_eq!(wrapped(BOLD, "a"), "\x1b[1ma\x1b[0m");
        assert_eq!(wrapped(DIM, "a"), "\x1b[2ma\x1b[0m");
        assert_eq!(wrapped(RED, "a"), "\x1b[31ma\x1b[0m");
        assert_eq!(wrapped(GREEN, "a"), "\x1b[32ma\x1b[0m");
        assert_eq!(wrapped(YELLOW, "a"), "\x1b[33ma\x1b[0m");
        assert_eq!(wrapped(CYAN, "a"), "\x1b[36ma\x1b[0m");
        assert_eq!(wrapped(BOLD_RED, "a"), "\x1b[1m\x1b[31ma\x1b[0m");
        assert_eq!(wrapped(BOLD_YELLOW, "a"), "\x1b[1m\x1b[33ma\x1b[0m");
        assert_eq!(wrapped(BOLD_BLUE, "a"), "\x1b[1m\x1b[34ma\x1b[0m");
    }
}
