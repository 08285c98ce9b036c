//! Where output goes and whether it is coloured.
//!
//! Results go to stdout, diagnostics and progress to stderr. Colour is used only on a
//! terminal, never when NO_COLOR is set (unless `--color always`). That decision is made
//! here and not by anstream, whose automatic choice also reads CLICOLOR, CLICOLOR_FORCE and
//! TERM; the styles themselves are in `crate::paint`.

use std::io::{IsTerminal, Write};

use super::{ColorMode, Error};
use crate::diagnostic::{self, Paint, Span};

pub struct Output {
    pub stdout_color: bool,
    pub stderr_color: bool,
}

impl Output {
    pub fn new(mode: ColorMode) -> Output {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let decide = |tty: bool| match mode {
            ColorMode::Always => true,
            ColorMode::Never => false,
            ColorMode::Auto => tty && !no_color,
        };
        Output {
            stdout_color: decide(std::io::stdout().is_terminal()),
            stderr_color: decide(std::io::stderr().is_terminal()),
        }
    }

    fn paint(&self) -> Paint {
        if self.stderr_color { Paint::Ansi } else { Paint::Plain }
    }

    /// Prints an error the way the user should read it.
    pub fn error(&self, e: &Error) {
        let text = match e {
            Error::Script(f) => diagnostic::render_all(&f.diagnostics.0, &f.sources, self.paint()),
            Error::Message(m) => {
                let head = if self.stderr_color { crate::paint::wrapped(crate::paint::BOLD_RED, "error") } else { "error".to_owned() };
                format!("{head}: {m}\n")
            }
        };
        let _ = std::io::stderr().write_all(text.as_bytes());
    }

    /// How to show diffs on stdout and stderr.
    pub fn stdout_style(&self) -> crate::diff::Style {
        if self.stdout_color { crate::diff::Style::Color } else { crate::diff::Style::Plain }
    }

    pub fn stderr_style(&self) -> crate::diff::Style {
        if self.stderr_color { crate::diff::Style::Color } else { crate::diff::Style::Plain }
    }

    /// Text on stdout as it is (see `crate::stdout` for a closed pipe).
    pub fn print(&self, text: &str) {
        crate::stdout::write(text);
    }

    /// Text on stderr as it is.
    pub fn stderr_text(&self, text: &str) {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }

    /// A line of progress or information on stderr.
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr(), "{text}");
    }

    /// Warnings of the checks, rendered like errors, on stderr.
    pub fn warnings(&self, warnings: &[crate::diagnostic::Diagnostic], sources: &crate::diagnostic::Sources) {
        if !warnings.is_empty() {
            self.stderr_text(&diagnostic::render_all(warnings, sources, self.paint()));
        }
    }

    /// What the script printed, prefixed like compiler notes.
    pub fn traces(&self, traces: &[(Option<Span>, String)]) {
        for (span, text) in traces {
            match span {
                Some(s) => self.note(&format!("trace: {s}: {text}")),
                None => self.note(&format!("trace: {text}")),
            }
        }
    }
}
