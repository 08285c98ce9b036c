//! `apps/docker-compose.yml`: the instrumented applications, outside the observability
//! stack but on its network, with the standard OTEL_* variables pointing at the collector.

use super::Doc;
use super::compose::port;
use crate::model::{App, Stack};

/// The apps' compose document, unescaped like [`super::compose::compose`]'s: it is written
/// through [`super::compose::file`].
pub fn compose(stack: &Stack) -> Doc {
    let mut services = Doc::map();
    for app in stack.apps.values() {
        services.set(&app.name, app_doc(stack, app));
    }
    // The stack's compose file (or, for an external network, `obsbuild switch`) creates
    // the network; the apps only join it.
    let network = Doc::map().with("name", &stack.network.name).with("external", true);
    Doc::map()
        .with("services", services)
        .with("networks", Doc::map().with(&stack.network.name, network))
}

/// The OTLP endpoint an app reaches its collector at.
pub fn otlp_endpoint(stack: &Stack, app: &App) -> String {
    let (endpoint, default) = if app.protocol == "grpc" { ("otlp-grpc", 4317) } else { ("otlp-http", 4318) };
    let port = stack
        .services
        .get(&app.collector)
        .and_then(|c| c.endpoints.get(endpoint).copied())
        .unwrap_or(default);
    format!("http://{}:{port}", app.collector)
}

fn app_doc(stack: &Stack, app: &App) -> Doc {
    let mut doc = Doc::map().with("image", &app.image.reference);
    if let Some(c) = &app.command {
        doc.set("command", Doc::strs(c.clone()));
    }
    let mut env = Doc::map()
        .with("OTEL_SERVICE_NAME", &app.name)
        .with("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_endpoint(stack, app))
        .with("OTEL_EXPORTER_OTLP_PROTOCOL", &app.protocol);
    if !app.resource_attributes.is_empty() {
        let attrs: Vec<String> = app.resource_attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        env.set("OTEL_RESOURCE_ATTRIBUTES", attrs.join(","));
    }
    // The app's own variables win, so a script can override any OTEL_* default.
    for (k, v) in &app.environment {
        env.set(k, v.as_str());
    }
    doc.set("environment", env);
    if !app.ports.is_empty() {
        doc.set("ports", Doc::strs(app.ports.iter().map(port)));
    }
    doc.set("networks", Doc::strs([stack.network.name.as_str()]));
    if let Some(m) = &app.memory {
        doc.set("mem_limit", m.text());
    }
    if let Some(c) = &app.cpus {
        doc.set("cpus", c.count());
    }
    let mut labels = Doc::map().with("obsbuild.stack", &stack.name).with("obsbuild.app", &app.name);
    for (k, v) in &app.labels {
        labels.set(k, v.as_str());
    }
    doc.set("labels", labels);
    doc.set("restart", "unless-stopped");
    doc
}
