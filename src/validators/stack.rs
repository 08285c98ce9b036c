//! `docker stack config` of a Swarm build's stack file: Docker's own reading of what
//! `docker stack deploy` would apply. Client side only: it never talks to an engine.

use std::ffi::OsStr;

use super::{Checked, Context, Input, Job, complaint, compose::named_service, stack_span};
use crate::model::Stack;
use crate::render::STACK_FILE;

const TOOL: &str = "docker";

pub fn jobs(input: Input<'_>) -> Vec<Job<'_>> {
    if input.stack.engine.is_compose() || !input.build.files.contains_key(STACK_FILE) {
        return Vec::new();
    }
    vec![Job::new(TOOL, "stack config", STACK_FILE.to_owned(), move |cx| check(cx, input.stack))]
}

/// `DOCKER_HOST` names a socket that does not exist and `DOCKER_CONFIG` the build's
/// folder, so neither an engine nor the user's CLI configuration is read.
fn check(cx: &Context, stack: &Stack) -> Result<Checked, String> {
    let engine = format!("unix://{}", cx.dir.join("no-docker-engine.sock").display());
    let args = [OsStr::new("stack"), OsStr::new("config"), OsStr::new("-c"), OsStr::new(STACK_FILE)];
    let out = cx.run(&args, &[("DOCKER_HOST", OsStr::new(&engine)), ("DOCKER_CONFIG", cx.dir.as_os_str())])?;
    if out.success {
        return Ok(Checked::default());
    }
    let said: Vec<&str> = out.stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    // A CLI without `stack config` (before 20.10) says so; that is the tool, not the file.
    if said.is_empty() || said.iter().any(|l| l.contains("unknown command") || l.contains("is not a docker command")) {
        return Err(format!("failed without judging the file: {}", said.join(" ").chars().take(300).collect::<String>()));
    }
    let all = said.join("\n").replace(&cx.dir.to_string_lossy().into_owned(), ".");
    let span = named_service(stack, &all).or_else(|| stack_span(stack)).ok_or_else(|| format!("it said: {all}"))?;
    Ok(Checked { diagnostics: vec![complaint(&format!("{TOOL} stack config"), STACK_FILE, &span, &all)], notes: Vec::new() })
}
