//! The running pipeline, and replacing it while it serves.
//!
//! [`LivePipeline`] holds the current [`Pipeline`] behind an `Arc`. An
//! evaluation takes the `Arc` (a read lock held for one clone) and runs to
//! the end on that pipeline, so a swap never changes the plugins under an
//! evaluation in flight: it finishes on the old version, which is dropped
//! when the last such evaluation ends. A plain `RwLock<Arc<_>>` is enough:
//! the lock is held for a reference-count increment, never across a call.
//!
//! [`Reloader`] builds the next pipeline off the hot path and swaps it in:
//!
//! 1. the policy file is read and validated whole; an invalid policy is
//!    refused and the running one stays;
//! 2. every manifest in the policy's plugins folder goes through
//!    `plugin::registry` (manifest, digest, signature, capabilities, compile
//!    through the compile cache, world and imports, info) and then the
//!    conformance smoke test ([`crate::conformance::smoke_test`]); a plugin
//!    whose manifest and component are unchanged is reused as it is;
//! 3. a plugin that fails any step is refused with one `error` log line
//!    naming the manifest and the step, and counted in
//!    `railyard_plugin_reload_refused_total{step}`; its last good version,
//!    if any, keeps serving;
//! 4. the new pipeline is assembled and swapped in atomically.
//!
//! Reloads are serialized. They are triggered by [`Reloader::reload`] (the
//! API an admin endpoint calls), by SIGHUP, and by the [`Watcher`], which
//! looks at the folder and the policy file when filesystem events say
//! something changed, and every poll interval regardless.
//!
//! A plugin lands as two files written by whatever tool an operator uses
//! (cp, rsync, a Kubernetes ConfigMap's symlink swap, an editor's rename);
//! what matters is the state of the folder once it is stable, not the
//! stream of events on the way. So the decision is always made from the
//! folder's state: a change is acted on once two looks (names, sizes,
//! modification times, inodes) agree. Events (`notify`: inotify on Linux;
//! `watch_events`) only make the looks prompt — the first on the event,
//! the second once the folder has been quiet for a few milliseconds — so a
//! dropped plugin decides in well under 100 ms instead of one to two poll
//! intervals. The poll (`registry.poll-ms`, default 1 s) keeps running as
//! the fallback: on network or overlay filesystems where inotify misses
//! changes, or when events are unavailable, behaviour is what it was. The
//! manifest's digest then guarantees a half-copied component is never
//! compiled.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};

mod metrics;
mod scan;
mod watch;
pub mod watch_events;

pub use metrics::{MetricsSnapshot, ReloadMetrics};
use scan::{assemble, scan_folder};
pub use watch::Watcher;
use watch::{Fingerprint, fingerprint};

use crate::evaluation::Evaluation;
use crate::payload::Payload;
use crate::pipeline::{Pipeline, PipelineError};
use crate::plugin::manifest::Manifest;
use crate::plugin::{LoadedPlugin, PluginDigest, PluginLoader};
use crate::policy::{Policy, PolicyError};

/// The pipeline that serves, replaceable while it serves.
pub struct LivePipeline {
    current: RwLock<Arc<Pipeline>>,
}

impl LivePipeline {
    /// Serves `pipeline` until it is replaced.
    pub fn new(pipeline: Pipeline) -> Self {
        LivePipeline {
            current: RwLock::new(Arc::new(pipeline)),
        }
    }

    /// The pipeline serving now. Hold it for the length of one evaluation.
    pub fn current(&self) -> Arc<Pipeline> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Evaluates `payload` on the current pipeline, to the end, whatever
    /// is swapped in meanwhile.
    pub fn evaluate(&self, payload: &Payload) -> Evaluation {
        self.current().evaluate(payload)
    }

    fn swap(&self, next: Arc<Pipeline>) -> Arc<Pipeline> {
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *guard, next)
    }
}

