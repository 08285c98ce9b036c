//! `obsbuild export` against hostile and careless folders: marker lines naming files
//! outside `--out`, symbolic links, FIFOs, concurrent exports and exports killed mid-way.
//! Every command runs under a deadline, so a hang fails the test instead of stalling it.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use super::common::{self, Rng};

const STACKS: [&str; 2] = ["task-manager", "scaibu"];
const MARKER: &str = ".obsbuild-export";
/// Far more than an export takes (tens of milliseconds), on a loaded machine too.
const DEADLINE: Duration = Duration::from_secs(60);
/// How soon a command must give up on a FIFO.
const AT_ONCE: Duration = Duration::from_secs(5);

fn export(state: &Path, stack: &str, out: &Path, extra: &[&str]) -> Command {
    let mut c = common::obsbuild();
    c.arg("--state-dir").arg(state).arg("export").arg(format!("stacks/{stack}.rhai")).arg("--out").arg(out);
    c.args(extra).current_dir(common::root()).stdin(Stdio::null());
    c
}

/// Waits for `child`, killing it and failing the test if it outlives `limit`.
fn wait_for(mut child: Child, limit: Duration, what: &str) -> Output {
    if !common::wait_until(limit, || child.try_wait().unwrap().is_some()) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{what} still ran after {limit:?}: it hangs");
    }
    child.wait_with_output().unwrap()
}

/// Runs a command under `limit`; its output is small enough for the pipes.
fn run(cmd: &mut Command, limit: Duration) -> Output {
    let what = format!("{cmd:?}");
    wait_for(cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap(), limit, &what)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The files a stack's export writes under `--out`, the marker included.
fn expected(stack: &str) -> BTreeSet<String> {
    let built = common::build(&format!("stacks/{stack}.rhai"));
    let mut files: BTreeSet<String> = built.build.files.keys().filter(|p| !p.starts_with(".obsbuild/")).cloned().collect();
    files.insert(MARKER.to_owned());
    files
}

/// Everything under `dir` that is not a folder, and the folders, by relative path.
fn tree(dir: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut files, mut dirs) = (BTreeSet::new(), BTreeSet::new());
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if fs::symlink_metadata(&path).unwrap().is_dir() {
                dirs.insert(rel);
                todo.push(path);
            } else {
                files.insert(rel);
            }
        }
    }
    (files, dirs)
}

/// Asserts that `out` holds exactly `stack`'s export: its files, the marker, the folders
/// they need, nothing else.
fn assert_exactly(out: &Path, stack: &str, when: &str) {
    let want = expected(stack);
    let (files, dirs) = tree(out);
    assert_eq!(files, want, "{when}: `{}` is not exactly the export of `{stack}`", out.display());
    let mut parents = BTreeSet::new();
    for f in &want {
        let mut p = Path::new(f).parent();
        while let Some(dir) = p.filter(|d| !d.as_os_str().is_empty()) {
            parents.insert(dir.to_string_lossy().into_owned());
            p = dir.parent();
        }
    }
    assert_eq!(dirs, parents, "{when}: folders left over in `{}`", out.display());
}

/// The stack the marker in `out` names.
fn marker_stack(out: &Path) -> String {
    let text = fs::read_to_string(out.join(MARKER)).unwrap();
    let head = text.lines().next().unwrap();
    head.split('`').nth(3).unwrap_or_else(|| panic!("marker header `{head}`")).to_owned()
}

