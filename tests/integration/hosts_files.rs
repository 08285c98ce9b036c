//! Hosts files that are not what `hosts --apply` expects: a symbolic link to nothing, an
//! indented block, a FIFO, a socket or a folder, for `hosts` and for `down`. Nothing here
//! may hang: a command that blocks on a FIFO fails the test after a few seconds.

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use obsbuild::apply;
use obsbuild::runtime::fake::Fake;
use obsbuild::store::Store;

use super::hosts::{ORIGINAL, World, text};

/// Longer than any refusal takes, short enough for a hung command to fail the test soon.
const BOUND: Duration = Duration::from_secs(10);

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// Opens and closes the FIFO's writing end, so that a reader blocked on it goes on (and
/// reads nothing): how a test that hangs gets its process back.
fn unblock(fifo: &Path) {
    let _ = std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(fifo);
}

/// `obsbuild hosts h --apply --file FILE`, failing the test if it takes longer than
/// [`BOUND`] (after unblocking it, so that the test itself ends).
fn apply_bounded(w: &World, file: &Path) -> Output {
    let mut child = super::common::obsbuild()
        .arg("--state-dir")
        .arg(w.state())
        .args(["hosts", "h", "--apply", "--file"])
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if !super::common::wait_until(BOUND, || child.try_wait().unwrap().is_some()) {
        unblock(file);
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!("`hosts --apply --file {}` hung:\n{}", file.display(), text(&out.stderr));
    }
    child.wait_with_output().unwrap()
}

fn built() -> World {
    let w = World::new();
    w.script("hosts_entry(\"127.0.1.1\", \"h.grafana\");\n");
    w.ok(&["build", "stacks/h.rhai"]);
    w
}

/// A hosts file that is a link to nothing is an error naming the link and its target;
/// the link stays a link and the target is not created.
#[test]
fn a_dangling_link_is_refused_and_kept() {
    let w = built();
    let target = w.state().join("nowhere/hosts");
    std::os::unix::fs::symlink(&target, w.hosts_file()).unwrap();
    let out = apply_bounded(&w, &w.hosts_file());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("`{}` is a symbolic link to `{}`, which does not exist", w.hosts_file().display(), target.display())),
        "{err}"
    );
    let meta = std::fs::symlink_metadata(w.hosts_file()).unwrap();
    assert!(meta.file_type().is_symlink(), "the link was replaced");
    assert!(!target.exists());
    assert!(w.recorded().is_empty(), "a file that never held the block is not recorded");

    // Through a link to a file that exists, the file is written and the link kept.
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, ORIGINAL).unwrap();
    assert!(apply_bounded(&w, &w.hosts_file()).status.success());
    assert!(std::fs::symlink_metadata(w.hosts_file()).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&target).unwrap().contains("h.grafana"));
}

/// Marker lines with blanks around them are the block: it is replaced where it is.
#[test]
fn an_indented_block_is_replaced_in_place() {
    let w = built();
    let indented = format!(
        "{ORIGINAL}   # BEGIN obsbuild h: managed by obsbuild; edit the stack instead \t\n\t127.0.1.9 h.old\n\t# END obsbuild h  \n192.168.1.9 printer\n"
    );
    std::fs::write(w.hosts_file(), &indented).unwrap();
    w.apply();
    let block = "# BEGIN obsbuild h: managed by obsbuild; edit the stack instead\n127.0.1.1\th.grafana\n# END obsbuild h\n";
    assert_eq!(w.read(), format!("{ORIGINAL}{block}192.168.1.9 printer\n"));
    w.apply();
    assert_eq!(w.read().matches("# BEGIN obsbuild h").count(), 1);

    // An indented BEGIN without an END is an error naming its line; the file is kept.
    let unended = format!("{ORIGINAL}  # BEGIN obsbuild h: managed by obsbuild; edit the stack instead\n127.0.1.9 h.old\n");
    std::fs::write(w.hosts_file(), &unended).unwrap();
    let out = w.obsbuild(&["hosts", "h", "--apply", "--file", w.hosts_file().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("line 4") && err.contains("has no `# END obsbuild h` after it"), "{err}");
    assert_eq!(w.read(), unended);
}

/// A FIFO, a socket or a folder as `--file` is refused at once, naming the path.
#[test]
fn special_files_are_refused_at_once() {
    let w = built();
    let fifo = w.state().join("fifo");
    let socket = w.state().join("socket");
    let folder = w.state().join("folder");
    std::fs::create_dir_all(&folder).unwrap();
    mkfifo(&fifo);
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    for (path, what) in [(&fifo, "a FIFO (named pipe)"), (&socket, "a socket"), (&folder, "a folder")] {
        let started = Instant::now();
        let out = apply_bounded(&w, path);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&format!("`{}` is {what}, not a regular file", path.display())), "{err}");
        assert!(started.elapsed() < BOUND, "{what}");
    }
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind), "the FIFO is still there");
    assert!(w.recorded().is_empty());
}

