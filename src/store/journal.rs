//! The switch journal: every step written and fsynced before it is taken, so a switch
//! killed at any point can be finished or undone by the next run.

use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Store;
use super::error::{Result, StoreError};
use super::fsutil;

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Entry {
    /// Switch `switch` from generation `from` (store path `from_path`) to generation
    /// `to` (store path `to_path`) began. Containers it creates carry the switch's id.
    Begin { switch: String, from: Option<u64>, from_path: Option<String>, to: u64, to_path: String },
    /// A step is about to be taken.
    Step(StepRecord),
    /// Every service is on the target and healthy; the switch is being committed.
    Commit,
}

/// A step as recovery needs it: what it does and which containers it touches, so an
/// interrupted switch is undone (or finished) step by step, without guessing from names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub service: String,
    pub step: StepKind,
    /// The id of the container the step acts on, when it exists before the step (every
    /// step but the two creates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The name a create gives its container: the create may have been carried out with
    /// its answer (the id) lost, so recovery finds the container by this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `create-next`: the id of the container the new one replaces at the commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// `stop`: whether the container was running, so undoing the stop starts only a
    /// container that ran. Journals written before this field say nothing: taken as running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<bool>,
}

impl StepRecord {
    pub fn new(service: &str, step: StepKind) -> StepRecord {
        StepRecord { service: service.to_owned(), step, container: None, name: None, old: None, running: None }
    }
}

/// What a step does. The names are the ones journals have always carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// A new service's container is created under its own name.
    Create,
    /// That container is started.
    Start,
    /// A replaced service's old container is stopped (it stays until the commit).
    StopOld,
    /// A replaced service's new container is created as `<name>-next`.
    CreateNext,
    /// That container is started.
    StartNext,
    /// A service is restarted to read its new config files.
    Restart,
    /// A service reloads its new config files in place.
    Reload,
    /// The container of a service the target does not have is stopped (it goes at the commit).
    Stop,
}

impl StepKind {
    /// The name the journal gives it.
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Create => "create",
            StepKind::Start => "start",
            StepKind::StopOld => "stop-old",
            StepKind::CreateNext => "create-next",
            StepKind::StartNext => "start-next",
            StepKind::Restart => "restart",
            StepKind::Reload => "reload",
            StepKind::Stop => "stop",
        }
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

pub struct Journal {
    path: PathBuf,
}

impl Store {
    fn journal_path(&self, stack: &str) -> PathBuf {
        self.state_dir().join("profiles").join(stack).join("switch.journal")
    }

    /// The journal of an interrupted switch of `stack`, if one was left.
    pub fn interrupted(&self, stack: &str) -> Result<Option<Vec<Entry>>> {
        let path = self.journal_path(stack);
        let text = match crate::files::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::ReadHistory { path, source }),
        };
        parse(&text).map(Some).map_err(|(line, source)| StoreError::ParseJournal { path, line, source })
    }

    /// Starts a journal for `stack`, replacing any previous one.
    pub fn begin_journal(&self, stack: &str, begin: Entry) -> Result<Journal> {
        let path = self.journal_path(stack);
        if let Some(parent) = path.parent() {
            fsutil::ensure_dir(parent)?;
        }
        let _ = std::fs::remove_file(&path);
        let journal = Journal { path };
        journal.append(&begin)?;
        Ok(journal)
    }
}

/// The entries of a journal's text. Only the last line may be cut short (by a crash while
/// it was written: that step was not taken); any other line that is not an entry is an
/// error, `(line number, why)`, since recovery would otherwise skip a step that was taken.
fn parse(text: &str) -> std::result::Result<Vec<Entry>, (usize, serde_json::Error)> {
    let torn = !text.is_empty() && !text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut entries = Vec::with_capacity(lines.len());
    for (at, line) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(entry) => entries.push(entry),
            Err(_) if torn && at + 1 == lines.len() => {}
            Err(e) => return Err((at + 1, e)),
        }
    }
    Ok(entries)
}

impl Journal {
    /// Appends an entry and fsyncs it before returning.
    pub fn append(&self, entry: &Entry) -> Result<()> {
        let err = |source| StoreError::WriteFile { path: self.path.clone(), source };
        let mut line = serde_json::to_vec(entry).map_err(|source| StoreError::Serialize { path: self.path.clone(), source })?;
        line.push(b'\n');
        let mut file = crate::files::open_with(&self.path, std::fs::OpenOptions::new().create(true).append(true)).map_err(err)?;
        file.write_all(&line).map_err(err)?;
        file.sync_all().map_err(|source| StoreError::Sync { path: self.path.clone(), source })?;
        if let Some(parent) = self.path.parent() {
            fsutil::sync_dir(parent)?;
        }
        Ok(())
    }

    /// The switch is over (done or undone): the journal goes.
    pub fn finish(self) -> Result<()> {
        std::fs::remove_file(&self.path).map_err(|source| StoreError::Remove { path: self.path.clone(), source })?;
        if let Some(parent) = self.path.parent() {
            fsutil::sync_dir(parent)?;
        }
        Ok(())
    }
}

impl Store {
    /// Drops the journal of `stack` (after recovering from it).
    pub fn clear_journal(&self, stack: &str) -> Result<()> {
        let path = self.journal_path(stack);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Remove { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journals_of_earlier_versions_still_read() {
        // What a journal held before steps named their containers.
        let text = concat!(
            r#"{"event":"begin","switch":"1-2","from":1,"from_path":"p1","to":2,"to_path":"p2"}"#, "\n",
            r#"{"event":"step","service":"web","step":"create-next","container":null}"#, "\n",
            r#"{"event":"step","service":"web","step":"start-next","container":"abc"}"#, "\n",
            r#"{"event":"step","service":"prometheus","step":"reload","container":"def"}"#, "\n",
        );
        let entries = parse(text).unwrap();
        assert_eq!(entries.len(), 4);
        let mut next = StepRecord::new("web", StepKind::StartNext);
        next.container = Some("abc".into());
        assert_eq!(entries[2], Entry::Step(next));
    }

    #[test]
    fn steps_are_written_kebab_case_and_read_back() {
        for kind in [StepKind::Create, StepKind::Start, StepKind::StopOld, StepKind::CreateNext, StepKind::StartNext, StepKind::Restart, StepKind::Reload, StepKind::Stop] {
            let mut r = StepRecord::new("svc", kind);
            r.name = Some("stack-svc-next".into());
            let line = serde_json::to_string(&Entry::Step(r.clone())).unwrap();
            assert!(line.contains(&format!(r#""step":"{}""#, kind.name())), "{line}");
            assert_eq!(serde_json::from_str::<Entry>(&line).unwrap(), Entry::Step(r));
        }
    }

    #[test]
    fn only_a_torn_last_line_is_skipped() {
        let begin = r#"{"event":"begin","switch":"s","from":null,"from_path":null,"to":1,"to_path":"p"}"#;
        let torn = format!("{begin}\n{{\"event\":\"st");
        assert_eq!(parse(&torn).unwrap().len(), 1);
        let damaged = format!("{begin}\n{{\"event\":\"step\",\"service\":\"web\",\"step\":\"dance\"}}\n{{\"event\":\"commit\"}}\n");
        assert_eq!(parse(&damaged).unwrap_err().0, 2);
        // A whole last line (it ends with its newline) is no torn one.
        let whole = format!("{begin}\n{{\"event\":\"step\"}}\n");
        assert_eq!(parse(&whole).unwrap_err().0, 2);
    }
}
