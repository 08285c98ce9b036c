//! Every call into an imported module resolves names inside that module.
//!
//! Rhai 1.27 runs a module's function with the module's own functions merged into the
//! namespace, but keeps the caller's function-resolution cache, which is keyed by name and
//! argument types only. So after `loki::server()` and `jaeger::server()` each ran their
//! inner `server(#{})`, the cache holds "`server(map)` is jaeger's", and
//! `alertmanager::server()` runs jaeger's: the script that was written is not the stack that
//! is built. The same holds for any two modules (the library's or a user's) that define a
//! function of the same name and arity, and for a module function that shares a name with
//! one of the main script.
//!
//! The cure is a fresh cache for every call that enters a module, which Rhai gives a call
//! made from native code. So each public function of an imported module is replaced by a
//! native function of the same name and arity that calls the original with the module as
//! the innermost namespace. Nothing else changes: the module's variables and sub-modules
//! are kept, its private functions stay reachable from its own functions, call depth and
//! the call stack (for placing diagnostics) carry through, and errors come back as they
//! were raised.

use std::any::TypeId;

use rhai::{Dynamic, EvalAltResult, FnAccess, Module, NativeCallContext, RhaiFunc, Shared};

type RhaiResult = Result<Dynamic, Box<EvalAltResult>>;

/// `module` with each public script function behind a native one that calls it with a
/// fresh function-resolution cache.
pub fn isolate(module: Module) -> Module {
    let original: Shared<Module> = Shared::new(module);
    let mut out = Module::new();
    if let Some(id) = original.id() {
        out.set_id(id);
    }
    for (name, value) in original.iter_var() {
        out.set_var(name, value.clone());
    }
    for (name, sub) in original.iter_sub_modules() {
        out.set_sub_module(name, sub.clone());
    }
    for (namespace, access, name, params, _) in original.iter_script_fn_info() {
        if access == FnAccess::Private {
            continue;
        }
        let target = original.clone();
        let fn_name = name.to_owned();
        let call = move |ctx: Option<NativeCallContext>, args: &mut [&mut Dynamic]| -> RhaiResult {
            let ctx = ctx.ok_or_else(|| format!("`{fn_name}` needs a call context"))?;
            call_inside(&target, &fn_name, &ctx, args)
        };
        let func = RhaiFunc::Pure { func: Shared::new(call), has_context: true, is_pure: true, is_volatile: false };
        let registration = rhai::FuncRegistration::new(name).with_namespace(namespace);
        registration.set_into_module_raw(&mut out, vec![TypeId::of::<Dynamic>(); params], func);
    }
    out.build_index();
    out
}

/// Calls `name` of `module` from native code (hence with an empty resolution cache), with
/// `module` searched first, as Rhai does for a module function.
fn call_inside(module: &Shared<Module>, name: &str, ctx: &NativeCallContext, args: &mut [&mut Dynamic]) -> RhaiResult {
    let mut global = ctx.global_runtime_state().clone();
    global.lib.push(module.clone());
    // As Rhai does for a module function: its source is the module's while it runs.
    global.source = module.id().map(Into::into);
    #[allow(deprecated)] // "volatile", not deprecated: the way to call with another namespace.
    let inner = NativeCallContext::new_with_all_fields(ctx.engine(), name, ctx.source(), &global, ctx.call_position());
    inner.call_fn_raw(name, false, false, args)
}
