//! The schema files themselves: each parses, the embedded list is the folder, and every
//! reference names a definition that exists.

use super::format::Node;
use super::registry::Registry;
use crate::model::Version;

#[test]
fn every_schema_file_parses_with_its_header() {
    for (id, parsed) in Registry::get().all() {
        let file = parsed.unwrap_or_else(|e| panic!("{e}"));
        let dir = id.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        assert_eq!(file.component, dir, "schemas/{id}.json: `component` is not its folder");
        assert!(file.versions.from < file.versions.below, "schemas/{id}.json: empty version range");
        assert!(!file.source.repository.is_empty() && !file.source.tag.is_empty() && !file.source.files.is_empty(), "schemas/{id}.json: no source");
        assert!(file.docs.starts_with("https://"), "schemas/{id}.json: no docs page");
    }
}

#[test]
fn the_embedded_list_is_the_schemas_folder() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let mut on_disk = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "tools") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "json") {
                let rel = p.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
                on_disk.push(rel.trim_end_matches(".json").to_owned());
            }
        }
    }
    on_disk.sort();
    let listed: Vec<String> = Registry::get().all().map(|(id, _)| id.to_owned()).collect();
    assert_eq!(listed, on_disk, "src/validate/schema/files.rs and schemas/ disagree");
}

#[test]
fn every_reference_resolves() {
    fn walk(registry: &Registry, file: &str, node: &Node, at: &str) {
        match node {
            Node::Ref(name) => {
                let (target, in_file) = registry.definition(file, name).unwrap_or_else(|| panic!("schemas/{file}.json: {at} refers to missing `{name}`"));
                // One hop is enough to prove it exists; definitions are walked on their own.
                let _ = (target, in_file);
            }
            Node::Object { keys, additional, required } => {
                for r in required {
                    assert!(keys.contains_key(r), "schemas/{file}.json: {at} requires `{r}`, which it does not have");
                }
                for (k, v) in keys {
                    walk(registry, file, v, &format!("{at}.{k}"));
                }
                if let Some(a) = additional {
                    walk(registry, file, a, &format!("{at}.*"));
                }
            }
            Node::List(of) => walk(registry, file, of, &format!("{at}[]")),
            Node::OneOf(nodes) => {
                for (i, n) in nodes.iter().enumerate() {
                    walk(registry, file, n, &format!("{at}|{i}"));
                }
            }
            _ => {}
        }
    }
    let registry = Registry::get();
    for (id, parsed) in registry.all() {
        let file = parsed.unwrap();
        for (name, node) in &file.defs {
            walk(registry, id, node, name);
        }
        if let Some(root) = &file.root {
            walk(registry, id, root, "root");
        }
    }
}

#[test]
fn versions_pick_their_schema() {
    use super::registry::Lookup;
    let r = Registry::get();
    assert!(matches!(r.lookup("loki", Some(Version::new(3, 7, 6))), Lookup::Found { id: "loki/3.7", .. }));
    assert!(matches!(r.lookup("prometheus", Some(Version::new(2, 53, 0))), Lookup::Found { id: "prometheus/2.53", .. }));
    assert!(matches!(r.lookup("prometheus", None), Lookup::Found { id: "prometheus/3.14", .. }));
    assert!(matches!(r.lookup("loki", Some(Version::new(2, 9, 0))), Lookup::OtherVersions(_)));
    assert!(matches!(r.lookup("otel-collector/processor/transform", None), Lookup::None));
}
