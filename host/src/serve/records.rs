//! Audit records made durable in the background while the call goes on
//! (see `crate::audit::deferred` for the guarantee). The handler records
//! the request's decisions with [`State::record_request`] before it calls
//! the upstream, and waits with [`State::request_durable`] once the
//! upstream has answered, before any byte of the answer goes out. Every
//! other record of a call is [`State::owe`]d: the answer waits for it in
//! `CallScope::settle`. The fsyncs run on one thread ([`Syncer`]); a
//! waiting call parks its task, not a thread.

use std::sync::Arc;
use std::sync::mpsc::{Sender, channel};

use super::audit_config::RequestDurability;
use super::{ApiError, State, audit_error};
use crate::audit::{AuditLog, CallInfo, Deferred, DurablePoint, RecordContext};
use crate::evaluation::Evaluation;
use crate::payload::Payload;
use crate::policy::Capture;

impl State {
    /// Records an evaluation; an error means the decision is not
    /// acknowledged and the request must fail (503). Returns the decision
    /// ids, in plugin order (none without an audit log), once the rows
    /// are appended: with `fsync` durability the call's answer waits for
    /// them to be durable ([`State::owe`]).
    pub(super) fn record(
        &self,
        evaluation: &Evaluation,
        payload: &Payload,
        capture: Capture,
        call: Option<CallInfo<'_>>,
    ) -> Result<Vec<String>, ApiError> {
        let (ids, deferred) = self.append_evaluation(evaluation, payload, capture, call)?;
        if let (Some(audit), Some(d)) = (&self.audit, deferred) {
            self.owe(audit, d)?;
        }
        Ok(ids)
    }

    /// Records the request stage's decisions of a call about to go
    /// upstream, and returns at once: with `fsync` durability the rows'
    /// fsync starts in the background and `pending` gets the point to wait
    /// for, before the upstream call under `request-durability =
    /// "before-upstream"` and before the answer otherwise (see
    /// `call_scope::exchange`).
    pub(super) fn record_request(
        &self,
        evaluation: &Evaluation,
        payload: &Payload,
        capture: Capture,
        pending: &mut Option<DurablePoint>,
    ) -> Result<Vec<String>, ApiError> {
        let (ids, deferred) = self.append_evaluation(evaluation, payload, capture, None)?;
        if let (Some(audit), Some(d)) = (&self.audit, deferred) {
            *pending = Some(d.point());
            self.sync_in_background(audit, d)?;
        }
        Ok(ids)
    }

    /// Appends an evaluation's rows (nothing without an audit log): its
    /// decision ids, and with `fsync` durability the fsync still owed.
    fn append_evaluation(
        &self,
        evaluation: &Evaluation,
        payload: &Payload,
        capture: Capture,
        call: Option<CallInfo<'_>>,
    ) -> Result<(Vec<String>, Option<Deferred>), ApiError> {
        let Some(audit) = &self.audit else {
            return Ok((Vec::new(), None));
        };
        let trace_id = super::call_scope::trace_id();
        let ctx = RecordContext {
            payload,
            capture,
            call: call.map(|c| CallInfo {
                trace_id: trace_id.as_deref(),
                ..c
            }),
        };
        let (ack, deferred) = audit
            .record_deferred(evaluation, &ctx)
            .map_err(audit_error)?;
        Ok((ack.decision_ids, deferred))
    }

    /// Under `request-durability = "before-upstream"`, waits until the
    /// request's record is durable and returns `None`; otherwise returns
    /// `pending` for [`State::request_durable`] once the upstream answered.
    pub(super) async fn before_upstream(
        &self,
        pending: Option<DurablePoint>,
    ) -> Result<Option<DurablePoint>, ApiError> {
        if self.config.audit.request_durability == RequestDurability::BeforeUpstream {
            self.request_durable(pending).await?;
            return Ok(None);
        }
        Ok(pending)
    }

    /// Waits until the request's record (from [`State::record_request`])
    /// is durable: a 503 `audit_unavailable` if it never will be, so no
    /// answer reaches the client unrecorded. The wait parks the task, not
    /// a thread.
    pub(super) async fn request_durable(
        &self,
        pending: Option<DurablePoint>,
    ) -> Result<(), ApiError> {
        match (&self.audit, pending) {
            (Some(audit), Some(point)) => audit.durable(point).await.map_err(audit_error),
            _ => Ok(()),
        }
    }

    /// A record whose fsync is owed: inside a call, the syncing thread
    /// makes it durable while the call goes on, and the call's answer
    /// waits for it (`CallScope::settle`); outside one, it is made durable
    /// here.
    pub(super) fn owe(&self, audit: &AuditLog, d: Deferred) -> Result<(), ApiError> {
        if super::call_scope::owe(d.point()) {
            self.sync_in_background(audit, d)
        } else {
            crate::audit::run_blocking(|| audit.complete(d)).map_err(audit_error)
        }
    }

    /// Hands a deferred record's fsync to the syncing thread (there is one
    /// whenever there is an audit log; without it, the fsync is made here).
    fn sync_in_background(&self, audit: &AuditLog, d: Deferred) -> Result<(), ApiError> {
        match &self.syncer {
            Some(syncer) => {
                syncer.send(d);
                Ok(())
            }
            None => crate::audit::run_blocking(|| audit.complete(d)).map_err(audit_error),
        }
    }
}

/// One thread per audit log that completes deferred records (a call's
/// request and answer) in the order they were appended. The first fsync
/// it asks for covers every record appended before it (the WAL's group
/// commit), so the ones queued behind it are found durable at once: one
/// thread, however many calls, and no blocking task per call.
pub(super) struct Syncer {
    tx: Sender<Deferred>,
}

impl Syncer {
    /// The syncer of `audit` (`None` without an audit log).
    pub(super) fn start(audit: Option<&Arc<AuditLog>>) -> anyhow::Result<Option<Arc<Syncer>>> {
        let Some(audit) = audit else {
            return Ok(None);
        };
        let audit = Arc::clone(audit);
        let (tx, rx) = channel::<Deferred>();
        std::thread::Builder::new()
            .name("railyard-audit-sync".into())
            .spawn(move || {
                // Ends when the last state holding the sender is gone.
                for d in rx {
                    // An error is seen again by `request_durable`, which
                    // refuses the answer.
                    if let Err(e) = audit.complete(d) {
                        tracing::error!(error = %e, "audit log: a request's record did not become durable");
                    }
                }
            })?;
        Ok(Some(Arc::new(Syncer { tx })))
    }

    fn send(&self, d: Deferred) {
        // The thread lives as long as this sender: it cannot be gone.
        let _ = self.tx.send(d);
    }
}
