//! A failed write or fsync: what is lost, what callers are told, and how
//! appends resume on a fresh segment (see "lost" in the module docs).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{HEADER_LEN, Wal, WalError, Writer};

/// Why the log refuses appends, and when to try a fresh segment.
pub(super) struct Failure {
    pub(super) reason: String,
    pub(super) retry_at: Instant,
    pub(super) attempts: u32,
}

/// First wait before a fresh segment is tried after a failure; doubled per
/// failed attempt up to [`MAX_RECOVERY_WAIT`]. Short, because every call is
/// refused meanwhile; bounded, so a full or read-only disk is not hammered.
pub(super) const FIRST_RECOVERY_WAIT: Duration = Duration::from_millis(50);
const MAX_RECOVERY_WAIT: Duration = Duration::from_secs(5);

/// Failures whose unacknowledged range is remembered (see `Writer::lost`).
/// A caller checks its range right after its append, so only the last few
/// failures can still have callers waiting.
const LOST_RANGES: usize = 64;

impl Wal {
    /// The answer for a caller whose `lsn` is at or below the durable
    /// mark: acknowledged, unless a failure dropped it.
    pub(super) fn settled(&self, lsn: u64) -> Result<(), WalError> {
        if self.any_lost.load(Ordering::Acquire)
            && let Some(e) = self.lost_error(&self.lock_writer(), lsn)
        {
            return Err(e);
        }
        Ok(())
    }

    /// The error for a caller whose `lsn` fell in a failure's lost range.
    pub(super) fn lost_error(&self, w: &Writer, lsn: u64) -> Option<WalError> {
        let (after, up_to) = *w
            .lost
            .iter()
            .find(|(after, up_to)| lsn > *after && lsn <= *up_to)?;
        Some(WalError::Failed {
            path: self.dir.display().to_string(),
            reason: format!(
                "a write failed before bytes {after}..{up_to} of this run were durable; they were not recorded"
            ),
        })
    }

    /// A write or fsync failed: see "lost" in the module docs.
    pub(super) fn fail(&self, w: &mut Writer, reason: String) {
        let mut a = self.lock_appender();
        a.pending.clear();
        if w.lost.len() == LOST_RANGES {
            w.lost.pop_front();
        }
        w.lost.push_back((w.durable_lsn, a.lsn));
        w.durable_lsn = a.lsn;
        // Lost before durable: a waiter that sees the mark sees the loss.
        self.any_lost.store(true, Ordering::Release);
        self.mark_durable(a.lsn);
        if let Some(open) = w.file.take() {
            self.sealed_below.fetch_max(open.seq + 1, Ordering::AcqRel);
            // A preallocated segment is cut back to the chunks written
            // whole (one whose write failed part-way goes with the zeros);
            // otherwise, or if the cut fails, a torn record stays for the
            // reader to report.
            self.retire_segment(open);
        }
        // Past every sequence a chunk or a file could carry: the failed
        // segment is never written again.
        a.segment += 1;
        a.segment_len = HEADER_LEN;
        a.opened = Instant::now();
        self.sealed_below.fetch_max(a.segment, Ordering::AcqRel);
        tracing::error!(
            wal = %self.dir.display(),
            error = %reason,
            "audit WAL: a write failed; records not yet durable were dropped unacknowledged, and appends are refused until a fresh segment opens"
        );
        a.failed = Some(Failure {
            reason,
            retry_at: Instant::now() + FIRST_RECOVERY_WAIT,
            attempts: 0,
        });
    }

    /// After a failure, once its wait is over: opens the next segment
    /// (header written and synced, folder synced) and lets appends resume
    /// there. A failed attempt waits twice as long before the next.
    pub(super) fn recover(&self, w: &mut Writer) {
        let mut a = self.lock_appender();
        let Some(failure) = &a.failed else { return };
        if Instant::now() < failure.retry_at {
            return;
        }
        let attempts = failure.attempts + 1;
        let seq = a.segment;
        match self.create_segment(seq) {
            Ok(segment) => {
                tracing::warn!(
                    wal = %self.dir.display(),
                    segment = seq,
                    attempts,
                    "audit WAL recovered: appends resume on a fresh segment"
                );
                w.file = Some(segment);
                a.segment_len = HEADER_LEN;
                a.opened = Instant::now();
                a.failed = None;
            }
            Err(e) => {
                // The attempt may have left a file behind: never reuse it.
                a.segment += 1;
                self.sealed_below.fetch_max(a.segment, Ordering::AcqRel);
                let wait = FIRST_RECOVERY_WAIT
                    .saturating_mul(1 << attempts.min(16))
                    .min(MAX_RECOVERY_WAIT);
                a.failed = Some(Failure {
                    reason: e.to_string(),
                    retry_at: Instant::now() + wait,
                    attempts,
                });
            }
        }
    }
}
