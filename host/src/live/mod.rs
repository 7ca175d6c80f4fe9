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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

pub mod watch_events;

use crate::conformance;
use crate::evaluation::Evaluation;
use crate::payload::Payload;
use crate::pipeline::{Pipeline, PipelineError};
use crate::plugin::manifest::Manifest;
use crate::plugin::registry::{self, RegistryError, Verified};
use crate::plugin::{LoadedPlugin, PluginDigest, PluginLoader, builtin};
use crate::policy::{PluginLimits, PluginSource, PluginSpec, Policy, PolicyError};
use watch_events::{Events, SETTLE, Woke};

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

/// Counters of reload outcomes, for `/metrics`.
#[derive(Debug, Default)]
pub struct ReloadMetrics {
    reloads: AtomicU64,
    swaps: AtomicU64,
    plugins_live: AtomicU64,
    policy_refused: AtomicU64,
    plugin_refused: Mutex<BTreeMap<&'static str, u64>>,
}

/// A copy of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Reloads run.
    pub reloads_total: u64,
    /// New pipelines swapped in.
    pub swaps_total: u64,
    /// Plugin versions that went live from the plugins folder.
    pub plugins_live_total: u64,
    /// Policy files refused.
    pub policy_refused_total: u64,
    /// Plugin versions refused, by step (`manifest`, `digest`, `signature`,
    /// `capabilities`, `load`, `info`, `name`, `smoke-test`).
    pub plugin_refused_total: BTreeMap<&'static str, u64>,
}

impl MetricsSnapshot {
    /// Plugin versions refused, all steps.
    pub fn plugin_refused(&self) -> u64 {
        self.plugin_refused_total.values().sum()
    }

    /// Adds the counters to a `/metrics` scrape's registry.
    pub fn register(&self, r: &mut prometheus_client::registry::Registry) {
        use prometheus_client::metrics::counter::{ConstCounter, Counter};
        use prometheus_client::metrics::family::Family;
        r.register(
            "railyard_reloads",
            "Plugin and policy reloads run",
            ConstCounter::new(self.reloads_total),
        );
        r.register(
            "railyard_pipeline_swaps",
            "New pipelines swapped in",
            ConstCounter::new(self.swaps_total),
        );
        r.register(
            "railyard_plugin_versions_live",
            "Plugin versions from the plugins folder that went live",
            ConstCounter::new(self.plugins_live_total),
        );
        r.register(
            "railyard_policy_reload_refused",
            "Policy files refused at reload",
            ConstCounter::new(self.policy_refused_total),
        );
        let refused = Family::<[(&'static str, &'static str); 1], Counter>::default();
        for (step, v) in &self.plugin_refused_total {
            refused.get_or_create(&[("step", *step)]).inc_by(*v);
        }
        r.register(
            "railyard_plugin_reload_refused",
            "Plugin versions refused at reload, by the step that refused them",
            refused,
        );
    }

    /// The counters alone, in the Prometheus text format.
    pub fn prometheus(&self) -> String {
        let mut r = prometheus_client::registry::Registry::default();
        self.register(&mut r);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &r);
        out
    }
}

impl ReloadMetrics {
    /// A copy of the counters.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            reloads_total: self.reloads.load(Ordering::Relaxed),
            swaps_total: self.swaps.load(Ordering::Relaxed),
            plugins_live_total: self.plugins_live.load(Ordering::Relaxed),
            policy_refused_total: self.policy_refused.load(Ordering::Relaxed),
            plugin_refused_total: self
                .plugin_refused
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    fn refused(&self, step: &'static str) {
        *self
            .plugin_refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(step)
            .or_default() += 1;
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
        let stop = Arc::new(AtomicBool::new(false));
        let hup = Arc::new(AtomicBool::new(false));
        let sig = signal_hook::flag::register(signal_hook::consts::SIGHUP, hup.clone())?;
        let reloader = Arc::clone(self);
        let stop_thread = stop.clone();
        // The baseline is fixed here, before `watch` returns, and it is what
        // the last load read: a plugin dropped after the load, even before
        // the thread first runs, differs from it and is picked up.
        let seen = self.read_at();
        // Watching starts here too: an event from now on is delivered.
        let events = Events::start(self.plugins_dir().as_deref(), self.policy_file());
        let handle = std::thread::Builder::new()
            .name("railyard-reload".into())
            .spawn(move || watch_loop(&reloader, events, seen, &stop_thread, &hup))?;
        Ok(Watcher {
            stop,
            handle: Some(handle),
            sig,
        })
    }
}

