//! Write-once storage (S3 Object Lock): the one place that decides whether
//! railyard may delete an object under the audit root.
//!
//! Every path that can delete an object goes through here or checks
//! [`Storage::worm`] first:
//!
//! | path | normally | with `worm = true` |
//! |---|---|---|
//! | vacuum (`serve` maintenance, `railyard log vacuum`) | deletes files out of the table for the vacuum retention | not run; maintenance lists what it would delete (a dry run) and records it; the command refuses |
//! | expired-log cleanup after a checkpoint | deletes log entries past `delta.logRetentionDuration` | checkpoint written, nothing deleted |
//! | delta-rs's own log cleanup after any commit | off on every commit railyard makes (appends, compaction, deletions, `delta.appendOnly` changes, table creation, added columns) | the same |
//! | a compaction that lost its commit (another host compacted first, or 20 tries failed) | deletes the file it wrote | file left, recorded |
//! | a retention or erase commit that did not land | deletes the rewritten files | files left, recorded |
//! | retention, erasure, compaction that commit | remove files from the table (log only) | the same: the log is new objects; the files stay in storage |
//!
//! "Recorded" means logged at `warn` and, when the `events` table exists,
//! an `events` row of kind `worm_kept` whose `detail` names the table, the
//! objects left and why ([`super::events::direct`]). An object left is
//! referenced by no table version, so no reader sees it; it goes when the
//! bucket's lifecycle rule expires it after its lock (see
//! `docs/audit-schema.md`, "WORM storage").

use std::collections::HashMap;

use deltalake::{DeltaTable, ObjectStore};
use serde_json::json;
use url::Url;

use super::events::{Event, EventKind, direct};

/// Where the tables live and whether railyard may delete there.
#[derive(Debug, Clone)]
pub struct Storage {
    root: Url,
    options: HashMap<String, String>,
    worm: bool,
}

/// How many object paths an event's `detail` lists (the count is always
/// exact; a round on a big table can leave thousands).
const LISTED: usize = 100;

impl Storage {
    /// The tables under `root` (with `options`); `worm`: storage is
    /// write-once, railyard deletes nothing there.
    pub fn new(root: Url, options: HashMap<String, String>, worm: bool) -> Storage {
        Storage {
            root,
            options,
            worm,
        }
    }

    /// The table root.
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// The object-store options.
    pub fn options(&self) -> &HashMap<String, String> {
        &self.options
    }

    /// Whether storage is write-once (`[audit] worm = true`,
    /// `RAILYARD_AUDIT_WORM=true`).
    pub fn worm(&self) -> bool {
        self.worm
    }

    /// Files written for a commit that never landed (`why`): no table
    /// version references them, so no reader can need them. Deleted, or,
    /// on write-once storage, left and recorded.
    pub async fn discard_uncommitted(
        &self,
        table: &DeltaTable,
        written: &[deltalake::Path],
        why: &str,
    ) {
        if written.is_empty() {
            return;
        }
        if self.worm {
            let paths: Vec<String> = written.iter().map(|p| p.to_string()).collect();
            self.record_kept(
                table,
                &format!("{why}: left {} uncommitted file(s) it wrote (no table version references them)", paths.len()),
                paths.len(),
                &paths,
            )
            .await;
            return;
        }
        use futures_util::StreamExt;
        let store = table.object_store();
        let paths: Vec<_> = written.iter().cloned().map(Ok).collect();
        let mut deleted = store.delete_stream(futures_util::stream::iter(paths).boxed());
        while let Some(done) = deleted.next().await {
            if let Err(e) = done {
                tracing::warn!(table = %table.table_url(), error = %e, "{why}: could not delete an uncommitted file it wrote (a vacuum removes it later; on write-once storage set [audit] worm = true)");
            }
        }
    }

    /// Records that maintenance left `count` objects of `table` in storage
    /// (`paths`: the first of them) because storage is write-once.
    pub async fn record_kept(
        &self,
        table: &DeltaTable,
        what: &str,
        count: usize,
        paths: &[String],
    ) {
        let name = table
            .table_url()
            .path_segments()
            .and_then(|mut s| s.rfind(|p| !p.is_empty()))
            .unwrap_or_default()
            .to_string();
        let message = format!(
            "worm = true: {what}; railyard deletes nothing on write-once storage, the bucket's lifecycle rule expires them after their Object Lock retention"
        );
        let event = Event::new(EventKind::WormKept, message).detail(json!({
            "table": name,
            "objects": count,
            "paths": paths.iter().take(LISTED).collect::<Vec<_>>(),
            "listed": paths.len().min(LISTED),
        }));
        match direct::record(&self.root, &self.options, "maintenance", event).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::debug!("no events table: what worm = true left is only in this log")
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not record in the events table what worm = true left; it is only in this log")
            }
        }
    }
}
