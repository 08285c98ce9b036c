//! Stage 1: run a stack script in the sandbox and turn what it declared into a typed
//! [`Stack`].
//!
//! Reads the script and the modules it imports (inside the project only); everything else
//! is pure. Evaluation runs on its own thread with a large stack, so no script can overflow
//! the native stack and abort obsbuild.

pub mod api;
mod budget;
mod builder;
mod convert;
mod errors;
mod isolate;
mod library;
mod position;
mod resolver;
mod sandbox;
mod sizes;
pub mod source;
mod spec;
mod value;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

pub use library::PREFIX as LIBRARY_PREFIX;
pub use budget::Counting as CountingAllocator;
pub use sandbox::{Limits, Trace};
pub use source::{GitTree, ReadError, Source, WorkTree};

use crate::diagnostic::{Diagnostic, Diagnostics, Sources, Span};
use crate::model::Stack;

/// A stack as its script describes it.
#[derive(Debug)]
pub struct Evaluation {
    pub stack: Stack,
    pub sources: Sources,
    /// What the script printed with `print` or `debug`, for stderr.
    pub traces: Vec<(Option<Span>, String)>,
    /// The script's path relative to the project root (shown in messages, never hashed).
    pub script: String,
    pub project: PathBuf,
}

/// Evaluation failed; `sources` holds the scripts read, so the diagnostics can show lines.
#[derive(Debug)]
pub struct Failure {
    pub diagnostics: Diagnostics,
    pub sources: Sources,
}

impl Failure {
    pub fn plain(message: impl Into<String>) -> Failure {
        Failure { diagnostics: Diagnostic::new(message).into(), sources: Sources::default() }
    }
}

/// The project a script belongs to: the nearest folder above it holding `lib/` or `.git`,
/// else the script's own folder.
pub fn project_root(script_dir: &Path) -> PathBuf {
    let mut dir = Some(script_dir);
    while let Some(d) = dir {
        let lib = d.join("lib");
        // A `lib` link counts even when it leads nowhere or out: `Source::lib` says why.
        if lib.is_dir() || lib.is_symlink() || d.join(".git").exists() {
            return d.to_path_buf();
        }
        dir = d.parent();
    }
    script_dir.to_path_buf()
}

/// Evaluates the stack script at `script`. Diagnostics inside the library are placed on
/// the user's line that led to them (see [`Trace`]).
pub fn evaluate(script: &Path, limits: &Limits) -> Result<Evaluation, Failure> {
    match evaluate_with(script, limits, Trace::Fast) {
        Err(f) if f.diagnostics.0.iter().any(wants_call_stack) => evaluate_with(script, limits, Trace::CallStack),
        other => other,
    }
}

/// Whether a diagnostic wants the call stack to be placed: it points into the library, where
/// the user's line is wanted instead, or it says it was placed without one.
pub fn wants_call_stack(d: &Diagnostic) -> bool {
    d.unplaced || d.span.iter().chain(d.related.iter().map(|(s, _)| s)).any(|s| position::is_library(&s.file))
}

/// Evaluates with or without the call stack.
pub fn evaluate_with(script: &Path, limits: &Limits, trace: Trace) -> Result<Evaluation, Failure> {
    let (tree, main) = source::WorkTree::for_script(script).map_err(Failure::plain)?;
    let project = tree.root().to_path_buf();
    let mut evaluation = evaluate_source(Arc::new(tree), &main, limits, trace)?;
    evaluation.project = project;
    Ok(evaluation)
}

/// Evaluates the script at project path `main` of `source` (the work tree, or a git
/// revision for a review).
pub fn evaluate_source(source: Arc<dyn Source>, main: &str, limits: &Limits, trace: Trace) -> Result<Evaluation, Failure> {
    let lib = source.lib().map_err(Failure::plain)?;
    let text = match source.read(main, &[""], limits.max_file_size) {
        Ok(Some(script)) => script.text,
        Ok(None) => return Err(Failure::plain(format!("cannot read stack `{main}`: there is no such file"))),
        Err(ReadError::TooBig(size)) => {
            return Err(Failure::plain(format!(
                "stack `{main}` is {size} bytes; scripts may be at most {} bytes",
                limits.max_file_size
            )));
        }
        Err(ReadError::Outside { to }) => {
            return Err(Failure::plain(format!("stack `{main}` resolves to `{to}`, outside the project")));
        }
        Err(ReadError::Other(message)) => return Err(Failure::plain(message)),
    };
    let stack_dir = main.rsplit_once('/').map(|(dir, _)| dir.to_owned()).unwrap_or_default();
    let file = main.rsplit('/').next().unwrap_or(main);
    let default_name = file.strip_suffix(".rhai").unwrap_or(file).to_owned();
    let roots = resolver::Roots { source, stack_dir, lib };
    let main_name = main.to_owned();

    let limits = *limits;
    let worker = std::thread::Builder::new()
        .name("obsbuild-evaluate".to_owned())
        .stack_size(limits.thread_stack)
        .spawn(move || run(roots, main_name, text, default_name, limits, trace))
        .map_err(|e| Failure::plain(format!("cannot start the evaluation thread: {e}")))?;
    worker
        .join()
        .map_err(|_| Failure::plain("internal error: evaluation panicked; please report this with the script"))?
}

fn run(
    roots: resolver::Roots,
    main_name: String,
    text: String,
    default_name: String,
    limits: Limits,
    trace: Trace,
) -> Result<Evaluation, Failure> {
    let main: Arc<str> = main_name.clone().into();
    let sources = Rc::new(RefCell::new(Sources::default()));
    sources.borrow_mut().insert(main.clone(), text.as_str().into());
    let running = Rc::new(RefCell::new(vec![main.clone()]));
    let stop = sandbox::Stop::default();
    let api = api::Api::new(position::Placer { sources: sources.clone(), running: running.clone(), trace }, stop.clone(), &limits);

    let mut engine = sandbox::engine(&limits, trace, &stop);
    api::register(&mut engine, &api);
    engine.set_module_resolver(resolver::Resolver::new(roots, limits.max_file_size, sources.clone(), running));

    let outcome = match engine.compile(&text) {
        Err(e) => Err(errors::parse_diagnostic(&e, &main_name, &text)),
        Ok(mut ast) => {
            ast.set_source(main_name.clone());
            engine.run_ast(&ast).map_err(|e| errors::diagnostic(&e, &main_name, &limits, &sources.borrow()))
        }
    };
    drop(engine);
    let builder = std::mem::take(&mut *api.builder.borrow_mut());
    let sources = sources.borrow().clone();

    let mut diagnostics = builder.diagnostics.clone();
    // A stop a native function asked for says why better than the termination it caused.
    match (stop.take(), outcome) {
        (Some(d), _) | (None, Err(d)) => diagnostics.push(d),
        (None, Ok(_)) => {}
    }
    if !diagnostics.is_empty() {
        return Err(Failure { diagnostics: Diagnostics(diagnostics).sorted(), sources });
    }
    if builder.stack.is_none() && api::check_name("stack", &default_name).is_err() {
        let d = Diagnostic::new(format!("the file name `{default_name}` cannot name a stack"))
            .help("call `stack(\"my-stack\")` in the script to name it");
        return Err(Failure { diagnostics: d.into(), sources });
    }
    let traces = builder.traces.clone();
    match convert::convert(builder, &default_name, &sources) {
        Ok(stack) => Ok(Evaluation { stack, sources, traces, script: main_name, project: PathBuf::new() }),
        Err(diagnostics) => Err(Failure { diagnostics: Diagnostics(diagnostics).sorted(), sources }),
    }
}
