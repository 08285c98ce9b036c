//! Readiness gates: a changed service counts as up only when Docker says its health check
//! passes and its probe answers 2xx through the port published on 127.0.0.1, within a
//! deadline. Every wait has one.

use std::time::{Duration, Instant};

use crate::deployment::Unit;
use crate::runtime::{ContainerInfo, Health, Method, Runtime};

/// How often a gate looks again.
const POLL: Duration = Duration::from_millis(250);
/// A service with neither health check nor probe is up after running this long.
const SETTLE: Duration = Duration::from_secs(1);

/// What a gate saw last, for the message when it gives up.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub health: Option<Health>,
    pub probe: Option<String>,
}

impl std::fmt::Display for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let health = match self.health {
            Some(Health::Healthy) => "healthy",
            Some(Health::Starting) => "starting",
            Some(Health::Unhealthy) => "unhealthy",
            None => "no health check",
        };
        match &self.probe {
            Some(p) => write!(f, "health check: {health}; probe: {p}"),
            None => write!(f, "health check: {health}"),
        }
    }
}

/// One look: `Ok(true)` ready, `Ok(false)` not yet, `Err` failed for good.
pub async fn check<R: Runtime>(rt: &R, id: &str, d: &Unit, seen: &mut Seen) -> Result<bool, String> {
    let c = rt.inspect(id).await.map_err(|e| e.to_string())?;
    if !c.running {
        return Err(format!("the container exited (code {})", c.exit_code.unwrap_or(-1)));
    }
    seen.health = c.health;
    let healthy = match c.health {
        Some(Health::Unhealthy) => return Err(format!("Docker reports it unhealthy ({seen})")),
        Some(Health::Starting) => false,
        Some(Health::Healthy) | None => true,
    };
    let probed = match &d.probe {
        Some(p) => probe(rt, &c, p.port, &p.path, seen).await,
        None => true,
    };
    Ok(healthy && probed)
}

async fn probe<R: Runtime>(rt: &R, c: &ContainerInfo, port: u16, path: &str, seen: &mut Seen) -> bool {
    match rt.http(c, port, Method::Get, path, Duration::from_secs(2)).await {
        Ok(r) if r.is_success() => {
            seen.probe = Some(format!("GET {path} answered {}", r.status));
            true
        }
        Ok(r) => {
            seen.probe = Some(format!("GET {path} answered {}", r.status));
            false
        }
        Err(e) => {
            seen.probe = Some(format!("GET {path}: {e}"));
            false
        }
    }
}

/// Waits until the container is ready, or fails when `timeout` passes.
pub async fn wait_ready<R: Runtime>(rt: &R, id: &str, d: &Unit, timeout: Duration) -> Result<(), String> {
    let started = Instant::now();
    let mut seen = Seen::default();
    let plain = d.container.healthcheck.is_none() && d.probe.is_none();
    loop {
        match check(rt, id, d, &mut seen).await {
            Ok(true) if !plain || started.elapsed() >= SETTLE => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(e),
        }
        if started.elapsed() >= timeout {
            return Err(format!("not ready within {}s ({seen})", timeout.as_secs()));
        }
        tokio::time::sleep(POLL).await;
    }
}
