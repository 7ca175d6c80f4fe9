//! One commit file of a table's log, read as verification needs it.

use deltalake::{DeltaTableError, ObjectStore, Path};
use serde_json::Value;

use super::{COMMIT_INFO_KEY, ChainEntry, actions};

/// An `add` action, as far as verification needs it.
#[derive(Debug, Clone)]
pub struct AddInfo {
    /// `add.path`.
    pub path: String,
    /// [`actions::add_action_hash`] of the action.
    pub action_hash: String,
    /// [`actions::reader_view`] of the action.
    pub view: [u8; 32],
    /// `numRecords` from its stats.
    pub records: Option<u64>,
    /// Why its partition values are not its path's.
    pub partition_problem: Option<String>,
}

/// One commit of the log, as far as verification needs it.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// Its version.
    pub version: u64,
    /// `commitInfo.operation`.
    pub operation: Option<String>,
    /// `commitInfo.timestamp` (ms).
    pub timestamp_ms: Option<i64>,
    /// The chain entry, if it has one that parses.
    pub entry: Option<ChainEntry>,
    /// Why a present entry could not be read.
    pub entry_error: Option<String>,
    /// `add`s.
    pub adds: Vec<AddInfo>,
    /// `remove.path`s.
    pub removes: Vec<String>,
    /// Its `metaData` action.
    pub metadata: Option<Value>,
    /// Its `protocol` action.
    pub protocol: Option<Value>,
    /// Its `txn` actions (app id, version).
    pub txns: Vec<(String, i64)>,
}

impl Commit {
    /// Whether it has `metaData` or `protocol` actions.
    pub fn redefines(&self) -> bool {
        self.metadata.is_some() || self.protocol.is_some()
    }

    /// Its `add.path`s.
    pub fn add_paths(&self) -> impl Iterator<Item = &str> {
        self.adds.iter().map(|a| a.path.as_str())
    }
}

/// Reads commit `version` of the table `store` is rooted at; `None` if the
/// commit file is not there.
pub async fn read_commit(
    store: &dyn ObjectStore,
    version: u64,
) -> Result<Option<Commit>, DeltaTableError> {
    let path = Path::from(format!("_delta_log/{version:020}.json"));
    let bytes = match store.get_opts(&path, Default::default()).await {
        Ok(r) => r.bytes().await?,
        Err(deltalake::ObjectStoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut commit = Commit {
        version,
        ..Commit::default()
    };
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let action: Value = serde_json::from_slice(line).map_err(|e| {
            DeltaTableError::generic(format!("commit {version}: a line is not JSON: {e}"))
        })?;
        if let Some(info) = action.get("commitInfo") {
            commit.operation = info
                .get("operation")
                .and_then(Value::as_str)
                .map(String::from);
            commit.timestamp_ms = info.get("timestamp").and_then(Value::as_i64);
            if let Some(raw) = info.get(COMMIT_INFO_KEY) {
                match serde_json::from_value::<ChainEntry>(raw.clone()) {
                    Ok(e) => commit.entry = Some(e),
                    Err(e) => commit.entry_error = Some(e.to_string()),
                }
            }
        } else if let Some(add) = action.get("add")
            && let Some(p) = add.get("path").and_then(Value::as_str)
        {
            commit.adds.push(AddInfo {
                path: p.to_string(),
                action_hash: actions::add_action_hash(add),
                view: actions::reader_view(add),
                records: actions::num_records(add),
                partition_problem: actions::partition_mismatch(add),
            });
        } else if let Some(p) = action.pointer("/remove/path").and_then(Value::as_str) {
            commit.removes.push(p.to_string());
        } else if let Some(m) = action.get("metaData") {
            commit.metadata = Some(m.clone());
        } else if let Some(p) = action.get("protocol") {
            commit.protocol = Some(p.clone());
        } else if let Some(t) = action.get("txn")
            && let (Some(app), Some(v)) = (
                t.get("appId").and_then(Value::as_str),
                t.get("version").and_then(Value::as_i64),
            )
        {
            commit.txns.push((app.to_string(), v));
        }
    }
    Ok(Some(commit))
}
