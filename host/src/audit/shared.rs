//! What the recording side of an audit log and its committer thread
//! share: the WAL, where the tables are, the committer's progress and the
//! condition variable both wait on.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use url::Url;

use super::wal;

/// The committer's progress and the flags that steer it.
pub(super) struct CommitState {
    pub(super) committed_below: u64,
    pub(super) last_error: Option<String>,
    pub(super) wake: bool,
    pub(super) stop: bool,
}

/// What the recording side and the committer thread share.
pub(crate) struct Shared {
    pub(super) wal: wal::Wal,
    pub(super) root: Url,
    pub(super) storage_options: HashMap<String, String>,
    pub(super) app_id: String,
    pub(super) poll_interval: Duration,
    /// Table commits after which the committer reopens its tables.
    pub(super) reopen_after_commits: usize,
    /// Times the committer reopened its tables for that reason.
    pub(super) table_reopens: AtomicU64,
    pub(super) state: Mutex<CommitState>,
    pub(super) changed: Condvar,
    pub(super) backlog_bytes: AtomicU64,
    pub(super) over_limit: AtomicU64,
    pub(super) corrupt_regions: AtomicU64,
}

impl Shared {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, CommitState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until woken or `timeout`; returns whether to stop after this
    /// round.
    pub(super) fn wait_for_work(&self, timeout: Duration) -> bool {
        let mut s = self.lock();
        if !s.wake && !s.stop {
            s = self
                .changed
                .wait_timeout(s, timeout)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        s.wake = false;
        s.stop
    }

    pub(super) fn mark_committed(&self, below: u64) {
        let mut s = self.lock();
        if below > s.committed_below {
            s.committed_below = below;
            self.changed.notify_all();
        }
    }

    pub(super) fn set_error(&self, e: String) {
        self.lock().last_error = Some(e);
        self.changed.notify_all();
    }

    pub(super) fn clear_error(&self) {
        self.lock().last_error = None;
    }
}
