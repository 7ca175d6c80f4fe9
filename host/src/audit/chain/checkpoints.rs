//! Checkpoints against the commits they summarise.
//!
//! A Delta reader starts from the latest checkpoint (`_last_checkpoint`
//! names it) and reads only the commits after it, so a checkpoint that is
//! not the state its commits define changes what every reader sees without
//! touching a commit. Verification replays the commits (every one, chained
//! or not, as a reader would) and compares each checkpoint with the state
//! at its version: the live files and what a reader takes from each `add`
//! (partition values, size, stats, deletion vector), `metaData`,
//! `protocol` and the `txn` versions. A checkpoint at a version no commit
//! defines, a log summary railyard never writes (multi-part checkpoints are
//! read, V2 checkpoints, sidecars, `.crc` and log compaction files are
//! not), and a `_last_checkpoint` that does not describe its checkpoint
//! are breaks too.
//!
//! Once commits are cleaned up below a checkpoint, the state before the
//! first retained commit is known only from that checkpoint: it is taken
//! as the starting state (`checkpoint_base`), checked only against the
//! retained commits up to it.

use std::collections::{BTreeMap, HashMap, HashSet};

use deltalake::arrow::json::ArrayWriter;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use deltalake::{ObjectMeta, ObjectStore, Path};
use serde_json::Value;

use super::actions::{canonical, reader_view};
use super::commit::Commit;
use super::verify::Break;

/// The table as a reader sees it at one version.
#[derive(Debug, Default)]
struct State {
    /// Live files and their [`reader_view`]s.
    files: HashMap<String, [u8; 32]>,
    metadata: Option<Value>,
    protocol: Option<Value>,
    txns: BTreeMap<String, i64>,
}

/// What one checkpoint holds.
#[derive(Debug, Default)]
struct Snapshot {
    state: State,
    /// Its rows (actions), for `_last_checkpoint`'s `size`.
    actions: u64,
    /// Bytes of its parts.
    bytes: u64,
    parts: usize,
    /// Actions railyard's checkpoints never hold.
    other: Vec<String>,
}

/// The summaries found in `_delta_log`.
#[derive(Debug, Default)]
pub(super) struct LogSummaries {
    /// Checkpoint parts by version.
    checkpoints: BTreeMap<u64, Vec<ObjectMeta>>,
    /// Files a reader may use that verification cannot check.
    unexplained: Vec<String>,
    last_checkpoint: bool,
}

/// Sorts the `_delta_log` listing's summaries out of it.
pub(super) fn classify(listed: &[ObjectMeta]) -> LogSummaries {
    let mut out = LogSummaries::default();
    for m in listed {
        let Some(name) = m.location.filename() else {
            continue;
        };
        let in_log =
            m.location.as_ref().starts_with("_delta_log/") && m.location.parts().count() == 2;
        if !in_log {
            if m.location.as_ref().starts_with("_delta_log/_sidecars/") {
                out.unexplained.push(m.location.to_string());
            }
            continue;
        }
        if name == "_last_checkpoint" {
            out.last_checkpoint = true;
            continue;
        }
        let Some((stem, rest)) = name.split_once('.') else {
            continue;
        };
        let Ok(version) = stem.parse::<u64>() else {
            continue;
        };
        let multi_part = rest
            .strip_prefix("checkpoint.")
            .and_then(|r| r.strip_suffix(".parquet"))
            .and_then(|r| r.split_once('.'))
            .is_some_and(|(a, b)| {
                a.len() == 10
                    && b.len() == 10
                    && (a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok())
            });
        if rest == "checkpoint.parquet" || multi_part {
            out.checkpoints.entry(version).or_default().push(m.clone());
        } else if rest != "json" && !rest.ends_with(".tmp") {
            // V2 checkpoints, `.crc` files, log compaction files.
            out.unexplained.push(name.to_string());
        }
    }
    for parts in out.checkpoints.values_mut() {
        parts.sort_by(|a, b| a.location.cmp(&b.location));
    }
    out
}