fn assert_up_to_date(state: &Path, stack: &str, out: &Path, when: &str) {
    let check = run(&mut export(state, stack, out, &["--check"]), DEADLINE);
    assert_eq!(check.status.code(), Some(0), "{when}: `export {stack} --check` says stale:\n{}{}", String::from_utf8_lossy(&check.stdout), stderr(&check));
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

/// A folder holding the export of `task-manager`.
fn exported(tmp: &Path) -> PathBuf {
    let out = tmp.join("out");
    let first = run(&mut export(tmp, "task-manager", &out, &[]), DEADLINE);
    assert!(first.status.success(), "{}", stderr(&first));
    out
}

#[test]
fn marker_lines_naming_files_outside_the_folder_are_refused_with_their_line_and_delete_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = exported(tmp.path());
    let marker = out.join(MARKER);
    let good = fs::read_to_string(&marker).unwrap();
    let line = good.lines().count() + 1;
    fs::create_dir(out.join("a")).unwrap();
    let absolute = tmp.path().join("absolute-victim");
    let cases: [(String, PathBuf); 6] = [
        (absolute.to_str().unwrap().to_owned(), absolute.clone()),
        ("../outside".to_owned(), tmp.path().join("outside")),
        ("a/../../b".to_owned(), tmp.path().join("b")),
        ("./x".to_owned(), out.join("x")),
        ("configs//loki.yaml".to_owned(), out.join("configs/loki.yaml")),
        ("a\\b".to_owned(), out.join("a\\b")),
    ];
    for (bad, victim) in &cases {
        if !victim.exists() {
            fs::write(victim, "not export's").unwrap();
        }
        let before = fs::read(victim).unwrap();
        fs::write(&marker, format!("{good}{bad}\n")).unwrap();
        // Another stack: the bad line is a file the build no longer has, to be removed.
        for extra in [&[][..], &["--check"][..]] {
            let o = run(&mut export(tmp.path(), "scaibu", &out, extra), DEADLINE);
            assert_eq!(o.status.code(), Some(2), "marker line `{bad}` {extra:?} was accepted:\n{}", stderr(&o));
            let wanted = format!("`{}`, line {line}:", marker.display());
            assert!(stderr(&o).contains(&wanted), "marker line `{bad}`: {}", stderr(&o));
        }
        assert_eq!(fs::read(victim).unwrap(), before, "marker line `{bad}` touched `{}`", victim.display());
    }
    fs::write(&marker, &good).unwrap();
    assert!(run(&mut export(tmp.path(), "scaibu", &out, &[]), DEADLINE).status.success());
    assert!(absolute.exists() && tmp.path().join("outside").exists() && tmp.path().join("b").exists());
}

#[test]
fn a_marker_that_is_not_one_export_wrote_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = exported(tmp.path());
    let marker = out.join(MARKER);
    let good = fs::read(&marker).unwrap();
    let huge = [good.clone(), "configs/x\n".repeat(200_000).into_bytes()].concat();
    let cases: [(&[u8], &str); 4] = [
        (b"README.md\n", "line 1:"),
        (&good[..good.len() - 1], "is cut short"),
        (b"# Files written by `obsbuild export` of stack `task-manager`; do not edit.\n\xff\xfe\n", "line 2: is not UTF-8"),
        (&huge, "is larger than"),
    ];
    for (bytes, why) in cases {
        fs::write(&marker, bytes).unwrap();
        let o = run(&mut export(tmp.path(), "task-manager", &out, &[]), DEADLINE);
        assert_eq!(o.status.code(), Some(2), "{why}: {}", stderr(&o));
        assert!(stderr(&o).contains(&format!("`{}`", marker.display())) && stderr(&o).contains(why), "{why}: {}", stderr(&o));
        assert!(out.join("configs/loki.yaml").is_file());
    }
    fs::remove_file(&marker).unwrap();
    fs::create_dir(&marker).unwrap();
    let o = run(&mut export(tmp.path(), "task-manager", &out, &[]), DEADLINE);
    assert!(stderr(&o).contains("is a folder, not a regular file"), "{}", stderr(&o));
}

/// A file outside `--out` with a known content and an old mtime, to see it is not touched.
fn planted(path: &Path, content: &[u8]) -> (Vec<u8>, SystemTime) {
    fs::write(path, content).unwrap();
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    File::options().write(true).open(path).unwrap().set_modified(old).unwrap();
    (content.to_vec(), old)
}

