//! Where `import "x"` may look: the project's `lib/`, obsbuild's built-in library, and the
//! stack's own folder. Nothing else.
//!
//! Rhai's `FileModuleResolver` follows `../` and absolute paths, so this resolver is ours:
//! import names are checked as text first (no absolute paths, no `..`, a small alphabet),
//! then the file found is canonicalised and must still lie inside one of the allowed roots,
//! which rejects symlinks that point out. Each module is evaluated once; a module that is
//! still loading when it is imported again is an import cycle.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope};

use super::library;
use crate::diagnostic::Sources;

/// The folders a stack may read scripts from.
#[derive(Clone, Debug)]
pub struct Roots {
    /// The project root: names of scripts are shown relative to it.
    pub project: PathBuf,
    /// The folder of the stack being evaluated (canonical).
    pub stack_dir: PathBuf,
    /// The project's `lib/` (canonical), if it has one.
    pub lib: Option<PathBuf>,
}

/// A module that failed to resolve, with a message for the user.
#[derive(Clone, Debug)]
pub struct ImportError(pub String);

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImportError {}

pub struct Resolver {
    roots: Roots,
    max_file_size: u64,
    sources: Rc<RefCell<Sources>>,
    /// Modules already evaluated, by source name.
    loaded: RefCell<BTreeMap<Arc<str>, rhai::Shared<Module>>>,
    /// Source names of the scripts whose top level is running, outermost first; shared
    /// with the native functions, which need the last one to place calls made at top level.
    pub running: Rc<RefCell<Vec<Arc<str>>>>,
}

impl Resolver {
    pub fn new(
        roots: Roots,
        max_file_size: u64,
        sources: Rc<RefCell<Sources>>,
        running: Rc<RefCell<Vec<Arc<str>>>>,
    ) -> Self {
        Resolver { roots, max_file_size, sources, loaded: RefCell::new(BTreeMap::new()), running }
    }

    /// Finds the script an import names, as (source name, text).
    fn locate(&self, importer: Option<&str>, name: &str) -> Result<(Arc<str>, Arc<str>), String> {
        check_name(name)?;
        let file = if name.ends_with(".rhai") { name.to_owned() } else { format!("{name}.rhai") };
        let relative = name.starts_with("./");

        let mut candidates: Vec<PathBuf> = Vec::new();
        if relative {
            // Relative to the importing script, which must itself be a project file.
            let base = importer
                .map(|src| self.roots.project.join(src))
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| self.roots.stack_dir.clone());
            candidates.push(base.join(&file[2..]));
        } else {
            if let Some(lib) = &self.roots.lib {
                candidates.push(lib.join(&file));
            }
            if (self.roots.lib.is_none() || !candidates[0].exists())
                && let Some(text) = library::get(&file) {
                    let source: Arc<str> = format!("{}{file}", library::PREFIX).into();
                    return Ok((source, text.into()));
                }
            candidates.push(self.roots.stack_dir.join(&file));
        }

