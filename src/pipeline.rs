//! The pure stages end to end: evaluate → validate → render → the deployment document.

use std::path::Path;
use std::sync::Arc;

use crate::evaluate::{self, Evaluation, Failure, Limits, Source, Trace, WorkTree};
use crate::build::Build;
use crate::{deployment, plan, render};
use crate::diff::semantic::Reading;
use crate::diff::semantic::impact::Index;
use crate::model::Engine;
use crate::validate;

/// A stack's evaluation and its rendered files.
#[derive(Debug)]
pub struct Built {
    pub evaluation: Evaluation,
    pub build: Build,
    /// What the checks found that does not stop the build, in script order.
    pub warnings: Vec<crate::diagnostic::Diagnostic>,
    /// Settings no schema covers (a component without one, a version outside every
    /// schema's range, a section a schema leaves unchecked): `check` lists them, so
    /// "valid" never covers them silently.
    pub not_checked: Vec<validate::schema::NotChecked>,
    /// What reads what in the build (panels, rules, scrape jobs, pipelines): worked out for
    /// the checks of the rendered files, and kept for a review's impacts.
    pub index: Index,
}

/// Evaluates, checks and renders the stack script at `script`. Reads the script and its
/// imports; writes nothing.
pub fn build(script: &Path, limits: &Limits) -> Result<Built, Failure> {
    build_for(script, limits, None)
}

/// [`build`] for `engine` when given (`--engine`), whatever the script declares.
pub fn build_for(script: &Path, limits: &Limits, engine: Option<Engine>) -> Result<Built, Failure> {
    let (tree, main) = WorkTree::for_script(script).map_err(Failure::plain)?;
    let project = tree.root().to_path_buf();
    let mut built = build_source_for(Arc::new(tree), &main, limits, engine)?;
    built.evaluation.project = project;
    Ok(built)
}

/// [`build`] of the script at project path `main` of `source`.
pub fn build_source(source: Arc<dyn Source>, main: &str, limits: &Limits) -> Result<Built, Failure> {
    build_source_for(source, main, limits, None)
}

/// [`build_source`] for `engine` when given.
pub fn build_source_for(source: Arc<dyn Source>, main: &str, limits: &Limits, engine: Option<Engine>) -> Result<Built, Failure> {
    let evaluate = |trace| evaluate::evaluate_source(source.clone(), main, limits, trace).map(|e| retarget(e, engine));
    let evaluation = evaluate(Trace::Fast)
        .or_else(|f| if f.diagnostics.0.iter().any(evaluate::wants_call_stack) { evaluate(Trace::CallStack) } else { Err(f) })?;
    match checked(&evaluation) {
        Ok((warnings, build, index)) if !warnings.iter().any(evaluate::wants_call_stack) => {
            let not_checked = validate::schema::not_checked(&evaluation.stack);
            Ok(Built { evaluation, build, warnings, not_checked, index })
        }
        // Declarations made by the library carry the library's line; evaluate again with
        // the call stack so the diagnostics point at the user's lines.
        Ok(_) => {
            let precise = evaluate(Trace::CallStack)?;
            let (warnings, build, index) = checked(&precise).map_err(|diagnostics| Failure { diagnostics, sources: precise.sources.clone() })?;
            let not_checked = validate::schema::not_checked(&precise.stack);
            Ok(Built { evaluation: precise, build, warnings, not_checked, index })
        }
        Err(diagnostics) => {
            if diagnostics.0.iter().any(evaluate::wants_call_stack) {
                let precise = evaluate(Trace::CallStack)?;
                if let Err(diagnostics) = validate::validate(&precise.stack, &precise.sources) {
                    return Err(Failure { diagnostics, sources: precise.sources });
                }
            }
            Err(Failure { diagnostics, sources: evaluation.sources })
        }
    }
}

/// The evaluation, for `engine` when one is given: the command line's choice wins over the
/// script's, and the build records which it was for.
fn retarget(mut evaluation: Evaluation, engine: Option<Engine>) -> Evaluation {
    if let Some(engine) = engine
        && engine != evaluation.stack.engine
    {
        evaluation.stack.engine = engine;
        evaluation.stack.engine_span = None;
    }
    evaluation
}

/// Validates and renders, then runs the checks that read the rendered files.
fn checked(evaluation: &Evaluation) -> Result<(Vec<crate::diagnostic::Diagnostic>, Build, Index), crate::diagnostic::Diagnostics> {
    let mut warnings = validate::validate(&evaluation.stack, &evaluation.sources)?;
    let mut build = render::render(&evaluation.stack);
    // Last: it hashes the config files each service reads.
    let deployment = plan::deployment(&evaluation.stack, &build);
    let document = crate::build::Document::new(crate::build::FileKind::Deployment, None, None);
    build.add_document(deployment::FILE.to_owned(), deployment.to_file(), document);
    build.deployment = Some(deployment);
    let index = Index::of(&Reading::of(&build));
    warnings.extend(validate::rendered(&evaluation.stack, &evaluation.sources, &index));
    warnings.sort_by(|a, b| a.span.cmp(&b.span).then_with(|| a.message.cmp(&b.message)));
    Ok((warnings, build, index))
}