fn assert_untouched(path: &Path, was: &(Vec<u8>, SystemTime), when: &str) {
    assert_eq!(&fs::read(path).unwrap(), &was.0, "{when}: `{}` was written", path.display());
    assert_eq!(fs::metadata(path).unwrap().modified().unwrap(), was.1, "{when}: `{}` was written", path.display());
}

#[test]
fn links_inside_the_folder_are_refused_naming_them_and_nothing_outside_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = exported(tmp.path());
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let good_marker = fs::read(out.join(MARKER)).unwrap();
    let files = [
        (outside.join("marker"), planted(&outside.join("marker"), &good_marker)),
        (outside.join("loki.yaml"), planted(&outside.join("loki.yaml"), b"secret: 1\n")),
        (outside.join("compose"), planted(&outside.join("compose"), b"services: {}\n")),
    ];
    let aside = tmp.path().join("aside");
    // (what is replaced by a link, where the link points)
    let cases = [(MARKER, outside.join("marker")), ("configs", outside.clone()), ("docker-compose.yml", outside.join("compose"))];
    for (name, target) in &cases {
        fs::rename(out.join(name), &aside).unwrap();
        std::os::unix::fs::symlink(target, out.join(name)).unwrap();
        for (stack, extra) in [("task-manager", &[][..]), ("scaibu", &[][..]), ("task-manager", &["--check"][..])] {
            let o = run(&mut export(tmp.path(), stack, &out, extra), DEADLINE);
            let when = format!("`{name}` a link, export {stack} {extra:?}");
            assert_eq!(o.status.code(), Some(2), "{when}: {}", stderr(&o));
            let wanted = format!("`{}` is a symbolic link; export writes only real files and folders inside --out", out.join(name).display());
            assert!(stderr(&o).contains(&wanted), "{when}: {}", stderr(&o));
            for (path, was) in &files {
                assert_untouched(path, was, &when);
            }
        }
        fs::remove_file(out.join(name)).unwrap();
        fs::rename(&aside, out.join(name)).unwrap();
    }
    assert!(run(&mut export(tmp.path(), "scaibu", &out, &[]), DEADLINE).status.success());
    assert_exactly(&out, "scaibu", "after the links went");
}

#[test]
fn an_apps_file_that_is_a_link_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let victim = tmp.path().join("victim.yml");
    let was = planted(&victim, b"mine\n");
    let apps = tmp.path().join("apps.yml");
    std::os::unix::fs::symlink(&victim, &apps).unwrap();
    for extra in [&["--apps-out", apps.to_str().unwrap()][..], &["--apps-out", apps.to_str().unwrap(), "--check"][..]] {
        let o = run(&mut export(tmp.path(), "task-manager", &out, extra), DEADLINE);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(&format!("--apps-out `{}` is a symbolic link", apps.display())), "{}", stderr(&o));
        assert_untouched(&victim, &was, "--apps-out a link");
    }
}

#[test]
fn fifos_are_refused_at_once_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = exported(tmp.path());
    let apps = tmp.path().join("apps.yml");
    // (the FIFO, the arguments that make export read it)
    let cases: [(PathBuf, Vec<&str>); 3] = [
        (out.join(MARKER), vec![]),
        (out.join("configs/loki.yaml"), vec![]),
        (apps.clone(), vec!["--apps-out", apps.to_str().unwrap()]),
    ];
    for (fifo, args) in &cases {
        let aside = tmp.path().join("aside");
        let had = fifo.exists();
        if had {
            fs::rename(fifo, &aside).unwrap();
        }
        mkfifo(fifo);
        for check in [false, true] {
            let mut extra = args.clone();
            if check {
                extra.push("--check");
            }
            let started = Instant::now();
            let o = run(&mut export(tmp.path(), "task-manager", &out, &extra), AT_ONCE);
            assert!(started.elapsed() < AT_ONCE);
            assert_eq!(o.status.code(), Some(2), "{} {extra:?}: {}", fifo.display(), stderr(&o));
            assert!(stderr(&o).contains(&format!("`{}`", fifo.display())) && stderr(&o).contains("FIFO"), "{}", stderr(&o));
        }
        assert!(fs::symlink_metadata(fifo).unwrap().file_type().is_fifo(), "the FIFO is left as it was");
        fs::remove_file(fifo).unwrap();
        if had {
            fs::rename(&aside, fifo).unwrap();
        }
    }
}

