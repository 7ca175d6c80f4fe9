//! Erasure: removing one request's, one caller's or one end user's rows
//! from every audit table (`railyard log erase`).
//!
//! Each table file holding a selected row is read, its other rows written
//! to a new file, and the old file removed, in one chained `erase` commit
//! per table (see `audit::rewrite`). The chain entry's note records who
//! erased, when, the selector's kind and the SHA-256 of its value (not the
//! value: the record of an erasure must not keep the identifier it erased;
//! whoever knows the value can check it), and how many rows went. Files
//! without a selected row are not touched.
//!
//! An end user is named only in `inferences.end_user`; erasing one erases
//! the requests whose `inferences` row names them, in every table.

use std::collections::BTreeSet;

use deltalake::DeltaTable;
use deltalake::kernel::Action;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use deltalake::parquet::basic::{Compression, ZstdLevel};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use serde::Serialize;
use serde_json::json;

use super::chain::{self, FileHash};
use super::record::{DecisionRow, InferenceRow, JudgementRow};
use super::rewrite::{self, Deletion};
use super::schema::{self, Columns, TableKind};
use super::table::{TableError, percent_decode};
use super::worm::Storage;

/// Which rows to erase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// One call, by request id.
    RequestId(String),
    /// Every call of one caller.
    Caller(String),
    /// Every call made on behalf of one end user.
    EndUser(String),
}

impl Selector {
    /// `request_id`, `caller` or `end_user`.
    pub fn kind(&self) -> &'static str {
        match self {
            Selector::RequestId(_) => "request_id",
            Selector::Caller(_) => "caller",
            Selector::EndUser(_) => "end_user",
        }
    }

    /// Hex SHA-256 of the selected value: what the records of an erasure
    /// keep instead of the identifier erased.
    pub fn value_sha256(&self) -> String {
        chain::sha256_hex(self.value().as_bytes())
    }

    fn value(&self) -> &str {
        match self {
            Selector::RequestId(v) | Selector::Caller(v) | Selector::EndUser(v) => v,
        }
    }
}

/// What erasing did on one table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Erased {
    /// The table.
    pub table: String,
    /// Rows removed.
    pub rows: u64,
    /// Files rewritten (or dropped when no row was left).
    pub files_removed: usize,
    /// Files written with the remaining rows.
    pub files_added: usize,
    /// The erase commit's version.
    pub version: Option<u64>,
}

/// The tables erasure rewrites: those that hold calls. `events` (refusals,
/// admin calls, reloads: the security record, which names callers but
/// never end users) and `policies` (policy texts) are left whole, and the
/// erasure itself is recorded in the chain.
pub const ERASED_TABLES: [TableKind; 3] = [
    TableKind::Decisions,
    TableKind::Inferences,
    TableKind::Judgements,
];

/// Rows of one file, typed by table.
enum Rows {
    D(Vec<DecisionRow>),
    I(Vec<InferenceRow>),
    J(Vec<JudgementRow>),
}

impl Rows {
    fn decode(kind: TableKind, c: &Columns<'_>) -> Result<Rows, schema::ReadError> {
        Ok(match kind {
            TableKind::Decisions => Rows::D(c.decisions()?),
            TableKind::Inferences => Rows::I(c.inferences()?),
            TableKind::Judgements => Rows::J(c.judgements()?),
            // Not tables of calls: erasure leaves them alone (see
            // `ERASED_TABLES`).
            TableKind::Events | TableKind::Policies => {
                return Err(schema::ReadError {
                    column: String::new(),
                    problem: format!("the {} table holds no calls to erase", kind.name()),
                });
            }
        })
    }

    /// Keeps the rows `gone` does not select; returns how many went.
    fn retain(&mut self, gone: &dyn Fn(&str, &str, Option<&str>) -> bool) -> u64 {
        fn keep<T>(v: &mut Vec<T>, f: impl Fn(&T) -> bool) -> u64 {
            let before = v.len();
            v.retain(|r| !f(r));
            (before - v.len()) as u64
        }
        match self {
            Rows::D(v) => keep(v, |r| gone(&r.request_id, &r.caller, None)),
            Rows::I(v) => keep(v, |r| {
                gone(&r.request_id, &r.caller, r.provenance.end_user.as_deref())
            }),
            Rows::J(v) => keep(v, |r| gone(&r.request_id, &r.caller, None)),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Rows::D(v) => v.is_empty(),
            Rows::I(v) => v.is_empty(),
            Rows::J(v) => v.is_empty(),
        }
    }

    fn batch(
        &self,
    ) -> Result<deltalake::arrow::array::RecordBatch, deltalake::arrow::error::ArrowError> {
        match self {
            Rows::D(v) => schema::decisions_batch(v),
            Rows::I(v) => schema::inferences_batch(v),
            Rows::J(v) => schema::judgements_batch(v),
        }
    }
}

fn bad(table: &DeltaTable, what: &str) -> impl FnOnce(deltalake::DeltaTableError) -> TableError {
    let url = table.table_url().to_string();
    let what = what.to_string();
    move |e| TableError {
        url,
        what,
        source: Box::new(e),
    }
}

/// The request ids whose `inferences` row names `end_user`.
pub async fn requests_of_end_user(
    table: &DeltaTable,
    end_user: &str,
) -> Result<BTreeSet<String>, TableError> {
    let mut out = BTreeSet::new();
    for (_, rows) in read_live(table, TableKind::Inferences).await? {
        if let Rows::I(v) = rows {
            out.extend(
                v.into_iter()
                    .filter(|r| r.provenance.end_user.as_deref() == Some(end_user))
                    .map(|r| r.request_id),
            );
        }
    }
    Ok(out)
}

