//! Secrets at switch time: each service's secret values are read (environment, file) or
//! issued (certificates), written into the state dir's secrets folder, outside the store,
//! and mounted into the container one file at a time. The build holds only references.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{SwitchError, tls};
use crate::model::{SECRETS_MOUNT, Secret};
use crate::deployment::{Deployment, Mount, Reload, Unit, label};
use crate::runtime::{Runtime, RuntimeError};
use crate::store::{Secrets, Store};

/// Where a certificate's CA lives in the stack's secrets folder.
const CA: &str = "ca";

/// What `materialize` did, for the report (never values).
#[derive(Debug, Default)]
pub struct Written {
    pub files: Vec<String>,
    pub notes: Vec<String>,
}

/// Reads or issues every secret of `a`, writes the files, and points each service at them.
/// With `write` false (status), only what the last switch wrote is used.
/// With `pull`, an image that is not on the machine is pulled first: its `USER` says who
/// must own the files.
pub async fn materialize<R: Runtime>(rt: &R, store: &Store, a: &mut Deployment, write: bool, pull: bool) -> Result<Written, SwitchError> {
    let secrets = store.secrets(&a.stack);
    let mut out = Written::default();
    if a.services.iter().all(|d| d.secrets.is_empty()) {
        return Ok(out);
    }
    let key = secrets.digest_key()?;
    for d in &mut a.services {
        if d.secrets.is_empty() {
            continue;
        }
        let owner = if write { owner_of(rt, d, pull).await? } else { None };
        let mut digest = blake3::Hasher::new_keyed(&key);
        let mut complete = true;
        for (name, secret) in d.secrets.clone() {
            let files = match secret_files(&secrets, &a.stack, &d.service, &name, &secret, write, &mut out)? {
                Some(files) => files,
                None => {
                    complete = false;
                    continue;
                }
            };
            for (file, bytes) in files {
                if write && secrets.write(&d.service, &file, &bytes, owner)? {
                    out.files.push(format!("{}/{file}", d.service));
                }
                digest.update(&(file.len() as u64).to_le_bytes());
                digest.update(file.as_bytes());
                digest.update(&(bytes.len() as u64).to_le_bytes());
                digest.update(&bytes);
                d.container.mounts.push(Mount::Bind {
                    source: secrets.path(&d.service, &file).display().to_string(),
                    target: format!("{SECRETS_MOUNT}/{file}"),
                    read_only: true,
                });
                if let Reload::Grafana { password_secret: Some(s), password, .. } = &mut d.reload
                    && *s == file
                {
                    *password = Some(String::from_utf8_lossy(&bytes).trim_end_matches(['\n', '\r']).to_owned());
                }
            }
        }
        if complete {
            let digest = digest.finalize().to_hex()[..16].to_owned();
            d.container.labels.insert(label::SECRETS.to_owned(), digest.clone());
            d.secrets_digest = Some(digest);
        }
    }
    Ok(out)
}

/// A secret's files under the service's secrets folder: (file name, content).
type SecretFiles = Vec<(String, Vec<u8>)>;

/// The files of one secret and their content; `None` when `write` is off and they were
/// never written.
fn secret_files(
    secrets: &Secrets,
    stack: &str,
    service: &str,
    name: &str,
    secret: &Secret,
    write: bool,
    out: &mut Written,
) -> Result<Option<SecretFiles>, SwitchError> {
    if !write {
        let mut files = Vec::new();
        for file in secret.files(name) {
            match secrets.read(service, &file)? {
                Some(bytes) => files.push((file, bytes)),
                None => return Ok(None),
            }
        }
        return Ok(Some(files));
    }
    let missing = |why: String, how: String| {
        SwitchError::Other(format!("secret `{name}` of service `{service}` {why}; {how}, then run the switch again"))
    };
    let kept = |out: &mut Written, why: &str| -> Result<Option<SecretFiles>, SwitchError> {
        match secrets.read(service, name)? {
            Some(bytes) => {
                out.notes.push(format!("secret `{name}` of `{service}`: {why}; the value written by the last switch is kept"));
                Ok(Some(vec![(name.to_owned(), bytes)]))
            }
            None => Ok(None),
        }
    };
    match secret {
        Secret::Env { var } => match std::env::var_os(var) {
            Some(value) => Ok(Some(vec![(name.to_owned(), value.into_encoded_bytes())])),
            None => kept(out, &format!("`{var}` is not set"))?
                .map(Some)
                .ok_or_else(|| missing(format!("comes from the environment variable `{var}`, which is not set"), format!("export {var}=..."))),
        },
        Secret::File { path } => match crate::files::read(std::path::Path::new(path)) {
            Ok(bytes) => Ok(Some(vec![(name.to_owned(), bytes)])),
            Err(e) => {
                let why = format!("`{path}` cannot be read ({e})");
                kept(out, &why)?.map(Some).ok_or_else(|| {
                    missing(
                        format!("comes from the file `{path}` (relative to the folder obsbuild runs in), which cannot be read: {e}"),
                        format!("create `{path}` with the value (mode 0600)"),
                    )
                })
            }
        },
        Secret::Certificate { names } => certificate(secrets, stack, service, name, names, out).map(Some),
    }
}

