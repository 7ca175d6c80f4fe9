//! Table maintenance, run from `railyard log`: checkpoints and expired-log
//! cleanup, vacuum, and compaction.
//!
//! The committer turns expired-log cleanup off (it lists `_delta_log` on
//! every commit); [`checkpoint`] runs it. Compaction is done without a SQL
//! engine (deltalake's `datafusion` feature would add a large build): the
//! small files of a partition are read, rewritten as one file, and
//! committed as `add`s plus `remove`s with `dataChange = false`, which an
//! append-only table allows and readers of the change feed ignore.

use std::collections::BTreeMap;

use deltalake::kernel::Action;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use deltalake::parquet::basic::{Compression, ZstdLevel};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::protocol::DeltaOperation;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use deltalake::{DeltaTable, ObjectStore};

use super::schema::{self, Columns, TableKind};
use super::table::TableError;

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
}

/// Rewrites every partition that has more than one file smaller than
/// `target_bytes` into as few files as possible. `progress` is called
/// with (partition, files) before each partition is rewritten.
pub async fn compact(
    table: &mut DeltaTable,
    kind: TableKind,
    target_bytes: u64,
    mut progress: impl FnMut(&str, usize),
) -> Result<Compaction, TableError> {
    let mut by_partition: BTreeMap<String, Vec<(deltalake::Path, deltalake::kernel::Remove)>> =
        BTreeMap::new();
    {
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
                by_partition
                    .entry(date)
                    .or_default()
                    .push((f.object_store_path(), f.remove_action(false)));
            }
        }
    }
    by_partition.retain(|_, files| files.len() > 1);
    let mut result = Compaction::default();
    if by_partition.is_empty() {
        return Ok(result);
    }
    let store = table.object_store();
    let mut actions = Vec::new();
    for (date, files) in by_partition {
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
        actions.extend(adds.into_iter().map(|mut a| {
            a.data_change = false;
            Action::Add(a)
        }));
        result.partitions += 1;
    }
    let snapshot = table
        .snapshot()
        .map_err(err(table, "reading the table state"))?;
    let done =
        CommitBuilder::from(CommitProperties::default().with_cleanup_expired_logs(Some(false)))
            .with_actions(actions)
            .build(
                Some(snapshot),
                table.log_store(),
                DeltaOperation::Optimize {
                    predicate: None,
                    target_size: target_bytes as i64,
                },
            )
            .await
            .map_err(err(table, "committing the compaction"))?;
    result.version = Some(done.version());
    table
        .update_state()
        .await
        .map_err(err(table, "reloading"))?;
    Ok(result)
}
