//! Table maintenance: checkpoints and expired-log cleanup, vacuum, and
//! compaction, run from `railyard log` and by `railyard serve` on its own
//! ([`super::auto_maintenance`]).
//!
//! The committer turns expired-log cleanup off (it lists `_delta_log` on
//! every commit); [`checkpoint`] runs it. Compaction is done without a SQL
//! engine (deltalake's `datafusion` feature would add a large build): the
//! small files of a partition are read, rewritten as one file, and
//! committed as `add`s plus `remove`s with `dataChange = false`, which an
//! append-only table allows and readers of the change feed ignore.

use std::collections::{BTreeMap, HashSet};

use deltalake::kernel::Action;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use deltalake::parquet::basic::{Compression, ZstdLevel};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::protocol::DeltaOperation;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use deltalake::{DeltaTable, ObjectStore};

use super::chain::{self, FileHash};
use super::schema::{self, Columns, TableKind};
use super::table::{TableError, percent_decode};
use super::worm::Storage;

fn err(table: &DeltaTable, what: &str) -> impl FnOnce(deltalake::DeltaTableError) -> TableError {
    let url = table.table_url().to_string();
    let what = what.to_string();
    move |source| TableError {
        url,
        what,
        source: Box::new(source),
    }
}

/// Writes a checkpoint of the current version and removes log entries
/// older than the table's log retention. Returns the version and how many
/// log files were removed.
pub async fn checkpoint(table: &DeltaTable) -> Result<(u64, usize), TableError> {
    deltalake::checkpoints::create_checkpoint(table, None)
        .await
        .map_err(err(table, "writing a checkpoint"))?;
    let removed = deltalake::checkpoints::cleanup_metadata(table, None)
        .await
        .map_err(err(table, "removing expired log files"))?;
    Ok((table.version().unwrap_or_default(), removed))
}

/// Writes a checkpoint of the current version and deletes nothing (for
/// write-once storage, where expired log files stay). Returns the version.
pub async fn checkpoint_only(table: &DeltaTable) -> Result<u64, TableError> {
    deltalake::checkpoints::create_checkpoint(table, None)
        .await
        .map_err(err(table, "writing a checkpoint"))?;
    Ok(table.version().unwrap_or_default())
}

/// Deletes data files no longer referenced and older than `retention`.
/// Returns the files deleted (or that would be, when `dry_run`).
pub async fn vacuum(
    table: DeltaTable,
    retention: chrono::Duration,
    dry_run: bool,
) -> Result<Vec<String>, TableError> {
    let url = table.table_url().to_string();
    let (_, metrics) = table
        .vacuum()
        .with_retention_period(retention)
        .with_enforce_retention_duration(false)
        .with_dry_run(dry_run)
        .await
        .map_err(|source| TableError {
            url,
            what: "vacuum".into(),
            source: Box::new(source),
        })?;
    Ok(metrics.files_deleted)
}

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compaction {
    /// Partitions rewritten.
    pub partitions: usize,
    /// Small files replaced.
    pub files_removed: usize,
    /// Files written.
    pub files_added: usize,
    /// The new table version, if anything was committed.
    pub version: Option<u64>,
    /// Another writer removed some of the planned files first (another
    /// host compacted them): nothing was committed and the files written
    /// were deleted (left and recorded on write-once storage).
    pub superseded: bool,
}

/// Files to compact, read from one table version.
#[derive(Debug, Default)]
pub struct CompactionPlan {
    /// Per `date` partition, the small files to rewrite.
    partitions: BTreeMap<String, Vec<(deltalake::Path, deltalake::kernel::Remove)>>,
}

impl CompactionPlan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.partitions.is_empty()
    }

    /// Small files planned for rewriting.
    pub fn files(&self) -> usize {
        self.partitions.values().map(Vec::len).sum()
    }
}