/// The certificate `name` of `service` for `names`: the one written before while it covers
/// the same names and is not about to expire, else a new one from the stack's CA.
fn certificate(
    secrets: &Secrets,
    stack: &str,
    service: &str,
    name: &str,
    names: &[String],
    out: &mut Written,
) -> Result<Vec<(String, Vec<u8>)>, SwitchError> {
    let today = tls::today();
    let (crt, key, meta) = (format!("{name}.crt"), format!("{name}.key"), format!("{name}.issued.json"));
    let issued: Option<tls::Issued> = secrets.read(service, &meta)?.and_then(|b| serde_json::from_slice(&b).ok());
    if let (Some(issued), Some(c), Some(k)) = (&issued, secrets.read(service, &crt)?, secrets.read(service, &key)?)
        && !issued.needs_renewal(names, today)
    {
        return Ok(vec![(crt, c), (key, k)]);
    }
    let ca_key = match secrets.read(CA, "ca.key")? {
        Some(k) if secrets.read(CA, "ca.crt")?.is_some() => String::from_utf8_lossy(&k).into_owned(),
        _ => {
            let ca = tls::new_ca(stack, today).map_err(SwitchError::Other)?;
            secrets.write(CA, "ca.key", ca.key.as_bytes(), None)?;
            secrets.write(CA, "ca.crt", ca.cert.as_bytes(), None)?;
            out.notes.push(format!(
                "a local CA for `{stack}` was made: trust {} in your browser or system to accept its certificates",
                secrets.path(CA, "ca.crt").display()
            ));
            ca.key
        }
    };
    let (pair, issued) = tls::issue(stack, &ca_key, names, today).map_err(SwitchError::Other)?;
    let meta_bytes = serde_json::to_vec(&issued).unwrap_or_default();
    secrets.write(service, &meta, &meta_bytes, None)?;
    out.notes.push(format!("certificate `{name}` of `{service}` issued for {}", names.join(", ")));
    Ok(vec![(crt, pair.cert.into_bytes()), (key, pair.key.into_bytes())])
}

/// The uid and gid a container runs as, when it is not root: its secret files are made
/// theirs, since they are 0600. A user given by name cannot be mapped from outside the
/// image, so it is refused with what to write instead.
async fn owner_of<R: Runtime>(rt: &R, d: &Unit, pull: bool) -> Result<Option<(u32, u32)>, SwitchError> {
    let image = &d.container.image;
    let user = match &d.container.user {
        Some(u) => Some(u.clone()),
        None => match rt.image_user(image).await {
            Err(RuntimeError::NotFound { .. }) if pull => {
                rt.pull(image).await?;
                rt.image_user(image).await?
            }
            Err(RuntimeError::NotFound { .. }) => {
                return Err(SwitchError::Other(format!(
                    "image `{image}` of `{}` is not on this machine, and its user decides who may read the service's secret files; pass `--pull`, or `docker pull`/`docker load` it first",
                    d.service
                )));
            }
            other => other?,
        },
    };
    let Some(user) = user.filter(|u| !u.is_empty()) else { return Ok(None) };
    let (u, g) = user.split_once(':').unwrap_or((&user, ""));
    let (Ok(uid), gid) = (u.parse::<u32>(), g.parse::<u32>().ok()) else {
        return Err(SwitchError::Other(format!(
            "service `{}` runs as user `{user}`, and its secret files (mode 0600) must belong to that user's uid, which cannot be told from outside the image; give the service a numeric `user: \"<uid>:<gid>\"`",
            d.service
        )));
    };
    if uid == 0 {
        return Ok(None);
    }
    Ok(Some((uid, gid.unwrap_or(uid))))
}

/// Secret files of a stack a container mounts, for a test or a report: `(service, file)`.
pub fn files_of(a: &Deployment) -> BTreeMap<String, Vec<String>> {
    a.services
        .iter()
        .filter(|d| !d.secrets.is_empty())
        .map(|d| (d.service.clone(), d.secrets.iter().flat_map(|(n, s)| s.files(n)).collect()))
        .collect()
}

/// The CA certificate of a stack, if one was made.
pub fn ca_certificate(store: &Store, stack: &str) -> Option<PathBuf> {
    let path = store.secrets(stack).path(CA, "ca.crt");
    path.exists().then_some(path)
}
