//! Config changes applied in place: Prometheus and Alertmanager reload over HTTP and the
//! reload is verified by their own metric; the collector gets SIGHUP once the new config
//! passed its own `validate`; Grafana reloads its provisioning through its admin API.

use std::time::Duration;

use crate::deployment::{Container, Reload, Unit};
use crate::model::Restart;
use crate::runtime::{HttpRequest, Method, Runtime};

/// Applies the config in the live folder to the running container `id`.
pub async fn reload<R: Runtime>(rt: &R, id: &str, d: &Unit, timeout: Duration) -> Result<(), String> {
    let c = rt.inspect(id).await.map_err(|e| e.to_string())?;
    match &d.reload {
        Reload::Http { port, path, metric } => {
            let r = rt.http(&c, *port, Method::Post, path, timeout).await.map_err(|e| e.to_string())?;
            if !r.is_success() {
                return Err(format!("{} {path} answered {}: {}", Method::Post, r.status, r.body.trim()));
            }
            let metrics = rt.http(&c, *port, Method::Get, "/metrics", timeout).await.map_err(|e| e.to_string())?;
            match metric_value(&metrics.body, metric) {
                Some(1.0) => Ok(()),
                Some(v) => Err(format!("{metric} is {v} after the reload: the new config was not applied")),
                None => Err(format!("{metric} is missing from /metrics; cannot tell the reload worked")),
            }
        }
        Reload::Signal { signal, validate } => {
            // A collector exits when SIGHUP brings a config it cannot build: check first.
            let check = Container {
                command: Some(validate.clone()),
                ports: Vec::new(),
                ip: None,
                aliases: Vec::new(),
                restart: Some(Restart::No),
                healthcheck: None,
                ..d.container.clone()
            };
            let name = format!("{}-validate", d.name);
            let (code, output) = rt.run(&name, &check, timeout).await.map_err(|e| e.to_string())?;
            if code != 0 {
                return Err(format!("the new config does not validate (exit {code}): {}", output.trim()));
            }
            rt.signal(id, *signal).await.map_err(|e| e.to_string())
        }
        Reload::Grafana { port, user, password, .. } => {
            // Grafana's own default when the stack declares no admin password.
            let password = password.clone().unwrap_or_else(|| "admin".to_owned());
            for what in ["datasources", "dashboards"] {
                let request = HttpRequest {
                    method: Method::Post,
                    path: format!("/api/admin/provisioning/{what}/reload"),
                    basic_auth: Some((user.clone(), password.clone())),
                };
                let r = rt.request(&c, *port, &request, timeout).await.map_err(|e| e.to_string())?;
                if !r.is_success() {
                    let hint = if r.status == 401 || r.status == 403 { " (the admin credentials were refused: is the admin password secret the one Grafana started with? Grafana keeps the first one in its data volume)" } else { "" };
                    return Err(format!("{} answered {}{hint}: {}", request.path, r.status, r.body.trim()));
                }
            }
            Ok(())
        }
        Reload::Restart => Err("this service cannot reload".to_owned()),
    }
}

/// The value of an unlabelled sample `name` in Prometheus text exposition.
pub fn metric_value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let rest = l.strip_prefix(name)?;
            let rest = if rest.starts_with('{') { rest.split_once('}')?.1 } else { rest };
            if !rest.starts_with(' ') {
                return None;
            }
            rest.split_whitespace().next()?.parse().ok()
        })
}

#[cfg(test)]
mod tests {
    use super::metric_value;

    #[test]
    fn reads_metrics() {
        let text = "# HELP x\nprometheus_config_last_reload_successful 1\nprometheus_config_last_reload_successful_timestamp_seconds 1.7e9\n";
        assert_eq!(metric_value(text, "prometheus_config_last_reload_successful"), Some(1.0));
        assert_eq!(metric_value("a{b=\"c\"} 0\n", "a"), Some(0.0));
        assert_eq!(metric_value("ab 1\n", "a"), None);
    }
}
