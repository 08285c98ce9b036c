//! The crate's modules import each other in one direction only: the order is the fenced
//! `layers` block of docs/ARCHITECTURE.md (one place for it), each line a layer that may
//! import only the lines above it; and no two files of one folder import each other, even
//! through others. Test code is left out: it may build fixtures with any stage.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, top of the file first, from the architecture document.
fn layers() -> Vec<Vec<String>> {
    let doc = std::fs::read_to_string(super::common::root().join("docs/ARCHITECTURE.md")).unwrap();
    let block = doc.split("```layers\n").nth(1).and_then(|rest| rest.split("```").next()).expect("a ```layers block");
    block
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Every `.rs` file under `dir`, as its path relative to `src/`.
fn sources(dir: &Path, under: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, under, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.strip_prefix(under).unwrap().to_path_buf());
        }
    }
}

fn is_test_file(rel: &Path) -> bool {
    rel.components().any(|c| c.as_os_str() == "tests") || rel.file_name().is_some_and(|n| n == "tests.rs")
}

/// The text of a file without its inline test modules (`#[cfg(test)] mod tests { .. }`).
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]\nmod tests {") {
        out.push_str(&rest[..at]);
        let body = &rest[at + "#[cfg(test)]\nmod tests {".len()..];
        let Some(end) = matching_brace(body) else { return out };
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The code of a file without its comments: a `//` at the start of a line or after a space
/// begins one (`"http://..."` in a string does not).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| {
            let cut = l.match_indices("//").find(|(i, _)| *i == 0 || l[..*i].ends_with(char::is_whitespace)).map(|(i, _)| i);
            &l[..cut.unwrap_or(l.len())]
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Paths a file's code names through `crate::`, each as its segments (`crate::{a::b, c}`
/// gives two).
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '"' || c == '`') {
            continue;
        }
        out.extend(paths_at(rest, Vec::new()));
    }
    out
}

/// The paths a `use` tree starting at `text` names, after `prefix`.
fn paths_at(text: &str, prefix: Vec<String>) -> Vec<Vec<String>> {
    let mut path = prefix;
    let mut rest = text;
    loop {
        if let Some(inner) = rest.strip_prefix('{') {
            let Some(end) = matching_brace(inner) else { return vec![path] };
            return split_top(&inner[..end]).into_iter().flat_map(|part| paths_at(part.trim(), path.clone())).collect();
        }
        let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if len == 0 {
            return vec![path];
        }
        path.push(rest[..len].to_owned());
        rest = &rest[len..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => return vec![path],
        }
    }
}

fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn split_top(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The module path of a file: `a/b/mod.rs` and `a/b.rs` are both `a::b`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    match last.as_str() {
        "mod.rs" | "lib.rs" | "main.rs" => {}
        other => parts.push(other.trim_end_matches(".rs").to_owned()),
    }
    parts
}

struct Source {
    module: Vec<String>,
    rel: PathBuf,
    /// Everything it names through `crate::`, and through `super::` resolved.
    names: Vec<Vec<String>>,
}

fn read_sources() -> Vec<Source> {
    let src = super::common::root().join("src");
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|rel| !is_test_file(rel))
        .map(|rel| {
            let text = std::fs::read_to_string(src.join(&rel)).unwrap();
            let code = code(&without_tests(&text));
            let text = code.as_str();
            let module = module_of(&rel);
            let mut names = crate_paths(text);
            // `super::x` from a file is its parent module's `x`.
            let parent: Vec<String> = module.iter().take(module.len().saturating_sub(1)).cloned().collect();
            let mut rest = text;
            while let Some(at) = rest.find("super::") {
                let before = rest[..at].chars().last();
                rest = &rest[at + "super::".len()..];
                if before.is_some_and(|c| c == ':' || c.is_alphanumeric()) {
                    continue;
                }
                names.extend(paths_at(rest, parent.clone()));
            }
            Source { module, rel, names }
        })
        .collect()
}

#[test]
fn modules_import_only_the_layers_below_them() {
    let layers = layers();
    let rank: BTreeMap<&str, usize> =
        layers.iter().enumerate().flat_map(|(i, l)| l.iter().map(move |m| (m.as_str(), i))).collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for s in read_sources() {
        let Some(top) = s.module.first() else { continue };
        seen.insert(top.clone());
        let Some(&own) = rank.get(top.as_str()) else {
            problems.push(format!("src/{} is in module `{top}`, which the layers of docs/ARCHITECTURE.md do not list", s.rel.display()));
            continue;
        };
        for name in &s.names {
            let Some(other) = name.first() else { continue };
            if other == top {
                continue;
            }
            match rank.get(other.as_str()) {
                Some(&r) if r < own => {}
                Some(_) => problems.push(format!("src/{} (layer `{top}`) imports `{}`, which is not below it", s.rel.display(), name.join("::"))),
                None => {}
            }
        }
    }
    for m in rank.keys() {
        assert!(seen.contains(*m), "docs/ARCHITECTURE.md lists `{m}`, which src/ has no module for");
    }
    assert!(problems.is_empty(), "imports against the layers of docs/ARCHITECTURE.md:\n{}", problems.join("\n"));
}

#[test]
fn no_two_files_of_a_folder_import_each_other() {
    let sources = read_sources();
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    // Edges between sibling modules (children of one parent, the parent itself aside).
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for s in &sources {
        if s.module.is_empty() {
            continue;
        }
        let parent = &s.module[..s.module.len() - 1];
        for name in &s.names {
            if name.len() <= parent.len() || name[..parent.len()] != *parent {
                continue;
            }
            let sibling: Vec<String> = name[..=parent.len()].to_vec();
            if sibling != s.module && modules.contains(&sibling) {
                edges.entry(s.module.clone()).or_default().insert(sibling);
            }
        }
    }
    // A cycle is an edge whose target reaches back to its source.
    let reaches = |from: &Vec<String>, to: &Vec<String>| {
        let (mut stack, mut seen) = (vec![from.clone()], BTreeSet::new());
        while let Some(m) = stack.pop() {
            if &m == to {
                return true;
            }
            if seen.insert(m.clone()) {
                stack.extend(edges.get(&m).into_iter().flatten().cloned());
            }
        }
        false
    };
    let mut cycles = Vec::new();
    for (from, tos) in &edges {
        for to in tos {
            if reaches(to, from) {
                cycles.push(format!("{} -> {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(cycles.is_empty(), "files of one folder that import each other (through others or not):\n{}", cycles.join("\n"));
}

#[test]
fn the_reader_finds_what_use_lines_name() {
    let paths = crate_paths(&code("use crate::{a::{b, c::D}, e};\nlet x = crate::f::g(); // crate::comment\n"));
    assert_eq!(paths, vec![vec!["a", "b"], vec!["a", "c", "D"], vec!["e"], vec!["f", "g"]]);
    assert!(crate_paths(&code("// use crate::x;\n//! [`crate::y`]\n")).is_empty());
    assert_eq!(code("let u = \"http://x\"; // note"), "let u = \"http://x\"; ");
}
