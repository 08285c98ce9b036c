//! The functions a stack script can call, registered on the sandboxed engine.
//!
//! Declarations never fail the script on a wrong field or value: they record a diagnostic
//! at the user's line and hand back a usable value, so one run reports every mistake.

mod bounded;
mod globals;

pub use globals::check_name;
mod methods;
mod options;
mod sized;

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Dynamic, Engine, NativeCallContext};

use super::builder::{Builder, Shared};
use super::position::{Place, Placer};
use super::sandbox::{Limits, Stop};
use super::sizes::Sizes;
use super::value::{self, Problem, ShapeError};
use crate::diagnostic::{Diagnostic, Span, suggest};
use crate::model::Tree;

/// What every native function captures.
#[derive(Clone)]
pub struct Api {
    pub builder: Shared,
    pub placer: Placer,
    /// Stops the script from inside a call whose error Rhai would not pass on.
    pub stop: Stop,
    /// Longest string a script may make, for the functions replaced here.
    pub max_string_size: usize,
    /// The sandbox's size limits, for the functions that check them (`sized.rs`).
    pub sizes: Sizes,
}

impl Api {
    pub fn new(placer: Placer, stop: Stop, limits: &Limits) -> Self {
        Api {
            builder: Rc::new(RefCell::new(Builder::default())),
            placer,
            stop,
            max_string_size: limits.max_string_size,
            sizes: limits.sizes(),
        }
    }

    pub fn place(&self, ctx: &NativeCallContext) -> Place {
        self.placer.place(ctx)
    }

    /// Whether `s` is a declaration that failed (see `ServiceDecl::failed`).
    pub fn failed(&self, s: &super::builder::ServiceRef) -> bool {
        self.builder.borrow().services.get(s.index).is_some_and(|d| d.failed)
    }

    pub fn report(&self, diagnostic: Diagnostic) {
        self.builder.borrow_mut().diagnostics.push(diagnostic);
    }

    /// A diagnostic at `place`, noting the library line when the call went through one.
    pub fn diagnostic(&self, place: &Place, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::new(message).at(&place.span);
        match &place.via {
            Some(via) => d.note(format!("declared by the library at {via}")),
            None => d,
        }
    }

    /// Converts a script value into a spec, or records why it does not fit `what`.
    pub fn spec<T: serde::de::DeserializeOwned>(
        &self,
        place: &Place,
        what: &str,
        value: &Dynamic,
    ) -> Option<T> {
        let tree = match value::to_tree(value) {
            Ok(t) => t,
            Err(e) => {
                self.report(self.diagnostic(place, format!("{e} (in {what})")));
                return None;
            }
        };
        self.spec_of_tree(place, what, tree)
    }

    pub fn spec_of_tree<T: serde::de::DeserializeOwned>(
        &self,
        place: &Place,
        what: &str,
        tree: Tree,
    ) -> Option<T> {
        // Each wrong field is reported and taken out, and the rest read again, so one mistake
        // gives one error: the declaration keeps its kind, endpoints and data source, and what
        // is declared with it does not fail for want of them. Each pass removes a field, so
        // this ends; `None` only when no field can be blamed (the declaration has failed).
        let mut tree = tree;
        for _ in 0..MAX_SHAPE_ERRORS {
            match value::from_tree(tree.clone()) {
                Ok(spec) => return Some(spec),
                Err(e) => {
                    let removed = value::remove_at(&mut tree, &e.steps);
                    self.report(self.shape_diagnostic(place, what, e));
                    if !removed {
                        return None;
                    }
                }
            }
        }
        None
    }

    fn shape_diagnostic(&self, place: &Place, what: &str, e: ShapeError) -> Diagnostic {
        let inside = if e.path.is_empty() { String::new() } else { format!("`{}` of ", e.path) };
        match e.problem {
            Problem::UnknownField { field, mut expected } => {
                // serde's path ends with the unknown field itself; name where it sits.
                let parent = e.path.strip_suffix(field.as_str()).unwrap_or(&e.path).trim_end_matches('.');
                let inside = if parent.is_empty() { String::new() } else { format!("`{parent}` of ") };
                if parent.is_empty() {
                    expected.extend(self.builder.borrow().options.iter().cloned());
                }
                let span = self.find(&place.span, &field);
                let mut d = self.diagnostic(place, format!("unknown field `{field}` in {inside}{what}"));
                d.span = Some(span);
                match suggest(&field, expected.iter().map(String::as_str)) {
                    Some(best) => d.label(format!("did you mean `{best}`?")),
                    None => d.help(format!("known fields: {}", list(&expected))),
                }
            }
            Problem::Other(problem) => {
                let last = e.path.rsplit(['.', '[']).next().unwrap_or("").trim_end_matches(']');
                let span = self.find(&place.span, last);
                let mut d = self.diagnostic(place, format!("invalid {inside}{what}: {problem}"));
                d.span = Some(span);
                d
            }
        }
    }

    /// The span of `needle` inside the call at `span`, or the call itself.
    pub fn find(&self, span: &Span, needle: &str) -> Span {
        self.placer.sources.borrow().find_in_call(span, needle).unwrap_or_else(|| span.clone())
    }
}

/// Most wrong fields reported for one declaration before it is given up as failed.
const MAX_SHAPE_ERRORS: usize = 32;

/// `a`, `b`, `c` in backticks.
pub fn list(items: &[String]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

/// Registers every function and the `Service` type on `engine`.
pub fn register(engine: &mut Engine, api: &Api) {
    globals::register(engine, api);
    methods::register(engine, api);
    options::register(engine, api);
    bounded::register(engine, api);
    sized::register(engine, api);
}
