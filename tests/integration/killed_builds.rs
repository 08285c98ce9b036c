//! `obsbuild build` killed with SIGKILL at random points, 60 times: no store path that
//! `verify` accepts is ever incomplete or wrong, and the next build succeeds.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{self, Rng};

/// A stack large enough that a build takes a few milliseconds, different in every round.
fn script(round: u32) -> String {
    let mut s = String::from("import \"prometheus\" as prometheus;\nstack(\"killed\");\nlet m = prometheus::server();\n");
    for i in 0..40 {
        s.push_str(&format!(
            "service(\"svc-{i}\", #{{ image: \"busybox:1.36.{round}\", environment: #{{ ROUND: \"{round}\", PAD: \"{}\" }} }});\n",
            "x".repeat(2000)
        ));
        s.push_str(&format!("m.alert(\"A{i}\", #{{ expr: \"up{{job=\\\"svc-{i}\\\"}} > {round}\" }});\n"));
    }
    s
}

fn obsbuild(state: &Path, stack: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_obsbuild"));
    c.arg("--state-dir").arg(state).arg("build").arg(stack).stdout(Stdio::null()).stderr(Stdio::null());
    c
}


#[test]
fn killed_builds_never_leave_an_accepted_incomplete_path() {
    let tmp = tempfile::tempdir().unwrap();
    let project = common::project(tmp.path());
    let stack = project.join("stacks/killed.rhai");
    let state = tmp.path().join("state");

    // What each round's build must contain, by store path name.
    let mut expected: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    let expect_round = |round: u32, expected: &mut BTreeMap<String, BTreeMap<String, Vec<u8>>>| {
        std::fs::write(&stack, script(round)).unwrap();
        let built = obsbuild::pipeline::build(&stack, &Default::default()).unwrap();
        expected.insert(obsbuild::store::Store::path_name(&built.build), built.build.files);
    };

    // How long an unhindered build takes, to aim the kills inside it.
    expect_round(0, &mut expected);
    let started = Instant::now();
    assert!(obsbuild(&state, &stack).status().unwrap().success());
    let typical = started.elapsed().as_micros() as u64;

    let mut rng = Rng(0x5eed);
    let mut killed_mid_write = 0;
    for round in 1..=60 {
        expect_round(round, &mut expected);
        let mut child = obsbuild(&state, &stack).spawn().unwrap();
        // When to kill is what this test varies: a sleep by design, not a wait for anything.
        std::thread::sleep(Duration::from_micros(rng.below(typical * 12 / 10)));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if !status.success() {
            killed_mid_write += 1;
        }

        let verify = Command::new(env!("CARGO_BIN_EXE_obsbuild")).arg("--state-dir").arg(&state).arg("verify").output().unwrap();
        assert_eq!(verify.status.code(), Some(0), "round {round}: verify found damage:\n{}", String::from_utf8_lossy(&verify.stdout));
        let store = obsbuild::store::Store::open(&state).unwrap();
        for path in store.list().unwrap() {
            let want = expected.get(&path.name).unwrap_or_else(|| panic!("round {round}: unexpected store path {}", path.name));
            assert_eq!(&store.read(&path).unwrap().files, want, "round {round}: {} is accepted but not complete", path.name);
        }
    }
    assert!(killed_mid_write >= 10, "only {killed_mid_write} kills landed before the build ended; aim earlier");

    // And the next build goes through.
    expect_round(1000, &mut expected);
    assert!(obsbuild(&state, &stack).status().unwrap().success());
}
