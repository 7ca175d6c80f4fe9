//! The running server, and replacing its `serve.toml` while it serves.
//!
//! A [`State`] is the server as one configuration sees it: callers and
//! keys, routes, upstreams, limits and quotas, over the parts every
//! configuration shares (the live policies, the audit log, the judges, the
//! metrics). [`Server`] holds the current one behind an `Arc`. Each call
//! takes that `Arc` once, when it arrives, and runs to its end on it, so a
//! reload never changes the configuration under a call in flight: a call
//! sees the old configuration or the new one, never a mix (a route from
//! one and its upstream from the other). A plain `RwLock<Arc<_>>`, held for
//! a reference-count increment, as `live::LivePipeline` does for plugins.
//!
//! A reload is triggered by SIGHUP, by `POST /admin/reload-config`, or by
//! the file changing (filesystem events through `live::watch_events`, and
//! a poll every [`POLL`] as the fallback; a change is acted on once two
//! looks [`SETTLE`] apart read the same bytes, so a half-written file is
//! not read). Reloads are serialized. Each one:
//!
//! 1. reads the file and validates it whole, with the command line's
//!    `--listen`, `--policy` and `--upstream` applied over it as at start;
//! 2. keeps what cannot change without a restart (`listen`, `[metrics]
//!    listen`, `[policies]`, `[judges]`, the `[quotas]` backend), reporting
//!    each one that differs, and refuses the file if a route or caller
//!    names a policy that is not running;
//! 3. builds the next [`State`], reusing the concurrency limits and quota
//!    buckets whose settings did not change (a changed one starts afresh;
//!    calls in flight keep the slots they hold on the old one), and swaps
//!    it in.
//!
//! An invalid file is refused whole: the running configuration stays, the
//! error is logged at `warn` and answered to the admin endpoint, and
//! `railyard_config_reloads_total{result="refused"}` counts it.

use crate::audit::events::{Event, EventKind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::{ServeConfig, State};
use crate::live::watch_events::{Events, SETTLE, Woke};

/// How often the file is looked at when no filesystem event says it
/// changed: the fallback where inotify is unavailable or misses changes
/// (network and overlay filesystems), as for the plugins folder.
pub const POLL: Duration = Duration::from_secs(1);

/// What the command line put over `serve.toml`; applied again on every
/// reload, so a reload never undoes a flag.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--policy`: the `default` policy's file.
    pub policy: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<std::net::SocketAddr>,
    /// `--upstream` (or `RAILYARD_UPSTREAM_URL`) and the environment
    /// variable holding its key.
    pub upstream: Option<(String, Option<String>)>,
}

impl Overrides {
    /// `config` with the command line applied over it.
    pub fn apply(&self, mut config: ServeConfig) -> Result<ServeConfig, String> {
        if let Some(p) = &self.policy {
            config.policies.insert("default".into(), Some(p.clone()));
        }
        if let Some(l) = self.listen {
            config.listen = l;
        }
        if let Some((url, key_env)) = &self.upstream {
            config = config
                .with_default_upstream(url, key_env.clone())
                .map_err(|e| format!("--upstream: {e}"))?;
        }
        Ok(config)
    }
}

/// Where the configuration comes from: a `serve.toml` and the flags over it.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    /// The file.
    pub path: PathBuf,
    /// The command line's flags.
    pub overrides: Overrides,
}

impl ConfigSource {
    /// Validates `text` (the file's bytes) with the flags applied.
    pub fn parse(&self, text: &[u8]) -> Result<ServeConfig, String> {
        let text = std::str::from_utf8(text)
            .map_err(|e| format!("{}: not UTF-8: {e}", self.path.display()))?;
        let config = ServeConfig::from_text(&self.path, text).map_err(|e| e.to_string())?;
        self.overrides.apply(config)
    }

    /// Reads and validates the file.
    pub fn load(&self) -> Result<ServeConfig, String> {
        let bytes = std::fs::read(&self.path)
            .map_err(|e| format!("{}: cannot read: {e}", self.path.display()))?;
        self.parse(&bytes)
    }
}

