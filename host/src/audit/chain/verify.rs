//! `railyard log verify`: recomputes every chain from a table's log and its
//! data files, and reports the first break precisely.
//!
//! What is checked, per table:
//! - the log's commit files are contiguous (a deleted commit is a gap);
//! - every commit that adds, removes or redefines anything carries a chain
//!   entry (otherwise someone else wrote it), whose hash matches its body,
//!   whose files are exactly the commit's `add`s and `remove`s, and which
//!   extends its chain by one (a removed or reordered commit of a chain
//!   breaks the sequence or the `prev` link);
//! - signatures verify under the trusted keys, and with keys given, every
//!   chain starts with a signed entry;
//! - every `add` is the action its entry recorded (its hash: stats,
//!   partition values…; entries written before it recorded only paths),
//!   its partition values are its path's, and its stats' row count is its
//!   file's;
//! - every `metaData` and `protocol` action, chained or not (version 0),
//!   is railyard's for that table ([`actions`]);
//! - every checkpoint and `_last_checkpoint` is the state the commits
//!   define at its version ([`checkpoints`]);
//! - every live data file exists and has the SHA-256 its adding entry
//!   recorded, and every removed file had it when it was removed.
//!
//! Commits that change no data and no metadata (delta-rs's `VACUUM START`
//! and `VACUUM END`, which only record that unreferenced files were
//! deleted) are listed, not treated as breaks: they cannot alter a row.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use deltalake::parquet::file::reader::{FileReader, SerializedFileReader};
use deltalake::{DeltaTableError, ObjectStore, Path};
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;

pub use super::commit::{Commit, read_commit};
use super::{VerifyingKeys, actions, checkpoints, keys::SigError, sha256_hex};
use crate::audit::TableKind;
use crate::audit::table::percent_decode;

/// A place where the evidence does not hold.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Break {
    /// The table.
    pub table: String,
    /// The commit concerned, when there is one.
    pub version: Option<u64>,
    /// `missing_commit`, `foreign_commit`, `entry_altered`, `chain_gap`,
    /// `chain_reordered`, `actions_differ`, `bad_signature`, `unknown_key`,
    /// `unsigned_chain`, `file_changed`, `file_missing`,
    /// `removed_file_differs`, `action_altered`, `definition_altered`,
    /// `checkpoint_mismatch`, `checkpoint_unexplained`.
    pub kind: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

/// One chain as found in a table.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ChainReport {
    /// The chain id.
    pub chain: String,
    /// Entries found.
    pub entries: u64,
    /// Sequence of its last entry.
    pub last_seq: u64,
    /// Entries with a signature.
    pub signed: u64,
    /// Entries after the last signed one (chained, not yet signed).
    pub unsigned_tail: u64,
    /// Entries by operation.
    pub ops: BTreeMap<String, u64>,
}

/// What verifying one table found.
#[derive(Debug, Clone, Serialize, Default)]
pub struct TableReport {
    /// The table's name.
    pub table: String,
    /// Commits read.
    pub commits: u64,
    /// First commit in the log (above 0 once old log entries were cleaned
    /// up after a checkpoint; chains are then checked from there).
    pub first_version: u64,
    /// Latest version.
    pub latest_version: Option<u64>,
    /// Chains, by id.
    pub chains: Vec<ChainReport>,
    /// Commits without data or metadata changes (vacuum records).
    pub neutral_commits: Vec<String>,
    /// Live data files hashed.
    pub files_checked: u64,
    /// Their bytes.
    pub bytes_checked: u64,
    /// Their rows (from the Parquet footers).
    pub rows_checked: u64,
    /// Live files not hashed (added before `--since`, or before the
    /// retained log).
    pub files_skipped: u64,
    /// Checkpoints compared with the state their commits define.
    pub checkpoints_checked: u64,
    /// The checkpoint taken as the starting state, once the commits before
    /// it were cleaned up (checked only against the retained commits).
    pub checkpoint_base: Option<u64>,
    /// Adds recorded by entries written before the chain covered the whole
    /// `add` action: their stats are checked only for the row count.
    pub adds_without_action_hash: u64,
    /// What is wrong, in log order, then file order.
    pub breaks: Vec<Break>,
}

/// The whole result.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    /// No break anywhere.
    pub ok: bool,
    /// The first break, if any.
    pub first_break: Option<Break>,
    /// Whether signatures were checked (trusted keys given).
    pub signatures_checked: bool,
    /// Trusted key ids.
    pub trusted_keys: Vec<String>,
    /// Per table.
    pub tables: Vec<TableReport>,
    /// Wall time.
    pub elapsed_ms: u64,
}

