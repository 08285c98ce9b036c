//! Progress of a switch: lines for a terminal, or JSON lines with `--json`.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use crate::paint::{self, Style};
use crate::plan::{Action, Plan};

/// Where a step is: about to run, done, or failed (`detail` says why). In JSON lines, the
/// lower-case name (`"phase": "start"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Start,
    Done,
    Failed,
}

/// Where a switch says what it does.
pub trait Report {
    fn plan(&mut self, stack: &str, plan: &Plan, from: Option<u64>, to: u64);
    fn step(&mut self, service: &str, action: Action, phase: Phase, elapsed: Duration, detail: &str);
    fn note(&mut self, text: &str);
}

/// Human-readable progress on stderr; the plan on stdout.
pub struct Text {
    pub color: bool,
}

impl Text {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color { paint::wrapped(style, text) } else { text.to_owned() }
    }
}

impl Report for Text {
    fn plan(&mut self, stack: &str, plan: &Plan, from: Option<u64>, to: u64) {
        let from = from.map(|f| format!("generation {f}")).unwrap_or_else(|| "nothing running".to_owned());
        let mut out = format!("plan for `{stack}`: {from} → generation {to}\n");
        for s in &plan.steps {
            let action = format!("{:<8}", s.action.name());
            let colour = match s.action {
                crate::plan::Action::Keep => paint::DIM,
                crate::plan::Action::Reload => paint::CYAN,
                crate::plan::Action::Restart => paint::YELLOW,
                crate::plan::Action::Remove => paint::RED,
                _ => paint::GREEN,
            };
            let reason = if s.reason.is_unchanged() { String::new() } else { format!("  ({})", s.reason) };
            let _ = writeln!(out, "  {} {}{reason}", self.paint(colour, &action), s.service);
        }
        if plan.is_noop() {
            out.push_str("  nothing to change\n");
        }
        crate::stdout::write(&out);
    }

    fn step(&mut self, service: &str, action: Action, phase: Phase, elapsed: Duration, detail: &str) {
        let mark = match phase {
            Phase::Start => return,
            Phase::Done => self.paint(paint::GREEN, "ok"),
            Phase::Failed => self.paint(paint::RED, "FAILED"),
        };
        let detail = if detail.is_empty() { String::new() } else { format!("  {detail}") };
        let _ = writeln!(std::io::stderr(), "  {service:<20} {:<8} {:>6.1}s  {mark}{detail}", action.name(), elapsed.as_secs_f64());
    }

    fn note(&mut self, text: &str) {
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}

/// One JSON object per line on stdout, for CI.
pub struct Json;

impl Report for Json {
    fn plan(&mut self, stack: &str, plan: &Plan, from: Option<u64>, to: u64) {
        let steps: Vec<serde_json::Value> = plan
            .steps
            .iter()
            .map(|s| serde_json::json!({"service": s.service, "action": s.action, "reason": s.reason}))
            .collect();
        crate::stdout::line(&serde_json::json!({"event": "plan", "stack": stack, "from": from, "to": to, "steps": steps}).to_string());
    }

    fn step(&mut self, service: &str, action: Action, phase: Phase, elapsed: Duration, detail: &str) {
        let event = serde_json::json!({
            "event": "step", "service": service, "action": action, "phase": phase,
            "elapsed_ms": elapsed.as_millis() as u64, "detail": detail,
        });
        crate::stdout::line(&event.to_string());
    }

    fn note(&mut self, text: &str) {
        crate::stdout::line(&serde_json::json!({"event": "note", "text": text}).to_string());
    }
}
