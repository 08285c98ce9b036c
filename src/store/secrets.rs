//! The secrets folder: `<state>/secrets/<stack>/`, beside the store and never inside it.
//! Folders are 0700 and files 0600, written through a temporary file and a rename, so a
//! reader sees the old value or the new one. Containers mount single files from here.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::Store;
use super::error::{Result, StoreError};
use super::fsutil;

/// The secrets of one stack.
pub struct Secrets {
    root: PathBuf,
    key_path: PathBuf,
}

impl Store {
    pub fn secrets(&self, stack: &str) -> Secrets {
        let base = self.state_dir().join("secrets");
        Secrets { root: base.join(stack), key_path: base.join(".digest-key") }
    }
}

impl Secrets {
    /// The stack's secrets folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the file `file` of `owner` (a service, or `ca`) lives.
    pub fn path(&self, owner: &str, file: &str) -> PathBuf {
        self.root.join(owner).join(file)
    }

    /// The content of a secret file, if it was written.
    pub fn read(&self, owner: &str, file: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(owner, file);
        match crate::files::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::ReadFile { path, source }),
        }
    }

    /// Writes a secret file (0600, owned by `owner_id` when given), unless it already holds
    /// `bytes`. Returns whether it was written.
    pub fn write(&self, owner: &str, file: &str, bytes: &[u8], owner_id: Option<(u32, u32)>) -> Result<bool> {
        let unchanged = self.read(owner, file)?.is_some_and(|old| old == bytes);
        let dir = self.root.join(owner);
        if unchanged && owner_id.is_none_or(|id| owned_by(&dir.join(file), id)) {
            return Ok(false);
        }
        private_dir(self.root.parent().unwrap_or(&self.root))?;
        private_dir(&self.root)?;
        private_dir(&dir)?;
        let tmp = dir.join(fsutil::unique_name(".tmp-", file));
        let result = fsutil::write_synced(&tmp, bytes, 0o600)
            .and_then(|()| match owner_id {
                Some((uid, gid)) => std::os::unix::fs::chown(&tmp, Some(uid), Some(gid))
                    .map_err(|source| StoreError::SetPermissions { path: tmp.clone(), source }),
                None => Ok(()),
            })
            .and_then(|()| fsutil::rename(&tmp, &dir.join(file)));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result?;
        fsutil::sync_dir(&dir)?;
        Ok(true)
    }

    /// The key digests of secret values are made with, so a label on a container says
    /// whether a value changed without giving a weak password away to a dictionary.
    pub fn digest_key(&self) -> Result<[u8; 32]> {
        if let Ok(bytes) = crate::files::read(&self.key_path)
            && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
        {
            return Ok(key);
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| StoreError::WriteFile {
            path: self.key_path.clone(),
            source: std::io::Error::other(format!("the system gave no random bytes for it: {e}")),
        })?;
        let dir = self.key_path.parent().unwrap_or(&self.root);
        private_dir(dir)?;
        let tmp = dir.join(fsutil::unique_name(".tmp-", "digest-key"));
        fsutil::write_synced(&tmp, &key, 0o600)?;
        fsutil::rename(&tmp, &self.key_path)?;
        fsutil::sync_dir(dir)?;
        Ok(key)
    }

    /// Removes the stack's secrets (`down --secrets`).
    pub fn remove_all(&self) -> Result<bool> {
        if !self.root.exists() {
            return Ok(false);
        }
        std::fs::remove_dir_all(&self.root).map_err(|source| StoreError::Remove { path: self.root.clone(), source })?;
        Ok(true)
    }
}

fn owned_by(path: &Path, (uid, gid): (u32, u32)) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).is_ok_and(|m| m.uid() == uid && m.gid() == gid)
}

/// Creates `dir` if missing and makes it 0700.
fn private_dir(dir: &Path) -> Result<()> {
    fsutil::ensure_dir(dir)?;
    let mode = std::fs::metadata(dir).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    if mode != 0o700 {
        fsutil::set_mode(dir, 0o700)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn files_are_private_and_rewritten_only_on_change() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("state")).unwrap();
        let s = store.secrets("demo");
        assert!(s.write("grafana", "admin_password", b"hunter2", None).unwrap());
        assert!(!s.write("grafana", "admin_password", b"hunter2", None).unwrap());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&s.path("grafana", "admin_password")), 0o600);
        assert_eq!(mode(&s.root().join("grafana")), 0o700);
        assert_eq!(mode(s.root()), 0o700);
        assert_eq!(s.read("grafana", "admin_password").unwrap().unwrap(), b"hunter2");
        assert!(s.write("grafana", "admin_password", b"correct horse", None).unwrap());
        assert_eq!(s.digest_key().unwrap(), s.digest_key().unwrap());
        // Random, not a constant: another state directory gets another key.
        let other = Store::open(&tmp.path().join("other")).unwrap();
        assert_ne!(other.secrets("demo").digest_key().unwrap(), s.digest_key().unwrap());
        assert!(s.remove_all().unwrap());
        assert_eq!(s.read("grafana", "admin_password").unwrap(), None);
    }
}