/// The watcher thread; stops (and unregisters its SIGHUP handler) on drop.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
    sig: signal_hook::SigId,
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
type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>, u64)>;

fn fingerprint(dir: Option<&Path>, policy: Option<&Path>) -> Fingerprint {
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

/// Verifies, loads and smoke-tests every manifest in the policy's folder,
/// updating `state.accepted` (last good per manifest) and `state.refused`.
fn scan_folder(
    loader: &PluginLoader,
    policy: &Policy,
    state: &mut State,
    metrics: &ReloadMetrics,
    report: &mut ReloadReport,
) {
    let Some(settings) = &policy.registry else {
        state.accepted.clear();
        return;
    };
    let paths = match registry::manifests(&settings.dir) {
        Ok(p) => p,
        Err(e) => {
            // An unreadable folder changes nothing: what runs keeps running.
            tracing::error!(dir = %settings.dir.display(), error = %e, "cannot list the plugins folder; plugins stay as they are");
            return;
        }
    };
    // Manifests that disappeared take their plugin with them.
    state.accepted.retain(|p, _| paths.contains(p));
    state.refused.retain(|p, _| paths.contains(p));

    let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in &paths {
        let refuse = |state: &mut State,
                      report: &mut ReloadReport,
                      e: RegistryError,
                      key: (PluginDigest, Option<PluginDigest>)| {
            let step = e.step();
            if state.refused.get(path) != Some(&key) {
                tracing::error!(manifest = %path.display(), step, error = %e, "plugin version refused; the last good version (if any) keeps serving");
                metrics.refused(step);
                state.refused.insert(path.clone(), key);
            }
            report.refused.push((path.clone(), step, e.to_string()));
        };
        let manifest_digest = std::fs::read(path)
            .map(|b| PluginDigest::of(&b))
            .unwrap_or(PluginDigest([0; 32]));
        let verified = match registry::verify(path, settings) {
            Ok(v) => v,
            Err(e) => {
                let component = Manifest::from_file(path)
                    .ok()
                    .and_then(|m| std::fs::read(&m.component).ok())
                    .map(|w| PluginDigest::of(&w));
                refuse(state, report, e, (manifest_digest, component));
                keep_name(state, path, &mut names);
                continue;
            }
        };
        let identity = (
            verified.manifest_digest,
            verified.manifest.digest,
            verified.grants.clone(),
        );
        let key = (verified.manifest_digest, Some(verified.manifest.digest));
        if let Some(a) = state.accepted.get(path)
            && a.identity == identity
        {
            keep_name(state, path, &mut names);
            continue;
        }
        if state.refused.get(path) == Some(&key) {
            keep_name(state, path, &mut names);
            continue;
        }
        let name = verified.manifest.name.clone();
        let clash = names
            .get(&name)
            .map(|other| format!("the manifest {}", other.display()))
            .or_else(|| {
                policy
                    .plugins
                    .contains_key(&name)
                    .then(|| format!("the policy's plugin `{name}`"))
            });
        if let Some(other) = clash {
            let e = RegistryError::DuplicateName {
                manifest: path.display().to_string(),
                name,
                other,
            };
            refuse(state, report, e, key);
            keep_name(state, path, &mut names);
            continue;
        }
        match accept(loader, policy, &verified) {
            Ok(plugin) => {
                state.refused.remove(path);
                names.insert(name, path.clone());
                state.accepted.insert(
                    path.clone(),
                    Accepted {
                        manifest: verified.manifest,
                        identity,
                        plugin: Arc::new(plugin),
                    },
                );
            }
            Err(e) => {
                refuse(state, report, e, key);
                keep_name(state, path, &mut names);
            }
        }
    }
}

/// Records the name of the last good version at `path`, if there is one.
fn keep_name(state: &State, path: &Path, names: &mut BTreeMap<String, PathBuf>) {
    if let Some(a) = state.accepted.get(path) {
        names.insert(a.manifest.name.clone(), path.to_path_buf());
    }
}

/// Steps 5-6 of the registry and the smoke test.
fn accept(
    loader: &PluginLoader,
    policy: &Policy,
    v: &Verified,
) -> Result<LoadedPlugin, RegistryError> {
    let plugin = registry::load(loader, v)?;
    let spec = folder_spec(policy, &v.manifest);
    if spec.limits.memory_bytes > loader.engine().max_plugin_memory() {
        return Err(RegistryError::Mismatch {
            manifest: v.manifest.path.display().to_string(),
            problem: format!(
                "limits.memory-mib = {} is above this host's limit of {} MiB (RAILYARD_MAX_PLUGIN_MEMORY_MIB)",
                spec.limits.memory_bytes >> 20,
                loader.engine().max_plugin_memory() >> 20
            ),
        });
    }
    let config: Arc<[(String, String)]> = Arc::from(spec.config.clone());
    conformance::smoke_test(
        &plugin,
        Some(&v.manifest),
        &config,
        &spec.limits,
        &v.manifest.stages,
    )
    .map_err(|failures| RegistryError::SmokeTest {
        manifest: v.manifest.path.display().to_string(),
        component: v.manifest.component.display().to_string(),
        failures,
    })?;
    Ok(plugin)
}

/// The policy entry a folder plugin runs under: its manifest's limits over
/// the policy's `[defaults]`, the default failure mode, its manifest config.
fn folder_spec(policy: &Policy, m: &Manifest) -> PluginSpec {
    let d = policy.default_limits;
    PluginSpec {
        name: m.name.clone(),
        source: PluginSource::File(m.component.clone()),
        expected_kind: Some(m.kind),
        limits: PluginLimits {
            timeout: m.limits.timeout.unwrap_or(d.timeout),
            memory_bytes: m.limits.memory_bytes.unwrap_or(d.memory_bytes),
            max_input_bytes: m.limits.max_input_bytes.unwrap_or(d.max_input_bytes),
        },
        failure_mode: policy.default_failure_mode,
        action: None,
        min_score: 0.0,
        config: m.config.clone(),
        reuse: false,
        scanner: true,
    }
}

/// The pipeline for `policy` plus the accepted folder plugins, each placed
/// after the policy's own plugins at the stages its manifest names (in
/// name order). Plugins of `current` whose bytes are unchanged are reused.
fn assemble(
    loader: &PluginLoader,
    policy: &Policy,
    state: &State,
    current: Option<&Pipeline>,
) -> Result<Pipeline, PipelineError> {
    let mut resolved = policy.clone();
    let mut ready: BTreeMap<String, Arc<LoadedPlugin>> = BTreeMap::new();
    let mut folder: Vec<&Accepted> = state.accepted.values().collect();
    folder.sort_by(|a, b| a.manifest.name.cmp(&b.manifest.name));
    for a in folder {
        let m = &a.manifest;
        resolved
            .plugins
            .insert(m.name.clone(), folder_spec(policy, m));
        for stage in &m.stages {
            resolved
                .stages
                .entry(*stage)
                .or_default()
                .push(m.name.clone());
        }
        ready.insert(m.name.clone(), a.plugin.clone());
    }
    if let Some(current) = current {
        for (name, spec) in &policy.plugins {
            let Some(old) = current.loaded().get(name) else {
                continue;
            };
            let same = match &spec.source {
                PluginSource::Builtin(b) => {
                    builtin::component(b).map(PluginDigest::of) == Some(old.digest)
                }
                PluginSource::File(path) => std::fs::read(path)
                    .map(|w| PluginDigest::of(&w) == old.digest)
                    .unwrap_or(false),
            };
            if same && !ready.contains_key(name) {
                ready.insert(name.clone(), old.clone());
            }
        }
    }
    Pipeline::assemble(loader, resolved, &ready)
}
