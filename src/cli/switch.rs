//! `obsbuild switch`, `rollback`, `generations`, `status` and `down`: the running stack.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::{Cli, Error, Output, stack_arg};
use crate::apply::{self, Options, Outcome, Report, SwitchError, Target};
use crate::exit;
use crate::runtime::docker::Docker;
use crate::store::{RecordMeta, Store};

/// Build the stack and make the running containers match it, all or nothing.
///
/// Prints the plan (per service: keep, reload, restart, recreate, create, remove), checks
/// images, ports, addresses and the subnet, then applies it. Every changed service must
/// pass its health check; if one does not, every service goes back to the previous
/// generation and the command fails. Success records a new generation.
#[derive(Debug, clap::Args)]
pub struct SwitchArgs {
    /// Stack script, or the name of one in `stacks/` [default: $OBSBUILD_STACK or stacks/task-manager.rhai]
    pub stack: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    /// Print the plan and touch nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Options shared by `switch` and `rollback`.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// After success, keep watching health this many seconds; roll back if a service fails
    #[arg(long, value_name = "SECS")]
    pub confirm: Option<u64>,
    /// How long a changed service may take to become ready
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout: u64,
    /// Fail at once if another switch of this stack is running, instead of waiting
    #[arg(long)]
    pub no_wait: bool,
    /// Pull images that are not on this machine (without it, a missing image is an error)
    #[arg(long)]
    pub pull: bool,
    /// Progress as JSON lines on stdout
    #[arg(long)]
    pub json: bool,
}

/// Go back to an earlier generation (by default the one before the current), with the
/// same checks as `switch`. Nothing is rebuilt: the generation's store path is activated.
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// Stack name, or its script
    pub stack: Option<PathBuf>,
    /// The generation to go back to
    #[arg(long, value_name = "N")]
    pub to: Option<u64>,
    #[command(flatten)]
    pub common: Common,
}

/// List the generations of a stack: number, time, store path, git commit, current.
#[derive(Debug, clap::Args)]
pub struct GenerationsArgs {
    /// Stack name, or its script
    pub stack: Option<PathBuf>,
    /// Machine-readable JSON
    #[arg(long)]
    pub json: bool,
}

/// Compare the running containers with the current generation.
///
/// Exit code 1 when they differ (a container missing, stopped, outdated or unhealthy).
/// Finishes an interrupted switch first.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Stack name, or its script
    pub stack: Option<PathBuf>,
    /// Machine-readable JSON
    #[arg(long)]
    pub json: bool,
}

/// Remove the stack's containers, and its network when obsbuild created it and nothing else
/// uses it. Data volumes and secrets stay unless `--volumes` and `--secrets`.
///
/// Then takes the stack's host names out of the hosts files `obsbuild hosts --apply`
/// wrote them into (for /etc/hosts this needs root, like writing them did).
#[derive(Debug, clap::Args)]
pub struct DownArgs {
    /// Stack name, or its script
    pub stack: Option<PathBuf>,
    /// Remove the named data volumes too
    #[arg(long)]
    pub volumes: bool,
    /// Remove the stack's secrets folder too (secret files, certificates and its local CA)
    #[arg(long)]
    pub secrets: bool,
}

fn tokio() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Message(format!("cannot start the async runtime: {e}")))
}

fn switch_error(e: SwitchError) -> Error {
    Error::Message(crate::chain::render(&e))
}

fn reporter(json: bool, out: &Output) -> Box<dyn Report> {
    if json { Box::new(apply::Json) } else { Box::new(apply::Text { color: out.stdout_color }) }
}

async fn docker() -> Result<Docker, Error> {
    let d = Docker::connect().await.map_err(|e| Error::Message(e.to_string()))?;
    Ok(d)
}

/// Takes the stack's switch lock, waiting with a message unless `no_wait`.
fn lock(store: &Store, stack: &str, no_wait: bool, out: &Output) -> Result<crate::store::SwitchLock, Error> {
    let profile = store.profile(stack);
    if let Some(l) = profile.lock(false).map_err(super::store_error)? {
        return Ok(l);
    }
    if no_wait {
        return Err(Error::Message(format!("another switch of `{stack}` is running; try again when it is done")));
    }
    out.note(&format!("waiting for another switch of `{stack}` to finish..."));
    profile.lock(true).map_err(super::store_error)?.ok_or_else(|| Error::Message("cannot take the switch lock".to_owned()))
}

