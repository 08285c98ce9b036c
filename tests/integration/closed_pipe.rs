//! Standard output that goes away (`| head`) or fills up (`> /dev/full`): never a panic,
//! never a success that did not happen.

use std::process::{Output, Stdio};

use super::common;

/// Runs obsbuild in `dir` with its standard output a pipe nobody reads.
fn closed(dir: &std::path::Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    common::obsbuild().args(args).current_dir(dir).env_remove("OBSBUILD_STACK").stdout(writer).stderr(Stdio::piped()).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_closed_pipe_ends_reading_commands_quietly_and_lets_others_finish() {
    let tmp = tempfile::tempdir().unwrap();
    let project = common::project(tmp.path());
    std::fs::copy(common::root().join("stacks/task-manager.rhai"), project.join("stacks/task-manager.rhai")).unwrap();
    // A build whose reader went away still builds and records: it changes state.
    let build = closed(&project, &["build"]);
    assert_eq!(build.status.code(), Some(0), "{}", stderr(&build));
    assert!(!stderr(&build).contains("panicked"), "{}", stderr(&build));
    let history = common::obsbuild().args(["history", "--json"]).current_dir(&project).output().unwrap();
    assert!(String::from_utf8_lossy(&history.stdout).contains("\"number\": 1"), "the build was not recorded");

    // Commands that only read stop with the status of a process killed by SIGPIPE.
    for args in [&["history"][..], &["check"], &["diff", "1", "1"], &["generations", "task-manager"], &["verify"]] {
        let out = closed(&project, args);
        assert!(!stderr(&out).contains("panicked"), "{args:?}: {}", stderr(&out));
        assert!(matches!(out.status.code(), Some(141) | Some(0) | Some(1)), "{args:?}: {:?} {}", out.status, stderr(&out));
    }
    let out = closed(&project, &["check"]);
    assert_eq!(out.status.code(), Some(141), "{}", stderr(&out));

    // A write that fails otherwise fails the command, and says so.
    let full = common::obsbuild()
        .args(["check"])
        .current_dir(&project)
        .stdout(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(full.status.code(), Some(2), "{}", stderr(&full));
    assert!(stderr(&full).contains("cannot write to standard output: No space left on device"), "{}", stderr(&full));
}
