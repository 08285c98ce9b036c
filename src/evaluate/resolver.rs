//! Where `import "x"` may look: the project's `lib/`, obsbuild's built-in library, and the
//! stack's own folder. Nothing else.
//!
//! Rhai's `FileModuleResolver` follows `../` and absolute paths, so this resolver is ours:
//! import names are checked as text first (no absolute paths, no `..`, a small alphabet),
//! then the [`Source`] (the work tree or a git revision) reads the script only if it really
//! lies inside the stack's folder or `lib/`, which rejects links that point out. Each module
//! is evaluated once; a module that is still loading when it is imported again is an import
//! cycle.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Component, Path};
use std::rc::Rc;
use std::sync::Arc;

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope};

use super::library;
use super::source::{ReadError, Script, Source};
use crate::diagnostic::Sources;

/// Where a stack may read scripts from.
#[derive(Clone, Debug)]
pub struct Roots {
    pub source: Arc<dyn Source>,
    /// The project path of the stack's folder (`""` for the project root).
    pub stack_dir: String,
    /// Whether the project has a `lib/` of its own.
    pub lib: bool,
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

/// `dir/file`, or `file` in the project root.
fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() { file.to_owned() } else { format!("{dir}/{file}") }
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

    /// Reads one candidate, inside the stack's folder or `lib/`.
    fn read(&self, name: &str, path: &str) -> Result<Option<Script>, String> {
        let within = [self.roots.stack_dir.as_str(), "lib"];
        self.roots.source.read(path, &within, self.max_file_size).map_err(|e| match e {
            ReadError::Outside { to } => format!(
                "import `{name}` resolves to `{to}`, outside the stack's folder and `lib/`; \
                 imports may not leave the project (a symlink pointing out is refused too)"
            ),
            ReadError::TooBig(size) => {
                format!("`{path}` is {size} bytes; scripts may be at most {} bytes", self.max_file_size)
            }
            ReadError::Other(message) => message,
        })
    }

    /// Finds the script an import names, as (source name, text).
    fn locate(&self, importer: Option<&str>, name: &str) -> Result<(Arc<str>, Arc<str>), String> {
        check_name(name)?;
        let file = if name.ends_with(".rhai") { name.to_owned() } else { format!("{name}.rhai") };
        let found = if let Some(rest) = file.strip_prefix("./") {
            // Relative to the importing script, which must itself be a project file.
            let base = importer
                .map(|src| src.rsplit_once('/').map(|(dir, _)| dir.to_owned()).unwrap_or_default())
                .unwrap_or_else(|| self.roots.stack_dir.clone());
            self.read(name, &join(&base, rest))?
        } else {
            let in_lib = if self.roots.lib { self.read(name, &join("lib", &file))? } else { None };
            match in_lib {
                Some(script) => Some(script),
                None => match library::get(&file) {
                    Some(text) => return Ok((format!("{}{file}", library::PREFIX).into(), text.into())),
                    None => self.read(name, &join(&self.roots.stack_dir, &file))?,
                },
            }
        };
        if let Some(script) = found {
            return Ok((script.name.into(), script.text.into()));
        }
        let places = ["`lib/`", "obsbuild's library", "the stack's folder"];
        let known: Vec<&str> = library::names().collect();
        let hint = crate::diagnostic::did_you_mean(name, known.iter().copied())
            .map(|s| format!("; {s}"))
            .unwrap_or_default();
        Err(format!("no module `{name}` in {}{hint}", places.join(", ")))
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