/// Every live file of `table` with its rows.
async fn read_live(
    table: &DeltaTable,
    kind: TableKind,
) -> Result<Vec<((deltalake::kernel::Remove, FileHash), Rows)>, TableError> {
    let snapshot = table
        .snapshot()
        .map_err(bad(table, "reading the table state"))?;
    let store = table.object_store();
    let mut out = Vec::new();
    for f in snapshot.log_data().into_iter() {
        let remove = f.remove_action(true);
        let path = deltalake::Path::from(percent_decode(&remove.path));
        let bytes = store
            .get_opts(&path, Default::default())
            .await
            .map_err(|e| bad(table, "reading a data file")(e.into()))?
            .bytes()
            .await
            .map_err(|e| bad(table, "reading a data file")(e.into()))?;
        let hash = FileHash {
            path: remove.path.clone(),
            sha256: chain::sha256_hex(&bytes),
            size: bytes.len() as u64,
            action: None,
        };
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|b| b.build())
            .map_err(|e| bad(table, "decoding a data file")(e.into()))?;
        let mut all: Option<Rows> = None;
        for batch in reader {
            let batch = batch.map_err(|e| bad(table, "decoding a data file")(e.into()))?;
            let rows = Rows::decode(kind, &Columns::new(&batch)).map_err(|e| {
                bad(table, "decoding a data file")(deltalake::DeltaTableError::generic(
                    e.to_string(),
                ))
            })?;
            all = Some(match (all, rows) {
                (None, r) => r,
                (Some(Rows::D(mut a)), Rows::D(b)) => {
                    a.extend(b);
                    Rows::D(a)
                }
                (Some(Rows::I(mut a)), Rows::I(b)) => {
                    a.extend(b);
                    Rows::I(a)
                }
                (Some(Rows::J(mut a)), Rows::J(b)) => {
                    a.extend(b);
                    Rows::J(a)
                }
                (Some(a), _) => a,
            });
        }
        if let Some(rows) = all {
            out.push(((remove, hash), rows));
        }
    }
    Ok(out)
}

/// One erasure, as applied to each table.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Which rows.
    pub selector: &'a Selector,
    /// For an end-user selector, the request ids found in `inferences`
    /// (see [`requests_of_end_user`]).
    pub requests: &'a BTreeSet<String>,
    /// Who asked.
    pub by: &'a str,
    /// The chain the erase commits extend.
    pub chain_id: &'a str,
    /// Count the rows; commit nothing.
    pub dry_run: bool,
}

/// Erases the rows `request` selects from `table` (of kind `kind`), in one
/// chained `erase` commit; files written for a commit that does not land
/// are deleted, or left and recorded on write-once `storage`.
pub async fn erase_table(
    table: &mut DeltaTable,
    kind: TableKind,
    request: Request<'_>,
    storage: &Storage,
) -> Result<Erased, TableError> {
    let Request {
        selector,
        requests,
        by,
        chain_id,
        dry_run,
    } = request;
    let gone = |request_id: &str, caller: &str, end_user: Option<&str>| match selector {
        Selector::RequestId(id) => request_id == id,
        Selector::Caller(c) => caller == c,
        Selector::EndUser(u) => end_user == Some(u.as_str()) || requests.contains(request_id),
    };
    let mut result = Erased {
        table: kind.name().into(),
        ..Erased::default()
    };
    let mut actions = Vec::new();
    let mut removes = Vec::new();
    let mut kept: Vec<Rows> = Vec::new();
    for ((remove, hash), mut rows) in read_live(table, kind).await? {
        let n = rows.retain(&gone);
        if n == 0 {
            continue;
        }
        result.rows += n;
        result.files_removed += 1;
        actions.push(Action::Remove(remove));
        removes.push(hash);
        if !rows.is_empty() {
            kept.push(rows);
        }
    }
    if result.rows == 0 || dry_run {
        return Ok(result);
    }
    let mut writer = RecordBatchWriter::for_table(table)
        .map_err(bad(table, "preparing the Parquet writer"))?
        .with_writer_properties(
            WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .build(),
        );
    for rows in &kept {
        let batch = rows
            .batch()
            .map_err(|e| bad(table, "rebuilding rows")(e.into()))?;
        writer
            .write(batch)
            .await
            .map_err(bad(table, "writing the rewritten file"))?;
    }
    let new_files = if kept.is_empty() {
        Vec::new()
    } else {
        writer
            .flush()
            .await
            .map_err(bad(table, "writing the rewritten file"))?
    };
    let mut adds = Vec::new();
    let mut written = Vec::new();
    for a in new_files {
        written.push(deltalake::Path::from(percent_decode(&a.path)));
        adds.push(
            chain::hash_add(table, &a)
                .await
                .map_err(bad(table, "hashing the rewritten file"))?,
        );
        actions.push(Action::Add(a));
    }
    result.files_added = adds.len();
    let note = json!({
        "table": kind.name(),
        "by": by,
        "selector": selector.kind(),
        "selector_sha256": selector.value_sha256(),
        "rows": result.rows,
        "at": chrono::Utc::now().to_rfc3339(),
    });
    result.version = rewrite::commit(
        table,
        chain_id,
        Deletion {
            op: "erase",
            actions,
            adds,
            removes,
            written,
            note,
        },
        storage,
    )
    .await?;
    if result.version.is_none() {
        return Err(bad(table, "erasing")(deltalake::DeltaTableError::generic(
            "another writer replaced some of the files to rewrite (a compaction?) while erasing; nothing was committed: run the erasure again",
        )));
    }
    Ok(result)
}
