//! Shadow evaluation: a candidate policy evaluates what the live one
//! decided, off the hot path, and its decisions are recorded beside the
//! live ones (`arm = "shadow"`) without ever touching the call.
//!
//! The states a shadow job passes through, and what each costs the call:
//!
//! 1. *offered*: a stage of a call on a route with `shadow` has decided.
//!    The call reserves a slot in the candidate's bounded queue
//!    (`try_reserve`, never waiting). No slot: the job is *skipped* and
//!    `railyard_shadow_skipped_total{reason="queue_full"}` counts it;
//!    nothing is cloned. The call goes on either way.
//! 2. *queued*: the payload and the live actions are in the queue. The
//!    call has paid one clone of its payload and is done with it.
//! 3. *taken*: the candidate's worker took it; the candidate's plugins run
//!    on a blocking thread (`spawn_blocking`), never on a runtime worker
//!    that serves calls.
//! 4. *recorded*: its `decisions` rows (`arm = "shadow"`, the candidate's
//!    policy and plugin digests, the call's request id, stage and payload
//!    hash) are in the audit WAL, and the comparison with the live actions
//!    is counted. A failure to record is logged and counted
//!    (`railyard_shadow_unrecorded_total`); the call has long been
//!    answered, so nothing is refused.
//!
//! Queued and taken jobs live in memory only: a stop or a crash loses them
//! (a shadow is evidence about a candidate, not about the call, whose own
//! rows are durable before it is answered).
//!
//! The candidate's judge routers decide, and their decisions are recorded,
//! but no judge is called: a shadow must not spend a judge's budget or
//! hold anything.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::metrics::Metrics;
use crate::audit::{AuditLog, RecordContext};
use crate::evaluation::{Arm, Evaluation};
use crate::payload::Payload;
use crate::serve::PolicySlot;
use crate::verdict::Action;

/// Testing aid: while the file this variable names exists, shadow workers
/// take no job from their queues, so a test can fill a queue
/// deterministically. Unset in production.
const HOLD_ENV: &str = "RAILYARD_SHADOW_HOLD";

/// How often a held worker looks at the hold file.
const HOLD_POLL: Duration = Duration::from_millis(10);

/// One stage of one call, for the candidate.
struct Job {
    payload: Payload,
    /// The policy that served the stage (the route's, or its canary).
    live_policy: String,
    /// Each live plugin's action, by its name in the policy.
    live: Vec<(String, Action)>,
    /// The live merged action.
    live_action: Action,
}

/// A candidate's queue and the worker draining it.
pub(crate) struct Queue {
    tx: mpsc::Sender<Job>,
    candidate: String,
    metrics: Arc<Metrics>,
}

impl Queue {
    /// Starts `candidate`'s worker with a queue of `capacity` jobs.
    pub(super) fn start(
        candidate: &str,
        capacity: usize,
        policies: Arc<HashMap<String, PolicySlot>>,
        audit: Option<Arc<AuditLog>>,
        metrics: Arc<Metrics>,
    ) -> Queue {
        let (tx, rx) = mpsc::channel(capacity);
        let hold = std::env::var_os(HOLD_ENV).map(PathBuf::from);
        tokio::spawn(work(
            rx,
            candidate.to_string(),
            policies,
            audit,
            metrics.clone(),
            hold,
        ));
        Queue {
            tx,
            candidate: candidate.to_string(),
            metrics,
        }
    }

    /// Its capacity, in jobs.
    pub(super) fn capacity(&self) -> usize {
        self.tx.max_capacity()
    }

    /// Jobs queued and not yet taken.
    pub(super) fn depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Offers one decided stage (state 1): queued if there is room,
    /// skipped and counted if not. Never waits.
    pub(super) fn offer(&self, live_policy: &str, evaluation: &Evaluation, payload: &Payload) {
        match self.tx.try_reserve() {
            Ok(permit) => permit.send(Job {
                payload: payload.clone(),
                live_policy: live_policy.to_string(),
                live: evaluation
                    .decisions
                    .iter()
                    .map(|d| (d.plugin.clone(), d.action))
                    .collect(),
                live_action: evaluation.action,
            }),
            Err(mpsc::error::TrySendError::Full(())) => {
                self.metrics
                    .shadow_skipped(live_policy, &self.candidate, "queue_full")
            }
            Err(mpsc::error::TrySendError::Closed(())) => {
                self.metrics
                    .shadow_skipped(live_policy, &self.candidate, "stopped")
            }
        }
    }
}

/// The worker: takes jobs one at a time (state 3), evaluates them with the
/// candidate as it is now (a reloaded candidate is picked up like the live
/// policy is), records and compares them (state 4). Ends when every sender
/// is gone (a reload that changed the queue's size).
async fn work(
    mut rx: mpsc::Receiver<Job>,
    candidate: String,
    policies: Arc<HashMap<String, PolicySlot>>,
    audit: Option<Arc<AuditLog>>,
    metrics: Arc<Metrics>,
    hold: Option<PathBuf>,
) {
    loop {
        if let Some(h) = &hold {
            while h.exists() {
                tokio::time::sleep(HOLD_POLL).await;
            }
        }
        let Some(job) = rx.recv().await else { return };
        let Some(slot) = policies.get(&candidate) else {
            // Validated when the configuration was read; not reachable.
            tracing::error!(candidate, "shadow candidate is not a running policy");
            return;
        };
        let pipeline = slot.pipeline();
        let audit = audit.clone();
        let done = tokio::task::spawn_blocking(move || {
            let mut evaluation = pipeline.evaluate(&job.payload);
            evaluation.arm = Some(Arm::Shadow);
            let recorded = match &audit {
                Some(a) => a
                    .record(
                        &evaluation,
                        &RecordContext {
                            payload: &job.payload,
                            capture: pipeline.policy().audit.capture,
                            call: None,
                        },
                    )
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                None => Ok(()),
            };
            (job, evaluation, recorded)
        })
        .await;
        let (job, evaluation, recorded) = match done {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(candidate, error = %e, "a shadow evaluation panicked");
                continue;
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(candidate, request_id = %job.payload.request_id, error = %e, "a shadow evaluation could not be recorded");
            metrics.shadow_unrecorded(&candidate);
        }
        metrics.shadow_compared(
            &job.live_policy,
            &candidate,
            job.payload.stage.as_str(),
            &job.live,
            job.live_action,
            &evaluation,
        );
    }
}
