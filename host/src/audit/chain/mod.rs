//! Tamper evidence: a hash chain in every commit railyard writes.
//!
//! Where the chain lives: in the Delta commit itself, as a `railyardChain`
//! field of the commit's `commitInfo` action (deltalake 1.x
//! `CommitProperties::with_metadata` puts application keys there, and
//! every Delta reader ignores keys it does not know). That makes the chain
//! entry atomic with the commit it describes: a commit without its entry,
//! or an entry without its commit, cannot exist. A sidecar table or file
//! would need a second write that a crash can separate from the first.
//!
//! Each entry names its chain (one per writer: the committer's chain is
//! its WAL's txn app id `railyard:<host id>:<WAL id>`, so each host, and
//! each WAL folder of a host, has its own; maintenance and `railyard log`
//! commands start a chain per process), its sequence in that chain, the
//! previous entry's hash, the operation, and the SHA-256 and size of every
//! data file the commit adds or removes, and the SHA-256 of each `add`
//! action itself (stats, partition values: [`actions`]). Its hash covers
//! all of that. At
//! intervals (and always for a chain's first entry and for maintenance,
//! retention and erasure) the hash is signed with ed25519; the key id is
//! recorded beside the signature.
//!
//! Hosts append concurrently, so the chains interleave in the table's
//! versions; each chain is strictly ordered within itself. [`verify`]
//! recomputes everything from the log and the data files.

pub mod actions;
mod checkpoints;
mod commit;
mod keys;
pub mod verify;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use deltalake::{DeltaTable, DeltaTableError, ObjectStore};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use keys::{Signer, VerifyingKeys, key_id, signing_key_from_env};

/// The `commitInfo` key that carries a chain entry.
pub const COMMIT_INFO_KEY: &str = "railyardChain";

/// Domain separation for entry hashes.
const HASH_PREFIX: &[u8] = b"railyard-chain-v1\n";

/// A data file a commit adds or removes, as the chain records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    /// The file's path as the Delta action writes it (URL-encoded).
    pub path: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// For a file added: hex SHA-256 of its whole `add` action (stats,
    /// partition values…; see [`actions::add_action_hash`]). Absent in
    /// entries written before the chain covered it, and for removes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// What an entry's hash covers (field order is the hash's byte order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryBody {
    /// Format version: 2 when the adds carry their action's hash, 1
    /// before.
    pub v: u32,
    /// The chain (writer) this entry belongs to.
    pub chain: String,
    /// Position in the chain, from 0.
    pub seq: u64,
    /// Hex hash of the chain's previous entry; `None` for seq 0.
    pub prev: Option<String>,
    /// `append`, `optimize`, `retention` or `erase`.
    pub op: String,
    /// When the entry was made (µs since the epoch).
    pub at: i64,
    /// Files the commit adds.
    pub adds: Vec<FileHash>,
    /// Files the commit removes.
    pub removes: Vec<FileHash>,
    /// What the operation was about (erasure selector and counts, the
    /// partitions retention dropped); `null` for appends.
    pub note: Value,
}

/// A chain entry as stored in `commitInfo.railyardChain`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainEntry {
    /// What the hash covers.
    #[serde(flatten)]
    pub body: EntryBody,
    /// Hex SHA-256 of the body.
    pub hash: String,
    /// Id of the key that signed the hash (see [`key_id`]), if signed.
    #[serde(rename = "keyId", default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Hex ed25519 signature of the 32 hash bytes, if signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

impl EntryBody {
    /// The hex hash of this body.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(HASH_PREFIX);
        h.update(serde_json::to_vec(self).expect("an entry body serialises"));
        hex::encode(h.finalize())
    }
}

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Reads a data file of `table` (path as in its Delta action) and hashes it.
pub async fn hash_file(table: &DeltaTable, action_path: &str) -> Result<FileHash, DeltaTableError> {
    let path = deltalake::Path::from(super::table::percent_decode(action_path));
    let bytes = table
        .object_store()
        .get_opts(&path, Default::default())
        .await?
        .bytes()
        .await?;
    Ok(FileHash {
        path: action_path.to_string(),
        sha256: sha256_hex(&bytes),
        size: bytes.len() as u64,
        action: None,
    })
}

/// [`hash_file`] for a file `add` adds, with the hash of the action itself.
pub async fn hash_add(
    table: &DeltaTable,
    add: &deltalake::kernel::Add,
) -> Result<FileHash, DeltaTableError> {
    let mut hash = hash_file(table, &add.path).await?;
    hash.action = Some(actions::add_hash(add));
    Ok(hash)
}

/// The head of a chain as this process last committed it.
#[derive(Debug, Clone)]
struct Head {
    seq: u64,
    hash: String,
    last_signed: Option<Instant>,
}

/// Chain heads by (table URL, chain id). `None`: the chain is known to
/// have no entry yet.
type Heads = Option<HashMap<(String, String), Option<Head>>>;
static HEADS: Mutex<Heads> = Mutex::new(None);

