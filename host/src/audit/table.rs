//! The Delta tables: creating them, committing a WAL segment exactly once,
//! and reading rows back.
//!
//! Exactly once: every commit carries a `txn` action with the writer's app
//! id and the WAL segment's sequence. Before writing a segment the
//! committer reads the table's recorded version for its app id and skips
//! the segment if it is already there. delta-rs records the `txn` but does
//! not refuse a lower version itself, so this check is the guarantee.
//! Segments are committed in order, so "recorded ≥ this segment" means
//! "this segment is in".

use std::collections::HashMap;
use std::path::Path as FsPath;
use std::time::Duration;

use deltalake::arrow::array::RecordBatch;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, Transaction};
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use deltalake::parquet::basic::{Compression, ZstdLevel};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError, ObjectStore, TableProperty};
use url::Url;

use super::schema::{PARTITION_COLUMN, TableKind};

/// How many times a commit is retried (with backoff) before the committer
/// gives up for now and tries again later. delta-rs itself retries
/// conflicts without waiting; under contention from many hosts the waits
/// here are what let everyone through.
const COMMIT_ATTEMPTS: u32 = 8;

/// A Delta failure, with the table it happened on.
#[derive(Debug, thiserror::Error)]
#[error("audit table {url}: {what}: {source}")]
pub struct TableError {
    /// The table.
    pub url: String,
    /// What was being done.
    pub what: String,
    /// Why.
    #[source]
    pub source: Box<DeltaTableError>,
}

fn err(url: &Url, what: impl Into<String>) -> impl FnOnce(DeltaTableError) -> TableError {
    let url = url.to_string();
    let what = what.into();
    move |source| TableError {
        url,
        what,
        source: Box::new(source),
    }
}

/// URL of one table under the audit root.
pub fn table_url(root: &Url, kind: TableKind) -> Url {
    let base = root.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}/{}", kind.name())).expect("a URL with a path segment appended")
}

/// Opens a table, creating it (schema, `date` partitions, append-only) if
/// there is none.
///
/// Creation is one put-if-absent of `_delta_log/00000000000000000000.json`
/// and nothing else. delta-rs's `SaveMode::Ignore` is not enough on its
/// own: it checks "is there a table?" and then commits, and when another
/// host writes version 0 in between, its commit loop treats the lost race
/// as an ordinary conflict and retries the CREATE at version 1 (a second
/// `metaData` with a second table id; deltalake-core 1.1
/// `kernel/transaction/mod.rs`, the `VersionAlreadyExists(0)` branch). With
/// no retries allowed the CREATE can only land as version 0; the host that
/// loses reads the winner's table and goes on.
pub async fn open_or_create(
    root: &Url,
    kind: TableKind,
    options: &HashMap<String, String>,
) -> Result<DeltaTable, TableError> {
    let url = table_url(root, kind);
    if url.scheme() == "file"
        && let Ok(path) = url.to_file_path()
    {
        std::fs::create_dir_all(&path).map_err(|e| TableError {
            url: url.to_string(),
            what: "creating the folder".into(),
            source: Box::new(DeltaTableError::generic(e.to_string())),
        })?;
    }
    for attempt in 0..3 {
        let mut table = unloaded(&url, options)?;
        match table.load().await {
            Ok(()) => {
                let missing = check_schema(&table, kind, &url)?;
                if missing.is_empty() {
                    return Ok(table);
                }
                // A table written before columns were added: they are
                // added (nullable: older rows read them as null).
                let names: Vec<String> = missing.iter().map(|f| f.name().to_string()).collect();
                // No expired-log cleanup (delta-rs runs it after any commit
                // not told otherwise): it is `railyard log checkpoint`'s,
                // and never on write-once storage (`audit::worm`).
                let adding = table
                    .add_columns()
                    .with_fields(missing)
                    .with_commit_properties(
                        CommitProperties::default().with_cleanup_expired_logs(Some(false)),
                    );
                match adding.await {
                    Ok(t) => {
                        tracing::info!(table = %url, columns = ?names, "added columns to an audit table written by an older railyard");
                        return Ok(t);
                    }
                    // Another host added them first: the next load reads
                    // its table.
                    Err(e) if attempt < 2 => {
                        tracing::debug!(table = %url, error = %e, "adding columns raced another host");
                        continue;
                    }
                    Err(e) => return Err(err(&url, "adding columns")(e)),
                }
            }
            Err(DeltaTableError::NotATable(_)) => {}
            Err(e) => return Err(err(&url, "loading")(e)),
        }
        let created = table
            .create()
            .with_table_name(kind.name())
            .with_comment(format!("railyard audit log: {}", kind.name()))
            .with_columns(kind.delta_schema().fields().cloned())
            .with_partition_columns([PARTITION_COLUMN])
            .with_configuration_property(TableProperty::AppendOnly, Some("true"))
            .with_save_mode(SaveMode::Ignore)
            .with_commit_properties(
                CommitProperties::default()
                    .with_max_retries(0)
                    .with_cleanup_expired_logs(Some(false)),
            )
            .await;
        match created {
            Ok(t) => return Ok(t),
            // Another host wrote version 0 between our load and our
            // create: the next load reads its table.
            Err(e) if attempt < 2 => {
                tracing::debug!(table = %url, error = %e, "another host created the audit table first");
                continue;
            }
            Err(e) => return Err(err(&url, "creating the table")(e)),
        }
    }
    unreachable!("the loop returns")
}

