//! amtool: `check-config` of each Alertmanager config, mapped to the receiver or route it
//! names.

use std::ffi::OsStr;

use super::{Checked, Context, Input, Job, complaint, quoted};
use crate::model::{Alertmanager, Component, Service};
use crate::build::config_file;

const TOOL: &str = "amtool";

pub fn jobs(input: Input<'_>) -> Vec<Job<'_>> {
    input
        .stack
        .services
        .values()
        .filter_map(|service| match &service.component {
            Component::Alertmanager(a) => Some(Job::new(TOOL, "check-config", config_file(service), move |cx| check(cx, service, a))),
            _ => None,
        })
        .collect()
}

/// amtool prints `Checking '<file>'  FAILED: <why>` on standard output; its templates are
/// read relative to the config, where the build has them.
fn check(cx: &Context, service: &Service, a: &Alertmanager) -> Result<Checked, String> {
    let file = config_file(service);
    let out = cx.run(&[OsStr::new("check-config"), OsStr::new(&file)], &[])?;
    if out.success {
        return Ok(Checked::default());
    }
    let said: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once("FAILED:").map(|(_, why)| why.trim()))
        .filter(|l| !l.is_empty())
        .collect();
    if said.is_empty() {
        return Err(format!("failed without judging the file: {}", out.stderr.trim()));
    }
    let all = said.join("\n");
    let span = quoted(&all)
        .find_map(|name| {
            let route = a.routes.iter().find(|r| r.receiver == name).map(|r| r.span.clone());
            let default = a.default_receiver.as_ref().filter(|(r, _)| r == name).map(|(_, s)| s.clone());
            a.receivers.get(name).map(|e| e.span.clone()).or(route).or(default)
        })
        .unwrap_or_else(|| service.span.clone());
    Ok(Checked { diagnostics: vec![complaint(&format!("{TOOL} check-config"), &file, &span, &all)], notes: Vec::new() })
}