/// Reads a checkpoint's parts.
async fn read(store: &dyn ObjectStore, parts: &[ObjectMeta]) -> Result<Snapshot, String> {
    let mut snap = Snapshot {
        parts: parts.len(),
        ..Snapshot::default()
    };
    for part in parts {
        let bytes = store
            .get_opts(&part.location, Default::default())
            .await
            .map_err(|e| e.to_string())?
            .bytes()
            .await
            .map_err(|e| e.to_string())?;
        snap.bytes += bytes.len() as u64;
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|b| b.build())
            .map_err(|e| e.to_string())?;
        for batch in reader {
            let batch = batch.map_err(|e| e.to_string())?;
            let mut writer = ArrayWriter::new(Vec::new());
            writer.write(&batch).map_err(|e| e.to_string())?;
            writer.finish().map_err(|e| e.to_string())?;
            let rows: Vec<Value> =
                serde_json::from_slice(&writer.into_inner()).map_err(|e| e.to_string())?;
            for row in rows {
                snap.actions += 1;
                let Value::Object(row) = row else { continue };
                for (kind, action) in row {
                    let s = &mut snap.state;
                    match kind.as_str() {
                        "add" => {
                            let path = action["path"].as_str().unwrap_or_default().to_string();
                            s.files.insert(path, reader_view(&action));
                        }
                        "metaData" => s.metadata = Some(action),
                        "protocol" => s.protocol = Some(action),
                        "txn" => {
                            if let (Some(app), Some(v)) =
                                (action["appId"].as_str(), action["version"].as_i64())
                            {
                                s.txns.insert(app.to_string(), v);
                            }
                        }
                        "remove" => {}
                        other => snap.other.push(other.to_string()),
                    }
                }
            }
        }
    }
    Ok(snap)
}

/// Where `cp` is not `state` (`base_known`: the state is complete; if not,
/// only what the retained commits did is compared).
fn differences(
    state: &State,
    removed: &HashSet<String>,
    base_known: bool,
    cp: &Snapshot,
) -> Vec<String> {
    let mut out = Vec::new();
    let shown = |paths: &[&String]| {
        let mut p: Vec<String> = paths
            .iter()
            .map(|p| super::super::table::percent_decode(p))
            .collect();
        p.sort();
        p.truncate(3);
        p.join(", ")
    };
    let lacking: Vec<&String> = state
        .files
        .keys()
        .filter(|p| !cp.state.files.contains_key(*p))
        .collect();
    if !lacking.is_empty() {
        out.push(format!(
            "it leaves out {} live file(s) the commits define ({}): readers starting from it miss their rows",
            lacking.len(),
            shown(&lacking)
        ));
    }
    let extra: Vec<&String> = cp
        .state
        .files
        .keys()
        .filter(|p| {
            if base_known {
                !state.files.contains_key(*p)
            } else {
                removed.contains(*p)
            }
        })
        .collect();
    if !extra.is_empty() {
        out.push(format!(
            "it lists {} file(s) the commits do not leave live ({})",
            extra.len(),
            shown(&extra)
        ));
    }
    let differ: Vec<&String> = state
        .files
        .iter()
        .filter(|(p, v)| cp.state.files.get(*p).is_some_and(|c| c != *v))
        .map(|(p, _)| p)
        .collect();
    if !differ.is_empty() {
        out.push(format!(
            "the stats, partition values, size or deletion vector of {} file(s) differ from their commits' ({})",
            differ.len(),
            shown(&differ)
        ));
    }
    let same = |a: &Option<Value>, b: &Option<Value>| {
        a.as_ref().map(canonical) == b.as_ref().map(canonical)
    };
    if (base_known || state.metadata.is_some()) && !same(&state.metadata, &cp.state.metadata) {
        out.push("its metaData (schema, partitioning, properties) is not the commits'".into());
    }
    if (base_known || state.protocol.is_some()) && !same(&state.protocol, &cp.state.protocol) {
        out.push("its protocol is not the commits'".into());
    }
    let txns_differ = state
        .txns
        .iter()
        .any(|(app, v)| cp.state.txns.get(app) != Some(v))
        || (base_known && state.txns.len() != cp.state.txns.len());
    if txns_differ {
        out.push("its txn versions (which WAL segments are committed) are not the commits'".into());
    }
    if !cp.other.is_empty() {
        out.push(format!(
            "it holds actions railyard never writes: {:?}",
            cp.other
        ));
    }
    out
}