#[test]
fn concurrent_exports_of_two_stacks_leave_one_whole_export_every_round() {
    const ROUNDS: usize = 50;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let started = Instant::now();
    let mut last = BTreeSet::new();
    for round in 0..ROUNDS {
        let children: Vec<(&str, Child)> = STACKS
            .iter()
            .map(|s| (*s, export(tmp.path(), s, &out, &[]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()))
            .collect();
        for (stack, child) in children {
            let o = wait_for(child, DEADLINE, stack);
            assert!(o.status.success(), "round {round}: export {stack} failed: {}", stderr(&o));
        }
        let stack = marker_stack(&out);
        last.insert(stack.clone());
        let when = format!("round {round}");
        assert_up_to_date(tmp.path(), &stack, &out, &when);
        assert_exactly(&out, &stack, &when);
    }
    eprintln!("{ROUNDS} rounds of two concurrent exports in {:?}; the last writer was {last:?}", started.elapsed());
}


#[test]
fn an_export_killed_at_any_point_is_repaired_by_the_next() {
    const ROUNDS: u32 = 20;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // How long an export of the other stack takes, to aim the kills inside it.
    let typical = {
        run(&mut export(tmp.path(), "scaibu", &out, &[]), DEADLINE);
        let started = Instant::now();
        assert!(run(&mut export(tmp.path(), "task-manager", &out, &[]), DEADLINE).status.success());
        started.elapsed().as_micros() as u64
    };
    let mut rng = Rng(0x5eed);
    let (mut killed, mut interrupted) = (0, 0);
    for round in 0..ROUNDS {
        let stack = STACKS[round as usize % 2];
        let child = export(tmp.path(), stack, &out, &[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        // When to kill is what this test varies: a sleep by design, not a wait for anything.
        std::thread::sleep(Duration::from_micros(typical / 3 + rng.below(typical * 2 / 3)));
        let mut child = child;
        let _ = child.kill();
        if !child.wait().unwrap().success() {
            killed += 1;
            let (files, _) = tree(&out);
            let unfinished = fs::read_to_string(out.join(MARKER)).is_ok_and(|m| m.contains("unfinished"));
            if unfinished || files.iter().any(|f| f.contains(".obsbuild-export-tmp-")) {
                interrupted += 1;
            }
        }
        let next = STACKS[rng.below(2) as usize];
        let when = format!("round {round}: {stack} killed, then {next}");
        let o = run(&mut export(tmp.path(), next, &out, &[]), DEADLINE);
        assert!(o.status.success(), "{when}: {}", stderr(&o));
        assert_up_to_date(tmp.path(), next, &out, &when);
        assert_exactly(&out, next, &when);
    }
    eprintln!("{ROUNDS} exports killed after {}-{} µs: {killed} before they finished, {interrupted} of them mid-write", typical / 3, typical);
}

#[test]
fn a_closed_pipe_does_not_crash_a_check() {
    let tmp = tempfile::tempdir().unwrap();
    let out = exported(tmp.path());
    let mut child = export(tmp.path(), "scaibu", &out, &["--check"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let o = wait_for(child, DEADLINE, "export --check | (closed)");
    // A command that only reads stops when its output goes away, as one killed by SIGPIPE.
    assert_eq!(o.status.code(), Some(141), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}
