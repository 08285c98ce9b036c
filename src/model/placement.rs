//! Which engine runs a stack, and where Swarm may put each service's tasks.
//!
//! Compose runs one container per service on one host; Swarm runs tasks of services on
//! nodes. A script says which it is for (`stack(name, #{ engine: "swarm" })`, or
//! `--engine` on the command line), and each service may say how many tasks it has, on
//! which nodes, and in which order an update replaces them (`deploy: #{ ... }`).

use serde::Serialize;

use crate::diagnostic::Span;

/// What a build is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// One Docker host: `obsbuild switch` or `docker compose up`.
    #[default]
    Compose,
    /// A Docker Swarm: services and tasks, configs and secrets as Swarm objects.
    Swarm,
}

impl Engine {
    pub const ALL: [Engine; 2] = [Engine::Compose, Engine::Swarm];

    pub fn name(self) -> &'static str {
        match self {
            Engine::Compose => "compose",
            Engine::Swarm => "swarm",
        }
    }

    pub fn parse(text: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|e| e.name() == text)
    }

    pub fn is_compose(&self) -> bool {
        *self == Engine::Compose
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `deploy: #{ ... }` of a service: only Swarm reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub mode: Mode,
    pub constraints: Vec<Constraint>,
    /// As the script gave it; `None` lets obsbuild choose (see [`Placement::order_for`]).
    pub order: Option<UpdateOrder>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "mode")]
pub enum Mode {
    /// This many tasks, anywhere the constraints allow.
    Replicated { replicas: u32 },
    /// One task on every node the constraints allow.
    Global,
}

/// How an update replaces a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateOrder {
    /// The new task runs (and is healthy) before the old one stops: no gap.
    StartFirst,
    /// The old task stops first: needed when two tasks cannot run side by side.
    StopFirst,
}

impl UpdateOrder {
    pub const ALL: [UpdateOrder; 2] = [UpdateOrder::StartFirst, UpdateOrder::StopFirst];

    pub fn name(self) -> &'static str {
        match self {
            UpdateOrder::StartFirst => "start-first",
            UpdateOrder::StopFirst => "stop-first",
        }
    }

    pub fn parse(text: &str) -> Option<UpdateOrder> {
        UpdateOrder::ALL.into_iter().find(|o| o.name() == text)
    }
}

/// One placement constraint, as Swarm reads it: `node.labels.tier == backend`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Constraint {
    pub attribute: Attribute,
    /// `==` when true, `!=` when false.
    pub equals: bool,
    pub value: String,
}

/// What a constraint compares: the node attributes Swarm documents for constraints.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribute {
    NodeId,
    Hostname,
    Role,
    Os,
    Arch,
    NodeLabel(String),
    EngineLabel(String),
}

impl Attribute {
    /// The names a constraint may start with (labels take a key after them).
    pub const NAMES: [&str; 7] = [
        "node.id",
        "node.hostname",
        "node.role",
        "node.platform.os",
        "node.platform.arch",
        "node.labels.<key>",
        "engine.labels.<key>",
    ];

    fn parse(text: &str) -> Option<Attribute> {
        Some(match text {
            "node.id" => Attribute::NodeId,
            "node.hostname" => Attribute::Hostname,
            "node.role" => Attribute::Role,
            "node.platform.os" => Attribute::Os,
            "node.platform.arch" => Attribute::Arch,
            _ => {
                if let Some(key) = text.strip_prefix("node.labels.").filter(|k| label_key(k)) {
                    Attribute::NodeLabel(key.to_owned())
                } else if let Some(key) = text.strip_prefix("engine.labels.").filter(|k| label_key(k)) {
                    Attribute::EngineLabel(key.to_owned())
                } else {
                    return None;
                }
            }
        })
    }

    fn text(&self) -> String {
        match self {
            Attribute::NodeId => "node.id".to_owned(),
            Attribute::Hostname => "node.hostname".to_owned(),
            Attribute::Role => "node.role".to_owned(),
            Attribute::Os => "node.platform.os".to_owned(),
            Attribute::Arch => "node.platform.arch".to_owned(),
            Attribute::NodeLabel(k) => format!("node.labels.{k}"),
            Attribute::EngineLabel(k) => format!("engine.labels.{k}"),
        }
    }
}

fn label_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

impl Constraint {
    /// Parses `<attribute> == <value>` or `<attribute> != <value>`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let (left, equals, right) = match (text.split_once("=="), text.split_once("!=")) {
            (Some((l, r)), None) => (l, true, r),
            (None, Some((l, r))) => (l, false, r),
            _ => return Err("is not `<attribute> == <value>` or `<attribute> != <value>`".to_owned()),
        };
        let (left, value) = (left.trim(), right.trim());
        let attribute = Attribute::parse(left).ok_or_else(|| format!("compares `{left}`, which Swarm does not know"))?;
        if value.is_empty() || value.contains(['=', '!', ' ', '\t', '\n']) {
            return Err(format!("compares with `{value}`, which is not one value"));
        }
        if attribute == Attribute::Role && !matches!(value, "manager" | "worker") {
            return Err(format!("compares `node.role` with `{value}`; a role is `manager` or `worker`"));
        }
        Ok(Constraint { attribute, equals, value: value.to_owned() })
    }

    /// As Swarm reads it, normalised: `node.labels.tier == backend`.
    pub fn text(&self) -> String {
        format!("{} {} {}", self.attribute.text(), if self.equals { "==" } else { "!=" }, self.value)
    }

    /// Whether the constraint lets tasks run on at most one node: a node's id or
    /// hostname, or a label the user gives one node only.
    pub fn pins(&self) -> bool {
        self.equals && matches!(self.attribute, Attribute::NodeId | Attribute::Hostname | Attribute::NodeLabel(_))
    }
}

