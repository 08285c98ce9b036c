//! Hosts files that are not what `hosts --apply` expects: an indented block.

use super::hosts::{ORIGINAL, World, text};

fn built() -> World {
    let w = World::new();
    w.script("hosts_entry(\"127.0.1.1\", \"h.grafana\");\n");
    w.ok(&["build", "stacks/h.rhai"]);
    w
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
