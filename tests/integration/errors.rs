//! Diagnostics of the scripts in `tests/errors/`, as snapshots: file:line:col, the line,
//! a caret under the offending text (also after multibyte characters and at column 1),
//! and the fix where there is an obvious one.

use super::common;

#[test]
fn every_error_script_gives_its_reviewed_diagnostic() {
    let dir = common::root().join("tests/errors");
    let (names, settings) = common::script_corpus("errors");
    assert!(names.len() >= 25, "the error corpus shrank: {names:?}");
    let produced = names.iter().map(|n| n.trim_end_matches(".rhai").to_owned()).collect();
    settings.bind(|| {
        for name in names {
            let path = dir.join(&name);
            let failure = match obsbuild::pipeline::build(&path, &Default::default()) {
                Ok(_) => panic!("tests/errors/{name} built without an error"),
                Err(f) => f,
            };
            let text = obsbuild::diagnostic::render_all(&failure.diagnostics.0, &failure.sources, obsbuild::diagnostic::Paint::Plain);
            // A script's own error is in it; one inside a user's module (tests/errors/modules/) is there.
            let here = text.contains(&format!("tests/errors/{name}:")) || text.contains("tests/errors/modules/");
            assert!(here, "{name}: no location in\n{text}");
            insta::assert_snapshot!(name.trim_end_matches(".rhai"), text);
        }
    });
    common::assert_no_orphan_snapshots("errors", "", &produced);
}

/// Colour goes only where asked: plain rendering has no escape codes.
#[test]
fn plain_diagnostics_have_no_escape_codes() {
    let path = common::root().join("tests/errors/column-one.rhai");
    let f = obsbuild::pipeline::build(&path, &Default::default()).unwrap_err();
    let plain = obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain);
    let ansi = obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Ansi);
    assert!(!plain.contains('\x1b'));
    assert!(ansi.contains("\x1b[1m\x1b[31merror"));
}
