//! obsbuild: reproducible, content-addressed builds of observability stacks.
//!
//! The pipeline reads top to bottom, one folder a stage:
//!
//! ```text
//! stack.rhai ──evaluate──▶ model::Stack ──validate──▶ render ──▶ store ──▶ diff / export
//! ```
//!
//! `evaluate`, `validate`, `render` and `diff` are pure functions over data. Only `store`
//! touches the file system's state; `validators` runs promtool, amtool and docker-compose
//! on a copy of a build in a temporary folder; `cli` is the thin edge that wires the stages
//! to a terminal.

/// Counts what each thread holds, so a script's evaluation can be held to a memory budget
/// (`evaluate/budget.rs`).
#[global_allocator]
static ALLOCATOR: evaluate::CountingAllocator = evaluate::CountingAllocator;

pub mod chain;
pub mod cli;
pub mod diagnostic;
pub mod apply;
pub mod diff;
pub mod evaluate;
pub mod exit;
pub mod files;
pub mod git;
pub mod logql;
pub mod model;
pub mod paint;
pub mod pipeline;
pub mod plan;
pub mod promql;
pub mod render;
pub mod runtime;
pub mod stdout;
pub mod store;
pub mod validate;
pub mod validators;
pub mod yaml;