/// A table handle before its log is read.
fn unloaded(url: &Url, options: &HashMap<String, String>) -> Result<DeltaTable, TableError> {
    DeltaTableBuilder::from_url(url.clone())
        .map_err(err(url, "opening"))?
        .with_storage_options(options.clone())
        .with_allow_http(allow_http(options))
        .build()
        .map_err(err(url, "opening"))
}

/// Plain-HTTP object stores (a local S3 server, MinIO without TLS) are
/// refused unless asked for, in the storage options or the environment.
/// The builder's flag overrides the environment, so both are read here.
fn allow_http(options: &HashMap<String, String>) -> bool {
    options
        .get("allow_http")
        .or_else(|| options.get("AWS_ALLOW_HTTP"))
        .cloned()
        .or_else(|| std::env::var("AWS_ALLOW_HTTP").ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Opens an existing table for reading; `None` if there is none yet.
pub async fn open_existing(
    root: &Url,
    kind: TableKind,
    options: &HashMap<String, String>,
) -> Result<Option<DeltaTable>, TableError> {
    let url = table_url(root, kind);
    if let Some(path) = is_local(&url)
        && !path.exists()
    {
        return Ok(None);
    }
    let mut table = unloaded(&url, options)?;
    match table.load().await {
        Ok(()) => Ok(Some(table)),
        Err(DeltaTableError::NotATable(_)) => Ok(None),
        Err(e) => Err(err(&url, "loading")(e)),
    }
}

/// Checks a table's schema against `kind`'s. Returns the columns added to
/// the schema since the table was written ([`TableKind::added_columns`],
/// at its end) that it lacks: empty when it is up to date.
fn check_schema(
    table: &DeltaTable,
    kind: TableKind,
    url: &Url,
) -> Result<Vec<deltalake::kernel::StructField>, TableError> {
    let snapshot = table.snapshot().map_err(err(url, "reading the schema"))?;
    let found = snapshot.schema();
    let schema = kind.delta_schema();
    let names = |s: &deltalake::kernel::StructType| {
        s.fields()
            .map(|f| format!("{} {}", f.name(), f.data_type()))
            .collect::<Vec<_>>()
    };
    let found = names(found.as_ref());
    let lacking: Vec<deltalake::kernel::StructField> = schema
        .fields()
        .filter(|f| kind.added_columns().contains(&f.name().as_str()))
        .filter(|f| !found.contains(&format!("{} {}", f.name(), f.data_type())))
        .cloned()
        .collect();
    let expected: Vec<String> = names(&schema)
        .into_iter()
        .filter(|n| {
            !lacking
                .iter()
                .any(|f| *n == format!("{} {}", f.name(), f.data_type()))
        })
        .collect();
    if found == expected {
        return Ok(lacking);
    }
    let expected = names(&schema);
    let missing: Vec<_> = expected.iter().filter(|f| !found.contains(f)).collect();
    let extra: Vec<_> = found.iter().filter(|f| !expected.contains(f)).collect();
    Err(TableError {
        url: url.to_string(),
        what: "checking the schema".into(),
        source: Box::new(DeltaTableError::generic(format!(
            "the table is not a railyard {} table (missing columns: {missing:?}; unexpected: {extra:?}); point RAILYARD_AUDIT_URL at a new folder",
            kind.name()
        ))),
    })
}

/// What committing a segment's rows did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// A new table version.
    Committed(u64),
    /// The table already records this segment (a replay after a crash).
    AlreadyCommitted,
    /// No rows for this table.
    Empty,
}

/// The version recorded for `app_id`, read from the latest table state.
pub async fn recorded_version(
    table: &mut DeltaTable,
    app_id: &str,
) -> Result<Option<i64>, DeltaTableError> {
    table.update_state().await?;
    let log_store = table.log_store();
    table
        .snapshot()?
        .transaction_version(log_store.as_ref(), app_id)
        .await
}

/// Commits `batch` as segment `segment` of `app_id`, exactly once.
/// `just_read`: the version [`recorded_version`] has just returned for
/// `app_id` (with the table state it refreshed), so the first attempt does
/// not read it again; `None` reads it first.
pub async fn commit_segment(
    table: &mut DeltaTable,
    app_id: &str,
    segment: u64,
    batch: RecordBatch,
    just_read: Option<Option<i64>>,
) -> Result<CommitOutcome, TableError> {
    let url = table.table_url().clone();
    if batch.num_rows() == 0 {
        return Ok(CommitOutcome::Empty);
    }
    let mut adds: Option<Vec<Add>> = None;
    let mut entry: Option<super::chain::ChainEntry> = None;
    let mut last_error = None;
    for attempt in 0..COMMIT_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        // Checked on every attempt: a commit that "failed" on the network
        // may have landed, and a second writer with our app id would be a
        // configuration error we must not paper over.
        let recorded = match just_read {
            Some(v) if attempt == 0 => Ok(v),
            _ => recorded_version(table, app_id).await,
        };
        match recorded {
            Ok(Some(v)) if v >= segment as i64 => {
                // A try that "failed" landed after all: its chain entry
                // is the chain's head now.
                if let Some(e) = &entry {
                    super::chain::committed(table, e);
                }
                return Ok(CommitOutcome::AlreadyCommitted);
            }
            Ok(_) => {}
            Err(e) => {
                last_error = Some(err(&url, "reading the recorded txn version")(e));
                continue;
            }
        }
        if adds.is_none() {
            let mut writer = RecordBatchWriter::for_table(table)
                .map_err(err(&url, "preparing the Parquet writer"))?
                .with_writer_properties(
                    WriterProperties::builder()
                        .set_compression(Compression::ZSTD(ZstdLevel::default()))
                        .build(),
                );
            writer
                .write(batch.clone())
                .await
                .map_err(err(&url, "writing Parquet"))?;
            let written = writer.flush().await.map_err(err(&url, "writing Parquet"))?;
            sync_local(&url, written.iter().map(|a| a.path.as_str()));
            adds = Some(written);
        }
        if entry.is_none() {
            // The chain records each file as stored: read back and hashed.
            let mut hashes = Vec::new();
            for a in adds.as_ref().expect("written above") {
                hashes.push(
                    super::chain::hash_add(table, a)
                        .await
                        .map_err(err(&url, "hashing a written file"))?,
                );
            }
            // A writer the table has never recorded has no chain yet.
            let known_new = matches!(just_read, Some(None)) && attempt == 0;
            entry = Some(
                super::chain::next_entry(
                    table,
                    app_id,
                    known_new,
                    "append",
                    hashes,
                    Vec::new(),
                    serde_json::Value::Null,
                )
                .await
                .map_err(err(&url, "building the chain entry"))?,
            );
        }
        let chain_entry = entry.as_ref().expect("built above");
        let actions: Vec<Action> = adds
            .as_ref()
            .expect("written above")
            .iter()
            .cloned()
            .map(Action::Add)
            .collect();
        let properties = CommitProperties::default()
            .with_application_transaction(Transaction::new(app_id, segment as i64))
            .with_metadata(super::chain::metadata(chain_entry))
            // Expired-log cleanup lists _delta_log on every commit; it runs
            // from `railyard log checkpoint` instead.
            .with_cleanup_expired_logs(Some(false));
        let snapshot = match table.snapshot() {
            Ok(s) => s,
            Err(e) => {
                last_error = Some(err(&url, "reading the table state")(e));
                continue;
            }
        };
        let result = CommitBuilder::from(properties)
            .with_actions(actions)
            .build(
                Some(snapshot),
                table.log_store(),
                DeltaOperation::Write {
                    mode: SaveMode::Append,
                    partition_by: Some(vec![PARTITION_COLUMN.to_string()]),
                    predicate: None,
                },
            )
            .await;
        match result {
            Ok(done) => {
                let version = done.version();
                super::chain::committed(table, chain_entry);
                sync_local(&url, [format!("_delta_log/{version:020}.json").as_str()]);
                return Ok(CommitOutcome::Committed(version));
            }
            Err(e) => {
                tracing::warn!(table = %url, segment, attempt, error = %e, "audit commit failed; retrying");
                last_error = Some(err(&url, format!("committing segment {segment}"))(e));
            }
        }
    }
    Err(last_error.expect("at least one attempt failed"))
}

