//! Standard output that a closed pipe cannot crash: the only way obsbuild writes to it.
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe (`obsbuild history | head -1`) is an
//! error, and `println!` turns that error into a panic. Here it ends the command quietly:
//! a command that only reads stops at once with the exit status of a process killed by
//! SIGPIPE (141, as `git log | head` gives), so a pipeline under `set -o pipefail` knows the
//! output was cut; a command that changes state (`build`, `switch`, `export`, ...) finishes
//! its work, writes nothing more, and exits with its own code, so that a reader going away
//! never leaves a switch half done. Any other write error (a full disk under `> file`) is
//! kept and reported when the command ends, which then fails: output that did not arrive
//! is never reported as success.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit status of a process killed by SIGPIPE (128 + 13).
pub const CLOSED_PIPE_EXIT: u8 = 141;

static KEEP_GOING: AtomicBool = AtomicBool::new(false);
static CLOSED: AtomicBool = AtomicBool::new(false);
static FAILED: Mutex<Option<String>> = Mutex::new(None);

/// Whether the running command must finish even when standard output goes away.
pub fn keep_going_when_closed(keep: bool) {
    KEEP_GOING.store(keep, Ordering::Relaxed);
}

/// Writes `text` to standard output and flushes it.
pub fn write(text: &str) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let result = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            if !KEEP_GOING.load(Ordering::Relaxed) {
                std::process::exit(i32::from(CLOSED_PIPE_EXIT));
            }
        }
        Err(e) => {
            CLOSED.store(true, Ordering::Relaxed);
            if let Ok(mut failed) = FAILED.lock() {
                failed.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// `text` and a line break.
pub fn line(text: &str) {
    write(&format!("{text}\n"));
}

/// The first write error other than a closed pipe, if one happened.
pub fn failure() -> Option<String> {
    FAILED.lock().ok().and_then(|f| f.clone())
}
