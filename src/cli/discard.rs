//! Values whose lifetime ends with the process.
//!
//! A command that is about to exit gives its large results (a build, both sides of a
//! review) back with the process: freeing their many small allocations one by one costs
//! more than the work that remains (a fifth of a 1,000-service review, docs/BENCHMARKS.md).
//! Only the CLI uses this, and only for values it would drop on its way out; the library
//! never leaks.

/// Leaves `value` to the end of the process instead of dropping it now.
pub fn discard<T>(value: T) {
    std::mem::forget(value);
}
