//! Secret references into the model, and the refusal of secret values written in a script.

use std::collections::BTreeMap;

use super::Cx;
use crate::diagnostic::Span;
use crate::evaluate::spec::{Scalar, SecretValue};
use crate::model::{Secret, looks_secret};

/// The `secrets` of a service.
pub fn secrets(cx: &mut Cx, span: &Span, owner: &str, spec: &BTreeMap<String, SecretValue>) -> BTreeMap<String, Secret> {
    let mut out = BTreeMap::new();
    for (name, value) in spec {
        if !valid_name(name) {
            let at = cx.find(span, name);
            let d = cx.error(&at, format!("secret name `{name}` of {owner} must be letters, digits, `_`, `-` and `.`, up to 64"));
            *d = d.clone().help("it becomes a file name under /run/secrets/");
            continue;
        }
        match value {
            SecretValue::Literal(literal) => {
                let text = literal.clone().into_string();
                let at = cx.find(span, name);
                let d = cx.error(&at, format!("secret `{name}` of {owner} is written in the script; its value would enter the build, the store and git"));
                *d = d.clone().help(format!(
                    "declare where it comes from instead: `{name}: secret_env(\"{}\")` (read when `obsbuild switch` runs) or `{name}: secret_file(\"secrets/{name}\")`{}",
                    env_name(&format!("{}_{name}", owner.split('`').nth(1).unwrap_or_default())),
                    if text.is_empty() { "" } else { ", and change the value: it is in the script's git history" }
                ));
            }
            SecretValue::Ref(r) => {
                let secret = match (r.from.as_str(), &r.var, &r.path, &r.names) {
                    ("env", Some(var), None, None) if valid_var(var) => Secret::Env { var: var.clone() },
                    ("env", Some(var), None, None) => {
                        let at = cx.find(span, var);
                        let d = cx.error(&at, format!("`{var}` is not an environment variable name"));
                        *d = d.clone().help("use letters, digits and `_`, not starting with a digit");
                        continue;
                    }
                    ("file", None, Some(path), None) if !path.is_empty() && !path.contains('\0') => Secret::File { path: path.clone() },
                    ("certificate", None, None, Some(names)) if !names.is_empty() => {
                        let mut names = names.clone();
                        let problem = names.iter().find_map(|n| certificate_name_problem(n).map(|p| (n, p)));
                        if let Some((bad, why)) = problem {
                            let at = cx.find(span, bad);
                            cx.error(&at, format!("a certificate cannot be issued for `{bad}`: {why}"));
                            continue;
                        }
                        names.sort();
                        names.dedup();
                        Secret::Certificate { names }
                    }
                    _ => {
                        let at = cx.find(span, name);
                        let d = cx.error(&at, format!("secret `{name}` of {owner} is not a secret reference"));
                        *d = d.clone().help("make it with `secret_env(\"VAR\")`, `secret_file(\"path\")` or `tls_certificate([\"host\", ...])`");
                        continue;
                    }
                };
                out.insert(name.clone(), secret);
            }
        }
    }
    out
}

/// Refuses literal values of environment variables whose names say they are secrets.
pub fn environment(cx: &mut Cx, span: &Span, owner: &str, env: &BTreeMap<String, Scalar>) {
    for (var, value) in env {
        let text = value.clone().into_string();
        if looks_secret(var) && !text.is_empty() {
            let at = cx.find(span, var);
            let name = var.to_ascii_lowercase();
            let d = cx.error(&at, format!("`{var}` of {owner} holds a secret written in the script; it would enter the build, the store and git"));
            *d = d.clone().help(format!(
                "declare it as a secret, delivered as a file: `secrets: #{{ {name}: secret_env(\"{var}\") }}`, and point the program at `/run/secrets/{name}` (many images read `{var}_FILE` or `{var}__FILE`)"
            ));
        }
    }
}

fn env_name(name: &str) -> String {
    name.to_ascii_uppercase().replace(['-', '.'], "_")
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn valid_var(var: &str) -> bool {
    !var.is_empty() && !var.starts_with(|c: char| c.is_ascii_digit()) && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why `name` cannot be in a certificate: a host name as the hosts file takes it, or a
/// wildcard `*.` in front of one.
fn certificate_name_problem(name: &str) -> Option<String> {
    crate::model::host_name_problem(name.strip_prefix("*.").unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(certificate_name_problem("scaibu.grafana"), None);
        assert_eq!(certificate_name_problem("*.scaibu.local"), None);
        assert!(certificate_name_problem("scaibu..grafana").is_some());
        assert!(certificate_name_problem("-x.y").is_some());
        assert!(valid_var("GF_ADMIN_PASSWORD"));
        assert!(!valid_var("1X"));
        assert!(valid_name("admin_password"));
        assert!(!valid_name("../x"));
    }
}
