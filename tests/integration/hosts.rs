//! `hosts_entry` and `obsbuild hosts`: the block it prints and writes, idempotence,
//! changes, removal, broken blocks, and `down` taking the block out. Every write goes to
//! a temporary file, never to the machine's /etc/hosts.

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, SystemTime};

use obsbuild::apply;
use obsbuild::runtime::fake::Fake;
use obsbuild::store::Store;

use super::common;

/// A project with one stack script, a state folder and a hosts file, all temporary.
pub(super) struct World {
    tmp: tempfile::TempDir,
    project: PathBuf,
}

pub(super) const ORIGINAL: &str = "127.0.0.1\tlocalhost\n# the machine's own lines\n10.0.0.5 nas\n";

impl World {
    pub(super) fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let project = common::project(tmp.path());
        World { tmp, project }
    }

    pub(super) fn state(&self) -> PathBuf {
        self.tmp.path().join("state")
    }

    pub(super) fn hosts_file(&self) -> PathBuf {
        self.tmp.path().join("hosts")
    }

    /// Writes `stacks/h.rhai` with these `hosts_entry` lines.
    pub(super) fn script(&self, entries: &str) {
        let text = format!(
            "stack(\"h\");\nservice(\"web\", #{{ image: \"busybox:1.36.1\" }});\n{entries}"
        );
        std::fs::write(self.project.join("stacks/h.rhai"), text).unwrap();
    }

    pub(super) fn obsbuild(&self, args: &[&str]) -> Output {
        common::obsbuild()
            .arg("--state-dir")
            .arg(self.state())
            .args(args)
            .current_dir(&self.project)
            .output()
            .unwrap()
    }

    pub(super) fn ok(&self, args: &[&str]) -> Output {
        let out = self.obsbuild(args);
        assert!(
            out.status.success(),
            "{args:?} failed:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        out
    }

    pub(super) fn apply(&self) -> Output {
        let file = self.hosts_file();
        self.ok(&["hosts", "h", "--apply", "--file", file.to_str().unwrap()])
    }

    pub(super) fn read(&self) -> String {
        std::fs::read_to_string(self.hosts_file()).unwrap()
    }

    pub(super) fn recorded(&self) -> Vec<PathBuf> {
        Store::open(&self.state())
            .unwrap()
            .profile("h")
            .hosts_files()
            .unwrap()
    }
}

pub(super) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const BLOCK: &str = "\
# BEGIN obsbuild h: managed by obsbuild; edit the stack instead
127.0.1.1\th.grafana h.prometheus
::1\th.v6
# END obsbuild h
";

#[test]
fn prints_then_writes_once_changes_and_removes() {
    let w = World::new();
    w.script("hosts_entry(\"127.0.1.1\", \"h.prometheus\");\nhosts_entry(\"::1\", \"h.v6\");\nhosts_entry(\"127.0.1.1\", \"h.grafana\");\n");
    let unbuilt = w.obsbuild(&["hosts", "stacks/h.rhai"]);
    assert_eq!(unbuilt.status.code(), Some(2));
    assert!(
        text(&unbuilt.stderr).contains("run `obsbuild build stacks/h.rhai` first"),
        "{}",
        text(&unbuilt.stderr)
    );
    w.ok(&["build", "stacks/h.rhai"]);

    // Without --apply: the block on stdout, nothing written.
    let printed = w.ok(&["hosts", "h", "--file", w.hosts_file().to_str().unwrap()]);
    assert_eq!(text(&printed.stdout), BLOCK);
    assert!(!w.hosts_file().exists());

    std::fs::write(w.hosts_file(), ORIGINAL).unwrap();
    let first = w.apply();
    assert!(
        text(&first.stderr).contains("wrote the host names of `h` (build 1)"),
        "{}",
        text(&first.stderr)
    );
    assert_eq!(w.read(), format!("{ORIGINAL}{BLOCK}"));
    assert_eq!(w.recorded(), vec![w.hosts_file()]);

    // Again: the file is not written at all (same inode, same old mtime).
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(w.hosts_file())
        .unwrap()
        .set_modified(old)
        .unwrap();
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(w.hosts_file()).unwrap());
    let again = w.apply();
    assert!(
        text(&again.stderr).contains("not written"),
        "{}",
        text(&again.stderr)
    );
    let meta = std::fs::metadata(w.hosts_file()).unwrap();
    assert_eq!(
        (
            meta.modified().unwrap(),
            std::os::unix::fs::MetadataExt::ino(&meta)
        ),
        (old, inode)
    );

    // Someone adds a line after the block; then the entries change.
    std::fs::write(
        w.hosts_file(),
        format!("{ORIGINAL}{BLOCK}192.168.1.9 printer\n"),
    )
    .unwrap();
    w.script("hosts_entry(\"127.0.1.2\", \"h.grafana\");\n");
    w.ok(&["build", "stacks/h.rhai"]);
    w.apply();
    let changed = "# BEGIN obsbuild h: managed by obsbuild; edit the stack instead\n127.0.1.2\th.grafana\n# END obsbuild h\n";
    assert_eq!(
        w.read(),
        format!("{ORIGINAL}{changed}192.168.1.9 printer\n")
    );

    // No entries any more: the block goes, the file is the user's own again, the record too.
    w.script("");
    w.ok(&["build", "stacks/h.rhai"]);
    let none = w.ok(&["hosts", "h"]);
    assert_eq!(text(&none.stdout), "");
    let removed = w.apply();
    assert!(
        text(&removed.stderr).contains("removed the block of `h`"),
        "{}",
        text(&removed.stderr)
    );
    assert_eq!(w.read(), format!("{ORIGINAL}192.168.1.9 printer\n"));
    assert!(w.recorded().is_empty());
}

