//! What a script says reaches the container unchanged: compose interpolates `$` in every
//! string value of a compose file, so `docker-compose config` on each stack's compose files,
//! run where `HOME` and the variables the scripts name hold other values, must give back
//! the script's values exactly.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use obsbuild::model::{Stack, Tree, Volume};
use obsbuild::render::compose;
use serde_json::{Value, json};

use super::common;

/// What every variable a script names holds while compose reads the files: a value that
/// comes from the environment instead of the script shows it.
const LEAKED: &str = "leaked-from-the-environment";

/// `docker-compose config` of `file` in a controlled environment, as a tree of the values
/// compose resolved. Its output is itself a compose file, with every `$` doubled again (in
/// keys too); that is undone here, so the tree holds what containers would get.
fn resolved(file: &Path, home: &Path) -> Tree {
    let mut cmd = Command::new("docker-compose");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("LEAK", LEAKED)
        .env("UID", LEAKED)
        .env("key", LEAKED)
        .arg("-f")
        .arg(file)
        .arg("config");
    let out = common::run_ok(&mut cmd, &format!("docker-compose config {}", file.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("variable is not set"), "{}: compose interpolated a value:\n{stderr}", file.display());
    let text = String::from_utf8(out.stdout).unwrap();
    unescape(obsbuild::yaml::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}")))
}

fn unescape(tree: Tree) -> Tree {
    match tree {
        Value::String(s) => Value::String(s.replace("$$", "$")),
        Value::Array(items) => Value::Array(items.into_iter().map(unescape).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k.replace("$$", "$"), unescape(v))).collect()),
        other => other,
    }
}

fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Value {
    Value::Array(items.into_iter().map(|s| Value::String(s.clone())).collect())
}

