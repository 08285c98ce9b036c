//! Secrets: values a service needs that must never enter the store. A build carries only
//! where each value comes from; `switch` reads or generates the value and writes it into
//! the state dir's secrets folder, from which the container mounts it read-only.

use serde::{Deserialize, Serialize};

/// Where containers find their secrets, one file per secret (Docker's convention).
pub const SECRETS_MOUNT: &str = "/run/secrets";

/// Where a secret's value comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum Secret {
    /// An environment variable of the process that runs `switch`.
    Env { var: String },
    /// A file, read at switch time; a relative path is relative to the project folder.
    File { path: String },
    /// A TLS certificate for `names`, issued by the stack's local CA, with its key: two
    /// files, `<name>.crt` and `<name>.key`.
    Certificate { names: Vec<String> },
}

impl Secret {
    /// The files this secret becomes, by file name, for a secret called `name`.
    pub fn files(&self, name: &str) -> Vec<String> {
        match self {
            Secret::Certificate { .. } => vec![format!("{name}.crt"), format!("{name}.key")],
            _ => vec![name.to_owned()],
        }
    }

    /// How a reader of a plan or README learns where the value comes from (never the value).
    pub fn describe(&self) -> String {
        match self {
            Secret::Env { var } => format!("environment variable `{var}`"),
            Secret::File { path } => format!("file `{path}`"),
            Secret::Certificate { names } => format!("certificate for {} from the stack's local CA", names.join(", ")),
        }
    }
}

/// Whether an environment variable's name says it holds a secret, so a literal value in
/// the script is refused.
pub fn looks_secret(var: &str) -> bool {
    let upper = var.to_ascii_uppercase();
    if upper.ends_with("_FILE") || upper.ends_with("_PATH") {
        return false;
    }
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL"].iter().any(|w| upper.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        assert!(looks_secret("GF_SECURITY_ADMIN_PASSWORD"));
        assert!(looks_secret("SLACK_API_KEY"));
        assert!(looks_secret("github_token"));
        assert!(!looks_secret("GF_SECURITY_ADMIN_PASSWORD__FILE"));
        assert!(!looks_secret("GF_AUTH_ANONYMOUS_ENABLED"));
        assert!(!looks_secret("TOKEN_PATH"));
    }

    #[test]
    fn files() {
        let cert = Secret::Certificate { names: vec!["a.example".into()] };
        assert_eq!(cert.files("tls"), ["tls.crt", "tls.key"]);
        assert_eq!(Secret::Env { var: "X".into() }.files("admin_password"), ["admin_password"]);
    }
}
