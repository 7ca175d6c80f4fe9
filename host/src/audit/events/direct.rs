//! Events recorded without a WAL: by `railyard log` commands (an erasure)
//! and by table maintenance (what it left on write-once storage).
//!
//! These run where no [`crate::audit::AuditLog`] is open (a CLI command,
//! the maintenance thread, which must not feed the WAL it is maintaining
//! the tables for), so the row is committed straight into `events` as one
//! small append, chained like every railyard commit: the writer is this
//! process's own chain (`chain::process_chain`), used as the commit's
//! `txn` app id with a per-process sequence, so a retried commit that
//! landed is not committed twice. Nothing is recorded when the `events`
//! table does not exist (a table root written before it did, or by
//! `railyard check` only): the caller still logs the event.
//!
//! Rows written this way carry `wal_segment = -1` and `wal_offset = -1`:
//! they never passed through a WAL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use url::Url;

use super::schema::events_batch;
use super::{Event, EventRow};
use crate::audit::schema::TableKind;
use crate::audit::table::{self, TableError};
use crate::audit::{chain, now_us};

/// The `wal_segment` and `wal_offset` of a row committed directly.
pub const NO_WAL: i64 = -1;

/// The host id a direct row carries: `RAILYARD_HOST_ID`, else the machine's
/// host name (what `chain::process_chain` names the chain after).
fn host_id() -> String {
    std::env::var("RAILYARD_HOST_ID")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "railyard".into())
}

/// Logs `event` at its severity and commits it into the `events` table
/// under `root`, if that table exists. Returns whether a row was
/// committed. `role` names this process's chain (`maintenance`, `erase`).
pub async fn record(
    root: &Url,
    options: &HashMap<String, String>,
    role: &str,
    event: Event,
) -> Result<bool, TableError> {
    let Event { mut row, kind } = event;
    super::log(kind, &row);
    let Some(mut t) = table::open_existing(root, TableKind::Events, options).await? else {
        return Ok(false);
    };
    row.event_id = crate::payload::new_request_id();
    row.timestamp_us = now_us();
    row.host_id = host_id();
    row.wal_segment = NO_WAL;
    row.wal_offset = NO_WAL;
    commit_row(&mut t, role, row).await?;
    Ok(true)
}

async fn commit_row(
    t: &mut deltalake::DeltaTable,
    role: &str,
    row: EventRow,
) -> Result<(), TableError> {
    // One sequence per process for the txn of its own chain: the first
    // direct row of a process commits as 0, the next as 1, …
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let seq = NEXT.fetch_add(1, Ordering::Relaxed);
    let batch = events_batch(std::slice::from_ref(&row)).map_err(|e| TableError {
        url: t.table_url().to_string(),
        what: "building an events row".into(),
        source: Box::new(e.into()),
    })?;
    // `Some(None)`: this process's chain is new to the table, so the
    // first try neither reads the txn state nor searches the log for a
    // head (a later row of the process finds its head in the cache).
    table::commit_segment(t, &chain::process_chain(role), seq, batch, Some(None)).await?;
    Ok(())
}
