//! What every request handler shares: the configuration, the live
//! policies, the audit log, the judges, the limits and the metrics; and the
//! record and judge steps that use them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use super::server::ReloadCounters;
use super::{ApiError, ServeConfig, audit_error, metrics, quota};
use crate::audit::AuditLog;
use crate::engine::{EngineSettings, RailyardEngine};
use crate::live::{MetricsSnapshot, Reloader, Watcher};
use crate::payload::Payload;
use crate::pipeline::Pipeline;
use crate::plugin::PluginLoader;
use crate::policy::Policy;

/// One named policy, kept current by its reloader.
pub struct PolicySlot {
    /// The policy's name in the configuration.
    pub name: String,
    pub(super) reloader: Arc<Reloader>,
    _watcher: Option<Watcher>,
}

impl PolicySlot {
    /// The pipeline serving now.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        self.reloader.live().current()
    }
}

/// Everything a request handler shares.
pub struct State {
    /// The configuration.
    pub config: ServeConfig,
    pub(super) policies: Arc<HashMap<String, PolicySlot>>,
    pub(super) audit: Option<Arc<AuditLog>>,
    /// Operational events and policy versions (`audit::events`).
    pub events: Arc<crate::audit::events::Events>,
    pub(super) judges: Arc<crate::judge::Dispatcher>,
    pub(super) metrics: Arc<metrics::Metrics>,
    pub(super) concurrency: Arc<Semaphore>,
    pub(super) per_caller: HashMap<String, Arc<Semaphore>>,
    pub(super) quotas: Arc<quota::Quotas>,
    pub(super) client: reqwest::Client,
    pub(super) started: Instant,
    /// serve.toml reloads, counted across every configuration.
    pub(super) config_reloads: Arc<ReloadCounters>,
    /// Shadow queues and rollout counters, shared by every configuration.
    pub(super) rollouts: Arc<super::rollout::Rollouts>,
    /// Makes request records durable while the upstream works.
    pub(super) syncer: Option<Arc<super::records::Syncer>>,
    /// The engine every policy's plugins run on (its instance pool is
    /// reported on `/metrics`).
    pub(super) engine: RailyardEngine,
    /// Client connections open against `[limits] max-connections`.
    pub(super) connections: super::connections::Connections,
}

