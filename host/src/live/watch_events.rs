//! Filesystem events that wake the plugins-folder watcher early.
//!
//! The watcher ([`super`]) decides from the folder's state, never
//! from the events: a change is acted on once two looks at the folder (the
//! name, size, modification time and inode of every file) agree. Events
//! only choose *when* it looks. With events, the first look is taken as
//! soon as something happens and the second [`SETTLE`] after the last
//! event; without them (events unavailable: no inotify, its watch limit
//! reached, a network filesystem that raises none), the looks are one poll
//! interval apart, as before. The poll keeps running alongside events, so a
//! change the kernel does not report is still seen within two intervals.
//!
//! Watched, non-recursively: the plugins folder and the folder holding the
//! policy file (an editor's rename or a Kubernetes ConfigMap's symlink swap
//! replaces the file, which a watch on the file itself would lose). Access
//! events are ignored: the watcher's own reads must not wake it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

/// How long the folder must stay quiet after an event before the second
/// look. Long enough for the writes of one `cp` or `rename` to land
/// together; a file still being written raises more events and restarts it.
pub const SETTLE: Duration = Duration::from_millis(15);

/// How often a wait checks the stop and SIGHUP flags.
const SLICE: Duration = Duration::from_millis(5);

/// What woke a [`Events::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    /// The timeout passed with no event.
    Timeout,
    /// Something changed in a watched folder.
    Event,
    /// A flag (stop or SIGHUP) was raised.
    Flag,
}

/// Filesystem events for the plugins folder and the policy file, when the
/// platform delivers them.
pub struct Events {
    /// Keeps the channel open when there is no watcher.
    _tx: Sender<()>,
    rx: Receiver<()>,
    watcher: Option<RecommendedWatcher>,
    watched: Vec<PathBuf>,
}

impl Events {
    /// Starts watching `dir` and the folder of `policy`. When events are
    /// unavailable this says so once in the log and [`Events::active`] is
    /// false: the caller polls.
    pub fn start(dir: Option<&Path>, policy: Option<&Path>) -> Events {
        let (tx, rx) = channel();
        let sender = tx.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if let Ok(event) = res
                && !matches!(event.kind, EventKind::Access(_))
            {
                let _ = sender.send(());
            }
        });
        let mut events = Events {
            _tx: tx,
            rx,
            watcher: match watcher {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::warn!(error = %e, "filesystem events unavailable; the plugins folder is polled");
                    None
                }
            },
            watched: Vec::new(),
        };
        events.follow(dir, policy);
        events
    }

    /// Whether events are being delivered (else only the poll runs).
    pub fn active(&self) -> bool {
        self.watcher.is_some() && !self.watched.is_empty()
    }

    /// Watches `dir` and the folder of `policy`, dropping the watches of
    /// folders no longer named (the policy's `[registry] dir` changed). A
    /// folder that cannot be watched (it does not exist yet) is polled.
    pub fn follow(&mut self, dir: Option<&Path>, policy: Option<&Path>) {
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        let mut wanted: Vec<PathBuf> = Vec::new();
        if let Some(d) = dir {
            wanted.push(d.to_path_buf());
        }
        if let Some(p) = policy {
            let parent = match p.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !wanted.contains(&parent) {
                wanted.push(parent);
            }
        }
        for old in std::mem::take(&mut self.watched) {
            if wanted.contains(&old) {
                self.watched.push(old);
            } else {
                let _ = watcher.unwatch(&old);
            }
        }
        for path in wanted {
            if self.watched.contains(&path) {
                continue;
            }
            match watcher.watch(&path, RecursiveMode::NonRecursive) {
                Ok(()) => self.watched.push(path),
                Err(e) => {
                    tracing::debug!(path = %path.display(), error = %e, "cannot watch for events; polled instead")
                }
            }
        }
    }

    /// Waits up to `timeout` for an event or a raised flag. Events that
    /// arrived together are consumed together.
    pub fn wait(&self, timeout: Duration, flags: &[&AtomicBool]) -> Woke {
        let deadline = Instant::now() + timeout;
        loop {
            if flags.iter().any(|f| f.load(Ordering::Relaxed)) {
                return Woke::Flag;
            }
            let now = Instant::now();
            if now >= deadline {
                return Woke::Timeout;
            }
            match self.rx.recv_timeout(SLICE.min(deadline - now)) {
                Ok(()) => {
                    while self.rx.try_recv().is_ok() {}
                    return Woke::Event;
                }
                Err(RecvTimeoutError::Timeout) => {}
                // Cannot happen while `self._tx` lives; treat as a timeout.
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(SLICE),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits for an event with a generous bound: the kernel delivers it
    /// asynchronously.
    fn wait_for_event(events: &Events) -> Woke {
        let stop = AtomicBool::new(false);
        events.wait(Duration::from_secs(30), &[&stop])
    }

    #[test]
    fn a_file_landing_in_the_folder_wakes_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let events = Events::start(Some(dir.path()), None);
        assert!(events.active(), "inotify is available on the test machine");
        std::fs::write(dir.path().join("p.toml"), "x").unwrap();
        assert_eq!(wait_for_event(&events), Woke::Event);
    }

    #[test]
    fn reading_the_folder_does_not_wake_it_and_flags_do() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.toml"), "x").unwrap();
        let events = Events::start(Some(dir.path()), None);
        let _ = std::fs::read_dir(dir.path()).unwrap().count();
        let _ = std::fs::read(dir.path().join("p.toml")).unwrap();
        let stop = AtomicBool::new(false);
        // Nothing changed: the short wait times out (a timeout is what
        // this asserts, so it cannot be made flaky by a slow machine).
        assert_eq!(
            events.wait(Duration::from_millis(200), &[&stop]),
            Woke::Timeout
        );
        stop.store(true, Ordering::Relaxed);
        assert_eq!(events.wait(Duration::from_secs(30), &[&stop]), Woke::Flag);
    }

    #[test]
    fn a_policy_file_replaced_by_rename_wakes_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.toml");
        std::fs::write(&policy, "a").unwrap();
        let events = Events::start(None, Some(&policy));
        std::fs::write(dir.path().join("policy.toml.new"), "b").unwrap();
        std::fs::rename(dir.path().join("policy.toml.new"), &policy).unwrap();
        assert_eq!(wait_for_event(&events), Woke::Event);
    }
}
