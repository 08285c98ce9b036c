//! Traefik's static configuration, written as `--a.b.c=value` flags in `command`.

use crate::model::{Service, Tree};

/// The flags of `s`'s command as a settings tree, keys as written (Traefik reads them in
/// any case); a flag that is no `--path=value` is left to Traefik.
pub fn tree(s: &Service) -> Tree {
    let mut tree = Tree::Object(Default::default());
    for arg in s.command.iter().flatten().chain(&s.args) {
        let Some(flag) = arg.strip_prefix("--") else { continue };
        let (path, value) = flag.split_once('=').unwrap_or((flag, "true"));
        let parts: Vec<&str> = path.split('.').collect();
        crate::model::set_path(&mut tree, &parts, Tree::String(value.to_owned()));
    }
    tree
}
