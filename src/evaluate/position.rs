//! The place in the user's script that a native call stands for.
//!
//! A declaration is often made by a library function (`lib/loki.rhai` calls `service(...)`
//! for the user's `loki::server()`); its error belongs on the user's line. Rhai's debugger
//! call stack gives every frame's call position; a script function's frame carries the
//! source of the function called, a native function's frame the source of its caller. From
//! that we rebuild each call site and keep the innermost one in a user's file.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use rhai::{NativeCallContext, Position};

use super::library;
use crate::diagnostic::{Sources, Span};

/// Everything a native function needs to place itself.
#[derive(Clone)]
pub struct Placer {
    pub sources: Rc<RefCell<Sources>>,
    /// Source names of scripts whose top level is running (see `Resolver::running`).
    pub running: Rc<RefCell<Vec<Arc<str>>>>,
    /// Whether Rhai keeps a call stack (reading it without one panics in Rhai).
    pub trace: super::Trace,
}

/// Where a call stands: the span to report and, when they differ, the library line that
/// made the call on the user's behalf.
#[derive(Clone, Debug)]
pub struct Place {
    pub span: Span,
    pub via: Option<Span>,
}

impl Placer {
    pub fn place(&self, ctx: &NativeCallContext) -> Place {
        let sites = self.sites(ctx);
        let innermost = sites.last().cloned();
        let user = sites.iter().rev().find(|s| !is_library(&s.file)).cloned();
        match (user, innermost) {
            (Some(user), Some(inner)) if user != inner => Place { span: user, via: Some(inner) },
            (Some(user), _) => Place { span: user, via: None },
            (None, Some(inner)) => Place { span: inner, via: None },
            (None, None) => Place { span: Span::new(top_or_unknown(&self.running), 0, 0), via: None },
        }
    }

    /// Every call site on the way to this native call, outermost first; the last is the
    /// native call itself.
    pub fn sites(&self, ctx: &NativeCallContext) -> Vec<Span> {
        let top: Arc<str> = self.running.borrow().last().cloned().unwrap_or_else(|| "".into());
        let frames = match self.trace {
            super::Trace::CallStack => ctx.global_runtime_state().debugger().call_stack(),
            super::Trace::Fast => &[],
        };
        let mut sites: Vec<Span> = Vec::with_capacity(frames.len());
        let last = frames.len().saturating_sub(1);
        for (i, frame) in frames.iter().enumerate() {
            let source: Arc<str> = if i == last {
                frame.source.as_deref().map(Arc::from).unwrap_or_else(|| top.clone())
            } else if i == 0 {
                top.clone()
            } else {
                frames[i - 1].source.as_deref().map(Arc::from).unwrap_or_else(|| top.clone())
            };
            sites.push(self.span(source, frame.pos));
        }
        if sites.is_empty() {
            let source = ctx.call_source().map(Arc::from).unwrap_or(top);
            sites.push(self.span(source, ctx.call_position()));
        }
        sites
    }

    fn span(&self, source: Arc<str>, pos: Position) -> Span {
        let line = u32::try_from(pos.line().unwrap_or(0)).unwrap_or(0);
        let col = u32::try_from(pos.position().unwrap_or(0)).unwrap_or(0);
        widen(&self.sources.borrow(), Span::new(source, line, col))
    }
}

/// Moves a call's span back over a `module::` prefix (Rhai points at the function name
/// after it) and stretches it over the whole name, so the caret marks `grafana::server`.
pub fn widen(sources: &Sources, span: Span) -> Span {
    let Some(text) = sources.line(&span.file, span.line) else { return span };
    let at = (span.col as usize).saturating_sub(1);
    // Columns count characters; a line of ASCII (nearly every one) is read by its bytes
    // instead of collecting its characters first, once per native call.
    let (at, len) = if text.is_ascii() {
        let bytes = text.as_bytes();
        name_at(at, |i| bytes.get(i).map(|b| char::from(*b)))
    } else {
        let chars: Vec<char> = text.chars().collect();
        name_at(at, |i| chars.get(i).copied())
    };
    let col = u32::try_from(at + 1).unwrap_or(span.col);
    Span { col, len: u32::try_from(len).unwrap_or(0), ..span }
}

/// The start and length, in characters, of the `module::name` that the character at `at`
/// (its `name`) belongs to; `char_at` reads the line.
fn name_at(mut at: usize, char_at: impl Fn(usize) -> Option<char>) -> (usize, usize) {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    while at >= 2 && char_at(at - 1) == Some(':') && char_at(at - 2) == Some(':') {
        let mut start = at - 2;
        while start > 0 && char_at(start - 1).is_some_and(word) {
            start -= 1;
        }
        if start == at - 2 {
            break;
        }
        at = start;
    }
    let len = (at..).map_while(&char_at).take_while(|c| word(*c) || *c == ':').count();
    (at, len)
}

fn top_or_unknown(running: &Rc<RefCell<Vec<Arc<str>>>>) -> Arc<str> {
    running.borrow().first().cloned().unwrap_or_else(|| "<script>".into())
}

/// Whether a source name is a library file: the project's `lib/` or obsbuild's own.
pub fn is_library(file: &str) -> bool {
    file.starts_with("lib/") || file.starts_with(library::PREFIX)
}