impl State {
    /// Loads every policy and its plugins, and opens the audit log.
    pub fn new(config: ServeConfig, audit: Option<AuditLog>) -> anyhow::Result<State> {
        let audit = audit.map(Arc::new);
        let events = Arc::new(crate::audit::events::Events::new(audit.clone()));
        let judges = Arc::new(crate::judge::Dispatcher::new(
            &config.judges,
            audit.clone(),
        )?);
        let engine = RailyardEngine::new(EngineSettings::for_serve(config.limits.max_concurrency))?;
        let open_files = super::connections::raise_open_file_limit();
        let connections = super::connections::Connections::new(super::connections::limit(
            config.limits.max_connections,
            config.limits.max_concurrency,
            open_files,
        ));
        let loader = PluginLoader::new(engine.clone())?;
        let mut policies = HashMap::new();
        for (name, path) in &config.policies {
            let reloader = match path {
                Some(p) => Reloader::from_file(loader.clone(), p)?,
                None => Reloader::from_policy(loader.clone(), Policy::embedded_default())?,
            };
            let reloader = Arc::new(reloader);
            super::evidence::watch_policy(&events, name, &reloader);
            // Watches the policy file and its plugins folder, and reloads
            // on SIGHUP (which must never stop the server).
            let watcher = Some(reloader.watch()?);
            policies.insert(
                name.clone(),
                PolicySlot {
                    name: name.clone(),
                    reloader,
                    _watcher: watcher,
                },
            );
        }
        let per_caller = per_caller(&config, None);
        let quotas = quotas(&config)?;
        let client = reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(90))
            .build()?;
        Ok(State {
            concurrency: Arc::new(Semaphore::new(config.limits.max_concurrency)),
            config,
            policies: Arc::new(policies),
            events,
            judges,
            metrics: Arc::default(),
            per_caller,
            quotas: Arc::new(quotas),
            client,
            started: Instant::now(),
            config_reloads: Arc::default(),
            rollouts: Arc::default(),
            syncer: super::records::Syncer::start(audit.as_ref())?,
            audit,
            engine,
            connections,
        })
    }

    /// The state `config` (a reloaded serve.toml) describes, over the parts
    /// every configuration shares, and the settings that differ but need a
    /// restart (their running values are kept). An error refuses `config`
    /// whole. See `server` for what reloads and why.
    pub(super) fn reconfigured(
        &self,
        mut config: ServeConfig,
    ) -> Result<(State, Vec<&'static str>), String> {
        let old = &self.config;
        let mut needs_restart = Vec::new();
        if config.listen != old.listen {
            needs_restart.push("listen");
            config.listen = old.listen;
        }
        if config.metrics_listen != old.metrics_listen {
            needs_restart.push("metrics.listen");
            config.metrics_listen = old.metrics_listen;
        }
        if config.limits.max_connections != old.limits.max_connections {
            needs_restart.push("limits.max-connections");
            config.limits.max_connections = old.limits.max_connections;
        }
        if config.policies != old.policies {
            needs_restart.push("policies");
            config.policies = old.policies.clone();
        }
        // Compared by their Debug text: these types have no PartialEq,
        // and the text holds every field.
        if format!("{:?}", config.judges) != format!("{:?}", old.judges) {
            needs_restart.push("judges");
            config.judges = old.judges.clone();
        }
        if format!("{:?}", config.shared_quotas) != format!("{:?}", old.shared_quotas) {
            needs_restart.push("quotas");
            config.shared_quotas = old.shared_quotas.clone();
        }
        if let (Some(running), Some(next)) = (&old.jwt, &config.jwt)
            && running.keeps(next)
        {
            config.jwt = Some(running.clone());
        }
        let authenticated = |c: &ServeConfig| !c.callers.is_empty() || c.jwt.is_some();
        if authenticated(old) && !authenticated(&config) {
            return Err(
                "the file has no [[callers]]: turning caller authentication off needs a restart, never a reload"
                    .into(),
            );
        }
        super::access::check_listen(&config, config.listen)?;
        let running = |policy: &str| self.policies.contains_key(policy);
        for (i, r) in config.routes.iter().enumerate() {
            if !running(&r.policy) {
                return Err(format!(
                    "routes[{i}].policy: `{}` is not a running policy (a new policy needs a restart)",
                    r.policy
                ));
            }
            if let Some(p) = r.rollout.policies().find(|p| !running(p)) {
                return Err(format!(
                    "routes[{i}]: candidate `{p}` is not a running policy (a new policy needs a restart)"
                ));
            }
        }
        for c in &config.callers {
            if let Some(p) = c.policies.iter().find(|p| !running(p)) {
                return Err(format!(
                    "callers `{}`: `{p}` is not a running policy (a new policy needs a restart)",
                    c.name
                ));
            }
        }
        let concurrency = if config.limits.max_concurrency == old.limits.max_concurrency {
            self.concurrency.clone()
        } else {
            Arc::new(Semaphore::new(config.limits.max_concurrency))
        };
        let quotas = if allowances(&config) == allowances(old) {
            self.quotas.clone()
        } else {
            Arc::new(quotas(&config).map_err(|e| format!("quotas: {e:#}"))?)
        };
        Ok((
            State {
                per_caller: per_caller(&config, Some(self)),
                concurrency,
                config,
                policies: self.policies.clone(),
                audit: self.audit.clone(),
                events: self.events.clone(),
                judges: self.judges.clone(),
                metrics: self.metrics.clone(),
                quotas,
                client: self.client.clone(),
                started: self.started,
                config_reloads: self.config_reloads.clone(),
                rollouts: self.rollouts.clone(),
                syncer: self.syncer.clone(),
                engine: self.engine.clone(),
                connections: self.connections.clone(),
            },
            needs_restart,
        ))
    }

    /// serve.toml reloads so far (applied, refused).
    pub fn config_reloads(&self) -> (u64, u64) {
        (self.config_reloads.applied(), self.config_reloads.refused())
    }

    pub(super) fn policy(&self, name: &str) -> Result<&PolicySlot, ApiError> {
        self.policies.get(name).ok_or_else(|| {
            let mut names: Vec<_> = self.policies.keys().cloned().collect();
            names.sort();
            ApiError::bad_request(
                "unknown_policy",
                format!(
                    "no policy named `{name}` (this server has: {})",
                    names.join(", ")
                ),
            )
        })
    }

    /// Runs the judges a stage's routers asked for: the blocking ones now,
    /// within the route's budget, folding their verdicts into
    /// `evaluation`. What comes back goes to [`State::settle`] once the
    /// evaluation is recorded.
    pub(super) async fn judge(
        &self,
        evaluation: &mut crate::evaluation::Evaluation,
        payload: &Payload,
        capture: crate::policy::Capture,
        can_hold: bool,
    ) -> crate::judge::Judged {
        crate::telemetry::stage(evaluation);
        let policy = self.config.judging(&payload.route);
        self.judges
            .judge(evaluation, payload, policy, capture, can_hold)
            .await
    }

    /// Records the blocking judgements (now that their routers' decision
    /// ids are known) and starts the async ones. Their rows are owed to
    /// the call like its other records: appended here, made durable by
    /// the syncing thread while the call goes on, and waited for before
    /// its answer goes out (`records`).
    pub(super) fn settle(
        &self,
        judged: crate::judge::Judged,
        decision_ids: &[String],
    ) -> Result<(), ApiError> {
        if judged.is_empty() {
            return Ok(());
        }
        let deferred = self
            .judges
            .settle_deferred(judged, decision_ids)
            .map_err(audit_error)?;
        // The judges record to this state's audit log: a deferred record
        // comes only with one.
        match (&self.audit, deferred) {
            (Some(audit), Some(d)) => self.owe(audit, d),
            _ => Ok(()),
        }
    }

    /// Shutdown: lets async judgements end (or records them as cut short).
    pub async fn drain_judges(&self, grace: std::time::Duration) {
        self.judges.drain(grace).await;
    }

    /// Flushes the audit log (shutdown).
    pub fn flush_audit(&self, timeout: std::time::Duration) -> Result<(), String> {
        match &self.audit {
            Some(a) => a.flush(timeout).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    pub(super) fn reload_metrics(&self) -> MetricsSnapshot {
        let mut total = MetricsSnapshot::default();
        for slot in self.policies.values() {
            let m = slot.reloader.metrics();
            total.reloads_total += m.reloads_total;
            total.swaps_total += m.swaps_total;
            total.plugins_live_total += m.plugins_live_total;
            total.policy_refused_total += m.policy_refused_total;
            for (step, n) in m.plugin_refused_total {
                *total.plugin_refused_total.entry(step).or_default() += n;
            }
        }
        total
    }
}

/// Each caller's concurrency limit: the running one's semaphore when its
/// limit did not change (so the calls it has in flight still count), a new
/// one when it did.
fn per_caller(config: &ServeConfig, running: Option<&State>) -> HashMap<String, Arc<Semaphore>> {
    config
        .callers
        .iter()
        .filter_map(|c| {
            let n = c.max_concurrency?;
            let same = running.and_then(|s| {
                let was = s.config.callers.iter().find(|o| o.name == c.name)?;
                (was.max_concurrency == Some(n)).then(|| s.per_caller.get(&c.name).cloned())?
            });
            Some((
                c.name.clone(),
                same.unwrap_or_else(|| Arc::new(Semaphore::new(n))),
            ))
        })
        .collect()
}

/// The host's allowance and each caller's: what a quota's buckets depend on.
fn allowances(config: &ServeConfig) -> (quota::Allowance, HashMap<&str, quota::Allowance>) {
    let callers = config
        .callers
        .iter()
        .map(|c| (c.name.as_str(), c.quota))
        .collect();
    (config.limits.quota, callers)
}

/// The quotas `config` sets, with its shared backend if any.
fn quotas(config: &ServeConfig) -> anyhow::Result<quota::Quotas> {
    let quotas = quota::Quotas::new(
        config.limits.quota,
        config
            .callers
            .iter()
            .map(|c| (c.name.clone(), c.quota))
            .collect(),
    );
    match &config.shared_quotas {
        Some(shared) => quotas.shared(shared),
        None => Ok(quotas),
    }
}
