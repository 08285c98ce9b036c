//! The Rhai engine scripts run in: pure, bounded, and unable to take the process down.
//!
//! Scripts describe a stack; they cannot read files, the network, the clock or the
//! environment, cannot sleep, and print only to obsbuild's trace list. `Engine::new_raw()`
//! starts with none of those; we add back only the pure packages. Every limit Rhai has is
//! set but its size limits (`sizes.rs` says why and what checks sizes instead), and
//! `on_progress`, called before every operation, enforces what Rhai's limits do not: a wall-clock deadline, an operation count that also covers calls into modules
//! (which Rhai counts on a copy of its state, see `isolate.rs`), the memory the evaluation
//! holds (`budget.rs`), and a stop asked for by a native function whose error Rhai would
//! swallow (`Stop`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicFnPackage, BasicIteratorPackage, BasicMapPackage,
    BasicMathPackage, BasicStringPackage, BitFieldPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{Dynamic, Engine};

use super::sizes::Sizes;
use crate::diagnostic::Diagnostic;

/// Limits for one evaluation. The defaults bound any script to well under two seconds and a
/// few hundred MiB; real stacks use a small fraction of each.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub deadline: Duration,
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_function_expr_depth: usize,
    /// Longest string (bytes), array (items) and map (entries) one value may be, each by
    /// its own length (`sizes.rs`).
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
    pub max_modules: usize,
    pub max_variables: usize,
    pub max_functions: usize,
    /// Most bytes the evaluation may hold at once, everything it allocated counted.
    pub max_memory: usize,
    /// Largest script or module file read, in bytes.
    pub max_file_size: u64,
    /// Stack of the evaluation thread. Rhai recurses on the native stack; at 2 MiB a
    /// 100-byte script of nested calls overflows it and aborts the process, so the thread
    /// gets far more than the call and expression depth limits can use.
    pub thread_stack: usize,
}

impl Limits {
    /// The string, array and map limits, checked on each value's own length.
    pub fn sizes(&self) -> Sizes {
        Sizes { string: self.max_string_size, array: self.max_array_size, map: self.max_map_size }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_millis(1500),
            max_operations: 50_000_000,
            max_call_levels: 64,
            max_expr_depth: 64,
            max_function_expr_depth: 48,
            max_string_size: 1 << 20,
            max_array_size: 100_000,
            max_map_size: 20_000,
            max_modules: 256,
            max_variables: 10_000,
            max_functions: 2_000,
            max_memory: 256 << 20,
            max_file_size: 1 << 20,
            thread_stack: 256 << 20,
        }
    }
}

/// How often the deadline is checked, in operations; reading the clock on every operation
/// would cost more than the script.
const CLOCK_EVERY: u64 = 256;

/// Why `on_progress` stopped a script: the value of Rhai's termination token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stopped {
    Deadline,
    Operations,
    Memory,
    /// A native function asked for it ([`Stop::request`]); the diagnostic is in the `Stop`.
    Asked,
}

/// A request to stop the script at its next operation, shared by the native functions:
/// for failures inside calls whose errors Rhai replaces with a fallback (printing a value
/// falls back to Rust's formatting of it, which is what must not happen).
#[derive(Clone, Debug, Default)]
pub struct Stop {
    asked: Rc<Cell<bool>>,
    why: Rc<RefCell<Option<Diagnostic>>>,
}

impl Stop {
    /// Stops the script at its next operation with `why`; the first request wins.
    pub fn request(&self, why: Diagnostic) {
        if !self.asked.replace(true) {
            *self.why.borrow_mut() = Some(why);
        }
    }

    /// The diagnostic of the request, if one was made (also when the script ended before
    /// its next operation).
    pub fn take(&self) -> Option<Diagnostic> {
        self.why.borrow_mut().take()
    }
}

/// Whether evaluation keeps Rhai's call stack.
///
/// The call stack lets a declaration made inside `lib/` report the user's line that asked
/// for it, but Rhai copies every argument of every call into it, which makes `push` onto
/// a large array quadratic. So a build evaluates without it, and only when a diagnostic
/// lands inside the library is the (pure, so identical) evaluation run again with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trace {
    Fast,
    CallStack,
}

/// A raw engine with the pure packages, all limits, and the deadline armed from now.
pub fn engine(limits: &Limits, trace: Trace, stop: &Stop) -> Engine {
    let mut engine = Engine::new_raw();
    for package in [
        ArithmeticPackage::new().as_shared_module(),
        LogicPackage::new().as_shared_module(),
        BasicStringPackage::new().as_shared_module(),
        MoreStringPackage::new().as_shared_module(),
        BasicIteratorPackage::new().as_shared_module(),
        BasicFnPackage::new().as_shared_module(),
        BasicArrayPackage::new().as_shared_module(),
        BasicMapPackage::new().as_shared_module(),
        BasicMathPackage::new().as_shared_module(),
        BitFieldPackage::new().as_shared_module(),
    ] {
        engine.register_global_module(package);
    }
    // `eval` would run text built at run time, out of reach of spans and review.
    engine.disable_symbol("eval");
    engine.set_strict_variables(true);
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth)
        .set_max_modules(limits.max_modules)
        .set_max_variables(limits.max_variables)
        .set_max_functions(limits.max_functions);
    // Not Rhai's size limits, which measure a whole value after every change to it (a
    // `push` onto a long array costs the array): see `sizes.rs`.
    let sizes = limits.sizes();
    #[allow(deprecated)] // "volatile", not deprecated: the one hook on every variable read.
    engine.on_var(move |name, _, context| match context.scope().get(name) {
        Some(value) => sizes.check(value).map(|()| None),
        None => Ok(None),
    });

    let started = Instant::now();
    let (deadline, max_operations) = (limits.deadline, limits.max_operations);
    let memory_at_start = super::budget::live();
    let max_memory = isize::try_from(limits.max_memory).unwrap_or(isize::MAX);
    let operations = Cell::new(0u64);
    let stop = stop.clone();
    engine.on_progress(move |_| {
        let n = operations.get() + 1;
        operations.set(n);
        let stopped = if n > max_operations {
            Stopped::Operations
        } else if super::budget::live().saturating_sub(memory_at_start) > max_memory {
            Stopped::Memory
        } else if stop.asked.get() {
            Stopped::Asked
        } else if n.is_multiple_of(CLOCK_EVERY) && started.elapsed() > deadline {
            Stopped::Deadline
        } else {
            return None;
        };
        Some(Dynamic::from(stopped))
    });
    // The debugger is only registered to keep the call stack.
    if trace == Trace::CallStack {
        #[allow(deprecated)]
        engine.register_debugger(
            |_, debugger| debugger,
            |_, _, _, _, _| Ok(rhai::debugger::DebuggerCommand::Continue),
        );
    }
    engine
}