#[test]
fn a_file_without_a_final_line_break_gets_its_bytes_back() {
    let w = World::new();
    w.script("hosts_entry(\"127.0.1.1\", \"h.grafana\");\n");
    w.ok(&["build", "stacks/h.rhai"]);
    let mine = "127.0.0.1 localhost\n# other tool\n# BEGIN obsbuild other: managed by obsbuild; edit the stack instead\n127.0.2.1\tother.x\n# END obsbuild other";
    std::fs::write(w.hosts_file(), mine).unwrap();
    w.apply();
    let with = w.read();
    // The original bytes, the break its last line lacked, and a block that ends with one.
    assert!(
        with.starts_with(&format!("{mine}\n# BEGIN obsbuild h")) && with.ends_with("# END obsbuild h\n"),
        "{with:?}"
    );
    w.apply();
    assert_eq!(w.read(), with);
    w.script("");
    w.ok(&["build", "stacks/h.rhai"]);
    w.apply();
    assert_eq!(w.read(), mine);
}

#[test]
fn a_broken_block_is_an_error_that_says_what_to_fix() {
    let w = World::new();
    w.script("hosts_entry(\"127.0.1.1\", \"h.grafana\");\n");
    w.ok(&["build", "stacks/h.rhai"]);
    let broken = format!(
        "{ORIGINAL}# BEGIN obsbuild h: managed by obsbuild; edit the stack instead\n127.0.1.1 h.grafana\n"
    );
    std::fs::write(w.hosts_file(), &broken).unwrap();
    let out = w.obsbuild(&[
        "hosts",
        "h",
        "--apply",
        "--file",
        w.hosts_file().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("line 4")
            && err.contains("has no `# END obsbuild h` after it")
            && err.contains("delete the block"),
        "{err}"
    );
    assert!(err.contains(&w.hosts_file().display().to_string()), "{err}");
    assert_eq!(w.read(), broken, "a broken file is left alone");
}

/// `down` takes the block out of the file `hosts --apply` recorded, after the containers.
/// Against the in-memory runtime: `obsbuild down` itself needs Docker.
#[tokio::test]
async fn down_removes_the_block_it_wrote() {
    let w = World::new();
    w.script("hosts_entry(\"127.0.1.1\", \"h.grafana\");\n");
    w.ok(&["build", "stacks/h.rhai"]);
    std::fs::write(w.hosts_file(), ORIGINAL).unwrap();
    w.apply();
    assert_ne!(w.read(), ORIGINAL);

    let store = Store::open(&w.state()).unwrap();
    let mut notes = common::Notes::default();
    apply::down(&Fake::new(), &store, "h", false, &mut notes)
        .await
        .unwrap();
    assert_eq!(w.read(), ORIGINAL);
    assert!(w.recorded().is_empty());
    assert!(
        notes
            .0
            .iter()
            .any(|n| n.contains("removed the host names of `h`")),
        "{:?}",
        notes.0
    );

    // Nothing recorded: a second `down` leaves the file alone.
    apply::down(&Fake::new(), &store, "h", false, &mut notes)
        .await
        .unwrap();
    assert_eq!(w.read(), ORIGINAL);
}


/// A library function declaring names for the user: its errors land on the user's line.
#[test]
fn errors_from_a_library_land_on_the_users_line() {
    let w = World::new();
    let lib = "fn routes(o) {\n    for name in o.names {\n        hosts_entry(o.address, name);\n    }\n}\n";
    std::fs::write(w.project.join("lib/proxy.rhai"), lib).unwrap();
    let script = "import \"proxy\" as proxy;\nstack(\"p\");\nproxy::routes(#{ address: \"127.0.1.1\", names: [\"p.grafana\"] });\nproxy::routes(#{ address: \"127.0.1.2\", names: [\"p.grafana\"] });\n";
    let path = w.project.join("stacks/p.rhai");
    std::fs::write(&path, script).unwrap();
    let f = obsbuild::pipeline::build(&path, &Default::default()).unwrap_err();
    let shown = obsbuild::diagnostic::render_all(
        &f.diagnostics.0,
        &f.sources,
        obsbuild::diagnostic::Paint::Plain,
    );
    assert!(
        shown.contains("host name `p.grafana` is given two addresses: `127.0.1.1` and `127.0.1.2`"),
        "{shown}"
    );
    assert!(
        shown.contains("--> stacks/p.rhai:4:28") && shown.contains("::: stacks/p.rhai:3:28"),
        "{shown}"
    );
    assert!(
        shown.contains("note: declared by the library at lib/proxy.rhai:3:9"),
        "{shown}"
    );
}
