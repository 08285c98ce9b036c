//! The pure stages end to end: evaluate → validate → render.

use std::path::Path;

use crate::evaluate::{self, Evaluation, Failure, Limits, Trace};
use crate::render::{self, Build};
use crate::validate;

/// A stack's evaluation and its rendered files.
#[derive(Debug)]
pub struct Built {
    pub evaluation: Evaluation,
    pub build: Build,
}

/// Evaluates, checks and renders the stack script at `script`. Reads the script and its
/// imports; writes nothing.
pub fn build(script: &Path, limits: &Limits) -> Result<Built, Failure> {
    let evaluation = evaluate::evaluate(script, limits)?;
    if let Err(diagnostics) = validate::validate(&evaluation.stack, &evaluation.sources) {
        // Declarations made by the library carry the library's line; evaluate again with
        // the call stack so the errors point at the user's lines.
        if diagnostics.0.iter().any(evaluate::in_library) {
            let precise = evaluate::evaluate_with(script, limits, Trace::CallStack)?;
            if let Err(diagnostics) = validate::validate(&precise.stack, &precise.sources) {
                return Err(Failure { diagnostics, sources: precise.sources });
            }
        }
        return Err(Failure { diagnostics, sources: evaluation.sources });
    }
    let build = render::render(&evaluation.stack);
    Ok(Built { evaluation, build })
}
