//! Which stack script a command works on.

use std::path::{Path, PathBuf};

/// The stack used when none is given and `OBSBUILD_STACK` is unset.
pub const DEFAULT_STACK: &str = "stacks/task-manager.rhai";

/// Resolves a stack argument: a path to a script, or the name of one in `stacks/`
/// (`scaibu` → `stacks/scaibu.rhai`). Without one: `$OBSBUILD_STACK`, else [`DEFAULT_STACK`].
pub fn resolve(arg: Option<&Path>) -> Result<PathBuf, String> {
    let given = match arg {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os("OBSBUILD_STACK").filter(|v| !v.is_empty()) {
            Some(v) => PathBuf::from(v),
            None => PathBuf::from(DEFAULT_STACK),
        },
    };
    if given.is_file() {
        return Ok(given);
    }
    let text = given.to_string_lossy();
    if !text.contains('/') && !text.ends_with(".rhai") {
        let named = Path::new("stacks").join(format!("{text}.rhai"));
        if named.is_file() {
            return Ok(named);
        }
    }
    let known: Vec<String> = std::fs::read_dir("stacks")
        .map(|entries| {
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".rhai"))
                .map(|n| format!("stacks/{n}"))
                .collect();
            names.sort();
            names
        })
        .unwrap_or_default();
    // A name is compared with names, a path with paths.
    let stem = |p: &str| p.trim_start_matches("stacks/").trim_end_matches(".rhai").to_owned();
    let candidates: Vec<String> = if text.contains('/') { known.clone() } else { known.iter().map(|k| stem(k)).collect() };
    let typed = if text.contains('/') { text.to_string() } else { stem(&text) };
    if let Some(best) = crate::diagnostic::suggest(&typed, candidates.iter().map(String::as_str)) {
        return Err(format!("no stack script `{text}`; did you mean `{best}`?"));
    }
    let hint = if known.is_empty() {
        "pass the path of a stack script".to_owned()
    } else {
        format!("stacks here: {}", known.join(", "))
    };
    let how = if arg.is_none() { " (no stack given; set OBSBUILD_STACK or pass one)" } else { "" };
    Err(format!("no stack script `{text}`{how}; {hint}"))
}

/// The stack a command about running stacks means: a name with a profile or history in
/// the state folder, else a script (evaluated for its name).
pub fn stack_name(store: &crate::store::Store, arg: Option<&Path>) -> Result<String, super::Error> {
    if let Some(a) = arg {
        let text = a.to_string_lossy().into_owned();
        let known = store.stacks().unwrap_or_default();
        if known.contains(&text) || store.profile(&text).dir().is_dir() {
            return Ok(text);
        }
    }
    let script = resolve(arg)?;
    let evaluation = crate::evaluate::evaluate(&script, &Default::default()).map_err(super::Error::Script)?;
    Ok(evaluation.stack.name)
}

/// Resolves, evaluates, validates and renders the stack a command names, and shows what
/// its script printed.
/// `engine` is `--engine`'s, if given.
pub fn build(arg: Option<&Path>, engine: Option<crate::model::Engine>, out: &super::Output) -> Result<crate::pipeline::Built, super::Error> {
    let script = resolve(arg)?;
    let built = crate::pipeline::build_for(&script, &Default::default(), engine).map_err(super::Error::Script)?;
    out.traces(&built.evaluation.traces);
    out.warnings(&built.warnings, &built.evaluation.sources);
    Ok(built)
}
