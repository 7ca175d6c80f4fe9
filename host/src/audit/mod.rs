//! The audit log: every decision recorded in Delta Lake.
//!
//! Callers (the CLI's `check`, the server) hand each [`Evaluation`](crate::evaluation::Evaluation) to
//! [`AuditLog::record`] with a [`RecordContext`]; the pipeline itself never
//! calls in here (data flows one way: pipeline → audit).
//!
//! ```text
//! record() ──► WAL (checksummed, group-committed fsync) ──► ack
//!                 │ sealed segments (by size or age)
//!                 ▼
//!            committer thread ──► Parquet (zstd) + Delta commit with
//!                                 txn(app id, segment sequence)
//!                 │ commit durable
//!                 ▼
//!            segment deleted
//! ```
//!
//! Tables: `decisions` (one row per plugin decision), `inferences` (one row
//! per evaluated or proxied call), `judgements` (filled by the
//! judge dispatcher), `events` and `policies` (operational evidence,
//! [`events`]). Schema: `docs/audit-schema.md`. Maintenance
//! (checkpoint, vacuum, compaction): [`maintenance`].

mod auto_maintenance;
mod batch;
pub mod chain;
mod columns;
mod committer;
mod deferred;
mod encode;
pub mod erase;
pub mod events;
pub mod maintenance;
mod open_calls;
pub mod provenance;
pub mod record;
mod recording;
pub mod retention;
pub mod rewrite;
pub mod schema;
mod settings;
mod shared;
pub mod table;
pub mod wal;
pub mod worm;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use url::Url;

use shared::CommitState;
pub(crate) use shared::Shared;

pub use auto_maintenance::{MaintenanceSettings, maintain_round, maintain_round_with_vacuum};
pub(crate) use deferred::run_blocking;
pub use deferred::{Deferred, DurablePoint};
pub use open_calls::INTERRUPTED_STAGE;
pub use provenance::Provenance;
pub use record::hex_into;
pub(crate) use record::now_us;
pub use record::{
    AuditRecord, CallInfo, Capture, DecisionRow, FindingRow, InferenceRow, JudgementRow,
    RecordContext, TokenCounts,
};
pub use schema::TableKind;
pub use settings::{AuditSettings, OnFull, root_url};
pub use wal::{Durability, Position, RecordFormat};

/// Why the audit log could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A setting or local state file is wrong or unreadable.
    #[error("audit log: {0}")]
    Settings(String),
    /// The write-ahead log failed.
    #[error(transparent)]
    Wal(#[from] wal::WalError),
    /// A Delta table operation failed.
    #[error(transparent)]
    Table(#[from] table::TableError),
    /// The backlog bound is reached and the policy is to refuse traffic.
    #[error(
        "audit log backlog is full ({backlog_mib} MiB not yet committed to {table}; limit {limit_mib} MiB): refusing to decide off the record. Last commit error: {last_error}"
    )]
    BacklogFull {
        /// Bytes waiting, in MiB.
        backlog_mib: u64,
        /// The bound, in MiB.
        limit_mib: u64,
        /// The table root.
        table: String,
        /// Why the committer is behind, if it knows.
        last_error: String,
    },
    /// `flush` timed out with segments still uncommitted (they stay in the
    /// WAL and are committed by the next process that opens it).
    #[error(
        "audit log: {pending} WAL segment(s) not yet committed to {table} after {waited_ms} ms; they are safe in the WAL and will be committed later. Last error: {last_error}"
    )]
    NotCommitted {
        /// Segments still waiting.
        pending: u64,
        /// The table root.
        table: String,
        /// How long flush waited.
        waited_ms: u64,
        /// The committer's last error.
        last_error: String,
    },
}

/// A record's acknowledgement: it is durable per the configured
/// [`Durability`] and will reach Delta exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// Where the first row's record starts in the WAL.
    pub position: Position,
    /// The `decision_id` of each decision row written, in plugin order.
    pub decision_ids: Vec<String>,
    /// Whether the inferences row was written.
    pub inference: bool,
}

