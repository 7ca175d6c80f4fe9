//! Retention and legal holds: how long each table keeps its rows.
//!
//! Retention works at `date` partition (UTC day) granularity: once a day
//! is older than the table's retention (`[audit] retention-days` in
//! `serve.toml`), the serving host's maintenance removes every file of
//! that day in one chained `retention` commit (see `audit::rewrite` for
//! how `delta.appendOnly` is handled). A day under legal hold
//! (`[audit] legal-hold`, single days or inclusive ranges) is never
//! touched, whatever its age. Nothing is deleted physically here: the
//! files leave the table's current version, and vacuum deletes them once
//! they have been out of it for the vacuum retention (never under
//! `worm = true`, see `docs/audit-schema.md`, "WORM storage").

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use deltalake::DeltaTable;
use deltalake::kernel::Action;
use serde_json::json;

use super::chain::{self, FileHash};
use super::rewrite::{self, Deletion};
use super::schema::{self, TableKind};
use super::table::{TableError, percent_decode};
use super::worm::Storage;

/// A legal hold: one UTC day or an inclusive range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// First day held.
    pub from: NaiveDate,
    /// Last day held (inclusive).
    pub to: NaiveDate,
}

impl Hold {
    /// Parses `2026-03-14` or `2026-04-01..2026-04-30`.
    pub fn parse(s: &str) -> Result<Hold, String> {
        let day = |d: &str| {
            NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|e| format!("`{}` is not a date like 2026-03-14: {e}", d.trim()))
        };
        let hold = match s.split_once("..") {
            Some((a, b)) => Hold {
                from: day(a)?,
                to: day(b)?,
            },
            None => {
                let d = day(s)?;
                Hold { from: d, to: d }
            }
        };
        if hold.to < hold.from {
            return Err(format!("`{s}`: the range ends before it starts"));
        }
        Ok(hold)
    }

    /// Whether `day` is held.
    pub fn holds(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }
}

/// Retention, holds and WORM storage, as `[audit]` in `serve.toml` sets
/// them. The default keeps everything forever.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// Days each table keeps; a table not named keeps everything.
    pub retention_days: BTreeMap<TableKind, u32>,
    /// Days never dropped.
    pub holds: Vec<Hold>,
    /// The tables live on write-once storage (S3 Object Lock): maintenance
    /// never deletes an object (no vacuum, no log cleanup, no cleanup of
    /// uncommitted files; see `audit::worm`).
    pub worm: bool,
}

impl Lifecycle {
    /// Whether `day` is under legal hold.
    pub fn held(&self, day: NaiveDate) -> bool {
        self.holds.iter().any(|h| h.holds(day))
    }

