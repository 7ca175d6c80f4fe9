//! Safe rollout of a candidate policy on live traffic: shadow and canary.
//!
//! A route names its candidates in `serve.toml` (see [`config`]); a
//! candidate is a policy under `[policies]` like any other, loaded,
//! watched and hot-reloaded the same way, with its own plugins and
//! digests.
//!
//! - **shadow**: every stage of every call on the route is evaluated a
//!   second time by the candidate, off the hot path (see [`shadow`]): the
//!   call never waits for it and never sees its verdict. Its `decisions`
//!   rows carry `arm = "shadow"` and join the live rows of the same call by
//!   `request_id`, `stage` and `plugin`.
//! - **canary**: a share of the route's calls is served by the candidate
//!   for real (see [`canary`] for the stable hash that picks them). Its
//!   rows carry `arm = "canary"`, the others' `arm = "live"`. Removing the
//!   lines and reloading `serve.toml` is the rollback.
//!
//! The choice is made once per call, when its route is known
//! ([`serving`]), and kept in the call's scope (a task-local the request
//! handler opens and a streamed answer's task carries on), so every stage
//! of the call, however it ends, is stamped with the same arm and offered
//! to the same shadow ([`decided`]) without the entry points passing it
//! along.

pub mod config;

mod canary;
mod metrics;
mod shadow;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub use config::{Canary, CanaryKey, RouteRollout};

use super::config::Route;
use super::{ApiError, PolicySlot, State};
use crate::evaluation::{Arm, Evaluation};
use crate::payload::Payload;

tokio::task_local! {
    /// The current call's choice, set once its route is known.
    static CALL: Arc<OnceLock<Choice>>;
}

/// What the rollout chose for one call.
struct Choice {
    arm: Arm,
    /// The shadow candidate's queue, and the policy that served the call.
    shadow: Option<(Arc<shadow::Queue>, String)>,
}

/// Runs a request handler's work with a scope for its call's choice.
pub(super) async fn scope<F: Future>(f: F) -> F::Output {
    CALL.scope(Arc::default(), f).await
}

/// `f` (a streamed answer's task) in the current call's scope.
pub(super) fn carried<F: Future>(f: F) -> impl Future<Output = F::Output> {
    let cell = CALL.try_with(Arc::clone).ok();
    async move {
        match cell {
            Some(c) => CALL.scope(c, f).await,
            None => f.await,
        }
    }
}

/// The policy that serves a call on `route` by `caller`: the route's own,
/// or its canary candidate when the call lands in the canary. On a route
/// with a rollout, the choice (and the shadow candidate, if any) is kept in
/// the call's scope for [`decided`].
pub(super) fn serving<'s>(
    state: &'s State,
    route: &Route,
    caller: &str,
    request_id: &str,
) -> Result<&'s PolicySlot, ApiError> {
    let rollout = &route.rollout;
    if !rollout.is_set() {
        return state.policy(&route.policy);
    }
    let (policy, arm) = match &rollout.canary {
        Some(c) if canary::lands(c, caller, request_id) => (c.policy.as_str(), Arm::Canary),
        _ => (route.policy.as_str(), Arm::Live),
    };
    let slot = state.policy(policy)?;
    if let Some(c) = &rollout.canary {
        state
            .rollouts
            .metrics
            .canary_call(&route.model, &c.policy, arm.as_str());
    }
    let shadow = rollout
        .shadow
        .as_deref()
        .map(|candidate| (state.rollouts.queue(state, candidate), policy.to_string()));
    // The first choice of a call stands (a call chooses once).
    let _ = CALL.try_with(|cell| cell.set(Choice { arm, shadow }));
    Ok(slot)
}

/// A stage of the current call has decided: its evaluation is stamped
/// with the call's arm, and offered to the route's shadow candidate.
pub(super) fn decided(evaluation: &mut Evaluation, payload: &Payload) {
    let _ = CALL.try_with(|cell| {
        let Some(choice) = cell.get() else { return };
        evaluation.arm = Some(choice.arm);
        if let Some((queue, policy)) = &choice.shadow {
            queue.offer(policy, evaluation, payload);
        }
    });
}

/// The current call's arm, for an evaluation made outside [`decided`] (an
/// upstream error's texts).
pub(super) fn arm() -> Option<Arm> {
    CALL.try_with(|cell| cell.get().map(|c| c.arm))
        .ok()
        .flatten()
}

/// The rollout's running parts, shared by every configuration: one shadow
/// queue (and worker) per candidate, and the counters.
#[derive(Default)]
pub(crate) struct Rollouts {
    queues: Mutex<HashMap<String, Arc<shadow::Queue>>>,
    metrics: Arc<metrics::Metrics>,
}

impl Rollouts {
    /// `candidate`'s queue, started on first use. A reload that changed
    /// `[rollout] shadow-queue` gets a new queue of the new size; the old
    /// worker drains what it holds and ends.
    fn queue(&self, state: &State, candidate: &str) -> Arc<shadow::Queue> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let size = state.config.shadow_queue;
        if let Some(q) = queues.get(candidate)
            && q.capacity() == size
        {
            return q.clone();
        }
        let q = Arc::new(shadow::Queue::start(
            candidate,
            size,
            state.policies.clone(),
            state.audit.clone(),
            self.metrics.clone(),
        ));
        queues.insert(candidate.to_string(), q.clone());
        q
    }

    /// Adds the rollout's counters and queues to a `/metrics` scrape.
    pub(super) fn register(&self, r: &mut prometheus_client::registry::Registry) {
        let mut depths: Vec<(String, usize, usize)> = self
            .queues
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(c, q)| (c.clone(), q.depth(), q.capacity()))
            .collect();
        depths.sort();
        self.metrics.register(r, &depths);
    }
}
