//! Files of a plain container, written as the script gave them.

use super::Doc;
use crate::build::layout::service_dir;
use crate::model::{Container, FileFormat, Service, Tree};

pub fn files(service: &Service, c: &Container, header: &[String]) -> Vec<(String, String)> {
    let lines: Vec<&str> = header.iter().map(String::as_str).collect();
    c.files
        .iter()
        .map(|(path, file)| {
            let text = match (file.format, &file.content) {
                (FileFormat::Text, Tree::String(s)) => s.clone(),
                (FileFormat::Json, content) => Doc::from_tree(content).to_json(),
                (_, content) => crate::yaml::emit(&Doc::from_tree(content), &lines),
            };
            (format!("{}/{path}", service_dir(service)), text)
        })
        .collect()
}
