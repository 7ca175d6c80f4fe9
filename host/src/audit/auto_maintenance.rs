//! Table maintenance that runs by itself inside `railyard serve`, so the
//! tables stay quick to read however long the hosts run.
//!
//! Every host commits about one small file per table per segment (one a
//! second by default). Left alone, a reader's log replay and file opens
//! grow with uptime. On a schedule (with jitter, so a fleet does not
//! compact in step), each host:
//!
//! 1. **compacts** a `date` partition once it holds at least
//!    [`MaintenanceSettings::compact_min_files`] files smaller than the
//!    target size, rewriting them (smallest first, up to the target size
//!    of input per run) into one file; the commit is checked against the
//!    latest version, so two hosts never both replace the same files
//!    ([`maintenance::commit_compaction`] says why delta-rs's own check
//!    does not cover this) and appenders are never refused;
//! 2. after a compaction, writes a **checkpoint** (readers start from it
//!    instead of replaying every commit; delta-rs also checkpoints every
//!    100 versions on its own) and **cleans up the log** entries older than
//!    the table's `delta.logRetentionDuration` (30 days by default);
//! 3. less often, **vacuums**: physically deletes files that compaction
//!    replaced, only once they have been out of the table for
//!    [`MaintenanceSettings::retention`], so a reader still on an older
//!    version (a long scan, time travel) finds every file it needs.
//!
//! Files stay bounded by data size, not uptime: a partition holds its
//! compacted files (each up to the target size) plus fewer than
//! `compact_min_files` small ones per host, plus at most one interval's
//! worth of new files.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use url::Url;

use super::maintenance;
use super::schema::TableKind;
use super::table::{self, TableError};
use super::worm::Storage;

/// When and how much maintenance a serving host does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceSettings {
    /// Whether `railyard serve` maintains the tables at all
    /// (`RAILYARD_AUDIT_MAINTENANCE`: `on`, default, or `off` when another
    /// job, e.g. a Databricks OPTIMIZE, does it).
    pub enabled: bool,
    /// Time between rounds (`RAILYARD_AUDIT_MAINTENANCE_SECS`, default
    /// 300). Five minutes at one commit a second is ~300 new files per host
    /// per table between rounds: a reader pays for a few hundred small
    /// files at most, and a round's rewrite (~10–20 MiB) takes well under
    /// a second of one core.
    pub interval: Duration,
    /// Small files a partition needs before it is compacted
    /// (`RAILYARD_AUDIT_COMPACT_MIN_FILES`, default 64). Below that a
    /// reader's per-file cost (an open and a footer read, ~1 ms on local
    /// disk, more on object storage) is small next to the rewrite.
    pub compact_min_files: usize,
    /// Files at least this big are left alone, and a round rewrites at
    /// most this much input per partition
    /// (`RAILYARD_AUDIT_TARGET_FILE_MIB`, default 128): the size
    /// `railyard log optimize` uses, within the 100 MiB–1 GiB range Delta
    /// engines target, and small enough to rewrite in memory.
    pub target_file_bytes: u64,
    /// Time between vacuums (`RAILYARD_AUDIT_VACUUM_HOURS`, default 24):
    /// vacuum lists the table's removed files, so it runs daily rather
    /// than every round; replaced files only cost storage meanwhile.
    pub vacuum_interval: Duration,
    /// How long a replaced file is kept for readers of older versions
    /// (`RAILYARD_AUDIT_RETENTION_HOURS`, default 168): Delta's own
    /// default `deletedFileRetentionDuration`, which Spark and Databricks
    /// enforce too; no reader holds a version that long.
    pub retention: Duration,
    /// Row retention per table, legal holds and WORM storage (`[audit]`
    /// in `serve.toml`; see `audit::retention`). Default: keep every row.
    pub lifecycle: super::retention::Lifecycle,
}

impl Default for MaintenanceSettings {
    fn default() -> Self {
        MaintenanceSettings {
            enabled: true,
            interval: Duration::from_secs(300),
            compact_min_files: 64,
            target_file_bytes: 128 << 20,
            vacuum_interval: Duration::from_secs(24 * 3600),
            retention: Duration::from_secs(7 * 24 * 3600),
            lifecycle: Default::default(),
        }
    }
}

/// Counters of what maintenance did, for metrics and tests.
#[derive(Debug, Default)]
pub(crate) struct MaintenanceCounters {
    pub(crate) rounds: AtomicU64,
    pub(crate) compactions: AtomicU64,
    pub(crate) superseded: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) retention_drops: AtomicU64,
}

