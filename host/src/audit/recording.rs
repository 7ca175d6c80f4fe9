//! Recording: an evaluation, a whole proxied call or rows built elsewhere
//! encoded into WAL records and appended under the backlog rule, durable
//! per the configured [`Durability`] before the caller is answered.

use std::sync::atomic::Ordering;

use super::{
    Ack, AuditError, AuditLog, AuditRecord, CallInfo, Deferred, Durability, OnFull, Position,
    RecordContext, encode, wal,
};
use crate::evaluation::Evaluation;

impl AuditLog {
    /// Records one evaluation: a `decisions` row per plugin decision, and
    /// an `inferences` row when `ctx.call` is set. Returns once the rows
    /// are durable per the configured [`Durability`]; an `Err` means
    /// nothing was acknowledged and the caller must not treat the decision
    /// as recorded (the server refuses the traffic).
    pub fn record(
        &self,
        evaluation: &Evaluation,
        ctx: &RecordContext<'_>,
    ) -> Result<Ack, AuditError> {
        let (buf, decision_ids, inference) = self.encode_evaluation(evaluation, ctx);
        let position = self.append_encoded(&buf)?;
        Ok(Ack {
            position,
            decision_ids,
            inference,
        })
    }

    /// One evaluation's WAL records, its decision ids, and whether an
    /// inferences row is among them.
    pub(super) fn encode_evaluation(
        &self,
        evaluation: &Evaluation,
        ctx: &RecordContext<'_>,
    ) -> (Vec<u8>, Vec<String>, bool) {
        let mut buf = Vec::with_capacity(1024 * (evaluation.decisions.len() + 1));
        let mut decision_ids = Vec::with_capacity(evaluation.decisions.len());
        let inference =
            encode::encode_evaluation(evaluation, ctx, &self.writer(), &mut buf, &mut decision_ids);
        (buf, decision_ids, inference)
    }

    /// Records rows built elsewhere (e.g. judgements by the judge
    /// dispatcher), with the same durability and backpressure as
    /// [`AuditLog::record`].
    pub fn record_rows(&self, rows: &[AuditRecord]) -> Result<Position, AuditError> {
        self.append(rows)
    }

    /// [`AuditLog::record_rows`] that returns once the rows are appended,
    /// before they are durable: the [`Deferred`] (with `durability =
    /// "fsync"`) must be passed to [`AuditLog::complete`] exactly once
    /// (see [`AuditLog::record_deferred`]).
    pub fn record_rows_deferred(
        &self,
        rows: &[AuditRecord],
    ) -> Result<(Position, Option<Deferred>), AuditError> {
        let mut buf = Vec::with_capacity(rows.len() * 768);
        for r in rows {
            wal::encode(r, self.wal_format, &mut buf);
        }
        let (lsn, position) = self.append_unsynced(&buf)?;
        Ok((position, self.deferred(lsn, buf.len() as u64)))
    }

    fn append(&self, rows: &[AuditRecord]) -> Result<Position, AuditError> {
        let mut buf = Vec::with_capacity(rows.len() * 768);
        for r in rows {
            wal::encode(r, self.wal_format, &mut buf);
        }
        self.append_encoded(&buf)
    }

    /// Appends encoded records, under the backlog rule and the durability.
    fn append_encoded(&self, buf: &[u8]) -> Result<Position, AuditError> {
        let (lsn, position) = self.append_unsynced(buf)?;
        if self.durability == Durability::Fsync {
            self.sync_appended(lsn, buf.len() as u64)?;
        }
        Ok(position)
    }

    /// Appends encoded records under the backlog rule, without waiting for
    /// them to be durable: returns the WAL sequence number to sync to.
    pub(super) fn append_unsynced(&self, buf: &[u8]) -> Result<(u64, Position), AuditError> {
        let backlog = self.shared.backlog_bytes.load(Ordering::Relaxed);
        if backlog >= self.backlog_limit {
            let last_error = self
                .shared
                .lock()
                .last_error
                .clone()
                .unwrap_or_else(|| "none yet".into());
            match self.on_full {
                OnFull::Reject => {
                    return Err(AuditError::BacklogFull {
                        backlog_mib: backlog >> 20,
                        limit_mib: self.backlog_limit >> 20,
                        table: self.shared.root.to_string(),
                        last_error,
                    });
                }
                OnFull::Alarm => {
                    let n = self.shared.over_limit.fetch_add(1, Ordering::Relaxed);
                    // Loud, but not one line per request: the 1st, then
                    // every 1,000th.
                    if n.is_multiple_of(1000) {
                        tracing::error!(
                            backlog_mib = backlog >> 20,
                            limit_mib = self.backlog_limit >> 20,
                            over_limit_records = n + 1,
                            last_error,
                            "AUDIT BACKLOG OVER LIMIT: the audit table is not accepting commits; decisions are kept in the local WAL and traffic continues (on-full = alarm)"
                        );
                    }
                }
            }
        }
        let (lsn, position) = self.shared.wal.append(buf)?;
        self.shared
            .backlog_bytes
            .fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok((lsn, position))
    }

    /// Waits until the `len` bytes appended up to `lsn` are durable. On an
    /// error they were dropped unacknowledged (no segment will carry them,
    /// at most a torn copy in the segment that failed) and leave the
    /// backlog; call it once per append.
    pub(super) fn sync_appended(&self, lsn: u64, len: u64) -> Result<(), AuditError> {
        if let Err(e) = self.shared.wal.sync(lsn) {
            let _ =
                self.shared
                    .backlog_bytes
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                        Some(b.saturating_sub(len))
                    });
            return Err(e.into());
        }
        Ok(())
    }

    /// Records one proxied call: the response stage's decisions and one
    /// `inferences` row covering the request and the answer. The request
    /// stage's decisions are recorded before the call is forwarded (with
    /// [`AuditLog::record`] and no call info).
    pub fn record_call(
        &self,
        request: (&Evaluation, &crate::payload::Payload),
        response: Option<(&Evaluation, &crate::payload::Payload)>,
        capture: crate::policy::Capture,
        call: CallInfo<'_>,
    ) -> Result<Ack, AuditError> {
        let (ack, deferred) = self.record_call_deferred(request, response, capture, call)?;
        if let Some(d) = deferred {
            self.complete(d)?;
        }
        Ok(ack)
    }

    /// [`AuditLog::record_call`], returning once the rows are appended:
    /// the [`Deferred`] (with `fsync` durability) must be passed to
    /// [`AuditLog::complete`] exactly once (see `deferred`).
    pub fn record_call_deferred(
        &self,
        request: (&Evaluation, &crate::payload::Payload),
        response: Option<(&Evaluation, &crate::payload::Payload)>,
        capture: crate::policy::Capture,
        call: CallInfo<'_>,
    ) -> Result<(Ack, Option<Deferred>), AuditError> {
        let mut buf = Vec::with_capacity(4096);
        let mut decision_ids = Vec::new();
        encode::encode_call(
            request,
            response,
            capture,
            &call,
            &self.writer(),
            &mut buf,
            &mut decision_ids,
        );
        let (lsn, position) = self.append_unsynced(&buf)?;
        let ack = Ack {
            position,
            decision_ids,
            inference: true,
        };
        Ok((ack, self.deferred(lsn, buf.len() as u64)))
    }
}
