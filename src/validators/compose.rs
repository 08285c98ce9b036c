//! docker-compose: `config -q` of the stack's compose file and the apps' one, mapped to the
//! service or app it names. It never talks to a Docker engine nor needs an image.

use std::ffi::OsStr;

use super::{Checked, Context, Input, Job, complaint, stack_span};
use crate::diagnostic::Span;
use crate::model::Stack;
use crate::build::layout::APPS_COMPOSE;

const TOOL: &str = "docker-compose";
const STACK_COMPOSE: &str = "docker-compose.yml";

pub fn jobs(input: Input<'_>) -> Vec<Job<'_>> {
    [STACK_COMPOSE, APPS_COMPOSE]
        .into_iter()
        .filter(|f| input.build.files.contains_key(*f))
        // A Swarm stack file is Docker's to judge (`stack.rs`); compose 1.x reads it as a
        // compose file and skips what only Swarm reads.
        .filter(|f| *f != STACK_COMPOSE || input.stack.engine.is_compose())
        .map(|file| Job::new(TOOL, "config -q", file.to_owned(), move |cx| check(cx, input.stack, file)))
        .collect()
}

/// The project folder is the build's folder, so relative paths (`./configs`, secrets'
/// `file:`) resolve as they will. `DOCKER_HOST` and `METRICS_SOCKET_FILE` (compose 1.x posts
/// usage metrics to Docker Desktop's socket) name sockets that do not exist, and no `.env`
/// or `COMPOSE_*` variable of the user's is read.
fn check(cx: &Context, stack: &Stack, file: &str) -> Result<Checked, String> {
    let project = cx.dir.as_os_str();
    let engine = format!("unix://{}", cx.dir.join("no-docker-engine.sock").display());
    let metrics = format!("http+unix://{}", cx.dir.join("no-metrics.sock").display());
    let args = [OsStr::new("--project-directory"), project, OsStr::new("-f"), OsStr::new(file), OsStr::new("config"), OsStr::new("-q")];
    let out = cx.run(&args, &[("DOCKER_HOST", OsStr::new(&engine)), ("METRICS_SOCKET_FILE", OsStr::new(&metrics))])?;
    if out.success {
        return Ok(Checked::default());
    }
    let said: Vec<&str> = out.stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    // Compose reports a file it refuses with `ERROR:`; anything else (a Python traceback of
    // a broken install) is the tool failing, not the file.
    if !said.iter().any(|l| l.starts_with("ERROR:")) || said.iter().any(|l| l.starts_with("Traceback")) {
        return Err(format!("failed without judging the file: {}", said.join(" ").chars().take(300).collect::<String>()));
    }
    let all = said.join("\n").replace(&cx.dir.to_string_lossy().into_owned(), ".");
    let span = named_service(stack, &all).or_else(|| stack_span(stack)).ok_or_else(|| format!("it said: {all}"))?;
    Ok(Checked { diagnostics: vec![complaint(&format!("{TOOL} config"), file, &span, &all)], notes: Vec::new() })
}

/// The service or app a message is about: `services.<name>...` or `Service <name>` /
/// `service "<name>"`.
pub(super) fn named_service(stack: &Stack, said: &str) -> Option<Span> {
    let words = said.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ':' | ','));
    let mut previous = "";
    for word in words.filter(|w| !w.is_empty()) {
        let name = word.strip_prefix("services.").map(|r| r.split('.').next().unwrap_or(r)).or_else(|| previous.eq_ignore_ascii_case("service").then_some(word));
        if let Some(n) = name {
            if let Some(s) = stack.services.get(n) {
                return Some(s.span.clone());
            }
            if let Some(a) = stack.apps.get(n) {
                return Some(a.span.clone());
            }
        }
        previous = word;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_their_service() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stacks/everything.rhai");
        let built = crate::pipeline::build(&path, &Default::default()).unwrap();
        let stack = &built.evaluation.stack;
        let loki = &stack.services["loki"].span;
        assert_eq!(named_service(stack, "services.loki.ports contains an invalid type").as_ref(), Some(loki));
        assert_eq!(named_service(stack, "Service loki depends on service 'x' which is undefined.").as_ref(), Some(loki));
        assert_eq!(named_service(stack, "Top level object in './docker-compose.yml' needs to be an object"), None);
    }
}