/// The running maintenance thread.
pub(crate) struct Maintainer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Maintainer {
    /// Starts the thread; the first round comes one interval from now.
    pub(crate) fn start(
        root: Url,
        options: HashMap<String, String>,
        settings: MaintenanceSettings,
        counters: Arc<MaintenanceCounters>,
    ) -> std::io::Result<Maintainer> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = stop.clone();
        let thread = std::thread::Builder::new()
            .name("railyard-audit-maintenance".into())
            .spawn(move || run(&root, &options, &settings, &counters, &signal))?;
        Ok(Maintainer {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread, after the round in progress if there is one (a
    /// round cut short would only leave an uncommitted file for vacuum).
    pub(crate) fn stop(&mut self) {
        let (flag, cv) = &*self.stop;
        *flag.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Maintainer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits `d` or until stopped; returns whether to stop.
fn wait(stop: &(Mutex<bool>, Condvar), d: Duration) -> bool {
    let (flag, cv) = stop;
    let deadline = Instant::now() + d;
    let mut stopped = flag.lock().unwrap_or_else(|p| p.into_inner());
    while !*stopped {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stopped = cv
            .wait_timeout(stopped, left)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    true
}

/// `d` ± 10 %, so hosts started together drift apart.
fn jittered(d: Duration) -> Duration {
    let seed = (super::record::now_us() as u64) ^ u64::from(std::process::id()).rotate_left(17);
    let spread = d.as_millis() as u64 / 5;
    if spread == 0 {
        return d;
    }
    d - d / 10 + Duration::from_millis(seed % spread)
}

fn run(
    root: &Url,
    options: &HashMap<String, String>,
    settings: &MaintenanceSettings,
    counters: &MaintenanceCounters,
    stop: &(Mutex<bool>, Condvar),
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "audit maintenance: cannot start its runtime; the tables are not maintained");
            return;
        }
    };
    let mut next_vacuum = Instant::now() + jittered(settings.vacuum_interval);
    while !wait(stop, jittered(settings.interval)) {
        let vacuum = Instant::now() >= next_vacuum;
        for kind in TableKind::ALL {
            let done = runtime.block_on(maintain(root, options, kind, settings, vacuum, counters));
            if let Err(e) = done {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(table = kind.name(), error = %e, "audit maintenance failed; the next round tries again");
            }
        }
        if vacuum {
            next_vacuum = Instant::now() + jittered(settings.vacuum_interval);
        }
        crate::heap::release_free();
        counters.rounds.fetch_add(1, Ordering::Relaxed);
    }
}

/// One round over every table, without vacuum, as the background thread
/// runs it (for benchmarks and embedders that schedule it themselves).
pub async fn maintain_round(
    root: &Url,
    options: &HashMap<String, String>,
    settings: &MaintenanceSettings,
) -> Result<(), TableError> {
    let counters = MaintenanceCounters::default();
    for kind in TableKind::ALL {
        maintain(root, options, kind, settings, false, &counters).await?;
    }
    Ok(())
}

/// One round over every table including the vacuum (what the background
/// thread does once a vacuum interval has passed), for tests and
/// embedders; `settings.lifecycle.worm` skips the vacuum as in `serve`.
pub async fn maintain_round_with_vacuum(
    root: &Url,
    options: &HashMap<String, String>,
    settings: &MaintenanceSettings,
) -> Result<(), TableError> {
    let counters = MaintenanceCounters::default();
    for kind in TableKind::ALL {
        maintain(root, options, kind, settings, true, &counters).await?;
    }
    Ok(())
}

/// One round on one table.
async fn maintain(
    root: &Url,
    options: &HashMap<String, String>,
    kind: TableKind,
    settings: &MaintenanceSettings,
    vacuum: bool,
    counters: &MaintenanceCounters,
) -> Result<(), TableError> {
    let Some(mut t) = table::open_existing(root, kind, options).await? else {
        return Ok(());
    };
    let storage = Storage::new(root.clone(), options.clone(), settings.lifecycle.worm);
    let plan =
        maintenance::plan_compaction(&t, settings.target_file_bytes, settings.compact_min_files)?;
    if !plan.is_empty() {
        let started = Instant::now();
        let files =
            maintenance::write_compaction(&t, kind, plan, settings.target_file_bytes, |_, _| {})
                .await?;
        let done = maintenance::commit_compaction(&mut t, files, &storage).await?;
        if done.superseded {
            counters.superseded.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                table = kind.name(),
                "audit maintenance: another host compacted these files first; nothing committed"
            );
        } else if let Some(version) = done.version {
            counters.compactions.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                table = kind.name(),
                version,
                files_removed = done.files_removed,
                files_added = done.files_added,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "audit maintenance: compacted"
            );
            // Expired log entries are objects too: kept on write-once
            // storage (recorded with the vacuum's list below).
            let (_, removed_logs) = if storage.worm() {
                (maintenance::checkpoint_only(&t).await?, 0)
            } else {
                maintenance::checkpoint(&t).await?
            };
            tracing::debug!(
                table = kind.name(),
                version,
                removed_logs,
                "audit maintenance: checkpoint written"
            );
        }
    }
    if let Some(dropped) =
        super::retention::round(&mut t, kind, &settings.lifecycle, &storage).await?
    {
        counters.retention_drops.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            table = kind.name(),
            days = ?dropped.days,
            files = dropped.files,
            rows = dropped.rows,
            version = dropped.version,
            "audit maintenance: dropped days past retention (recorded in the hash chain)"
        );
    }
    if vacuum && storage.worm() {
        // What a vacuum would delete, listed (a dry run deletes nothing),
        // so the record says exactly what stays in storage and why.
        let retention = chrono::Duration::from_std(settings.retention)
            .unwrap_or_else(|_| chrono::Duration::days(7));
        let kept = maintenance::vacuum(t.clone(), retention, true).await?;
        if !kept.is_empty() {
            storage
                .record_kept(
                    &t,
                    &format!(
                        "not vacuuming: {} file(s) out of the table for over the vacuum retention stay in storage (and expired log entries after checkpoints)",
                        kept.len()
                    ),
                    kept.len(),
                    &kept,
                )
                .await;
        }
    } else if vacuum {
        let retention = chrono::Duration::from_std(settings.retention)
            .unwrap_or_else(|_| chrono::Duration::days(7));
        let deleted = maintenance::vacuum(t, retention, false)
            .await
            .map_err(super::retention::explain_refused_delete)?;
        tracing::info!(
            table = kind.name(),
            files_deleted = deleted.len(),
            "audit maintenance: vacuumed files replaced more than the retention ago"
        );
    }
    Ok(())
}