fn options(c: &Common, dry_run: bool) -> Options {
    Options { timeout: Duration::from_secs(c.timeout), confirm: c.confirm.map(Duration::from_secs), dry_run, pull: c.pull }
}

fn outcome(o: Outcome, report: &mut dyn Report) -> u8 {
    match o {
        Outcome::DryRun => report.note("dry run: nothing was touched"),
        Outcome::Unchanged { generation } => report.note(&format!("nothing to do: generation {generation} is running as built")),
        Outcome::Switched { generation, changed } => {
            report.note(&format!("switched to generation {generation} ({changed} services changed)"))
        }
    }
    exit::OK
}

pub fn switch(cli: &Cli, args: &SwitchArgs, out: &Output) -> Result<u8, Error> {
    let built = stack_arg::build(args.stack.as_deref(), cli.engine(), out)?;
    let stack = built.build.stack.clone();
    // Refused before anything is recorded or touched: the one-host switch would start the
    // services as plain containers, which is not what a Swarm build describes.
    if built.evaluation.stack.engine == crate::model::Engine::Swarm {
        return Err(Error::Message(format!(
            "`{stack}` is built for Swarm, and `obsbuild switch` does not deploy to a swarm yet; nothing was touched. \
             Deploy it with Docker's tool: `obsbuild export --engine swarm {stack} --out DIR`, then \
             `docker stack deploy -c DIR/docker-compose.yml {stack}` (per-service rollback only); or switch it on one host with `--engine compose`"
        )));
    }
    let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
    let git = crate::git::info(&built.evaluation.project, &super::inputs(&built.evaluation));
    let meta = RecordMeta { time: SystemTime::now(), git: git.clone(), script: built.evaluation.script.clone() };
    // Rooted until the next switch of the stack, so that no `gc --keep` between here and
    // the new generation's root can take it.
    let added = store.add_and_record(&built.build, meta, Some(&format!("switch-{stack}"))).map_err(super::store_error)?;
    super::report_repaired(&added, out);
    let target = Target { build: built.build, path: added.path, generation: None, git };
    activate(&store, &stack, target, &args.common, args.dry_run, out)
}

/// Takes the lock, finishes an interrupted switch, and activates `target`.
fn activate(store: &Store, stack: &str, target: Target, common: &Common, dry_run: bool, out: &Output) -> Result<u8, Error> {
    let mut report = reporter(common.json, out);
    let opts = options(common, dry_run);
    tokio()?.block_on(async {
        let rt = docker().await?;
        let _lock = lock(store, stack, common.no_wait, out)?;
        if let Some(said) = apply::recover(&rt, store, stack, &opts, report.as_mut()).await.map_err(switch_error)? {
            report.note(&said);
        }
        let o = apply::activate(&rt, store, target, &opts, report.as_mut()).await.map_err(switch_error)?;
        Ok(outcome(o, report.as_mut()))
    })
}

pub fn rollback(cli: &Cli, args: &RollbackArgs, out: &Output) -> Result<u8, Error> {
    let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
    let stack = stack_arg::stack_name(&store, args.stack.as_deref())?;
    let profile = store.profile(&stack);
    let generations = profile.generations().map_err(super::store_error)?;
    let current = profile.current().map_err(super::store_error)?;
    let wanted = match (args.to, &current) {
        (Some(n), _) => generations.iter().find(|g| g.number == n),
        (None, Some(c)) => generations.iter().rev().find(|g| g.number < c.number),
        (None, None) => generations.last(),
    };
    let Some(generation) = wanted.cloned() else {
        let known: Vec<String> = generations.iter().map(|g| g.number.to_string()).collect();
        return Err(Error::Message(format!(
            "`{stack}` has no generation to go back to{}; its generations: {}",
            args.to.map(|n| format!(" numbered {n}")).unwrap_or_default(),
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        )));
    };
    let path = store.resolve(&generation.path).map_err(super::store_error)?;
    let build = store.read(&path).map_err(super::store_error)?;
    let target = Target { build, path, generation: Some(generation.number), git: generation.git.clone() };
    activate(&store, &stack, target, &args.common, false, out)
}

