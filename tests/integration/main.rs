//! obsbuild's integration tests: one binary, a module per concern.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod closed_pipe;
mod common;
mod compose_values;
mod docker_adapter;
mod errors;
mod export;
mod hostile;
mod hosts;
mod hosts_files;
mod reproducible;
mod scale;
mod review;
mod schemas;
mod review_trust;
mod secrets_docker;
mod killed_builds;
mod layers;
mod library_calls;
mod small_trust;
mod snapshots;
mod store_crash;
mod store_trust;
mod switch_docker;
mod swarm;
mod swarm_docker;
mod switch_fake;
mod validators;
mod warnings;
mod flake;
mod fuzz;
