//! Deliberate deletions: the one way rows leave an audit table (retention
//! and erasure), recorded in the hash chain.
//!
//! A deletion is a data change, so it is committed as one with
//! `remove`s whose `dataChange = true` (Delta change-feed and streaming
//! readers see it), never disguised as a compaction. The tables are
//! `delta.appendOnly = true`, which refuses such a commit; a deletion
//! therefore runs as three commits, each carrying a chain entry:
//!
//! 1. `append-only-off`: `delta.appendOnly = false` (a metadata commit);
//! 2. `retention` or `erase`: the files removed, the rewritten files
//!    added (erasure keeps every other row of a file), the SHA-256 of
//!    each, and a note saying who, what selector or days, how many rows;
//! 3. `append-only-on`: `delta.appendOnly = true` again, run even when 2
//!    failed.
//!
//! Why not keep the property off: it is the guard other Delta writers
//! (Spark jobs with write access) respect, so it stays on except for the
//! seconds a deletion takes, and the chain shows exactly when it was off
//! and why. A crash between 1 and 3 leaves the table writable with a
//! chained `append-only-off` and no `append-only-on`; the next deletion or
//! `railyard log erase` run turns it back on (step 3 runs whenever the
//! property is found off). See `docs/audit-schema.md`, "Retention,
//! holds and erasure".

use std::collections::{HashMap, HashSet};

use deltalake::DeltaTable;
use deltalake::kernel::Action;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::protocol::DeltaOperation;
use serde_json::{Value, json};

use super::chain::{self, FileHash};
use super::table::TableError;
use super::worm::Storage;

/// The table property a deletion lifts for its duration.
const APPEND_ONLY: &str = "delta.appendOnly";

fn err(table: &DeltaTable, what: &str) -> impl FnOnce(deltalake::DeltaTableError) -> TableError {
    let url = table.table_url().to_string();
    let what = what.to_string();
    move |source| TableError {
        url,
        what,
        source: Box::new(source),
    }
}

/// A deletion ready to commit: files already written (for an erasure),
/// nothing committed yet.
#[derive(Debug, Clone)]
pub struct Deletion {
    /// `retention` or `erase`.
    pub op: &'static str,
    /// The commit's actions: `remove`s (data change) and `add`s.
    pub actions: Vec<Action>,
    /// SHA-256 of each file added.
    pub adds: Vec<FileHash>,
    /// SHA-256 of each file removed, as it was when read.
    pub removes: Vec<FileHash>,
    /// Files written for the commit (deleted again if it never lands, or
    /// left and recorded on write-once storage).
    pub written: Vec<deltalake::Path>,
    /// What the deletion was (selector, days, rows): goes into the chain
    /// entry and the commit's predicate text.
    pub note: Value,
}

/// How many times the deletion commit is tried (see
/// `maintenance::COMPACTION_COMMIT_ATTEMPTS`, the same reasoning: each try
/// re-reads the log, so concurrent appenders only cost a retry).
const ATTEMPTS: u32 = 20;

fn is_append_only(table: &DeltaTable) -> bool {
    table
        .snapshot()
        .is_ok_and(|s| s.table_config().append_only == Some(true))
}

/// Sets `delta.appendOnly`, with a chain entry saying why.
async fn set_append_only(
    table: &mut DeltaTable,
    chain_id: &str,
    on: bool,
    why: &Value,
) -> Result<(), TableError> {
    let op = if on {
        "append-only-on"
    } else {
        "append-only-off"
    };
    let entry = chain::next_entry(
        table,
        chain_id,
        true,
        op,
        Vec::new(),
        Vec::new(),
        json!({ "for": why }),
    )
    .await
    .map_err(err(table, "building the chain entry"))?;
    let done = table
        .clone()
        .set_tbl_properties()
        .with_properties(HashMap::from([(APPEND_ONLY.to_string(), on.to_string())]))
        .with_commit_properties(
            CommitProperties::default()
                .with_metadata(chain::metadata(&entry))
                .with_cleanup_expired_logs(Some(false)),
        )
        .await;
    match done {
        Ok(t) => {
            chain::committed(table, &entry);
            *table = t;
            Ok(())
        }
        Err(e) => {
            chain::forget(table, chain_id);
            Err(err(table, &format!("setting {APPEND_ONLY} = {on}"))(e))
        }
    }
}

/// Commits `deletion` on `table` (lifting `delta.appendOnly` around it when
/// the table has it), in the chain `chain_id`. Returns the version of the
/// deletion commit, or `None` when a planned file was no longer in the
/// table (another host compacted or deleted it first: nothing committed,
/// the caller plans again).
pub async fn commit(
    table: &mut DeltaTable,
    chain_id: &str,
    deletion: Deletion,
    storage: &Storage,
) -> Result<Option<u64>, TableError> {
    table
        .update_state()
        .await
        .map_err(err(table, "reloading before the deletion"))?;
    let lifted = is_append_only(table);
    let why = format!("{} whose commit did not land", deletion.op);
    if lifted && let Err(e) = set_append_only(table, chain_id, false, &deletion.note).await {
        storage
            .discard_uncommitted(table, &deletion.written, &why)
            .await;
        return Err(e);
    }
    let done = commit_data(table, chain_id, &deletion).await;
    if !matches!(done, Ok(Some(_))) {
        storage
            .discard_uncommitted(table, &deletion.written, &why)
            .await;
    }
    // Back on whatever happened; a failure here is reported over the
    // deletion's own result: the table must not stay writable unnoticed.
    table
        .update_state()
        .await
        .map_err(err(table, "reloading after the deletion"))?;
    if lifted || !is_append_only(table) {
        set_append_only(table, chain_id, true, &deletion.note).await?;
    }
    done
}

async fn commit_data(
    table: &mut DeltaTable,
    chain_id: &str,
    d: &Deletion,
) -> Result<Option<u64>, TableError> {
    let planned: Vec<&str> = d
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Remove(r) => Some(r.path.as_str()),
            _ => None,
        })
        .collect();
    let mut last_error = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10 * u64::from(attempt))).await;
        }
        if let Err(e) = table.update_state().await {
            last_error = Some(err(table, "reloading before the deletion commit")(e));
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
        if !planned.iter().all(|p| live.contains(*p)) {
            return Ok(None);
        }
        let entry = chain::next_entry(
            table,
            chain_id,
            true,
            d.op,
            d.adds.clone(),
            d.removes.clone(),
            d.note.clone(),
        )
        .await
        .map_err(err(table, "building the chain entry"))?;
        // Committed at exactly the next version (no retries inside
        // delta-rs): if anyone committed in between, the liveness check
        // runs again on the newer version.
        let done = CommitBuilder::from(
            CommitProperties::default()
                .with_metadata(chain::metadata(&entry))
                .with_cleanup_expired_logs(Some(false))
                .with_max_retries(0),
        )
        .with_actions(d.actions.clone())
        .build(
            Some(snapshot),
            table.log_store(),
            DeltaOperation::Delete {
                predicate: Some(format!("railyard {}: {}", d.op, d.note)),
            },
        )
        .await;
        match done {
            Ok(done) => {
                chain::committed(table, &entry);
                let version = done.version();
                table
                    .update_state()
                    .await
                    .map_err(err(table, "reloading"))?;
                return Ok(Some(version));
            }
            Err(e) => last_error = Some(err(table, "committing the deletion")(e)),
        }
    }
    Err(last_error.expect("at least one attempt failed"))
}