/// Counters for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuditStats {
    /// WAL bytes not yet committed.
    pub backlog_bytes: u64,
    /// Records accepted past the backlog bound under `on-full = alarm`.
    pub over_limit_records: u64,
    /// Damaged WAL regions found (torn tails, flipped bytes).
    pub corrupt_regions: u64,
    /// Every segment below this sequence is committed.
    pub committed_below: u64,
    /// Maintenance rounds finished (each covers every table).
    pub maintenance_rounds: u64,
    /// Compactions this host committed.
    pub compactions: u64,
    /// Compactions dropped because another host compacted the files first.
    pub compactions_superseded: u64,
    /// Maintenance steps that failed (retried next round).
    pub maintenance_failures: u64,
    /// Times the committer read its tables afresh after
    /// [`AuditSettings::reopen_after_commits`] commits.
    pub table_reopens: u64,
    /// WAL segments made from a preallocated file (see `wal::spare`), and
    /// made empty while preallocation was on because none was ready yet.
    pub wal_segments_preallocated: u64,
    /// See [`AuditStats::wal_segments_preallocated`].
    pub wal_segments_unprepared: u64,
}

/// An open audit log: a WAL owned by this process and a committer thread.
pub struct AuditLog {
    shared: Arc<Shared>,
    host_id: String,
    hasher: record::PayloadHasher,
    wal_format: wal::RecordFormat,
    durability: Durability,
    backlog_limit: u64,
    on_full: OnFull,
    committer: Option<JoinHandle<()>>,
    ticker: Option<JoinHandle<()>>,
    maintenance: MaintenanceSettings,
    maintainer: Option<auto_maintenance::Maintainer>,
    maintenance_counters: Arc<auto_maintenance::MaintenanceCounters>,
    interrupted_calls: usize,
}

