//! obsbuild: reproducible, content-addressed builds of observability stacks.
//!
//! The pipeline reads top to bottom, one folder a stage:
//!
//! ```text
//! stack.rhai ──evaluate──▶ model::Stack ──validate──▶ render ──▶ build ──plan──▶ deployment
//!                                                                  └──store──▶ diff / export / apply
//! ```
//!
//! `evaluate`, `validate`, `render`, `plan` and `diff` are pure functions over data. Only
//! `store` writes obsbuild's state and export folders; `validators` writes a copy of a build
//! in a temporary folder for promtool, amtool and docker-compose; `runtime` is the one
//! adapter that talks to the container engine; `cli` decides what is printed, but for the
//! switch's progress, which `apply::report` writes as it goes.
//! docs/ARCHITECTURE.md has the order in which modules may import each other.

/// Counts what each thread holds, so a script's evaluation can be held to a memory budget
/// (`evaluate/budget.rs`).
#[global_allocator]
static ALLOCATOR: evaluate::CountingAllocator = evaluate::CountingAllocator;

pub mod chain;
pub mod cli;
pub mod diagnostic;
pub mod apply;
pub mod build;
pub mod deployment;
pub mod diff;
pub mod doc;
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