/// `down` reads every hosts file it recorded: one that became a FIFO is refused at once.
/// Against the in-memory runtime, on a thread the test can stop waiting for.
#[test]
fn down_refuses_a_fifo_at_once() {
    let w = built();
    std::fs::write(w.hosts_file(), ORIGINAL).unwrap();
    w.apply();
    std::fs::remove_file(w.hosts_file()).unwrap();
    mkfifo(&w.hosts_file());

    let state = w.state();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let store = Store::open(&state).unwrap();
        let mut notes = super::common::Notes::default();
        let result = rt.block_on(apply::down(&Fake::new(), &store, "h", false, &mut notes));
        let _ = tx.send(result.map(|_| ()).map_err(|e| e.to_string()));
    });
    let result = match rx.recv_timeout(BOUND) {
        Ok(r) => r,
        Err(_) => {
            unblock(&w.hosts_file());
            panic!("`down` hung on the FIFO {}", w.hosts_file().display());
        }
    };
    let err = result.expect_err("down must fail on the FIFO");
    assert!(err.contains(&format!("`{}` is a FIFO (named pipe), not a regular file", w.hosts_file().display())), "{err}");
    assert!(err.contains("the containers of `h` are removed, but not its host names"), "{err}");
    assert_eq!(w.recorded(), vec![w.hosts_file()], "still recorded, for a later `down`");
}

/// Two projects, each with its own state folder, writing their blocks into one hosts file
/// at once: every round ends with both blocks (it lost one in 6 of 10 rounds).
#[test]
fn two_state_folders_writing_one_hosts_file_keep_both_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let hosts = tmp.path().join("hosts");
    let projects: Vec<std::path::PathBuf> = ["one", "two"]
        .iter()
        .map(|name| {
            std::fs::create_dir_all(tmp.path().join(name)).unwrap();
            let project = super::common::project(&tmp.path().join(name));
            let script = format!("stack(\"{name}\");\nservice(\"web\", #{{ image: \"busybox:1.36.1\" }});\nhosts_entry(\"127.0.1.1\", \"{name}.test\");\n");
            std::fs::write(project.join(format!("stacks/{name}.rhai")), script).unwrap();
            let built = super::common::obsbuild().arg("build").arg(name).current_dir(&project).output().unwrap();
            assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
            project
        })
        .collect();
    for round in 0..20 {
        std::fs::write(&hosts, ORIGINAL).unwrap();
        let children: Vec<_> = ["one", "two"]
            .iter()
            .zip(&projects)
            .map(|(name, project)| {
                super::common::obsbuild()
                    .args(["hosts", name, "--apply", "--file"])
                    .arg(&hosts)
                    .current_dir(project)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
        }
        let t = text(&std::fs::read(&hosts).unwrap());
        assert!(t.contains("one.test") && t.contains("two.test"), "round {round}: a block was lost:\n{t}");
        assert!(t.starts_with(ORIGINAL), "round {round}:\n{t}");
    }
}
