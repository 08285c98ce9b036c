//! Files of a plain container, written as the script gave them.

use super::{Doc, File};
use crate::build::FileKind;
use crate::build::layout::service_dir;
use crate::model::{Container, FileFormat, Service, Tree};

pub(crate) fn files(service: &Service, c: &Container, header: &[String]) -> Vec<File> {
    let lines: Vec<&str> = header.iter().map(String::as_str).collect();
    c.files
        .iter()
        .map(|(path, file)| {
            let (text, tree, format) = match (file.format, &file.content) {
                (FileFormat::Text, Tree::String(s)) => (s.clone(), None, FileFormat::Text),
                (FileFormat::Json, content) => {
                    let doc = Doc::from_tree(content);
                    (doc.to_json(), Some(doc.into_tree()), FileFormat::Json)
                }
                (_, content) => {
                    let doc = Doc::from_tree(content);
                    (crate::yaml::emit(&doc, &lines), Some(doc.into_tree()), FileFormat::Yaml)
                }
            };
            // A reader knows a file's format by its extension alone (a build loaded from the
            // store has nothing else): the tree is kept only where the extension says so, so
            // both read the same file the same way.
            let tree = tree.filter(|_| crate::build::format_of(path) == Some(format));
            File { path: format!("{}/{path}", service_dir(service)), text, kind: FileKind::ContainerFile, tree }
        })
        .collect()
}
