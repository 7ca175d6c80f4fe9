//! The background committer: sealed WAL segments in, Delta commits out.
//!
//! One thread, with its own small tokio runtime for the object-store calls,
//! so the hot path never waits on storage. It takes sealed segments in
//! sequence order (so on start the backlog of a previous run goes first),
//! commits each table's rows under a `txn` carrying the segment's sequence,
//! and only then deletes the segment. A failure leaves the segment where it
//! is and retries with backoff; the WAL absorbs the backlog meanwhile.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use deltalake::DeltaTable;

use super::open_calls::OpenCalls;
use super::record::AuditRecord;
use super::schema::{self, TableKind};
use super::table::{self, CommitOutcome};
use super::wal::wire::{DecisionIn, InferenceIn, Placed};
use super::wal::{self, Damage, Scanned};
use super::{AuditError, Shared, batch};

/// Longest wait between retries while storage is failing.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);

pub(super) fn run(shared: Arc<Shared>, mut open_calls: OpenCalls) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            shared.set_error(format!("cannot start the committer's runtime: {e}"));
            return;
        }
    };
    let mut tables: Option<HashMap<TableKind, DeltaTable>> = None;
    let mut commits_since_open = 0usize;
    let mut failures = 0u32;
    loop {
        let stopping = shared.wait_for_work(if failures == 0 {
            shared.poll_interval
        } else {
            Duration::from_millis(100u64 << failures.min(7)).min(MAX_RETRY_WAIT)
        });
        let result = runtime.block_on(commit_sealed(&shared, &mut tables, &mut open_calls));
        // The next segment's preallocated file (see `wal::spare`), here
        // rather than in the flush: off the async ticker's path, and after
        // the commits, which the seal above may be waiting on.
        shared.wal.prepare_spare();
        match result {
            Ok(commits) => {
                failures = 0;
                shared.clear_error();
                commits_since_open += commits;
                if commits_since_open >= shared.reopen_after_commits && tables.is_some() {
                    // Read afresh, from the latest checkpoint, on the next
                    // commit (see `commit_sealed`).
                    tables = None;
                    commits_since_open = 0;
                    shared.table_reopens.fetch_add(1, Ordering::Relaxed);
                    // The dropped tables' state is megabytes freed at once.
                    crate::heap::release_free();
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, "audit log: commit to Delta failed; the WAL keeps the backlog and the committer retries");
                shared.set_error(e.to_string());
                // Reopen on the next attempt: the failure may have been the
                // table itself (deleted, recreated, unreachable).
                tables = None;
            }
        }
        if stopping {
            break;
        }
    }
}