impl Report {
    /// Builds the summary fields from the tables.
    pub fn finish(&mut self, started: Instant) {
        self.first_break = self
            .tables
            .iter()
            .flat_map(|t| t.breaks.first())
            .next()
            .cloned();
        self.ok = self.first_break.is_none();
        self.elapsed_ms = started.elapsed().as_millis() as u64;
    }
}

/// Options of a verification.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only hash data files added at or after this time (µs); the chains
    /// are always checked whole.
    pub since_us: Option<i64>,
    /// Trusted public keys.
    pub keys: VerifyingKeys,
}

/// How many reads are in flight at once.
const PARALLEL_READS: usize = 16;

/// Most breaks listed per table (the first is what matters).
const MAX_BREAKS: usize = 200;

/// A file the chain knows as live.
struct Live {
    sha256: String,
    size: u64,
    records: Option<u64>,
    added_in: u64,
    added_ms: Option<i64>,
}

/// Verifies one table, rooted at `store`.
pub async fn verify_table(
    name: &str,
    store: &dyn ObjectStore,
    options: &Options,
) -> Result<TableReport, DeltaTableError> {
    let mut report = TableReport {
        table: name.to_string(),
        ..TableReport::default()
    };
    let listed: Vec<_> = store
        .list(Some(&Path::from("_delta_log")))
        .try_collect()
        .await?;
    let mut versions: Vec<u64> = listed
        .iter()
        .filter_map(|m| {
            let name = m.location.filename()?;
            let stem = name.strip_suffix(".json")?;
            (stem.len() == 20).then(|| stem.parse().ok()).flatten()
        })
        .collect();
    versions.sort_unstable();
    let Some(&first) = versions.first() else {
        return Ok(report);
    };
    let latest = *versions.last().expect("not empty");
    report.first_version = first;
    report.latest_version = Some(latest);
    let truncated = first > 0;
    let mut breaks = Vec::new();
    let mut push = |b: Break| {
        if breaks.len() < MAX_BREAKS {
            breaks.push(b);
        }
    };
    let brk = |version: Option<u64>, kind: &'static str, message: String| Break {
        table: name.to_string(),
        version,
        kind,
        message,
    };
    let present: std::collections::HashSet<u64> = versions.iter().copied().collect();
    let present = &present;
    let commits: Vec<Option<Commit>> = futures_util::stream::iter(first..=latest)
        .map(|v| async move {
            if present.contains(&v) {
                read_commit(store, v).await
            } else {
                Ok(None)
            }
        })
        .buffered(PARALLEL_READS)
        .try_collect()
        .await?;
    let mut chains: BTreeMap<String, (ChainReport, String)> = BTreeMap::new();
    let mut live: HashMap<String, Live> = HashMap::new();
    let mut removed_checks: Vec<(u64, String, String)> = Vec::new();
    let kind = TableKind::ALL.into_iter().find(|k| k.name() == name);
    for (i, commit) in commits.iter().enumerate() {
        let version = first + i as u64;
        let Some(commit) = commit else {
            push(brk(
                Some(version),
                "missing_commit",
                format!(
                    "commit {version} is missing from the log (deleted), between {} and {}",
                    version.saturating_sub(1),
                    version + 1
                ),
            ));
            continue;
        };
        report.commits += 1;
        // What the table is, chained or not (version 0 has no entry).
        let problems = [
            (commit.metadata.as_ref()).and_then(|m| actions::metadata_problem(kind, m)),
            (commit.protocol.as_ref()).and_then(actions::protocol_problem),
        ];
        for p in problems.into_iter().flatten() {
            push(brk(
                Some(version),
                "definition_altered",
                format!("commit {version}: {p}; railyard never writes that"),
            ));
        }
        let Some(entry) = commit.entry.clone() else {
            if let Some(e) = &commit.entry_error {
                push(brk(
                    Some(version),
                    "entry_altered",
                    format!("commit {version}: its chain entry cannot be read ({e})"),
                ));
                continue;
            }
            let op = commit.operation.clone().unwrap_or_else(|| "unknown".into());
            let genesis = version == 0 && commit.adds.is_empty() && commit.removes.is_empty();
            if genesis {
                continue;
            }
            if commit.adds.is_empty() && commit.removes.is_empty() && !commit.redefines() {
                report.neutral_commits.push(format!("{version}: {op}"));
                continue;
            }
            push(brk(
                Some(version),
                "foreign_commit",
                format!(
                    "commit {version} ({op}, {} file(s) added, {} removed) has no chain entry: it was not written by railyard",
                    commit.adds.len(),
                    commit.removes.len()
                ),
            ));
            // Its files are not in any chain: their adds are reported as
            // this break, and removes drop files as the log says.
            for p in &commit.removes {
                live.remove(p);
            }
            continue;
        };
        let body = &entry.body;
        if body.hash() != entry.hash {
            push(brk(
                Some(version),
                "entry_altered",
                format!(
                    "commit {version}: the chain entry of {} seq {} does not match its hash (edited after it was written)",
                    body.chain, body.seq
                ),
            ));
        }
        // Chain continuity.
        match chains.get(&body.chain) {
            None => {
                if body.seq != 0 && !truncated {
                    push(brk(
                        Some(version),
                        "chain_gap",
                        format!(
                            "commit {version}: chain {} starts at seq {}: its commits before it are missing",
                            body.chain, body.seq
                        ),
                    ));
                }
            }
            Some((c, last_hash)) => {
                if body.seq <= c.last_seq {
                    push(brk(
                        Some(version),
                        "chain_reordered",
                        format!(
                            "commit {version}: chain {} seq {} comes after seq {} (commits reordered or replayed)",
                            body.chain, body.seq, c.last_seq
                        ),
                    ));
                } else if body.seq > c.last_seq + 1 {
                    push(brk(
                        Some(version),
                        "chain_gap",
                        format!(
                            "commit {version}: chain {} jumps from seq {} to {}: {} commit(s) of this chain were removed",
                            body.chain,
                            c.last_seq,
                            body.seq,
                            body.seq - c.last_seq - 1
                        ),
                    ));
                } else if body.prev.as_deref() != Some(last_hash.as_str()) {
                    push(brk(
                        Some(version),
                        "chain_gap",
                        format!(
                            "commit {version}: chain {} seq {} does not link to seq {} (prev hash differs)",
                            body.chain, body.seq, c.last_seq
                        ),
                    ));
                }
            }
        }
        // Signature.
        let keys = &options.keys;
        match (&entry.sig, &entry.key_id) {
            (Some(sig), Some(id)) if !keys.is_empty() => {
                match keys.check_hash(id, &entry.hash, sig) {
                    Ok(()) => {}
                    Err(SigError::UnknownKey) => push(brk(
                        Some(version),
                        "unknown_key",
                        format!(
                            "commit {version}: chain {} seq {} is signed by {id}, which is not a trusted key",
                            body.chain, body.seq
                        ),
                    )),
                    Err(SigError::Invalid) => push(brk(
                        Some(version),
                        "bad_signature",
                        format!(
                            "commit {version}: the signature of chain {} seq {} by {id} does not verify",
                            body.chain, body.seq
                        ),
                    )),
                }
            }
            (None, _) if !keys.is_empty() && body.seq == 0 => push(brk(
                Some(version),
                "unsigned_chain",
                format!(
                    "commit {version}: chain {} starts without a signature (a writer without the signing key, or a forged chain)",
                    body.chain
                ),
            )),
            _ => {}
        }
        // The entry's files are exactly the commit's.
        let mut entry_adds: Vec<&str> = body.adds.iter().map(|f| f.path.as_str()).collect();
        let mut entry_removes: Vec<&str> = body.removes.iter().map(|f| f.path.as_str()).collect();
        let mut commit_adds: Vec<&str> = commit.add_paths().collect();
        let mut commit_removes: Vec<&str> = commit.removes.iter().map(String::as_str).collect();
        for v in [
            &mut entry_adds,
            &mut entry_removes,
            &mut commit_adds,
            &mut commit_removes,
        ] {
            v.sort_unstable();
        }
        if entry_adds != commit_adds || entry_removes != commit_removes {
            let extra: Vec<_> = commit_adds
                .iter()
                .chain(&commit_removes)
                .filter(|p| !entry_adds.contains(p) && !entry_removes.contains(p))
                .collect();
            push(brk(
                Some(version),
                "actions_differ",
                format!(
                    "commit {version}: its actions are not the ones its chain entry records (files not in the entry: {extra:?}; entry: {} add(s), {} remove(s); commit: {} add(s), {} remove(s))",
                    entry_adds.len(),
                    entry_removes.len(),
                    commit_adds.len(),
                    commit_removes.len()
                ),
            ));
        }
        for f in &body.removes {
            if let Some(l) = live.remove(&f.path)
                && l.sha256 != f.sha256
            {
                removed_checks.push((version, f.path.clone(), l.sha256));
            }
        }
        // Each add is the action the entry recorded.
        for f in &body.adds {
            let add = commit.adds.iter().find(|a| a.path == f.path);
            let altered = match (&f.action, add) {
                (Some(h), Some(a)) if *h != a.action_hash => Some(
                    "is not the action its chain entry records (its stats, partition values or other fields were edited)".to_string(),
                ),
                (None, _) => {
                    report.adds_without_action_hash += 1;
                    None
                }
                _ => None,
            };
            let partition = add.and_then(|a| a.partition_problem.clone());
            for p in [altered, partition].into_iter().flatten() {
                push(brk(
                    Some(version),
                    "action_altered",
                    format!(
                        "commit {version}: the add of {} {p}",
                        percent_decode(&f.path)
                    ),
                ));
            }
            live.insert(
                f.path.clone(),
                Live {
                    sha256: f.sha256.clone(),
                    size: f.size,
                    records: add.and_then(|a| a.records),
                    added_in: version,
                    added_ms: commit.timestamp_ms,
                },
            );
        }
        let (c, last) = chains.entry(body.chain.clone()).or_insert_with(|| {
            (
                ChainReport {
                    chain: body.chain.clone(),
                    ..ChainReport::default()
                },
                String::new(),
            )
        });
        c.entries += 1;
        c.last_seq = body.seq;
        *c.ops.entry(body.op.clone()).or_default() += 1;
        if entry.sig.is_some() {
            c.signed += 1;
            c.unsigned_tail = 0;
        } else {
            c.unsigned_tail += 1;
        }
        *last = entry.hash.clone();
    }
    let summaries = checkpoints::classify(&listed);
    let (cp_breaks, base, checked) =
        checkpoints::check(name, store, &summaries, first, &commits).await;
    cp_breaks.into_iter().for_each(&mut push);
    report.checkpoint_base = base;
    report.checkpoints_checked = checked;
    for (version, path, recorded) in removed_checks {
        push(brk(
            Some(version),
            "removed_file_differs",
            format!(
                "commit {version} removed {} after it had been changed (its SHA-256 was {recorded} when added, another when removed)",
                percent_decode(&path)
            ),
        ));
    }
    // The live files, in the order they were added.
    let mut files: Vec<(String, Live)> = live.into_iter().collect();
    files.sort_by(|a, b| (a.1.added_in, &a.0).cmp(&(b.1.added_in, &b.0)));
    let by_hash: HashMap<String, String> = files
        .iter()
        .map(|(p, l)| (l.sha256.clone(), p.clone()))
        .collect();
    let wanted: Vec<&(String, Live)> = files
        .iter()
        .filter(|(_, l)| match options.since_us {
            Some(since) => l.added_ms.is_none_or(|ms| ms * 1000 >= since),
            None => true,
        })
        .collect();
    report.files_skipped = (files.len() - wanted.len()) as u64;
    type Hashed = (usize, Result<(String, u64, u64), String>);
    let hashed: Vec<Hashed> = futures_util::stream::iter(wanted.iter().enumerate())
        .map(|(i, (path, _))| async move {
            let p = Path::from(percent_decode(path));
            let got = match store.get_opts(&p, Default::default()).await {
                Ok(r) => r.bytes().await.map_err(|e| e.to_string()),
                Err(deltalake::ObjectStoreError::NotFound { .. }) => Err("missing".to_string()),
                Err(e) => Err(e.to_string()),
            };
            (
                i,
                got.map(|bytes| {
                    let rows = SerializedFileReader::new(bytes.clone())
                        .map(|r| r.metadata().file_metadata().num_rows() as u64)
                        .unwrap_or(0);
                    (sha256_hex(&bytes), bytes.len() as u64, rows)
                }),
            )
        })
        .buffered(PARALLEL_READS)
        .collect()
        .await;
    for (i, result) in hashed {
        let (path, l) = wanted[i];
        let shown = percent_decode(path);
        match result {
            Err(e) if e == "missing" => push(brk(
                Some(l.added_in),
                "file_missing",
                format!(
                    "data file {shown} (added in commit {}) is missing",
                    l.added_in
                ),
            )),
            Err(e) => return Err(DeltaTableError::generic(format!("reading {shown}: {e}"))),
            Ok((sha, size, rows)) => {
                report.files_checked += 1;
                report.bytes_checked += size;
                report.rows_checked += rows;
                if sha != l.sha256 {
                    let other = by_hash
                        .get(&sha)
                        .map(|o| {
                            format!(
                                "; it holds the bytes of {} (files swapped or copied)",
                                percent_decode(o)
                            )
                        })
                        .unwrap_or_default();
                    push(brk(
                        Some(l.added_in),
                        "file_changed",
                        format!(
                            "data file {shown} (added in commit {}) was changed: SHA-256 {sha}, {size} bytes, recorded {}, {} bytes{other}",
                            l.added_in, l.sha256, l.size
                        ),
                    ));
                } else if let Some(said) = l.records.filter(|r| *r != rows) {
                    push(brk(
                        Some(l.added_in),
                        "action_altered",
                        format!(
                            "commit {}: the stats of {shown} say {said} row(s); the file has {rows}",
                            l.added_in
                        ),
                    ));
                }
            }
        }
    }
    report.chains = chains.into_values().map(|(c, _)| c).collect();
    report.breaks = breaks;
    Ok(report)
}
