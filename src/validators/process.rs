//! Running one validator: found on PATH, in a cleared environment, with a timeout and a
//! cap on the output kept.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Output kept per stream; a tool that prints more is cut, and the cut is said.
const KEEP: usize = 64 * 1024;

/// How a validator process ended.
#[derive(Debug)]
pub struct Finished {
    pub success: bool,
    /// Each cut at [`KEEP`] bytes.
    pub stdout: String,
    pub stderr: String,
}

/// The executable `name` in a folder of `PATH`, as a shell would find it.
pub fn find(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?).filter(|d| !d.as_os_str().is_empty()).map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `program` in `dir` with only `env` set, killing it after `timeout`. `Err` says why
/// it could not run or did not finish; a tool that did not finish has checked nothing.
pub fn run(program: &Path, args: &[&OsStr], dir: &Path, env: &[(&str, &OsStr)], timeout: Duration) -> Result<Finished, String> {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir).env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let stdout = child.stdout.take().map(|s| std::thread::spawn(move || bounded(s)));
    let stderr = child.stderr.take().map(|s| std::thread::spawn(move || bounded(s)));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not finish within {}s and was killed", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(format!("cannot wait for {}: {e}", program.display())),
        }
    };
    let join = |h: Option<std::thread::JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
    let (stdout, stderr) = (join(stdout), join(stderr));
    if status.code().is_none() {
        return Err(format!("was killed by a signal ({status})"));
    }
    Ok(Finished { success: status.success(), stdout, stderr })
}

/// Reads a stream to its end, keeping the first [`KEEP`] bytes, so the tool never blocks
/// on a full pipe and a flood of output cannot fill memory.
fn bounded(mut stream: impl Read) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    let mut cut = false;
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = KEEP.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                cut |= n > room;
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if cut {
        text.push_str("\n[output cut at 64 KiB]\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_executables_on_the_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plain"), "").unwrap();
        let path = std::env::join_paths([dir.path(), Path::new("/bin")]).unwrap();
        assert!(find("plain", Some(&path)).is_none());
        assert!(find("sh", Some(&path)).is_some());
        assert!(find("sh", None).is_none());
    }

    #[test]
    fn a_slow_tool_is_killed_and_output_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let sh = Path::new("/bin/sh");
        // The sleep is the tool outliving its 100 ms: the timeout is what is tested.
        let slow = run(sh, &[OsStr::new("-c"), OsStr::new("sleep 5")], dir.path(), &[], Duration::from_millis(100));
        assert!(slow.unwrap_err().contains("killed"));
        let loud = run(sh, &[OsStr::new("-c"), OsStr::new("head -c 200000 /dev/zero | tr '\\0' x; exit 3")], dir.path(), &[], Duration::from_secs(10)).unwrap();
        assert!(!loud.success);
        assert!(loud.stdout.len() < KEEP + 100 && loud.stdout.ends_with("[output cut at 64 KiB]\n"), "{}", loud.stdout.len());
    }
}