fn heads() -> std::sync::MutexGuard<'static, Heads> {
    HEADS.lock().unwrap_or_else(|p| p.into_inner())
}

/// A chain id for one process's maintenance or command commits: new per
/// process, so two processes never extend one chain concurrently.
pub fn process_chain(role: &str) -> String {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let nonce = ID.get_or_init(|| {
        let bytes = super::settings::random_bytes(6)
            .unwrap_or_else(|_| std::process::id().to_be_bytes().to_vec());
        hex::encode(bytes)
    });
    let host = std::env::var("RAILYARD_HOST_ID")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "railyard".into());
    format!("railyard:{host}:{role}:{nonce}")
}

/// How often an append chain's head is signed (`RAILYARD_AUDIT_SIGN_SECS`,
/// default 60; 0 signs every commit). Maintenance, retention and erasure
/// entries, and every chain's first entry, are always signed.
fn sign_interval() -> Duration {
    std::env::var("RAILYARD_AUDIT_SIGN_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(60))
}

/// The next entry of `chain` in `table`, for a commit not yet made.
/// `known_new`: the chain cannot have entries in the table yet (a
/// per-process chain, or a writer whose txn app id the table has never
/// recorded), so the log is not searched for its head.
pub async fn next_entry(
    table: &DeltaTable,
    chain: &str,
    known_new: bool,
    op: &str,
    adds: Vec<FileHash>,
    removes: Vec<FileHash>,
    note: Value,
) -> Result<ChainEntry, DeltaTableError> {
    let key = (table.table_url().to_string(), chain.to_string());
    let cached = heads().get_or_insert_with(HashMap::new).get(&key).cloned();
    let head = match cached {
        Some(h) => h,
        None if known_new => None,
        None => find_head(table, chain).await?,
    };
    let (seq, prev) = match &head {
        Some(h) => (h.seq + 1, Some(h.hash.clone())),
        None => (0, None),
    };
    let body = EntryBody {
        v: if adds.iter().all(|a| a.action.is_some()) {
            2
        } else {
            1
        },
        chain: chain.to_string(),
        seq,
        prev,
        op: op.to_string(),
        at: super::record::now_us(),
        adds,
        removes,
        note,
    };
    let hash = body.hash();
    let signer = signing_key_from_env().map_err(DeltaTableError::generic)?;
    let due = match head.as_ref().and_then(|h| h.last_signed) {
        _ if op != "append" || seq == 0 => true,
        Some(at) => at.elapsed() >= sign_interval(),
        None => true,
    };
    let (key_id, sig) = match (signer, due) {
        (Some(s), true) => {
            let (id, sig) = s.sign_hash(&hash);
            (Some(id), Some(sig))
        }
        _ => (None, None),
    };
    Ok(ChainEntry {
        body,
        hash,
        key_id,
        sig,
    })
}

/// Records that `entry` is now in the table (its commit landed).
pub fn committed(table: &DeltaTable, entry: &ChainEntry) {
    let key = (table.table_url().to_string(), entry.body.chain.clone());
    let mut guard = heads();
    let map = guard.get_or_insert_with(HashMap::new);
    let last_signed = match map.get(&key) {
        Some(Some(h)) => h.last_signed,
        _ => None,
    };
    map.insert(
        key,
        Some(Head {
            seq: entry.body.seq,
            hash: entry.hash.clone(),
            last_signed: if entry.sig.is_some() {
                Some(Instant::now())
            } else {
                last_signed
            },
        }),
    );
}

/// Forgets what this process knows of a chain's head (after a commit whose
/// outcome is unknown): the next entry reads it from the table.
pub fn forget(table: &DeltaTable, chain: &str) {
    if let Some(map) = heads().as_mut() {
        map.remove(&(table.table_url().to_string(), chain.to_string()));
    }
}

/// The commit properties' metadata carrying `entry`.
pub fn metadata(entry: &ChainEntry) -> [(String, Value); 1] {
    [(
        COMMIT_INFO_KEY.to_string(),
        serde_json::to_value(entry).expect("an entry serialises"),
    )]
}

/// Searches the log, newest commit first, for the last entry of `chain`.
async fn find_head(table: &DeltaTable, chain: &str) -> Result<Option<Head>, DeltaTableError> {
    let store = table.object_store();
    let Some(latest) = table.version() else {
        return Ok(None);
    };
    let mut version = latest;
    loop {
        match verify::read_commit(store.as_ref(), version).await? {
            Some(commit) => {
                if let Some(entry) = commit.entry
                    && entry.body.chain == chain
                {
                    return Ok(Some(Head {
                        seq: entry.body.seq,
                        hash: entry.hash,
                        last_signed: None,
                    }));
                }
            }
            // Cleaned up below a checkpoint: nothing older to read.
            None => return Ok(None),
        }
        if version == 0 {
            return Ok(None);
        }
        version -= 1;
    }
}
