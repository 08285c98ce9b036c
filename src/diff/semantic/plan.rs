//! What `obsbuild switch` would do with a change, worked out offline: the old build's
//! containers stand for what runs, and the switch's own planner compares them with the new
//! build's. Nothing is asked of Docker.

use std::collections::BTreeMap;

use super::Reading;
use crate::plan::{Action, Reason};
use crate::runtime::ContainerInfo;

/// One service's action, as the switch would print it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    pub service: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Reason::is_unchanged")]
    pub reason: Reason,
}

/// The planned steps, in the order a switch applies them; `Err` when a side's activation
/// document is unreadable. A side without a build (stack added or removed) runs nothing or
/// wants nothing.
pub fn simulate<'a>(old: Option<&'a Reading<'_>>, new: Option<&'a Reading<'_>>) -> Result<Vec<Step>, String> {
    let activation = |r: &'a Reading<'_>| r.deployment.as_deref().map_err(Clone::clone);
    let old = old.map(activation).transpose()?;
    let new = new.map(activation).transpose()?;
    // The one-host planner's words (reload, recreate) are not what Swarm does, and
    // `obsbuild switch` does not deploy there yet: say so rather than plan it.
    if old.iter().chain(new.iter()).any(|d| d.engine == crate::model::Engine::Swarm) {
        return Err("built for Swarm, which `obsbuild switch` does not deploy yet; `docker stack deploy` updates each service whose section of docker-compose.yml changed".to_owned());
    }
    let running: Vec<ContainerInfo> = old.iter().flat_map(|a| a.services.iter()).map(crate::plan::as_running).collect();
    let applied: BTreeMap<String, String> =
        old.iter().flat_map(|a| a.services.iter()).map(|d| (d.service.clone(), d.config_hash.clone())).collect();
    let desired: &[crate::deployment::Unit] = new.map_or(&[], |a| &a.services);
    let plan = crate::plan::decide(desired, &running, Some(&applied));
    let old_secrets: BTreeMap<&str, _> =
        old.iter().flat_map(|a| a.services.iter()).map(|d| (d.service.as_str(), &d.secrets)).collect();
    Ok(plan
        .into_iter()
        .map(|s| {
            // Secret values are read at switch time; a build only shows that where a value
            // comes from changed, and the switch recreates the service when the value differs.
            let secrets_moved = s.desired.is_some_and(|d| old_secrets.get(d.service.as_str()).is_some_and(|o| **o != d.secrets));
            let (action, reason) = if s.action == Action::Keep && secrets_moved {
                (Action::Recreate, Reason::SecretSource)
            } else {
                (s.action, s.reason)
            };
            Step { service: s.service.to_owned(), action, reason }
        })
        .collect())
}

/// `image grafana/loki:3.7.5 → grafana/loki:3.7.6` as `image 3.7.5 → 3.7.6` when only the
/// tag changed: the one-line summary has room for the news, not the repository twice.
fn short_image_reason(from: &str, to: &str) -> String {
    match (from.rsplit_once(':'), to.rsplit_once(':')) {
        (Some((ra, ta)), Some((rb, tb))) if ra == rb && !ta.contains('/') && !tb.contains('/') => format!("image {ta} → {tb}"),
        _ => format!("image {from} → {to}"),
    }
}

/// `reload prometheus, recreate loki (image a → b), keep 4 others`.
pub fn summary(steps: &[Step]) -> String {
    let mut parts: Vec<String> = steps
        .iter()
        .filter(|s| s.action.touches())
        .map(|s| {
            match (&s.action, &s.reason) {
                (Action::Recreate, Reason::Image { from, to }) => {
                    format!("{} {} ({})", s.action.name(), s.service, short_image_reason(from, to))
                }
                _ => format!("{} {}", s.action.name(), s.service),
            }
        })
        .collect();
    let kept = steps.iter().filter(|s| !s.action.touches()).count();
    match (kept, parts.is_empty()) {
        (0, true) => return "nothing to do".to_owned(),
        (0, false) => {}
        (n, true) => parts.push(format!("keep all {n}")),
        (1, false) => parts.push("keep 1 other".to_owned()),
        (n, false) => parts.push(format!("keep {n} others")),
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_what_is_touched_and_counts_the_rest() {
        let step = |service: &str, action, reason| Step { service: service.to_owned(), action, reason };
        let image = Reason::Image { from: "grafana/loki:3.7.5".into(), to: "grafana/loki:3.7.6".into() };
        let steps = [
            step("prometheus", Action::Reload, Reason::Config { known: true, reloads: true }),
            step("loki", Action::Recreate, image),
            step("a", Action::Keep, Reason::Unchanged),
            step("b", Action::Keep, Reason::Unchanged),
        ];
        assert_eq!(summary(&steps), "reload prometheus, recreate loki (image 3.7.5 → 3.7.6), keep 2 others");
        assert_eq!(summary(&steps[2..]), "keep all 2");
        assert_eq!(summary(&[]), "nothing to do");
        assert_eq!(short_image_reason("a:1", "b:2"), "image a:1 → b:2");
    }
}