        for candidate in candidates {
            if !candidate.exists() {
                continue;
            }
            let real = candidate
                .canonicalize()
                .map_err(|e| format!("cannot read `{}`: {e}", self.show(&candidate)))?;
            let inside = real.starts_with(&self.roots.stack_dir)
                || self.roots.lib.as_ref().is_some_and(|lib| real.starts_with(lib));
            if !inside {
                return Err(format!(
                    "import `{name}` resolves to `{}`, outside the stack's folder and `lib/`; \
                     imports may not leave the project (a symlink pointing out is refused too)",
                    real.display()
                ));
            }
            let meta = std::fs::metadata(&real).map_err(|e| format!("cannot read `{name}`: {e}"))?;
            if !meta.is_file() {
                return Err(format!("import `{name}` names a folder, not a script"));
            }
            if meta.len() > self.max_file_size {
                return Err(format!(
                    "`{}` is {} bytes; scripts may be at most {} bytes",
                    self.show(&real),
                    meta.len(),
                    self.max_file_size
                ));
            }
            let text = std::fs::read_to_string(&real)
                .map_err(|e| format!("cannot read `{}`: {e}", self.show(&real)))?;
            return Ok((self.show(&real).into(), text.into()));
        }
        let mut places = vec!["`lib/`".to_owned(), "obsbuild's library".to_owned()];
        places.push("the stack's folder".to_owned());
        let known: Vec<&str> = library::names().collect();
        let hint = crate::diagnostic::did_you_mean(name, known.iter().copied())
            .map(|s| format!("; {s}"))
            .unwrap_or_default();
        Err(format!("no module `{name}` in {}{hint}", places.join(", ")))
    }

    /// A path as shown to users: relative to the project root when inside it.
    fn show(&self, path: &Path) -> String {
        let project = self.roots.project.canonicalize().unwrap_or_else(|_| self.roots.project.clone());
        let rel = path.strip_prefix(&project).unwrap_or(path);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Import names are plain relative names: letters, digits, `-`, `_`, `.` and `/`, no empty,
/// `.` or `..` segments except one leading `./`.
fn check_name(name: &str) -> Result<(), String> {
    let body = name.strip_prefix("./").unwrap_or(name);
    if name.starts_with('/') || name.starts_with('\\') || name.contains(':') {
        return Err(format!("import `{name}` is an absolute path; imports name modules inside the project, like `loki` or `./my-component`"));
    }
    if body.is_empty() {
        return Err("import name is empty".to_owned());
    }
    if !body.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) {
        return Err(format!("import `{name}` may only use letters, digits, `-`, `_`, `.` and `/`"));
    }
    for part in Path::new(body).components() {
        match part {
            Component::Normal(_) => {}
            Component::ParentDir => {
                return Err(format!("import `{name}` climbs out with `..`; imports stay inside the stack's folder and `lib/`"));
            }
            _ => return Err(format!("import `{name}` has an empty or `.` segment")),
        }
    }
    if body.split('/').any(str::is_empty) {
        return Err(format!("import `{name}` has an empty segment"));
    }
    Ok(())
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<rhai::Shared<Module>, Box<EvalAltResult>> {
        // A runtime error at the import statement, so the diagnostic points at it.
        let fail = |message: String| -> Box<EvalAltResult> {
            EvalAltResult::ErrorRuntime(rhai::Dynamic::from(ImportError(message)), pos).into()
        };
        let importer = source.filter(|s| !s.starts_with(library::PREFIX));
        let (name, text) = self.locate(importer, path).map_err(&fail)?;

        if let Some(module) = self.loaded.borrow().get(&name) {
            return Ok(module.clone());
        }
        {
            let running = self.running.borrow();
            if let Some(at) = running.iter().position(|s| *s == name) {
                let mut chain: Vec<&str> = running[at..].iter().map(|s| &**s).collect();
                chain.push(&name);
                return Err(fail(format!("import cycle: {}", chain.join(" → "))));
            }
        }
        self.sources.borrow_mut().insert(name.clone(), text.clone());

        let mut ast = engine.compile(&*text).map_err(|e| {
            Box::new(EvalAltResult::ErrorInModule(name.to_string(), e.into(), pos))
        })?;
        ast.set_source(name.clone().to_string());

        self.running.borrow_mut().push(name.clone());
        let result = Module::eval_ast_as_new(Scope::new(), &ast, engine);
        self.running.borrow_mut().pop();
        let module = result.map_err(|e| Box::new(EvalAltResult::ErrorInModule(name.to_string(), e, pos)))?;

        let module: rhai::Shared<Module> = super::isolate::isolate(module).into();
        self.loaded.borrow_mut().insert(name, module.clone());
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn import_names_stay_inside() {
        assert!(check_name("loki").is_ok());
        assert!(check_name("./components/tempo").is_ok());
        assert!(check_name("../secrets").is_err());
        assert!(check_name("a/../../b").is_err());
        assert!(check_name("/etc/passwd").is_err());
        assert!(check_name("C:/x").is_err());
        assert!(check_name("a//b").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name("").is_err());
        assert!(check_name("./").is_err());
    }
}