fn map(entries: &BTreeMap<String, String>) -> Value {
    Value::Object(entries.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// Each service's values as compose resolved them against the stack's model.
fn check_services(relative: &str, stack: &Stack, config: &Tree) {
    for s in stack.services.values() {
        let got = &config["services"][&s.name];
        let at = |what: &str| format!("{relative}: service `{}`: {what}", s.name);
        assert_eq!(got["image"], json!(s.image.reference), "{}", at("image"));
        if let Some(c) = compose::command(stack, s) {
            assert_eq!(got["command"], strings(&c), "{}", at("command"));
        }
        if let Some(e) = &s.entrypoint {
            assert_eq!(got["entrypoint"], strings(e), "{}", at("entrypoint"));
        }
        if let Some(u) = &s.user {
            assert_eq!(got["user"], json!(u), "{}", at("user"));
        }
        let environment = compose::environment(s);
        if !environment.is_empty() {
            assert_eq!(got["environment"], map(&environment), "{}", at("environment"));
        }
        let mut labels = BTreeMap::from([
            ("obsbuild.stack".to_owned(), stack.name.clone()),
            ("obsbuild.service".to_owned(), s.name.clone()),
        ]);
        labels.extend(s.labels.clone());
        assert_eq!(got["labels"], map(&labels), "{}", at("labels"));
        if let Some(h) = &s.healthcheck {
            assert_eq!(got["healthcheck"]["test"], strings(&h.test), "{}", at("healthcheck"));
        }
        let volumes: Vec<&str> = got["volumes"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        for v in &s.volumes {
            // Compose spells named volumes `name:target:rw` and resolves relative paths.
            let want = match v {
                Volume::Named { name, target } => format!("{name}:{target}:rw"),
                Volume::Bind { source, target } => format!("{source}:{target}:ro"),
            };
            assert!(volumes.contains(&want.as_str()), "{}: no {want:?} in {volumes:?}", at("volumes"));
        }
    }
}

/// The apps' script values: command, environment, labels, resource attributes.
fn check_apps(relative: &str, stack: &Stack, config: &Tree) {
    for a in stack.apps.values() {
        let got = &config["services"][&a.name];
        let at = |what: &str| format!("{relative}: app `{}`: {what}", a.name);
        assert_eq!(got["image"], json!(a.image.reference), "{}", at("image"));
        if let Some(c) = &a.command {
            assert_eq!(got["command"], strings(c), "{}", at("command"));
        }
        for (k, v) in &a.environment {
            assert_eq!(got["environment"][k], json!(v), "{}", at(&format!("environment {k}")));
        }
        for (k, v) in &a.labels {
            assert_eq!(got["labels"][k], json!(v), "{}", at(&format!("label {k}")));
        }
        let attributes = got["environment"]["OTEL_RESOURCE_ATTRIBUTES"].as_str().unwrap_or("");
        for (k, v) in &a.resource_attributes {
            assert!(attributes.split(',').any(|kv| kv == format!("{k}={v}")), "{}: {attributes:?}", at("resource attributes"));
        }
    }
}

fn resolved_stack(relative: &str) -> (Stack, Tree, Option<Tree>) {
    let built = common::build(relative);
    let tmp = tempfile::tempdir().unwrap();
    common::write_files(&built.build.files, tmp.path());
    let home = tmp.path().join(LEAKED);
    std::fs::create_dir(&home).unwrap();
    let stack = built.evaluation.stack;
    let config = resolved(&tmp.path().join("docker-compose.yml"), &home);
    let apps = tmp.path().join("apps/docker-compose.yml");
    let apps = apps.exists().then(|| resolved(&apps, &home));
    (stack, config, apps)
}

#[test]
fn every_stack_reaches_compose_as_the_script_says() {
    for relative in common::all_stacks() {
        let (stack, config, apps) = resolved_stack(&relative);
        check_services(&relative, &stack, &config);
        if let Some(apps) = apps {
            check_apps(&relative, &stack, &apps);
        }
    }
}

/// The test stack's dollar signs, spelled out: a model that lost or changed one would pass
/// the comparison with the model above.
#[test]
fn dollar_signs_are_literal() {
    let (_, config, apps) = resolved_stack("tests/stacks/dollars.rhai");
    let shell = &config["services"]["shell"];
    let environment = json!({
        "LONE": "$", "OPEN": "${", "TWO": "$$", "VAR": "$HOME", "BRACED": "${HOME}", "COST": "cost $5",
        "THREE": "$$$", "TRAILING": "trailing $", "DEFAULT": "${LEAK:-default}", "REQUIRED": "${LEAK?unset}",
    });
    assert_eq!(shell["environment"], environment);
    assert_eq!(shell["command"], json!(["echo ${HOME} costs $5 $$ $$$ $"]));
    assert_eq!(shell["entrypoint"], json!(["/bin/sh", "-c", "echo \"$HOME\" $0"]));
    assert_eq!(shell["healthcheck"]["test"], json!(["CMD-SHELL", "test \"$HOME\" != \"${LEAK}\" || exit $1"]));
    assert_eq!(shell["user"], json!("$UID"));
    assert_eq!(shell["volumes"], json!(["/srv/a$LEAK:/in/$LEAK:ro"]));
    // Keys are never interpolated: `note.$key` stays as written.
    assert_eq!(
        shell["labels"],
        json!({
            "obsbuild.stack": "dollars", "obsbuild.service": "shell",
            "note.$key": "${HOME}", "cost": "cost $5", "three": "$$$", "trailing": "ends in $",
        })
    );
    let shop = &apps.expect("the stack has an app")["services"]["shop"];
    assert_eq!(shop["command"], json!(["run", "${HOME}", "$"]));
    assert_eq!((&shop["environment"]["PRICE"], &shop["environment"]["TWO"]), (&json!("cost $5"), &json!("$$")));
    assert_eq!(shop["environment"]["OTEL_RESOURCE_ATTRIBUTES"], json!("note=b$c"));
    assert_eq!(shop["labels"]["shop.$"], json!("$LEAK"));
}
