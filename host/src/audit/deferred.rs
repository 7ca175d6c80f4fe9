//! A request's record made durable while the model works.
//!
//! With `durability = "fsync"`, [`AuditLog::record`] returns once its rows
//! are on disk. A proxied call used to wait for that twice: for the
//! request's decisions before the prompt went upstream, and for the
//! answer's before it went back. [`AuditLog::record_deferred`] appends the
//! request's rows and returns at once with a [`Deferred`]; the server
//! starts its fsync in the background ([`AuditLog::complete`]) so it
//! overlaps the upstream call, and checks it ([`AuditLog::wait_durable`])
//! before any byte of the answer goes to the client. The answer's own
//! record is appended after the request's in the same WAL, so its fsync
//! covers both.
//!
//! [`AuditLog::record_call_deferred`] does the same for a whole call's
//! record (the answer's), and [`AuditLog::durable`] waits for a point
//! without holding a thread, so a server with many calls waiting for one
//! group fsync parks tasks, not threads.
//!
//! The guarantee stays: no answer reaches a client before the request's
//! and the answer's rows are durable. What changes is the case of a host
//! that dies while the model is working: the upstream may have been called
//! for a request whose record was not yet durable; the client gets no
//! answer (its connection drops with the process), and the WAL holds the
//! request's rows only if their fsync finished. `[audit]
//! request-durability = "before-upstream"` keeps the strict order.

use super::{Ack, AuditError, AuditLog, Durability, RecordContext};
use crate::evaluation::Evaluation;

/// How long [`AuditLog::durable`] waits for the mark to move before it
/// syncs itself.
const LEAD_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs `f`, which blocks (on an fsync), off a multi-threaded runtime's
/// worker queue; inline on a current-thread runtime (as in tests: there is
/// no other worker to hand the queue to) or outside a runtime.
pub(crate) fn run_blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// A record appended to the WAL and not yet known to be durable.
#[derive(Debug)]
#[must_use = "a deferred record must be completed (AuditLog::complete)"]
pub struct Deferred {
    lsn: u64,
    len: u64,
}

impl Deferred {
    /// The point to wait for with [`AuditLog::wait_durable`].
    pub fn point(&self) -> DurablePoint {
        DurablePoint(self.lsn)
    }
}

/// Where in the WAL a deferred record ends.
#[derive(Debug, Clone, Copy)]
pub struct DurablePoint(u64);

impl AuditLog {
    /// Records one evaluation like [`AuditLog::record`], but returns once
    /// its rows are appended, before they are durable: the [`Deferred`]
    /// (with `durability = "fsync"`; `None` otherwise, where `record`
    /// would not wait either) must be passed to [`AuditLog::complete`]
    /// exactly once.
    pub fn record_deferred(
        &self,
        evaluation: &Evaluation,
        ctx: &RecordContext<'_>,
    ) -> Result<(Ack, Option<Deferred>), AuditError> {
        let (buf, decision_ids, inference) = self.encode_evaluation(evaluation, ctx);
        let (lsn, position) = self.append_unsynced(&buf)?;
        let ack = Ack {
            position,
            decision_ids,
            inference,
        };
        Ok((ack, self.deferred(lsn, buf.len() as u64)))
    }

    /// What an append of `len` bytes up to `lsn` leaves to wait for: a
    /// [`Deferred`] with `fsync` durability, nothing with `async`.
    pub(super) fn deferred(&self, lsn: u64, len: u64) -> Option<Deferred> {
        (self.durability == Durability::Fsync).then_some(Deferred { lsn, len })
    }

    /// Makes a deferred record durable (one fsync, shared with whoever
    /// else is appending). On an error its bytes were dropped and leave
    /// the backlog count.
    pub fn complete(&self, deferred: Deferred) -> Result<(), AuditError> {
        self.sync_appended(deferred.lsn, deferred.len)
    }

    /// Returns once the WAL is durable up to `point`, or the error that
    /// lost it. Cheap when [`AuditLog::complete`] already finished.
    pub fn wait_durable(&self, point: DurablePoint) -> Result<(), AuditError> {
        self.shared.wal.sync(point.0).map_err(Into::into)
    }

    /// [`AuditLog::wait_durable`] for an async caller: waits on the WAL's
    /// durable mark without holding a thread, while [`AuditLog::complete`]
    /// runs elsewhere (the server's syncing thread). Should no fsync move
    /// the mark for [`LEAD_AFTER`] (that thread stuck or gone), the caller
    /// makes the bytes durable itself, so a wait always ends.
    pub async fn durable(&self, point: DurablePoint) -> Result<(), AuditError> {
        if let Some(done) = self.durable_now(point) {
            return done;
        }
        let mut mark = self.shared.wal.durable_changes();
        // `wait_for` returns a read guard on the mark: it is dropped here,
        // before `durable_now` takes the WAL's writer lock, since the
        // fsync holding that lock moves the mark (a write) next.
        let covered = matches!(
            tokio::time::timeout(LEAD_AFTER, mark.wait_for(|&m| m >= point.0)).await,
            Ok(Ok(_))
        );
        match self.durable_now(point) {
            Some(done) if covered => done,
            _ => run_blocking(|| self.wait_durable(point)),
        }
    }

    /// [`AuditLog::wait_durable`]'s answer when it needs no wait (the
    /// usual case once the upstream has answered: the fsync finished while
    /// the model worked), `None` when it would wait.
    pub fn durable_now(&self, point: DurablePoint) -> Option<Result<(), AuditError>> {
        self.shared
            .wal
            .synced(point.0)
            .map(|r| r.map_err(Into::into))
    }
}