/// What one reload did.
#[derive(Debug, Default)]
pub struct ReloadReport {
    /// The policy was replaced by a new, valid version.
    pub policy_replaced: bool,
    /// The policy file changed but was refused (the old one still runs).
    pub policy_refused: Option<String>,
    /// Folder plugins whose new version went live: (name, digest).
    pub went_live: Vec<(String, PluginDigest)>,
    /// Folder plugins removed with their manifest.
    pub removed: Vec<String>,
    /// Plugin versions refused: (manifest, step, error).
    pub refused: Vec<(PathBuf, &'static str, String)>,
    /// A new pipeline was swapped in.
    pub swapped: bool,
}

/// Where the policy comes from.
enum PolicySource {
    /// A file, re-read on every reload.
    File(PathBuf),
    /// A fixed policy (the embedded default, or one built in code).
    Fixed,
}

impl PolicySource {
    fn file(&self) -> Option<&Path> {
        match self {
            PolicySource::File(p) => Some(p),
            PolicySource::Fixed => None,
        }
    }
}

/// A folder plugin that passed every step.
#[derive(Clone)]
struct Accepted {
    manifest: Manifest,
    /// (manifest digest, component digest, grants): what makes a version.
    identity: (PluginDigest, PluginDigest, crate::plugin::Grants),
    plugin: Arc<LoadedPlugin>,
}

struct State {
    policy: Policy,
    /// By manifest path.
    accepted: BTreeMap<PathBuf, Accepted>,
    /// Versions refused already, by manifest path: not retried (or logged
    /// again) until the manifest or component changes.
    refused: HashMap<PathBuf, (PluginDigest, Option<PluginDigest>)>,
    /// Digest of the last policy text refused, so it is logged once.
    refused_policy: Option<String>,
}

/// Builds and swaps pipelines; see the module docs.
pub struct Reloader {
    loader: PluginLoader,
    source: PolicySource,
    live: Arc<LivePipeline>,
    state: Mutex<State>,
    /// The plugins folder and policy file as they were just before the
    /// last (or first) load read them. The watcher compares against this,
    /// not against a snapshot of its own, so a change that lands between a
    /// load and the watcher's first poll (or during a reload) is still seen.
    read_at: Mutex<Fingerprint>,
    metrics: ReloadMetrics,
    /// Told of every reload that swapped a pipeline in or refused
    /// something, whatever started it (watcher, SIGHUP, admin call).
    observer: std::sync::OnceLock<ReloadObserver>,
}

/// What [`Reloader::on_reload`] calls: the report, the pipeline before and
/// the one serving after.
pub type ReloadObserver = Box<dyn Fn(&ReloadReport, &Pipeline, &Pipeline) + Send + Sync>;

/// Why the first pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The policy is invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A plugin the policy names does not load.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

impl Reloader {
    /// Starts from the policy file at `path`, re-read on every reload.
    /// Folder plugins that fail verification are refused (logged, counted)
    /// and the rest start; a bad policy or a policy plugin that does not
    /// load is an error.
    pub fn from_file(loader: PluginLoader, path: impl Into<PathBuf>) -> Result<Self, StartError> {
        let path = path.into();
        let policy = Policy::from_file(&path)?;
        Self::start(loader, policy, PolicySource::File(path))
    }

    /// Starts from a fixed `policy` (its plugins folder is still watched).
    pub fn from_policy(loader: PluginLoader, policy: Policy) -> Result<Self, StartError> {
        Self::start(loader, policy, PolicySource::Fixed)
    }

    fn start(
        loader: PluginLoader,
        policy: Policy,
        source: PolicySource,
    ) -> Result<Self, StartError> {
        let metrics = ReloadMetrics::default();
        let read_at = fingerprint(
            policy.registry.as_ref().map(|r| r.dir.as_path()),
            source.file(),
        );
        let mut state = State {
            policy: policy.clone(),
            accepted: BTreeMap::new(),
            refused: HashMap::new(),
            refused_policy: None,
        };
        let mut report = ReloadReport::default();
        scan_folder(&loader, &policy, &mut state, &metrics, &mut report);
        let pipeline = assemble(&loader, &policy, &state, None)?;
        tracing::info!(
            policy = %policy.origin,
            folder_plugins = state.accepted.len(),
            refused = report.refused.len(),
            "pipeline started"
        );
        Ok(Reloader {
            loader,
            source,
            live: Arc::new(LivePipeline::new(pipeline)),
            state: Mutex::new(state),
            read_at: Mutex::new(read_at),
            metrics,
            observer: std::sync::OnceLock::new(),
        })
    }

    /// The live pipeline evaluations run on.
    pub fn live(&self) -> &Arc<LivePipeline> {
        &self.live
    }

    /// The reload counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot()
    }

    /// The plugins folder of the running policy, if it has one.
    pub fn plugins_dir(&self) -> Option<PathBuf> {
        self.lock().policy.registry.as_ref().map(|r| r.dir.clone())
    }

    /// The policy file, if the policy comes from one.
    pub fn policy_file(&self) -> Option<&Path> {
        self.source.file()
    }

    /// What the watcher sees now.
    fn snapshot(&self) -> Fingerprint {
        fingerprint(self.plugins_dir().as_deref(), self.policy_file())
    }