/// Exponential backoff with jitter: 50 ms, 100 ms, … up to 5 s.
fn backoff(attempt: u32) -> Duration {
    let base = 50u64.saturating_mul(1 << attempt.min(7)).min(5_000);
    let jitter =
        (crate::audit::record::now_us() as u64 ^ u64::from(std::process::id())) % (base / 2 + 1);
    Duration::from_millis(base / 2 + jitter)
}

/// The local object store does not fsync. The WAL segment is deleted once
/// its rows are committed, so for a local table the Parquet files and the
/// commit file (and their folders) are fsynced before that happens.
fn sync_local<'a>(url: &Url, relative: impl IntoIterator<Item = &'a str>) {
    if url.scheme() != "file" {
        return;
    }
    let Ok(root) = url.to_file_path() else { return };
    for rel in relative {
        let decoded = percent_decode(rel);
        let path = root.join(&decoded);
        let synced = std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .and_then(|()| match path.parent() {
                Some(dir) => super::wal::sync_dir(dir),
                None => Ok(()),
            });
        if let Err(e) = synced {
            tracing::warn!(file = %path.display(), error = %e, "could not fsync an audit table file");
        }
    }
    let _ = super::wal::sync_dir(&root);
}

/// Delta `add.path`s are URL-encoded (`date=2026-11-22/part-….parquet`).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every row batch of the table's current version, read from its Parquet
/// files (no SQL engine needed). Partition columns are not in the files;
/// readers derive `date` from `timestamp`.
pub async fn read_batches(table: &DeltaTable) -> Result<Vec<RecordBatch>, TableError> {
    let url = table.table_url().clone();
    let store = table.object_store();
    let paths: Vec<_> = table
        .snapshot()
        .map_err(err(&url, "reading the table state"))?
        .log_data()
        .into_iter()
        .map(|f| f.object_store_path())
        .collect();
    let mut out = Vec::new();
    for path in paths {
        let bytes = store
            .get_opts(&path, Default::default())
            .await
            .map_err(|e| err(&url, format!("reading {path}"))(e.into()))?
            .bytes()
            .await
            .map_err(|e| err(&url, format!("reading {path}"))(e.into()))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|b| b.build())
            .map_err(|e| err(&url, format!("decoding {path}"))(e.into()))?;
        for batch in reader {
            out.push(batch.map_err(|e| err(&url, format!("decoding {path}"))(e.into()))?);
        }
    }
    Ok(out)
}

/// Whether a path is a local folder (for error messages).
pub fn is_local(url: &Url) -> Option<std::path::PathBuf> {
    (url.scheme() == "file")
        .then(|| url.to_file_path().ok())
        .flatten()
        .filter(|p: &std::path::PathBuf| FsPath::new(p).is_absolute())
}

/// The object store rooted at a table, without reading its log (so a
/// damaged log, such as one with a commit missing, can still be examined).
pub fn table_store(
    root: &Url,
    kind: TableKind,
    options: &HashMap<String, String>,
) -> Result<std::sync::Arc<dyn ObjectStore>, TableError> {
    Ok(unloaded(&table_url(root, kind), options)?.object_store())
}
