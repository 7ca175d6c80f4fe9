//! The watcher thread: filesystem events and a poll decide when to reload
//! (two agreeing looks at the folder; see the module docs of `live`), and
//! SIGHUP reloads at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use super::Reloader;
use super::watch_events::{Events, SETTLE, Woke};

/// The watcher thread; stops (and unregisters its SIGHUP handler) on drop.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
    sig: signal_hook::SigId,
}

impl Watcher {
    /// Starts the watcher thread for `reloader` (see [`Reloader::watch`]).
    pub(super) fn start(reloader: &Arc<Reloader>) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let hup = Arc::new(AtomicBool::new(false));
        let sig = signal_hook::flag::register(signal_hook::consts::SIGHUP, hup.clone())?;
        let reloader_thread = Arc::clone(reloader);
        let stop_thread = stop.clone();
        // The baseline is fixed here, before `watch` returns, and it is what
        // the last load read: a plugin dropped after the load, even before
        // the thread first runs, differs from it and is picked up.
        let seen = reloader.read_at();
        // Watching starts here too: an event from now on is delivered.
        let events = Events::start(reloader.plugins_dir().as_deref(), reloader.policy_file());
        let handle = std::thread::Builder::new()
            .name("railyard-reload".into())
            .spawn(move || watch_loop(&reloader_thread, events, seen, &stop_thread, &hup))?;
        Ok(Self {
            stop,
            handle: Some(handle),
            sig,
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        signal_hook::low_level::unregister(self.sig);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// What the watcher compares between polls: every file's name, size,
/// modification time and inode in the folder, and the policy file's.
pub(super) type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>, u64)>;

pub(super) fn fingerprint(dir: Option<&Path>, policy: Option<&Path>) -> Fingerprint {
    let mut out = Vec::new();
    let mut add = |p: PathBuf| {
        if let Ok(m) = std::fs::metadata(&p) {
            #[cfg(unix)]
            let ino = std::os::unix::fs::MetadataExt::ino(&m);
            #[cfg(not(unix))]
            let ino = 0;
            out.push((p, m.len(), m.modified().ok(), ino));
        }
    };
    if let Some(p) = policy {
        add(p.to_path_buf());
    }
    if let Some(dir) = dir
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for e in entries.flatten() {
            add(e.path());
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn watch_loop(
    reloader: &Reloader,
    mut events: Events,
    mut seen: Fingerprint,
    stop: &AtomicBool,
    hup: &AtomicBool,
) {
    let mut dir = reloader.plugins_dir();
    let mut pending: Option<Fingerprint> = None;
    while !stop.load(Ordering::Relaxed) {
        let interval = reloader
            .lock()
            .policy
            .registry
            .as_ref()
            .map(|r| r.poll_interval)
            .unwrap_or(Duration::from_secs(1));
        // A change seen and events flowing: the second look comes once the
        // folder has been quiet for SETTLE. Otherwise, one poll interval.
        let wait = if pending.is_some() && events.active() {
            SETTLE.min(interval)
        } else {
            interval
        };
        let woke = events.wait(wait, &[stop, hup]);
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if hup.swap(false, Ordering::Relaxed) {
            tracing::info!("SIGHUP: reloading plugins and policy");
            reloader.reload();
            seen = reloader.read_at();
            pending = None;
        } else {
            let now = reloader.snapshot();
            if now == seen {
                pending = None;
                continue;
            }
            // Changed: act once two looks agree with nothing happening in
            // between, so a file still being copied is not read half-way.
            if woke == Woke::Timeout && pending.as_ref() == Some(&now) {
                reloader.reload();
                seen = reloader.read_at();
                pending = None;
            } else {
                pending = Some(now);
                continue;
            }
        }
        // A reload may have changed the policy's plugins folder.
        let now_dir = reloader.plugins_dir();
        if now_dir != dir {
            dir = now_dir;
            events.follow(dir.as_deref(), reloader.policy_file());
        }
    }
}
