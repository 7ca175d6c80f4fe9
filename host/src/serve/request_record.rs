//! A proxied call's request record, made durable while the upstream works
//! (see `crate::audit::deferred` for the guarantee). The handler records
//! the request's decisions with [`State::record_request`] before it calls
//! the upstream, and waits with [`State::request_durable`] once the
//! upstream has answered, before any byte of the answer goes out.

use std::sync::Arc;
use std::sync::mpsc::{Sender, channel};

use super::audit_config::RequestDurability;
use super::{ApiError, State, audit_error};
use crate::audit::{AuditLog, Deferred, DurablePoint, RecordContext};
use crate::evaluation::Evaluation;
use crate::payload::Payload;
use crate::policy::Capture;

impl State {
    /// Records the request stage's decisions of a call about to go
    /// upstream. With `fsync` durability and `request-durability =
    /// "with-answer"` (the default) the rows are appended and their fsync
    /// starts in the background; `pending` gets the point the answer must
    /// wait for. Otherwise this is [`State::record`]: durable on return.
    pub(super) fn record_request(
        &self,
        evaluation: &Evaluation,
        payload: &Payload,
        capture: Capture,
        pending: &mut Option<DurablePoint>,
    ) -> Result<Vec<String>, ApiError> {
        let audit = match &self.audit {
            Some(a) if self.config.audit.request_durability == RequestDurability::WithAnswer => a,
            _ => return self.record(evaluation, payload, capture, None),
        };
        let ctx = RecordContext {
            payload,
            capture,
            call: None,
        };
        let (ack, deferred) = audit
            .record_deferred(evaluation, &ctx)
            .map_err(audit_error)?;
        if let Some(d) = deferred {
            *pending = Some(d.point());
            match &self.request_syncer {
                Some(syncer) => syncer.send(d),
                None => audit.complete(d).map_err(audit_error)?,
            }
        }
        Ok(ack.decision_ids)
    }

    /// Waits until the request's record (from [`State::record_request`])
    /// is durable: a 503 `audit_unavailable` if it never will be, so no
    /// answer reaches the client unrecorded.
    pub(super) fn request_durable(&self, pending: Option<DurablePoint>) -> Result<(), ApiError> {
        match (&self.audit, pending) {
            (Some(audit), Some(point)) => match audit.durable_now(point) {
                Some(done) => done.map_err(audit_error),
                // Waits on an fsync: off the worker's queue.
                None => {
                    tokio::task::block_in_place(|| audit.wait_durable(point)).map_err(audit_error)
                }
            },
            _ => Ok(()),
        }
    }
}

/// One thread per audit log that completes deferred request records in
/// the order they were appended. The first fsync it asks for covers every
/// record appended before it (the WAL's group commit), so the ones queued
/// behind it are found durable at once: one thread, however many calls,
/// and no blocking task per call.
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
            .name("railyard-request-sync".into())
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