pub fn generations(cli: &Cli, args: &GenerationsArgs, out: &Output) -> Result<u8, Error> {
    let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
    let stack = stack_arg::stack_name(&store, args.stack.as_deref())?;
    let profile = store.profile(&stack);
    let generations = profile.generations().map_err(super::store_error)?;
    let current = profile.current().map_err(super::store_error)?.map(|g| g.number);
    // A generation is only as good as its store path: say when one is gone.
    let present = |g: &crate::store::Generation| store.resolve(&g.path).is_ok();
    for g in generations.iter().filter(|g| !present(g)) {
        let what = if Some(g.number) == current { "the current generation" } else { "generation" };
        out.note(&format!(
            "warning: {what} {} of `{stack}` has lost its store path {} (removed by hand?): it cannot be rolled back to{}",
            g.number,
            g.path,
            if Some(g.number) == current { "; `obsbuild switch` makes a new generation from the stack" } else { "" }
        ));
    }
    if args.json {
        let list: Vec<serde_json::Value> = generations
            .iter()
            .map(|g| {
                serde_json::json!({"number": g.number, "time": g.time, "path": g.path, "git": g.git, "current": Some(g.number) == current, "present": present(g)})
            })
            .collect();
        crate::stdout::line(&serde_json::to_string_pretty(&list).unwrap_or_default());
        return Ok(exit::OK);
    }
    crate::stdout::line(&stack);
    if generations.is_empty() {
        crate::stdout::line("  no generations: `obsbuild switch` makes the first");
    }
    for g in &generations {
        let git = g.git.as_ref().map(|x| format!("{}{}", &x.commit[..x.commit.len().min(12)], if x.dirty { "+dirty" } else { "" })).unwrap_or_else(|| "-".into());
        let mark = match (Some(g.number) == current, present(g)) {
            (true, true) => "  (current)",
            (true, false) => "  (current, store path missing)",
            (false, false) => "  (store path missing)",
            (false, true) => "",
        };
        crate::stdout::line(&format!("  {:>4}  {}  {:<20}  {}{mark}", g.number, g.time, git, g.path));
    }
    Ok(exit::OK)
}

pub fn status(cli: &Cli, args: &StatusArgs, out: &Output) -> Result<u8, Error> {
    let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
    let stack = stack_arg::stack_name(&store, args.stack.as_deref())?;
    let mut report = reporter(args.json, out);
    tokio()?.block_on(async {
        let rt = docker().await?;
        let opts = Options { timeout: Duration::from_secs(120), confirm: None, dry_run: false, pull: false };
        if store.interrupted(&stack).map_err(super::store_error)?.is_some() {
            let _lock = lock(&store, &stack, false, out)?;
            if let Some(said) = apply::recover(&rt, &store, &stack, &opts, report.as_mut()).await.map_err(switch_error)? {
                report.note(&said);
            }
        }
        let (generation, services) = apply::status(&rt, &store, &stack).await.map_err(switch_error)?;
        let drift = services.iter().any(|s| s.state != crate::apply::State::Ok);
        if args.json {
            crate::stdout::line(&serde_json::json!({"stack": stack, "generation": generation, "drift": drift, "services": services}).to_string());
        } else {
            match generation {
                Some(g) => crate::stdout::line(&format!("{stack}: generation {g}")),
                None => crate::stdout::line(&format!("{stack}: no generation is current")),
            }
            for s in &services {
                crate::stdout::line(&format!("  {:<20} {:<9} {}", s.service, s.state.name(), s.detail));
            }
        }
        Ok(if drift || generation.is_none() { exit::DIFFERENT } else { exit::OK })
    })
}

pub fn down(cli: &Cli, args: &DownArgs, out: &Output) -> Result<u8, Error> {
    let store = Store::open(&cli.state_dir).map_err(super::store_error)?;
    let stack = stack_arg::stack_name(&store, args.stack.as_deref())?;
    let mut report = reporter(false, out);
    tokio()?.block_on(async {
        let rt = docker().await?;
        let _lock = lock(&store, &stack, false, out)?;
        let n = apply::down(&rt, &store, &stack, args.volumes, report.as_mut()).await.map_err(switch_error)?;
        let secrets = store.secrets(&stack);
        if args.secrets && secrets.remove_all().map_err(super::store_error)? {
            report.note(&format!("removed the secrets folder {}", secrets.root().display()));
        } else if secrets.root().exists() {
            report.note(&format!("secrets kept in {} (`--secrets` removes them)", secrets.root().display()));
        }
        report.note(&format!("`{stack}` is down ({n} containers removed{})", if args.volumes { ", with its volumes" } else { "; volumes kept" }));
        Ok(exit::OK)
    })
}