    /// The fingerprint taken just before the last load read the files.
    fn read_at(&self) -> Fingerprint {
        self.read_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-reads the policy and the plugins folder and swaps in what is new
    /// and good. Blocks while compiling; call it off the hot path (the
    /// watcher's thread, an admin request's worker).
    pub fn reload(&self) -> ReloadReport {
        let state = self.lock();
        let before = self.live.current();
        let report = self.reload_locked(state);
        if let Some(observe) = self.observer.get()
            && (report.swapped || report.policy_refused.is_some() || !report.refused.is_empty())
        {
            observe(&report, &before, &self.live.current());
        }
        report
    }

    /// Sets the one observer of reloads (later calls are ignored).
    pub fn on_reload(&self, observer: ReloadObserver) {
        let _ = self.observer.set(observer);
    }

    fn reload_locked(&self, mut state: std::sync::MutexGuard<'_, State>) -> ReloadReport {
        self.metrics.reloads.fetch_add(1, Ordering::Relaxed);
        let mut report = ReloadReport::default();
        // Taken before anything is read: a file that changes from here on
        // differs from it, so the watcher reloads again.
        let read_at = fingerprint(
            state.policy.registry.as_ref().map(|r| r.dir.as_path()),
            self.source.file(),
        );
        *self.read_at.lock().unwrap_or_else(|e| e.into_inner()) = read_at;

        // 1. The policy, validated whole: a changed, valid policy is tried
        // first; the running one is the fallback.
        let mut policies = Vec::with_capacity(2);
        if let PolicySource::File(path) = &self.source {
            match Policy::from_file(path) {
                Ok(p) if p.digest == state.policy.digest => {}
                Ok(p) => policies.push(p),
                Err(e) => self.refuse_policy(&mut state, &mut report, e.to_string()),
            }
        }
        let tries_new = !policies.is_empty();
        policies.push(state.policy.clone());

        let before: BTreeMap<String, PluginDigest> = state
            .accepted
            .values()
            .map(|a| (a.manifest.name.clone(), a.plugin.digest))
            .collect();
        for (i, policy) in policies.into_iter().enumerate() {
            let is_new = tries_new && i == 0;
            // 2-3. The folder, each plugin on its own.
            let mut candidate = State {
                policy: policy.clone(),
                accepted: state.accepted.clone(),
                refused: state.refused.clone(),
                refused_policy: state.refused_policy.clone(),
            };
            let mut attempt = ReloadReport::default();
            scan_folder(
                &self.loader,
                &policy,
                &mut candidate,
                &self.metrics,
                &mut attempt,
            );
            report.refused.append(&mut attempt.refused);
            // 4. Assemble and swap.
            let current = self.live.current();
            let pipeline = match assemble(&self.loader, &policy, &candidate, Some(current.as_ref()))
            {
                Ok(p) => p,
                Err(e) => {
                    // Refusals already logged stay logged once.
                    state.refused = candidate.refused;
                    self.refuse_policy(&mut state, &mut report, e.to_string());
                    if is_new {
                        continue;
                    }
                    return report;
                }
            };
            drop(current);
            let after: BTreeMap<String, PluginDigest> = candidate
                .accepted
                .values()
                .map(|a| (a.manifest.name.clone(), a.plugin.digest))
                .collect();
            for (name, digest) in &after {
                if before.get(name) != Some(digest) {
                    report.went_live.push((name.clone(), *digest));
                }
            }
            report.removed = before
                .keys()
                .filter(|n| !after.contains_key(*n))
                .cloned()
                .collect();
            report.policy_replaced = is_new;
            if is_new {
                candidate.refused_policy = None;
            }
            if report.policy_replaced || !report.went_live.is_empty() || !report.removed.is_empty()
            {
                let old = self.live.swap(Arc::new(pipeline));
                self.metrics.swaps.fetch_add(1, Ordering::Relaxed);
                self.metrics
                    .plugins_live
                    .fetch_add(report.went_live.len() as u64, Ordering::Relaxed);
                report.swapped = true;
                for (name, digest) in &report.went_live {
                    match before.get(name) {
                        Some(old) => {
                            tracing::info!(plugin = %name, digest = %digest, replaces = %old, "plugin version is live")
                        }
                        None => tracing::info!(plugin = %name, digest = %digest, "plugin is live"),
                    }
                }
                for name in &report.removed {
                    tracing::info!(plugin = %name, "plugin removed with its manifest");
                }
                if report.policy_replaced {
                    tracing::info!(policy = %policy.origin, digest = %policy.digest, "policy replaced");
                }
                // Evaluations still running on `old` finish on it; it is
                // freed when the last one drops its `Arc`.
                drop(old);
            }
            *state = candidate;
            return report;
        }
        report
    }

    /// Logs and counts a refused policy once per distinct error.
    fn refuse_policy(&self, state: &mut State, report: &mut ReloadReport, message: String) {
        if state.refused_policy.as_deref() != Some(message.as_str()) {
            tracing::error!(error = %message, "policy change refused; the running policy and plugins stay");
            self.metrics.policy_refused.fetch_add(1, Ordering::Relaxed);
            state.refused_policy = Some(message.clone());
        }
        report.policy_refused = Some(message);
    }

    /// Watches the plugins folder and the policy file (filesystem events,
    /// and a poll every `registry.poll-ms`, default 1 s), reloads when they
    /// change and two looks agree (see the module docs), and reloads on
    /// SIGHUP. Stops when the returned [`Watcher`] is dropped.
    pub fn watch(self: &Arc<Self>) -> std::io::Result<Watcher> {
        Watcher::start(self)
    }
}