impl Placement {
    /// One task anywhere: what a service without `deploy` gets.
    pub fn single(span: Span) -> Placement {
        Placement { mode: Mode::Replicated { replicas: 1 }, constraints: Vec::new(), order: None, span }
    }

    /// The constraint that pins the service to one node, if any.
    pub fn pin(&self) -> Option<&Constraint> {
        self.constraints.iter().find(|c| c.pins())
    }

    /// Whether the tasks run on one node at most: one replica, pinned.
    pub fn on_one_node(&self) -> bool {
        self.mode == (Mode::Replicated { replicas: 1 }) && self.pin().is_some()
    }

    /// Whether this is what a service without `deploy` gets.
    pub fn is_default(&self) -> bool {
        self.mode == (Mode::Replicated { replicas: 1 }) && self.constraints.is_empty() && self.order.is_none()
    }
}

/// The node label that pins a stateful service the script gave no `deploy`:
/// `obsbuild.<stack>.<service>`. Exactly one node must carry it (`true`).
pub fn pin_label(stack: &str, service: &str) -> String {
    format!("obsbuild.{stack}.{service}")
}

impl super::Stack {
    /// Where Swarm may run `service`'s tasks: the script's `deploy`, else one task; a
    /// service with a named volume and no `deploy` is pinned to the node carrying its
    /// [`pin_label`], since a task started elsewhere would start with an empty volume.
    pub fn placement(&self, service: &super::Service) -> Placement {
        if let Some(p) = &service.placement {
            return p.clone();
        }
        let mut p = Placement::single(service.span.clone());
        if service.named_volumes().next().is_some() {
            p.constraints.push(Constraint {
                attribute: Attribute::NodeLabel(pin_label(&self.name, &service.name)),
                equals: true,
                value: "true".to_owned(),
            });
        }
        p
    }
}

impl super::Stack {
    /// How an update replaces `service`'s tasks: the script's `order`, else `start-first`
    /// unless two tasks cannot run side by side (a local volume, a host port).
    pub fn update_order(&self, service: &super::Service) -> UpdateOrder {
        let declared = service.placement.as_ref().and_then(|p| p.order);
        declared.unwrap_or(if self.single_writer(service).is_some() { UpdateOrder::StopFirst } else { UpdateOrder::StartFirst })
    }

    /// What two tasks of `service` cannot share on one node, if anything: its first local
    /// volume (one writer), else its first host port (one listener).
    pub fn single_writer(&self, service: &super::Service) -> Option<String> {
        if let Some(v) = service.named_volumes().next() {
            return Some(format!("the volume `{}`", self.volume_name(v)));
        }
        service.ports.first().map(|p| format!("the host port {}", p.host))
    }
}

/// How long an update must watch a new task before its health check could have failed:
/// the start period, then `retries` checks each up to `interval + timeout` apart, in
/// whole seconds and one more. A shorter `update_config.monitor` lets Swarm call an
/// update done while the check is still failing its way to `unhealthy`.
pub fn monitor(h: &super::Healthcheck) -> std::time::Duration {
    let each = h.interval.value().saturating_add(h.timeout.value());
    let total = h.start_period.value().saturating_add(each.saturating_mul(h.retries));
    let secs = total.as_secs().saturating_add(u64::from(total.subsec_nanos() > 0)).saturating_add(1);
    std::time::Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_read_as_swarm_does() {
        let c = Constraint::parse("node.labels.tier==backend").unwrap();
        assert_eq!(c.text(), "node.labels.tier == backend");
        assert!(c.pins());
        let c = Constraint::parse(" node.role != manager ").unwrap();
        assert_eq!((c.attribute.clone(), c.equals, c.value.as_str()), (Attribute::Role, false, "manager"));
        assert!(!c.pins());
        assert!(!Constraint::parse("node.hostname != a").unwrap().pins());
        assert!(Constraint::parse("engine.labels.zone == a").is_ok_and(|c| !c.pins()));
        for wrong in ["node.hostname = a", "node.label.x == y", "node.labels. == y", "node.hostname == ", "node.role == boss", "a == b == c", "node.id == a b"] {
            assert!(Constraint::parse(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn monitor_outlasts_the_health_check() {
        use crate::model::{Dialect, Duration as D};
        let d = |t: &str| D::parse(t, Dialect::Go).unwrap();
        let h = crate::model::Healthcheck { test: vec!["NONE".into()], interval: d("10s"), timeout: d("5s"), retries: 5, start_period: d("10s") };
        // 10s + 5 × 15s = 85s, and one more.
        assert_eq!(monitor(&h), std::time::Duration::from_secs(86));
        let h = crate::model::Healthcheck { interval: d("1500ms"), timeout: d("0s"), retries: 1, start_period: d("0s"), ..h };
        assert_eq!(monitor(&h), std::time::Duration::from_secs(3));
    }
}
