//! The run marker: how a start knows the previous run stopped uncleanly.
//!
//! States, in the WAL folder (which one process owns at a time, by its
//! lock file):
//!
//! - **absent**: no server ran here, or the last one stopped cleanly;
//! - **present**: a server is running, or the one that wrote it was
//!   killed, crashed or lost power before its stop was recorded.
//!
//! `begin` writes it (fsynced) when a server starts; `end` removes it once
//! the stop event is in the WAL. A start that finds it present records an
//! `unclean_stop` event first. A crash between the stop event and the
//! removal reports an unclean stop right after a clean one: both rows are
//! there, and the clean one is the truth.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The marker file of one WAL folder.
#[derive(Debug)]
pub struct RunMarker {
    path: PathBuf,
}

/// What a marker says about the run that wrote it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreviousRun {
    /// Its process id.
    pub pid: u32,
    /// When it started (RFC 3339).
    pub started: String,
}

impl RunMarker {
    /// The marker of the WAL folder `dir`.
    pub fn in_dir(dir: &Path) -> RunMarker {
        RunMarker {
            path: dir.join("running"),
        }
    }

    /// The run that left the marker, if one did. A marker that cannot be
    /// parsed (torn by the crash) still says a run did not end.
    pub fn previous(&self) -> Option<PreviousRun> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        Some(serde_json::from_str(&text).unwrap_or(PreviousRun {
            pid: 0,
            started: "unknown (damaged marker)".into(),
        }))
    }

    /// Marks a run as started, durably.
    pub fn begin(&self) -> std::io::Result<()> {
        let run = PreviousRun {
            pid: std::process::id(),
            started: chrono::Utc::now().to_rfc3339(),
        };
        let tmp = self.path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(serde_json::to_string(&run)?.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            crate::audit::wal::sync_dir(dir)?;
        }
        Ok(())
    }

    /// Marks the run as stopped cleanly.
    pub fn end(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if let Some(dir) = self.path.parent() {
            crate::audit::wal::sync_dir(dir)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_left_behind_names_the_run_and_a_clean_end_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let m = RunMarker::in_dir(dir.path());
        assert!(m.previous().is_none());
        m.begin().unwrap();
        let prev = m.previous().expect("a run is marked");
        assert_eq!(prev.pid, std::process::id());
        m.end().unwrap();
        assert!(m.previous().is_none());
        std::fs::write(dir.path().join("running"), "{torn").unwrap();
        assert_eq!(m.previous().unwrap().pid, 0);
    }
}