/// What set a reload off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `POST /admin/reload-config`.
    Admin,
    /// SIGHUP.
    Signal,
    /// The file changed.
    File,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Admin => "admin",
            Trigger::Signal => "SIGHUP",
            Trigger::File => "file change",
        }
    }
}

/// What a reload did.
#[derive(Debug, Clone, Default)]
pub struct ConfigReload {
    /// The new configuration serves.
    pub applied: bool,
    /// The file had not changed since the last look (file-change trigger
    /// only); nothing was done.
    pub unchanged: bool,
    /// Why the file was refused; the running configuration stays.
    pub error: Option<String>,
    /// Settings that differ in the file but need a restart; the running
    /// values stay.
    pub needs_restart: Vec<&'static str>,
}

/// `railyard_config_reloads_total`, shared by every [`State`] so
/// `/metrics` shows it whichever configuration answers.
#[derive(Debug, Default)]
pub struct ReloadCounters {
    applied: AtomicU64,
    refused: AtomicU64,
}

impl ReloadCounters {
    /// Reloads that swapped a new configuration in.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Relaxed)
    }

    /// Reloads refused (the file was invalid).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Adds `railyard_config_reloads_total{result}` to a scrape.
    pub fn register(&self, r: &mut prometheus_client::registry::Registry) {
        use prometheus_client::metrics::counter::Counter;
        use prometheus_client::metrics::family::Family;
        let f = Family::<[(&'static str, &'static str); 1], Counter>::default();
        f.get_or_create(&[("result", "applied")])
            .inc_by(self.applied());
        f.get_or_create(&[("result", "refused")])
            .inc_by(self.refused());
        r.register(
            "railyard_config_reloads",
            "serve.toml reloads, applied or refused whole",
            f,
        );
    }
}

/// The server: the [`State`] serving now, and how to replace it.
pub struct Server {
    current: RwLock<Arc<State>>,
    source: Option<ConfigSource>,
    /// Serializes reloads; holds the bytes of the file as last read, so a
    /// file-change trigger for content already read does nothing.
    last_read: Mutex<Option<Vec<u8>>>,
}

impl Server {
    /// Serves `state`; `source` is where reloads read from (none: the
    /// server was started without `--config`, and there is nothing to
    /// reload).
    pub fn new(state: State, source: Option<ConfigSource>) -> Arc<Server> {
        let last_read = source.as_ref().and_then(|s| std::fs::read(&s.path).ok());
        Arc::new(Server {
            current: RwLock::new(Arc::new(state)),
            source,
            last_read: Mutex::new(last_read),
        })
    }