/// Picks, in the table's current state, every partition with at least
/// `min_files` (and at least 2) files smaller than `target_bytes`, and in
/// each its smallest files up to `target_bytes` of input in all: the
/// rewritten file is about the target size, a round's memory is bounded,
/// and a file already near the target is not rewritten again and again.
pub fn plan_compaction(
    table: &DeltaTable,
    target_bytes: u64,
    min_files: usize,
) -> Result<CompactionPlan, TableError> {
    let mut partitions: BTreeMap<String, Vec<(u64, deltalake::Path, deltalake::kernel::Remove)>> =
        BTreeMap::new();
    let snapshot = table
        .snapshot()
        .map_err(err(table, "reading the table state"))?;
    for f in snapshot.log_data().into_iter() {
        if (f.size() as u64) < target_bytes {
            let date = f
                .partition_values_map()
                .get(schema::PARTITION_COLUMN)
                .cloned()
                .flatten()
                .unwrap_or_default();
            partitions.entry(date).or_default().push((
                f.size() as u64,
                f.object_store_path(),
                f.remove_action(false),
            ));
        }
    }
    let partitions = partitions
        .into_iter()
        .filter(|(_, files)| files.len() >= min_files.max(2))
        .map(|(date, mut files)| {
            files.sort_by_key(|(size, _, _)| *size);
            let mut total = 0u64;
            let picked: Vec<_> = files
                .into_iter()
                .take_while(|(size, _, _)| {
                    total += size;
                    total <= target_bytes
                })
                .map(|(_, path, remove)| (path, remove))
                .collect();
            (date, picked)
        })
        .filter(|(_, files)| files.len() >= 2)
        .collect();
    Ok(CompactionPlan { partitions })
}

/// Rewritten files, written but not yet committed.
pub struct CompactedFiles {
    actions: Vec<Action>,
    /// SHA-256 of each file added and removed, for the chain entry.
    added: Vec<FileHash>,
    removed: Vec<FileHash>,
    written: Vec<deltalake::Path>,
    result: Compaction,
    target_bytes: u64,
}

/// Rewrites every partition that has more than one file smaller than
/// `target_bytes` into as few files as possible. `progress` is called
/// with (partition, files) before each partition is rewritten.
pub async fn compact(
    table: &mut DeltaTable,
    kind: TableKind,
    target_bytes: u64,
    storage: &Storage,
    progress: impl FnMut(&str, usize),
) -> Result<Compaction, TableError> {
    let plan = plan_compaction(table, target_bytes, 2)?;
    if plan.is_empty() {
        return Ok(Compaction::default());
    }
    let files = write_compaction(table, kind, plan, target_bytes, progress).await?;
    commit_compaction(table, files, storage).await
}

/// Reads the planned files and writes their rows as one file per
/// partition (nothing is committed yet).
pub async fn write_compaction(
    table: &DeltaTable,
    kind: TableKind,
    plan: CompactionPlan,
    target_bytes: u64,
    mut progress: impl FnMut(&str, usize),
) -> Result<CompactedFiles, TableError> {
    let mut result = Compaction::default();
    let store = table.object_store();
    let mut actions = Vec::new();
    let mut written = Vec::new();
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for (date, files) in plan.partitions {
        progress(&date, files.len());
        let mut writer = RecordBatchWriter::for_table(table)
            .map_err(err(table, "preparing the Parquet writer"))?
            .with_writer_properties(
                WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .build(),
            );
        for (path, remove) in files {
            let bytes = store
                .get_opts(&path, Default::default())
                .await
                .map_err(|e| err(table, "reading a file to compact")(e.into()))?
                .bytes()
                .await
                .map_err(|e| err(table, "reading a file to compact")(e.into()))?;
            // The chain records what was removed as it was when removed:
            // a file changed in the meantime shows up in `verify`.
            removed.push(FileHash {
                path: remove.path.clone(),
                sha256: chain::sha256_hex(&bytes),
                size: bytes.len() as u64,
                action: None,
            });
            let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
                .and_then(|b| b.build())
                .map_err(|e| err(table, "decoding a file to compact")(e.into()))?;
            for batch in reader {
                let batch =
                    batch.map_err(|e| err(table, "decoding a file to compact")(e.into()))?;
                // Files hold every column but the partition one; rows are
                // rebuilt through the table's own batch builder, which
                // derives `date` from `timestamp` as the original write did.
                let cols = Columns::new(&batch);
                let bad = |e: schema::ReadError| {
                    err(table, "decoding a file to compact")(deltalake::DeltaTableError::generic(
                        e.to_string(),
                    ))
                };
                let full = match kind {
                    TableKind::Decisions => {
                        schema::decisions_batch(&cols.decisions().map_err(bad)?)
                    }
                    TableKind::Inferences => {
                        schema::inferences_batch(&cols.inferences().map_err(bad)?)
                    }
                    TableKind::Judgements => {
                        schema::judgements_batch(&cols.judgements().map_err(bad)?)
                    }
                    TableKind::Events => super::events::schema::events_batch(
                        &super::events::schema::events(&cols).map_err(bad)?,
                    ),
                    TableKind::Policies => super::events::schema::policies_batch(
                        &super::events::schema::policies(&cols).map_err(bad)?,
                    ),
                }
                .map_err(|e| err(table, "rebuilding rows")(e.into()))?;
                writer
                    .write(full)
                    .await
                    .map_err(err(table, "writing the compacted file"))?;
            }
            result.files_removed += 1;
            actions.push(Action::Remove(remove));
        }
        let adds = writer
            .flush()
            .await
            .map_err(err(table, "writing the compacted file"))?;
        result.files_added += adds.len();
        for mut a in adds {
            written.push(deltalake::Path::from(percent_decode(&a.path)));
            a.data_change = false;
            added.push(
                chain::hash_add(table, &a)
                    .await
                    .map_err(err(table, "hashing the compacted file"))?,
            );
            actions.push(Action::Add(a));
        }
        result.partitions += 1;
    }
    Ok(CompactedFiles {
        actions,
        added,
        removed,
        written,
        result,
        target_bytes,
    })
}