/// Checks every checkpoint and `_last_checkpoint` against `commits` (the
/// log from `first`, `None` where a commit is missing). Returns the breaks
/// and the version of the checkpoint taken as the starting state, if any.
pub(super) async fn check(
    table: &str,
    store: &dyn ObjectStore,
    summaries: &LogSummaries,
    first: u64,
    commits: &[Option<Commit>],
) -> (Vec<Break>, Option<u64>, u64) {
    let brk = |version: Option<u64>, kind: &'static str, message: String| Break {
        table: table.to_string(),
        version,
        kind,
        message,
    };
    let mut breaks: Vec<Break> = summaries
        .unexplained
        .iter()
        .map(|f| {
            brk(
                None,
                "checkpoint_unexplained",
                format!(
                    "_delta_log holds {f}, a log summary railyard never writes and verify cannot check (a reader may start from it)"
                ),
            )
        })
        .collect();
    let latest = first + commits.len() as u64 - 1;
    let mut state;
    let mut removed = HashSet::new();
    let mut base_known = first == 0;
    let mut base = None;
    let mut checked = 0;
    let mut read_ok: HashMap<u64, Snapshot> = HashMap::new();
    for (&version, parts) in &summaries.checkpoints {
        if version > latest || version + 1 < first {
            breaks.push(brk(
                Some(version),
                "checkpoint_unexplained",
                format!(
                    "a checkpoint at version {version} is outside the log's commits ({first} to {latest}): no commit defines its state"
                ),
            ));
            continue;
        }
        let snapshot = match read(store, parts).await {
            Ok(s) => s,
            Err(e) => {
                breaks.push(brk(
                    Some(version),
                    "checkpoint_mismatch",
                    format!("the checkpoint at version {version} cannot be read: {e}"),
                ));
                continue;
            }
        };
        read_ok.insert(version, snapshot);
    }
    // Replay every commit, comparing at each checkpoint read above.
    let at = |v: u64| read_ok.get(&v);
    match first.checked_sub(1).and_then(at) {
        Some(cp) => {
            state = adopt(cp);
            base_known = true;
            base = Some(first - 1);
        }
        None => state = State::default(),
    }
    for commit in commits.iter().flatten() {
        for r in &commit.removes {
            state.files.remove(r);
            if !base_known {
                removed.insert(r.clone());
            }
        }
        for a in &commit.adds {
            state.files.insert(a.path.clone(), a.view);
            removed.remove(&a.path);
        }
        if let Some(m) = &commit.metadata {
            state.metadata = Some(m.clone());
        }
        if let Some(p) = &commit.protocol {
            state.protocol = Some(p.clone());
        }
        for (app, v) in &commit.txns {
            state.txns.insert(app.clone(), *v);
        }
        let Some(cp) = at(commit.version) else {
            continue;
        };
        checked += 1;
        for d in differences(&state, &removed, base_known, cp) {
            breaks.push(brk(
                Some(commit.version),
                "checkpoint_mismatch",
                format!(
                    "the checkpoint at version {} is not the state its commits define: {d}",
                    commit.version
                ),
            ));
        }
        if !base_known {
            state = adopt(cp);
            base_known = true;
            base = Some(commit.version);
            removed.clear();
        }
    }
    if summaries.last_checkpoint
        && let Some(problem) = last_checkpoint_problem(store, &read_ok).await
    {
        breaks.push(brk(None, "checkpoint_unexplained", problem));
    }
    (breaks, base, checked)
}

/// The state a checkpoint holds, as the starting state.
fn adopt(cp: &Snapshot) -> State {
    State {
        files: cp.state.files.clone(),
        metadata: cp.state.metadata.clone(),
        protocol: cp.state.protocol.clone(),
        txns: cp.state.txns.clone(),
    }
}

/// Why `_last_checkpoint` does not describe a checkpoint that was read.
async fn last_checkpoint_problem(
    store: &dyn ObjectStore,
    read_ok: &HashMap<u64, Snapshot>,
) -> Option<String> {
    let path = Path::from("_delta_log/_last_checkpoint");
    let bytes = match store.get_opts(&path, Default::default()).await {
        Ok(r) => r.bytes().await.ok()?,
        Err(_) => return None,
    };
    let Ok(hint) = serde_json::from_slice::<Value>(&bytes) else {
        return Some("_last_checkpoint is not JSON".into());
    };
    let Some(version) = hint["version"].as_u64() else {
        return Some(format!("_last_checkpoint names no version: {hint}"));
    };
    let Some(cp) = read_ok.get(&version) else {
        return Some(format!(
            "_last_checkpoint names version {version}, which has no checkpoint that verify could read"
        ));
    };
    let checks = [
        ("size", cp.actions),
        ("numOfAddFiles", cp.state.files.len() as u64),
        ("sizeInBytes", cp.bytes),
        ("parts", cp.parts as u64),
    ];
    for (key, actual) in checks {
        if let Some(said) = hint.get(key).and_then(Value::as_u64)
            && said != actual
        {
            return Some(format!(
                "_last_checkpoint says {key} {said} for the checkpoint at version {version}, which has {actual}"
            ));
        }
    }
    None
}