/// Commits every sealed segment, oldest first; returns how many table
/// commits it made.
///
/// The tables stay open between calls, and after
/// `reopen_after_commits` commits the caller drops them to be opened
/// again here. A `DeltaTable` kept open is brought up to date commit by
/// commit: deltalake 1.1 builds its file list from the previous list's
/// Arrow batches plus the new commits' (delta-kernel's
/// `scan_metadata_from`), so it holds one more batch per commit,
/// checkpoints or not; opened afresh, a table loads its latest checkpoint
/// (Delta writes one every 100 versions) and the commits after it: a
/// bounded state, for one read of the log every so many commits.
async fn commit_sealed(
    shared: &Shared,
    tables: &mut Option<HashMap<TableKind, DeltaTable>>,
    open_calls: &mut OpenCalls,
) -> Result<usize, AuditError> {
    // Makes appended records durable (async durability) and seals a
    // segment that has reached its age.
    // A failed WAL (see wal's "lost" state) still has sealed segments to
    // commit, the failed one among them; its failure is on `/readyz` and
    // this flush is also what retries it.
    let sealed_below = match shared.wal.flush(false) {
        Ok(below) => below,
        Err(e) => {
            tracing::debug!(error = %e, "audit WAL flush failed; committing what is sealed");
            shared.wal.sealed_below()
        }
    };
    let segments: Vec<_> = wal::list_segments(shared.wal.dir())?
        .into_iter()
        .filter(|(seq, _)| *seq < sealed_below)
        .collect();
    if segments.is_empty() {
        shared.mark_committed(sealed_below);
        return Ok(0);
    }
    if tables.is_none() {
        let mut opened = HashMap::new();
        for kind in TableKind::ALL {
            let t = table::open_or_create(&shared.root, kind, &shared.storage_options).await?;
            opened.insert(kind, t);
        }
        *tables = Some(opened);
    }
    let tables = tables.as_mut().expect("opened above");
    let mut commits = 0usize;
    // Segments go in batches: one commit per table carries every row of a
    // run of consecutive segments, with the run's last sequence in its
    // `txn`. A backlog (after a restart, or behind a slow store) drains in
    // a few commits instead of one per segment.
    let mut pending = segments.into_iter().peekable();
    while pending.peek().is_some() {
        let started = Instant::now();
        // Each segment's bytes are held until the run is committed: the
        // binary records are decoded in place and their columns built
        // straight from those bytes.
        let mut batch: Vec<(u64, std::path::PathBuf, Vec<u8>)> = Vec::new();
        let mut bytes = 0u64;
        while let Some((seq, path)) = pending.peek() {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if !batch.is_empty() && bytes + size > MAX_BATCH_BYTES {
                break;
            }
            batch.push((*seq, path.clone(), wal::read_bytes(path)?));
            bytes += size;
            pending.next();
        }
        let first = batch.first().expect("at least one segment").0;
        let last = batch.last().expect("at least one segment").0;
        // The rows move out of the segments into one list per table, each
        // with the segment that carried it. JSON records (a WAL written by
        // an earlier version) arrive as owned rows and are borrowed into
        // the same view once all are read.
        let mut decisions = Vec::new();
        let mut inferences = Vec::new();
        let mut json_decisions = Vec::new();
        let mut json_inferences = Vec::new();
        let mut judgements = Vec::new();
        let mut events = Vec::new();
        let mut policies = Vec::new();
        let mut retire = Vec::with_capacity(batch.len());
        for (seq, path, data) in &batch {
            let contents = wal::scan(data, *seq);
            report_damage(shared, path, &contents.damage);
            let seq = *seq;
            for (offset, r) in contents.records {
                let (segment, offset) = (seq as i64, offset as i64);
                match r {
                    Scanned::Decision(d) => {
                        open_calls.decision(&d);
                        decisions.push((
                            seq,
                            Placed {
                                row: d,
                                segment,
                                offset,
                            },
                        ));
                    }
                    Scanned::Inference(i) => {
                        open_calls.inference(i.request_id);
                        inferences.push((
                            seq,
                            Placed {
                                row: i,
                                segment,
                                offset,
                            },
                        ));
                    }
                    Scanned::Row(r) => {
                        open_calls.apply([&*r]);
                        match *r {
                            AuditRecord::Decision(d) => json_decisions.push((seq, d)),
                            AuditRecord::Inference(i) => json_inferences.push((seq, i)),
                            AuditRecord::Judgement(j) => judgements.push((seq, j)),
                            AuditRecord::Event(e) => events.push((seq, e)),
                            AuditRecord::Policy(p) => policies.push((seq, p)),
                        }
                    }
                }
            }
            retire.push((seq, path.clone(), !contents.damage.is_empty()));
        }
        in_wal_order(
            &mut decisions,
            json_decisions
                .iter()
                .map(|(s, r)| (*s, Placed::<DecisionIn<'_>>::of(r))),
        );
        in_wal_order(
            &mut inferences,
            json_inferences
                .iter()
                .map(|(s, r)| (*s, Placed::<InferenceIn<'_>>::of(r))),
        );
        let mut rows = 0usize;
        for kind in TableKind::ALL {
            let empty = match kind {
                TableKind::Decisions => decisions.is_empty(),
                TableKind::Inferences => inferences.is_empty(),
                TableKind::Judgements => judgements.is_empty(),
                TableKind::Events => events.is_empty(),
                TableKind::Policies => policies.is_empty(),
            };
            if empty {
                // Nothing for this table in these segments: no need to
                // read its recorded version.
                continue;
            }
            let t = tables.get_mut(&kind).expect("every table is opened");
            // Rows of segments the table already records are left out: a
            // crash between a commit and the segment's deletion replays
            // them here, and they must not land twice.
            let recorded = table::recorded_version(t, &shared.app_id)
                .await
                .map_err(|e| {
                    AuditError::Settings(format!(
                        "audit table {}: reading the recorded txn version: {e}",
                        kind.name()
                    ))
                })?;
            let just_read = Some(recorded);
            let recorded = recorded.unwrap_or(-1);
            let built = match kind {
                TableKind::Decisions => {
                    batch::decisions(&fresh(std::mem::take(&mut decisions), recorded))
                }
                TableKind::Inferences => {
                    batch::inferences(&fresh(std::mem::take(&mut inferences), recorded))
                }
                TableKind::Judgements => {
                    schema::judgements_batch(&fresh(std::mem::take(&mut judgements), recorded))
                }
                TableKind::Events => super::events::schema::events_batch(&fresh(
                    std::mem::take(&mut events),
                    recorded,
                )),
                TableKind::Policies => super::events::schema::policies_batch(&fresh(
                    std::mem::take(&mut policies),
                    recorded,
                )),
            }
            .map_err(|e| {
                AuditError::Settings(format!(
                    "building the {} batch of segments {first}..={last}: {e}",
                    kind.name()
                ))
            })?;
            rows += built.num_rows();
            let outcome = table::commit_segment(t, &shared.app_id, last, built, just_read).await?;
            if matches!(outcome, CommitOutcome::Committed(_)) {
                commits += 1;
            }
            if recorded >= first as i64 || outcome == CommitOutcome::AlreadyCommitted {
                tracing::info!(
                    segments = %format!("{first}..={last}"),
                    recorded,
                    table = kind.name(),
                    "audit WAL: segments already in the table (replay after a restart) were not committed again"
                );
            }
        }
        // The calls still open after these segments are on disk before
        // any of them is recorded as committed and deleted.
        open_calls
            .save(shared.wal.dir())
            .map_err(|e| AuditError::Settings(e.to_string()))?;
        for (seq, path, damaged) in retire {
            retire_segment(shared, &path, seq, damaged)?;
        }
        tracing::debug!(
            segments = %format!("{first}..={last}"),
            rows,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "audit WAL segments committed"
        );
        shared.mark_committed(last + 1);
    }
    shared.mark_committed(sealed_below);
    Ok(commits)
}

/// Segment bytes read into one commit at most (the rows are held in
/// memory while their Parquet is written).
const MAX_BATCH_BYTES: u64 = 64 << 20;

/// The rows of segments after `recorded`, in order.
fn fresh<T>(rows: Vec<(u64, T)>, recorded: i64) -> Vec<T> {
    rows.into_iter()
        .filter(|(seq, _)| *seq as i64 > recorded)
        .map(|(_, r)| r)
        .collect()
}

/// Adds rows read from JSON records to the borrowed binary ones, in WAL
/// order (a segment written across an upgrade holds both).
fn in_wal_order<T>(rows: &mut Vec<(u64, Placed<T>)>, json: impl Iterator<Item = (u64, Placed<T>)>) {
    let before = rows.len();
    rows.extend(json);
    if rows.len() > before && before > 0 {
        rows.sort_by_key(|(_, p)| (p.segment, p.offset));
    }
}

fn report_damage(shared: &Shared, path: &std::path::Path, damage: &[Damage]) {
    for d in damage {
        shared.corrupt_regions.fetch_add(1, Ordering::Relaxed);
        match d {
            Damage::TornTail { .. } => {
                tracing::warn!(segment = %path.display(), damage = %d, "audit WAL: torn tail (a write cut short by a crash); the records before it are kept")
            }
            _ => {
                tracing::error!(segment = %path.display(), damage = %d, "audit WAL: damaged records skipped; the segment is kept in quarantine/ for inspection")
            }
        }
    }
}

/// Removes a committed segment (or moves a damaged one to quarantine/),
/// after recording that it is committed, so a restart never re-numbers
/// below it.
fn retire_segment(
    shared: &Shared,
    path: &std::path::Path,
    seq: u64,
    damaged: bool,
) -> Result<(), AuditError> {
    let dir = shared.wal.dir();
    let io = |what: &str, e: std::io::Error| {
        AuditError::Settings(format!("audit WAL {}: {what}: {e}", dir.display()))
    };
    let floor = dir.join("committed");
    let tmp = dir.join("committed.tmp");
    std::fs::write(&tmp, seq.to_string())
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, &floor))
        .map_err(|e| io("recording the committed sequence", e))?;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if damaged {
        let q = dir.join("quarantine");
        std::fs::create_dir_all(&q).map_err(|e| io("creating quarantine/", e))?;
        std::fs::rename(path, q.join(wal::segment_name(seq)))
            .map_err(|e| io("quarantining a damaged segment", e))?;
    } else {
        std::fs::remove_file(path).map_err(|e| io("deleting a committed segment", e))?;
    }
    wal::sync_dir(dir).map_err(|e| io("fsync", e))?;
    shared.backlog_bytes.fetch_sub(
        size.saturating_sub(wal::HEADER_LEN)
            .min(shared.backlog_bytes.load(Ordering::Relaxed)),
        Ordering::Relaxed,
    );
    Ok(())
}

/// The last committed sequence recorded in a WAL folder (0 if none).
pub(super) fn committed_floor(dir: &std::path::Path) -> u64 {
    std::fs::read_to_string(dir.join("committed"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}