    /// The state serving now. A call takes it once and keeps it to its end.
    pub fn current(&self) -> Arc<State> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads `serve.toml` again and swaps the new configuration in, or
    /// refuses it whole. Blocking (it reads the file and may connect a
    /// quota backend): call it from `block_in_place` or a blocking thread
    /// inside the runtime.
    pub fn reload_config(&self, trigger: Trigger) -> ConfigReload {
        let mut last_read = self.last_read.lock().unwrap_or_else(|p| p.into_inner());
        let running = self.current();
        let counters = running.config_reloads.clone();
        let event = |message: &str, detail: serde_json::Value| {
            Event::new(EventKind::ConfigReload, message)
                .detail(serde_json::json!({"trigger": trigger.as_str(), "result": detail}))
        };
        let refuse = |error: String| {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(trigger = trigger.as_str(), %error, "serve.toml refused whole; the running configuration stays");
            running.events.record(event(
                "serve.toml refused whole; the running configuration stays",
                serde_json::json!({"applied": false, "error": error}),
            ));
            ConfigReload {
                error: Some(error),
                ..ConfigReload::default()
            }
        };
        let Some(source) = &self.source else {
            return refuse(
                "railyard serve was started without --config: there is no serve.toml to reload"
                    .into(),
            );
        };
        let bytes = match std::fs::read(&source.path) {
            Ok(b) => b,
            Err(e) => return refuse(format!("{}: cannot read: {e}", source.path.display())),
        };
        if trigger == Trigger::File && last_read.as_deref() == Some(bytes.as_slice()) {
            return ConfigReload {
                unchanged: true,
                ..ConfigReload::default()
            };
        }
        let before = last_read.as_deref().map(crate::audit::chain::sha256_hex);
        *last_read = Some(bytes.clone());
        let next = source
            .parse(&bytes)
            .and_then(|config| running.reconfigured(config));
        let (state, needs_restart) = match next {
            Ok(n) => n,
            Err(e) => return refuse(e),
        };
        state.events.record(
            event(
                "serve.toml reloaded",
                serde_json::json!({"applied": true, "needs_restart": needs_restart}),
            )
            .digests(
                before.as_deref(),
                Some(&crate::audit::chain::sha256_hex(&bytes)),
            ),
        );
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(state);
        counters.applied.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            trigger = trigger.as_str(),
            file = %source.path.display(),
            "serve.toml reloaded: callers, keys, routes, upstreams, limits and quotas now come from it"
        );
        if !needs_restart.is_empty() {
            tracing::warn!(
                settings = needs_restart.join(", "),
                "serve.toml changes settings that need a restart; their running values stay until then"
            );
        }
        ConfigReload {
            applied: true,
            needs_restart,
            ..ConfigReload::default()
        }
    }

    /// Reloads on SIGHUP and when the file changes, until the returned
    /// watcher is dropped. Nothing to watch without a `serve.toml`.
    pub fn watch(self: &Arc<Self>) -> std::io::Result<Option<ConfigWatcher>> {
        let Some(source) = &self.source else {
            return Ok(None);
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Trigger>(4);
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let stop = Arc::new(AtomicBool::new(false));
        // Watching starts, and the bytes the server runs on are taken as
        // the last seen, before this returns: a change made the moment
        // after is still a change.
        let events = Events::start(None, Some(&source.path));
        let seen = self
            .last_read
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let thread = {
            let stop = stop.clone();
            let path = source.path.clone();
            let tx = tx.clone();
            std::thread::Builder::new()
                .name("railyard-config-watch".into())
                .spawn(move || watch_file(&path, events, seen, &stop, &tx))?
        };
        let server = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let trigger = tokio::select! {
                    got = hup.recv() => match got {
                        Some(()) => Trigger::Signal,
                        None => break,
                    },
                    got = rx.recv() => match got {
                        Some(t) => t,
                        None => break,
                    },
                };
                let s = server.clone();
                // The reload blocks (file, quota backend): off the async
                // threads, inside the runtime.
                let _ = tokio::task::spawn_blocking(move || s.reload_config(trigger)).await;
            }
        });
        Ok(Some(ConfigWatcher {
            stop,
            thread: Some(thread),
            task,
        }))
    }
}

/// The file watcher and the signal listener; both stop on drop.
pub struct ConfigWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.abort();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Looks at `path` on every event in its folder and every [`POLL`], and
/// sends [`Trigger::File`] when its bytes changed and two looks agree.
fn watch_file(
    path: &Path,
    events: Events,
    mut seen: Option<Vec<u8>>,
    stop: &AtomicBool,
    tx: &tokio::sync::mpsc::Sender<Trigger>,
) {
    loop {
        if events.wait(POLL, &[stop]) == Woke::Flag {
            return;
        }
        let first = std::fs::read(path).ok();
        if first == seen {
            continue;
        }
        // Still being written? Look again once the writes have landed.
        std::thread::sleep(SETTLE);
        let second = std::fs::read(path).ok();
        if second != first {
            continue;
        }
        seen = second;
        if seen.is_some() && tx.blocking_send(Trigger::File).is_err() {
            return;
        }
    }
}