impl AuditLog {
    /// Opens the WAL (recovering what a previous run left), and starts the
    /// committer, which commits that backlog before anything new. Does not
    /// touch the table: an unreachable table does not stop recording.
    pub fn open(settings: AuditSettings) -> Result<AuditLog, AuditError> {
        let root = root_url(&settings.table_root)?;
        let state = &settings.state_dir;
        let host_id = match settings.host_id.clone() {
            Some(h) => h,
            None => {
                let raw = settings::read_or_create(&state.join("host-id"), || {
                    let name = std::fs::read_to_string("/etc/hostname")
                        .map(|s| s.trim().to_string())
                        .unwrap_or_default();
                    let suffix = hex::encode(settings::random_bytes(4)?);
                    Ok(if name.is_empty() {
                        format!("railyard-{suffix}")
                    } else {
                        format!("{name}-{suffix}")
                    }
                    .into_bytes())
                })?;
                String::from_utf8_lossy(&raw).trim().to_string()
            }
        };
        let hash_key = match settings.hash_key.clone() {
            Some(k) => k,
            None => settings::read_or_create(&state.join("audit.key"), || {
                Ok(hex::encode(settings::random_bytes(32)?).into_bytes())
            })?,
        };
        let wal_dir = settings::wal_dir(state, &root);
        std::fs::create_dir_all(&wal_dir)
            .map_err(|e| AuditError::Settings(format!("{}: {e}", wal_dir.display())))?;
        let _ = std::fs::write(wal_dir.join("table"), root.as_str());
        // The txn app id names this WAL, not just the host: two WAL folders
        // (two state folders on one machine) must never share a sequence
        // space, or one's segment 7 would hide the other's.
        let wal_id = settings::read_or_create(&wal_dir.join("wal-id"), || {
            Ok(hex::encode(settings::random_bytes(8)?).into_bytes())
        })?;
        let app_id = format!(
            "railyard:{host_id}:{}",
            String::from_utf8_lossy(&wal_id).trim()
        );
        let floor = committer::committed_floor(&wal_dir);
        let wal = wal::Wal::open(
            &wal_dir,
            settings.durability,
            settings.segment_bytes,
            settings.segment_age,
            floor,
        )?
        .preallocating(settings.wal_preallocate);
        // Calls a previous run left between their request and their end
        // get their `inferences` row now, before any new traffic (see
        // `open_calls` for why this is exactly once).
        let interrupted = open_calls::recover(&wal_dir)?.interrupted_rows();
        let interrupted_calls = interrupted.len();
        if !interrupted.is_empty() {
            let mut buf = Vec::with_capacity(interrupted.len() * 512);
            for row in interrupted {
                wal::encode(&AuditRecord::Inference(row), settings.wal_format, &mut buf);
            }
            let (lsn, _) = wal.append(&buf)?;
            wal.sync(lsn)?;
            tracing::warn!(
                calls = interrupted_calls,
                "audit log: calls cut by the previous stop (request recorded, end never) are recorded as interrupted"
            );
        }
        let open_calls = open_calls::OpenCalls::load(&wal_dir)
            .map_err(|e| AuditError::Settings(e.to_string()))?;
        let backlog: u64 = wal::list_segments(&wal_dir)?
            .iter()
            .filter_map(|(_, p)| std::fs::metadata(p).ok())
            .map(|m| m.len().saturating_sub(wal::HEADER_LEN))
            .sum();
        let poll_interval =
            (settings.segment_age / 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
        let shared = Arc::new(Shared {
            wal,
            root,
            storage_options: settings.storage_options.clone(),
            app_id,
            poll_interval,
            reopen_after_commits: settings.reopen_after_commits,
            table_reopens: AtomicU64::new(0),
            state: Mutex::new(CommitState {
                committed_below: 0,
                last_error: None,
                wake: true,
                stop: false,
            }),
            changed: Condvar::new(),
            backlog_bytes: AtomicU64::new(backlog),
            over_limit: AtomicU64::new(0),
            corrupt_regions: AtomicU64::new(0),
        });
        let committer = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("railyard-audit-commit".into())
                .spawn(move || committer::run(shared, open_calls))
                .map_err(|e| AuditError::Settings(format!("starting the committer thread: {e}")))?
        };
        // With async durability, appended records are fsynced by this
        // ticker within wal::ASYNC_FLUSH_INTERVAL, independent of how long
        // a Delta commit takes.
        let ticker =
            if settings.durability == Durability::Async {
                let shared = shared.clone();
                Some(
                std::thread::Builder::new()
                    .name("railyard-audit-fsync".into())
                    .spawn(move || loop {
                        if shared.lock().stop {
                            break;
                        }
                        if let Err(e) = shared.wal.flush(false) {
                            tracing::error!(error = %e, "audit WAL: background fsync failed");
                            shared.set_error(e.to_string());
                        }
                        std::thread::sleep(wal::ASYNC_FLUSH_INTERVAL);
                    })
                    .map_err(|e| AuditError::Settings(format!("starting the fsync thread: {e}")))?,
            )
            } else {
                None
            };
        Ok(AuditLog {
            shared,
            host_id,
            hasher: record::PayloadHasher::new(&hash_key),
            wal_format: settings.wal_format,
            durability: settings.durability,
            backlog_limit: settings.backlog_limit_bytes,
            on_full: settings.on_full,
            committer: Some(committer),
            ticker,
            maintenance: settings.maintenance.clone(),
            maintainer: None,
            maintenance_counters: Arc::default(),
            interrupted_calls,
        })
    }

    /// The WAL folder this log owns (its lock file keeps other processes
    /// out; `events` keeps its run marker there).
    pub fn wal_dir(&self) -> &std::path::Path {
        self.shared.wal.dir()
    }

    /// Calls the previous run left open, recorded as interrupted when this
    /// log was opened.
    pub fn interrupted_calls(&self) -> usize {
        self.interrupted_calls
    }

    /// Starts table maintenance in the background (what `railyard serve`
    /// does), unless the settings turn it off. Returns whether it runs.
    pub fn start_maintenance(&mut self) -> Result<bool, AuditError> {
        if !self.maintenance.enabled || self.maintainer.is_some() {
            return Ok(self.maintainer.is_some());
        }
        let m = auto_maintenance::Maintainer::start(
            self.shared.root.clone(),
            self.shared.storage_options.clone(),
            self.maintenance.clone(),
            self.maintenance_counters.clone(),
        )
        .map_err(|e| AuditError::Settings(format!("starting the maintenance thread: {e}")))?;
        self.maintainer = Some(m);
        Ok(true)
    }

