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
//! The guarantee stays: no answer reaches a client before the request's
//! and the answer's rows are durable. What changes is the case of a host
//! that dies while the model is working: the upstream may have been called
//! for a request whose record was not yet durable; the client gets no
//! answer (its connection drops with the process), and the WAL holds the
//! request's rows only if their fsync finished. `[audit]
//! request-durability = "before-upstream"` keeps the strict order.

use super::{Ack, AuditError, AuditLog, Durability, RecordContext};
use crate::evaluation::Evaluation;

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
        let deferred = (self.durability == Durability::Fsync).then_some(Deferred {
            lsn,
            len: buf.len() as u64,
        });
        let ack = Ack {
            position,
            decision_ids,
            inference,
        };
        Ok((ack, deferred))
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
