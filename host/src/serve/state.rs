//! What every request handler shares: the configuration, the live
//! policies, the audit log, the judges, the limits and the metrics; and the
//! record and judge steps that use them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use super::{ApiError, ServeConfig, audit_error, metrics, quota};
use crate::audit::{AuditLog, CallInfo, RecordContext};
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
    pub(super) policies: HashMap<String, PolicySlot>,
    pub(super) audit: Option<Arc<AuditLog>>,
    pub(super) judges: Arc<crate::judge::Dispatcher>,
    pub(super) metrics: metrics::Metrics,
    pub(super) concurrency: Arc<Semaphore>,
    pub(super) per_caller: HashMap<String, Arc<Semaphore>>,
    pub(super) quotas: quota::Quotas,
    pub(super) client: reqwest::Client,
    pub(super) started: Instant,
}

impl State {
    /// Loads every policy and its plugins, and opens the audit log.
    pub fn new(config: ServeConfig, audit: Option<AuditLog>) -> anyhow::Result<State> {
        let audit = audit.map(Arc::new);
        let judges = Arc::new(crate::judge::Dispatcher::new(
            &config.judges,
            audit.clone(),
        )?);
        let engine = RailyardEngine::new(EngineSettings::default())?;
        let loader = PluginLoader::new(engine)?;
        let mut policies = HashMap::new();
        for (name, path) in &config.policies {
            let reloader = match path {
                Some(p) => Reloader::from_file(loader.clone(), p)?,
                None => Reloader::from_policy(loader.clone(), Policy::embedded_default())?,
            };
            let reloader = Arc::new(reloader);
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
        let per_caller = config
            .callers
            .iter()
            .filter_map(|c| {
                c.max_concurrency
                    .map(|n| (c.name.clone(), Arc::new(Semaphore::new(n))))
            })
            .collect();
        let quotas = quota::Quotas::new(
            config.limits.quota,
            config
                .callers
                .iter()
                .map(|c| (c.name.clone(), c.quota))
                .collect(),
        );
        let quotas = match &config.shared_quotas {
            Some(shared) => quotas.shared(shared)?,
            None => quotas,
        };
        let client = reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(90))
            .build()?;
        Ok(State {
            concurrency: Arc::new(Semaphore::new(config.limits.max_concurrency)),
            config,
            policies,
            audit,
            judges,
            metrics: metrics::Metrics::default(),
            per_caller,
            quotas,
            client,
            started: Instant::now(),
        })
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

    /// Records an evaluation; an error means the decision is not
    /// acknowledged and the request must fail (503). Returns the decision
    /// ids, in plugin order (none without an audit log).
    pub(super) fn record(
        &self,
        evaluation: &crate::pipeline::Evaluation,
        payload: &Payload,
        capture: crate::policy::Capture,
        call: Option<CallInfo<'_>>,
    ) -> Result<Vec<String>, ApiError> {
        let Some(audit) = &self.audit else {
            return Ok(Vec::new());
        };
        let ctx = RecordContext {
            payload,
            capture,
            call,
        };
        tokio::task::block_in_place(|| audit.record(evaluation, &ctx))
            .map(|ack| ack.decision_ids)
            .map_err(audit_error)
    }

    /// Runs the judges a stage's routers asked for: the blocking ones now,
    /// within the route's budget, folding their verdicts into
    /// `evaluation`. What comes back goes to [`State::settle`] once the
    /// evaluation is recorded.
    pub(super) async fn judge(
        &self,
        evaluation: &mut crate::pipeline::Evaluation,
        payload: &Payload,
        capture: crate::policy::Capture,
        can_hold: bool,
    ) -> crate::judge::Judged {
        let policy = self.config.judging(&payload.route);
        self.judges
            .judge(evaluation, payload, policy, capture, can_hold)
            .await
    }

    /// Records the blocking judgements (now that their routers' decision
    /// ids are known) and starts the async ones.
    pub(super) fn settle(
        &self,
        judged: crate::judge::Judged,
        decision_ids: &[String],
    ) -> Result<(), ApiError> {
        if judged.is_empty() {
            return Ok(());
        }
        tokio::task::block_in_place(|| self.judges.settle(judged, decision_ids))
            .map_err(audit_error)
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
