//! Errors a user can cause, with the place in their script that caused them.
//!
//! Pure: a [`Diagnostic`] is data; [`render`] turns it into text for a terminal or a snapshot.

mod render;
mod literal;
mod position;
mod span;
mod suggest;

pub use render::{render, render_all, Paint};
pub use literal::Found;
pub use span::{Sources, Span};
pub use suggest::{did_you_mean, suggest};

/// Whether a diagnostic stops the build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The stack cannot be built as written.
    #[default]
    Error,
    /// The stack builds, but likely not as meant (a panel that can show no data).
    Warning,
}

/// One problem found in a stack, in the order evaluate → validate → render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Lower-case sentence, identifiers in backticks: "unknown service `lokii`".
    pub message: String,
    /// Where the offending declaration is, when it came from a script.
    pub span: Option<Span>,
    /// Short text printed next to the caret ("did you mean `loki`?").
    pub label: Option<String>,
    /// Other places that explain this one ("first declared here").
    pub related: Vec<(Span, String)>,
    /// How to fix it, when there is an obvious way.
    pub help: Option<String>,
    /// Extra facts: the call chain through `lib/`, the component version, ...
    pub notes: Vec<String>,
    /// Placed without Rhai's call stack where the call stack would place it better: the
    /// evaluation is run again with it (see `evaluate::Trace`).
    pub unplaced: bool,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span: None,
            label: None,
            related: Vec::new(),
            help: None,
            notes: Vec::new(),
            unplaced: false,
        }
    }

    /// A warning: reported, but the build goes on.
    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::new(message) }
    }

    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning
    }

    pub fn at(mut self, span: &Span) -> Self {
        self.span = Some(span.clone());
        self
    }

    pub fn at_opt(mut self, span: Option<&Span>) -> Self {
        self.span = span.cloned();
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn related(mut self, span: &Span, text: impl Into<String>) -> Self {
        self.related.push((span.clone(), text.into()));
        self
    }

    /// Adds "did you mean `x`?" as the label when `wrong` is close to one of `candidates`.
    /// Notes where a library function wrote the value this is about (a dashboard's panel),
    /// when the diagnostic stands at the user's call of it.
    pub fn written_in_library(self, at: &Option<Span>) -> Self {
        match at {
            Some(at) => self.note(format!("written at {at}, inside the library")),
            None => self,
        }
    }

    pub fn suggesting<'a, I>(self, wrong: &str, candidates: I) -> Self
    where
        I: IntoIterator<Item = &'a str>,
    {
        match suggest(wrong, candidates) {
            Some(best) => self.label(format!("did you mean `{best}`?")),
            None => self,
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.span {
            Some(span) => write!(f, "{span}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A non-empty list of diagnostics: the error type of every stage that reads user input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Orders diagnostics by file, line and column so output is stable and reads top-down.
    pub fn sorted(mut self) -> Self {
        self.0.sort_by(|a, b| a.span.cmp(&b.span).then_with(|| a.message.cmp(&b.message)));
        self.0.dedup();
        self
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
