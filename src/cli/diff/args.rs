//! The arguments of `obsbuild diff`, shared by its two halves: builds of the store
//! (`mod.rs`) and git revisions (`review.rs`).

use std::path::PathBuf;

/// Show what changed in a stack's build.
///
/// Without arguments: the stack as it is now against its last build. With two arguments:
/// two builds, each a store path (or its name) or a build number of the stack. With
/// `--rev A`: every stack at git revision A against the work tree; with `--rev A --rev B`,
/// both sides from git. Revisions are shown in each component's terms (scrape jobs, alert
/// rules, pipelines, panels, services) with the plan a switch would follow and the panels
/// and alert rules each change reaches (lose their data, read what changed, routed
/// elsewhere); `--files` shows the files' lines instead and `--stat` how much each changed,
/// always for every stack unless stacks are named, in any `--format` (docs/REVIEW.md).
///
/// Exit code 0 when the builds are equal, 1 when they differ, 2 on error (a stack that does
/// not build at a revision is an error, reported with the others).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A stack, or two builds to compare (store paths, store path names, build numbers); with
    /// `--rev`, any number of stacks
    #[arg(value_name = "STACK | A B", num_args = 0..)]
    pub args: Vec<String>,

    /// The stack whose build numbers are meant [default: $OBSBUILD_STACK or stacks/task-manager.rhai]
    #[arg(long, value_name = "STACK")]
    pub stack: Option<PathBuf>,

    /// A git revision (commit, branch, tag) to compare with the work tree; twice: the first
    /// against the second. The positional arguments then name stacks [default: all in stacks/]
    #[arg(long, value_name = "REV", action = clap::ArgAction::Append)]
    pub rev: Vec<String>,

    /// How to show the comparison (`markdown` with `--rev` only); `--json` is `--format json`
    #[arg(long, value_enum)]
    pub format: Option<ReviewFormat>,

    /// With `--rev`: the unified diff of each stack's files instead of the semantic view
    #[arg(long, conflicts_with = "stat")]
    pub files: bool,

    /// With `--rev`: show dashboard layout changes (panel positions and ids), hidden by default
    #[arg(long)]
    pub layout: bool,

    /// Exit 0 when there are changes too (errors still exit 2), for CI steps that only report
    #[arg(long)]
    pub exit_zero: bool,

    /// Only which files changed and by how much (with `--rev`: for every stack)
    #[arg(long)]
    pub stat: bool,

    /// The same as `--format json`: machine-readable JSON
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

/// The renderings of a `--rev` comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewFormat {
    /// For a terminal, coloured only there
    Text,
    /// For a pull-request comment: a summary line, a collapsible section per stack
    Markdown,
    /// Versioned JSON (`"schema": 1`), see docs/REVIEW.md
    Json,
}