    fn writer(&self) -> encode::Writer<'_> {
        encode::Writer {
            host_id: &self.host_id,
            hasher: &self.hasher,
            format: self.wal_format,
        }
    }

    /// The host id stamped on rows.
    pub fn host_id(&self) -> &str {
        &self.host_id
    }

    /// The `txn` app id this log commits under.
    pub fn app_id(&self) -> &str {
        &self.shared.app_id
    }

    /// The table root.
    pub fn root(&self) -> &Url {
        &self.shared.root
    }

    /// Keyed hash of messages under this host's key (what the
    /// `payload_hash` columns hold).
    pub fn payload_hash(&self, messages: &[crate::payload::Message]) -> String {
        self.hasher.hash(messages)
    }

    /// Seals the open segment and waits until everything recorded so far
    /// is committed to Delta, or `timeout` passes.
    pub fn flush(&self, timeout: Duration) -> Result<(), AuditError> {
        let target = self.shared.wal.flush(true)?;
        let started = Instant::now();
        let mut s = self.shared.lock();
        s.wake = true;
        self.shared.changed.notify_all();
        while s.committed_below < target {
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                let pending = wal::list_segments(self.shared.wal.dir())
                    .map(|v| v.len() as u64)
                    .unwrap_or(0);
                return Err(AuditError::NotCommitted {
                    pending,
                    table: self.shared.root.to_string(),
                    waited_ms: started.elapsed().as_millis() as u64,
                    last_error: s.last_error.clone().unwrap_or_else(|| "none".into()),
                });
            }
            s = self
                .shared
                .changed
                .wait_timeout(s, left.min(Duration::from_millis(50)))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        Ok(())
    }

    /// Flushes (up to `timeout`) and stops the background threads.
    pub fn shutdown(mut self, timeout: Duration) -> Result<(), AuditError> {
        let flushed = self.flush(timeout);
        self.stop();
        flushed
    }

    /// Counters.
    pub fn stats(&self) -> AuditStats {
        let (preallocated, unprepared) = self.shared.wal.preallocated_segments();
        AuditStats {
            backlog_bytes: self.shared.backlog_bytes.load(Ordering::Relaxed),
            over_limit_records: self.shared.over_limit.load(Ordering::Relaxed),
            corrupt_regions: self.shared.corrupt_regions.load(Ordering::Relaxed),
            committed_below: self.shared.lock().committed_below,
            maintenance_rounds: load(&self.maintenance_counters.rounds),
            compactions: load(&self.maintenance_counters.compactions),
            compactions_superseded: load(&self.maintenance_counters.superseded),
            maintenance_failures: load(&self.maintenance_counters.failures),
            table_reopens: self.shared.table_reopens.load(Ordering::Relaxed),
            wal_segments_preallocated: preallocated,
            wal_segments_unprepared: unprepared,
        }
    }

    /// Whether a record would be acknowledged now: the WAL is writable and,
    /// when a full backlog rejects traffic, under its bound. `Err` says why
    /// not (what `/readyz` reports).
    pub fn ready(&self) -> Result<(), String> {
        if let Some(reason) = self.shared.wal.failure() {
            return Err(format!("the audit WAL failed: {reason}"));
        }
        let backlog = self.shared.backlog_bytes.load(Ordering::Relaxed);
        if backlog >= self.backlog_limit && self.on_full == OnFull::Reject {
            return Err(format!(
                "the audit backlog is full ({} MiB of {} MiB; last commit error: {})",
                backlog >> 20,
                self.backlog_limit >> 20,
                self.last_error().unwrap_or_else(|| "none".into())
            ));
        }
        Ok(())
    }

    /// The committer's last error, if its last attempt failed.
    pub fn last_error(&self) -> Option<String> {
        self.shared.lock().last_error.clone()
    }

    fn stop(&mut self) {
        if let Some(mut m) = self.maintainer.take() {
            m.stop();
        }
        {
            let mut s = self.shared.lock();
            s.stop = true;
            s.wake = true;
        }
        self.shared.changed.notify_all();
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        if let Some(c) = self.committer.take() {
            let _ = c.join();
        }
        // Whatever async durability had not yet synced is synced now.
        if let Err(e) = self.shared.wal.flush(false) {
            tracing::error!(error = %e, "audit WAL: final fsync failed");
        }
    }
}

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        self.stop();
    }
}

/// 32 random bytes (a new signing key's seed).
pub fn random_seed() -> Result<[u8; 32], AuditError> {
    let b = settings::random_bytes(32)?;
    Ok(b.try_into().expect("32 bytes asked for"))
}