    /// The days of `kind` due for dropping on `today`: older than its
    /// retention (a day `d` goes once `today - d >= retention_days`) and not
    /// held.
    pub fn due(
        &self,
        kind: TableKind,
        today: NaiveDate,
        days: impl IntoIterator<Item = NaiveDate>,
    ) -> Vec<NaiveDate> {
        let Some(&keep) = self.retention_days.get(&kind) else {
            return Vec::new();
        };
        days.into_iter()
            .filter(|d| (today - *d).num_days() >= i64::from(keep))
            .filter(|d| !self.held(*d))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

/// What a retention run did on one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Days dropped.
    pub days: Vec<NaiveDate>,
    /// Files removed from the table.
    pub files: usize,
    /// Rows they held (from the Parquet footers).
    pub rows: u64,
    /// Days past retention kept because of a legal hold.
    pub held: Vec<NaiveDate>,
    /// The commit's version.
    pub version: Option<u64>,
}

/// Drops the days of `table` due under `lifecycle` on `today`, in one
/// chained `retention` commit of the chain `chain_id`.
pub async fn apply(
    table: &mut DeltaTable,
    kind: TableKind,
    lifecycle: &Lifecycle,
    today: NaiveDate,
    chain_id: &str,
    storage: &Storage,
) -> Result<Dropped, TableError> {
    let bad = |what: &str| {
        let url = table.table_url().to_string();
        let what = what.to_string();
        move |e: deltalake::DeltaTableError| TableError {
            url,
            what,
            source: Box::new(e),
        }
    };
    let Some(&keep) = lifecycle.retention_days.get(&kind) else {
        return Ok(Dropped::default());
    };
    let snapshot = table.snapshot().map_err(bad("reading the table state"))?;
    let mut by_day: BTreeMap<NaiveDate, Vec<deltalake::kernel::Remove>> = BTreeMap::new();
    for f in snapshot.log_data().into_iter() {
        let Some(day) = f
            .partition_values_map()
            .get(schema::PARTITION_COLUMN)
            .cloned()
            .flatten()
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        else {
            continue;
        };
        by_day.entry(day).or_default().push(f.remove_action(true));
    }
    let past: Vec<NaiveDate> = by_day
        .keys()
        .copied()
        .filter(|d| (today - *d).num_days() >= i64::from(keep))
        .collect();
    let due = lifecycle.due(kind, today, by_day.keys().copied());
    let held: Vec<NaiveDate> = past.iter().copied().filter(|d| !due.contains(d)).collect();
    if due.is_empty() {
        return Ok(Dropped {
            held,
            ..Dropped::default()
        });
    }
    let store = table.object_store();
    let mut actions = Vec::new();
    let mut removes: Vec<FileHash> = Vec::new();
    let mut rows = 0u64;
    for day in &due {
        for remove in by_day.remove(day).unwrap_or_default() {
            let path = deltalake::Path::from(percent_decode(&remove.path));
            let bytes = store
                .get_opts(&path, Default::default())
                .await
                .map_err(|e| bad("reading a file to drop")(e.into()))?
                .bytes()
                .await
                .map_err(|e| bad("reading a file to drop")(e.into()))?;
            rows += parquet_rows(&bytes);
            removes.push(FileHash {
                path: remove.path.clone(),
                sha256: chain::sha256_hex(&bytes),
                size: bytes.len() as u64,
                action: None,
            });
            actions.push(Action::Remove(remove));
        }
    }
    let files = removes.len();
    let note = json!({
        "table": kind.name(),
        "retention_days": keep,
        "days": due.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        "held_days": held.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        "files": files,
        "rows": rows,
    });
    let version = rewrite::commit(
        table,
        chain_id,
        Deletion {
            op: "retention",
            actions,
            adds: Vec::new(),
            removes,
            written: Vec::new(),
            note,
        },
        storage,
    )
    .await?;
    match version {
        Some(v) => Ok(Dropped {
            days: due,
            files,
            rows,
            held,
            version: Some(v),
        }),
        // Another host dropped (or compacted) these days first.
        None => Ok(Dropped {
            held,
            ..Dropped::default()
        }),
    }
}

/// One maintenance round's retention on one table: `Some` when days were
/// dropped. Held days past retention are logged each round, so an
/// operator sees why a table keeps growing.
pub(crate) async fn round(
    table: &mut DeltaTable,
    kind: TableKind,
    lifecycle: &Lifecycle,
    storage: &Storage,
) -> Result<Option<Dropped>, TableError> {
    if !lifecycle.retention_days.contains_key(&kind) {
        return Ok(None);
    }
    let chain_id = chain::process_chain("maintenance");
    let dropped = apply(table, kind, lifecycle, today(), &chain_id, storage).await?;
    if !dropped.held.is_empty() {
        tracing::info!(
            table = kind.name(),
            held = ?dropped.held,
            "audit maintenance: days past retention kept: under legal hold"
        );
    }
    Ok((!dropped.days.is_empty()).then_some(dropped))
}

/// Says plainly when storage refused a delete (S3 Object Lock, or a bucket
/// policy denying `s3:DeleteObject`): the operator sets `worm = true` and
/// maintenance stops trying.
pub fn explain_refused_delete(e: TableError) -> TableError {
    let text = format!("{e} {:?}", e.source);
    let refused = [
        "AccessDenied",
        "Access Denied",
        "403",
        "PermissionDenied",
        "locked",
    ]
    .iter()
    .any(|m| text.contains(m));
    if !refused {
        return e;
    }
    TableError {
        url: e.url.clone(),
        what: format!(
            "{}: storage refused to delete an object (S3 Object Lock or a policy denying deletes?). railyard deletes nothing on write-once storage once `[audit] worm = true` is set in serve.toml",
            e.what
        ),
        source: e.source,
    }
}

/// Rows of a Parquet file, from its footer (0 when unreadable: the count
/// is informative, the file hash is the evidence).
fn parquet_rows(bytes: &bytes::Bytes) -> u64 {
    use deltalake::parquet::file::reader::{FileReader, SerializedFileReader};
    SerializedFileReader::new(bytes.clone())
        .map(|r| r.metadata().file_metadata().num_rows().max(0) as u64)
        .unwrap_or(0)
}

/// Today's UTC date.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn old_days_are_due_except_held_ones() {
        let l = Lifecycle {
            retention_days: BTreeMap::from([(TableKind::Inferences, 30)]),
            holds: vec![Hold::parse("2026-01-10..2026-01-12").unwrap()],
            worm: false,
        };
        let today = d("2026-03-01");
        let days = [
            d("2026-01-09"),
            d("2026-01-11"),
            d("2026-01-30"),
            d("2026-01-31"),
            d("2026-02-01"),
        ];
        assert_eq!(
            l.due(TableKind::Inferences, today, days),
            // 30 days old and more go; 2026-01-31 is 29 days old.
            [d("2026-01-09"), d("2026-01-30")]
        );
        assert!(l.due(TableKind::Decisions, today, days).is_empty());
    }

    #[test]
    fn holds_parse_days_and_ranges() {
        assert_eq!(Hold::parse("2026-03-14").unwrap().to, d("2026-03-14"));
        assert!(Hold::parse("2026-03-14..2026-03-01").is_err());
        assert!(Hold::parse("yesterday").is_err());
    }
}