/// How many times a compaction commit is tried before giving up (its files
/// are then deleted and the next run plans again). Appenders commit about
/// once a second per host, so a compaction often loses the race for the
/// next version; each try re-reads the log and re-checks its files, which
/// takes milliseconds on a local disk, so 20 tries cover dozens of
/// concurrent appenders.
const COMPACTION_COMMIT_ATTEMPTS: u32 = 20;

/// Commits rewritten files, only if every file they replace is still in
/// the table. Files written for a commit that does not land are deleted,
/// or left and recorded on write-once `storage` ([`Storage`]).
///
/// Why not delta-rs's own conflict check: it treats `remove`s with
/// `dataChange = false` (what a compaction writes) as never conflicting
/// (deltalake-core 1.1 `conflict_checker.rs`, both delete checks filter on
/// `data_change`), so two hosts compacting the same files would both
/// commit and every row would be in the table twice. Instead each try
/// reads the latest version, checks that the planned files are all still
/// live, and commits at exactly the next version with no retries (a
/// put-if-absent of that log entry): if any writer committed in between,
/// the try fails and the check runs again on the newer version. Appenders
/// are never refused because of a compaction: their commits are blind
/// appends, and a `dataChange = false` remove conflicts with none.
pub async fn commit_compaction(
    table: &mut DeltaTable,
    files: CompactedFiles,
    storage: &Storage,
) -> Result<Compaction, TableError> {
    let CompactedFiles {
        actions,
        added,
        removed,
        written,
        mut result,
        target_bytes,
    } = files;
    let chain_id = chain::process_chain("maintenance");
    let planned: Vec<String> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Remove(r) => Some(r.path.clone()),
            _ => None,
        })
        .collect();
    let mut last_error = None;
    for attempt in 0..COMPACTION_COMMIT_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(
                10 * u64::from(attempt.min(20)),
            ))
            .await;
        }
        if let Err(e) = table.update_state().await {
            last_error = Some(err(table, "reloading before the compaction commit")(e));
            continue;
        }
        let snapshot = table
            .snapshot()
            .map_err(err(table, "reading the table state"))?;
        let live: HashSet<String> = snapshot
            .log_data()
            .into_iter()
            .map(|f| f.path().into_owned())
            .collect();
        if !planned.iter().all(|p| live.contains(p)) {
            storage
                .discard_uncommitted(table, &written, "compaction superseded by another writer's")
                .await;
            return Ok(Compaction {
                superseded: true,
                version: None,
                ..Compaction::default()
            });
        }
        let entry = match chain::next_entry(
            table,
            &chain_id,
            true,
            "optimize",
            added.clone(),
            removed.clone(),
            serde_json::json!({ "targetSize": target_bytes }),
        )
        .await
        {
            Ok(e) => e,
            Err(e) => {
                storage
                    .discard_uncommitted(
                        table,
                        &written,
                        "compaction failed to build its chain entry",
                    )
                    .await;
                return Err(err(table, "building the chain entry")(e));
            }
        };
        let done = CommitBuilder::from(
            CommitProperties::default()
                .with_metadata(chain::metadata(&entry))
                .with_cleanup_expired_logs(Some(false))
                .with_max_retries(0),
        )
        .with_actions(actions.clone())
        .build(
            Some(snapshot),
            table.log_store(),
            DeltaOperation::Optimize {
                predicate: None,
                target_size: target_bytes as i64,
            },
        )
        .await;
        match done {
            Ok(done) => {
                chain::committed(table, &entry);
                result.version = Some(done.version());
                table
                    .update_state()
                    .await
                    .map_err(err(table, "reloading"))?;
                return Ok(result);
            }
            Err(e) => last_error = Some(err(table, "committing the compaction")(e)),
        }
    }
    storage
        .discard_uncommitted(table, &written, "compaction failed to commit")
        .await;
    Err(last_error.expect("at least one attempt failed"))
}
