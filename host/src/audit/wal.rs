//! The write-ahead log: where a decision is made durable before anything
//! slow (Parquet, object storage, Delta commits) happens.
//!
//! Layout: a folder of segment files named by a sequence number that only
//! grows (`00000000000000000007.wal`). A segment starts with a 16-byte
//! header (`RYWAL001` and its sequence, little-endian) followed by records:
//!
//! ```text
//! magic u32 "RYD1" | length u32 | crc32 u32 (of length and payload) | payload (JSON)
//! ```
//!
//! The states a record passes through, and what a crash in each means:
//!
//! 1. *appended*: in the in-memory buffer. Not acknowledged; a crash loses it
//!    and its caller never heard "yes".
//! 2. *durable*: written and `fdatasync`ed (group commit: one fsync covers
//!    every record appended before it). With `durability = fsync` this is
//!    when [`Wal::append`]'s caller is acknowledged. With `async` a
//!    background flush makes it durable within [`ASYNC_FLUSH_INTERVAL`].
//! 3. *sealed*: its segment is closed; the committer may take it.
//! 4. *committed*: the segment's rows are in Delta under a `txn` action
//!    carrying the segment's sequence, so a replay is recognised and
//!    skipped (see `audit::table`).
//! 5. *deleted*: the segment file is removed, only after 4 is durable.
//!
//! Reading a segment checks every record's checksum. A torn tail (a record
//! cut short by a crash mid-write) and a damaged record (a flipped byte)
//! are reported and skipped; the reader re-synchronises on the next record
//! magic whose checksum holds, so one bad byte costs one record, never the
//! rest of the segment.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::record::AuditRecord;

const SEGMENT_MAGIC: &[u8; 8] = b"RYWAL001";
/// Bytes before the first record of a segment.
pub const HEADER_LEN: u64 = 16;
const RECORD_MAGIC: u32 = u32::from_le_bytes(*b"RYD1");
/// Bytes before a record's payload.
pub const RECORD_HEADER_LEN: usize = 12;
/// Longest record payload accepted; longer lengths read back are damage.
const MAX_RECORD: u32 = 64 << 20;
/// How often `durability = async` makes appended records durable.
pub const ASYNC_FLUSH_INTERVAL: Duration = Duration::from_millis(10);

/// When an appended record counts as acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// After the record is fsynced (group-committed with its neighbours).
    #[default]
    Fsync,
    /// Once it is in memory; a background flush fsyncs within
    /// [`ASYNC_FLUSH_INTERVAL`]. A crash may lose that window.
    Async,
}

impl Durability {
    /// Parses `fsync` or `async`.
    pub fn parse(s: &str) -> Option<Durability> {
        match s {
            "fsync" => Some(Durability::Fsync),
            "async" => Some(Durability::Async),
            _ => None,
        }
    }
}

/// A WAL position: segment sequence and byte offset of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The segment's sequence number.
    pub segment: u64,
    /// Byte offset of the record in the segment.
    pub offset: u64,
}

/// Bytes appended but not yet written, tagged with their segment.
struct Chunk {
    segment: u64,
    data: Vec<u8>,
}

/// The appending side: cheap, held only to copy bytes into a buffer.
struct Appender {
    segment: u64,
    segment_len: u64,
    opened: Instant,
    pending: Vec<Chunk>,
    /// Total bytes appended by this process (a log sequence number).
    lsn: u64,
    /// Set after a write or fsync failed: nothing more is acknowledged.
    failed: Option<String>,
}

/// The writing side: held while writing and fsyncing.
struct Writer {
    file: Option<(u64, File)>,
    durable_lsn: u64,
}

/// An open write-ahead log folder, owned by one process (a lock file keeps
/// a second process out).
pub struct Wal {
    dir: PathBuf,
    durability: Durability,
    max_segment_bytes: u64,
    max_segment_age: Duration,
    appender: Mutex<Appender>,
    writer: Mutex<Writer>,
    /// Every segment below this sequence is complete on disk.
    sealed_below: AtomicU64,
    _lock: File,
}

/// A WAL failure.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// The filesystem refused.
    #[error("write-ahead log {path}: {what}: {error}")]
    Io {
        /// The file or folder.
        path: String,
        /// What was being done.
        what: &'static str,
        /// Why.
        error: io::Error,
    },
    /// Another process holds the folder.
    #[error(
        "write-ahead log {path} is in use by another railyard process; give this one its own state folder (RAILYARD_STATE_DIR)"
    )]
    Locked {
        /// The folder.
        path: String,
    },
    /// An earlier write or fsync failed; nothing more can be acknowledged.
    #[error("write-ahead log {path} failed earlier and acknowledges nothing more: {reason}")]
    Failed {
        /// The folder.
        path: String,
        /// The first failure.
        reason: String,
    },
}

fn io_err<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(io::Error) -> WalError + 'a {
    move |error| WalError::Io {
        path: path.display().to_string(),
        what,
        error,
    }
}

/// File name of segment `seq`.
pub fn segment_name(seq: u64) -> String {
    format!("{seq:020}.wal")
}

/// Segment files in `dir`, by sequence.
pub fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_err(dir, "listing segments")(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(dir, "listing segments"))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(stem) = name.strip_suffix(".wal")
            && let Ok(seq) = stem.parse::<u64>()
        {
            out.push((seq, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Fsyncs a folder so a file created or removed in it survives power loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Wal {
    /// Opens (creating) the WAL folder. New records go to a fresh segment
    /// numbered after every existing one and after `floor` (the last
    /// sequence known committed), so sequences never repeat.
    pub fn open(
        dir: &Path,
        durability: Durability,
        max_segment_bytes: u64,
        max_segment_age: Duration,
        floor: u64,
    ) -> Result<Wal, WalError> {
        fs::create_dir_all(dir).map_err(io_err(dir, "creating the folder"))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path, "opening the lock file"))?;
        // A short wait lets back-to-back CLI runs share a folder; a
        // long-lived server holding it is reported, not waited on forever.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(WalError::Locked {
                        path: dir.display().to_string(),
                    });
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(io_err(&lock_path, "locking")(e));
                }
            }
        }
        let existing = list_segments(dir)?;
        let next = existing.last().map(|(s, _)| *s).unwrap_or(0).max(floor) + 1;
        Ok(Wal {
            dir: dir.to_path_buf(),
            durability,
            max_segment_bytes: max_segment_bytes.max(HEADER_LEN + 1),
            max_segment_age,
            appender: Mutex::new(Appender {
                segment: next,
                segment_len: HEADER_LEN,
                opened: Instant::now(),
                pending: Vec::new(),
                lsn: 0,
                failed: None,
            }),
            writer: Mutex::new(Writer {
                file: None,
                durable_lsn: 0,
            }),
            sealed_below: AtomicU64::new(next),
            _lock: lock,
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configured durability.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Every segment with a sequence below this is sealed.
    pub fn sealed_below(&self) -> u64 {
        self.sealed_below.load(Ordering::Acquire)
    }

    fn lock_appender(&self) -> MutexGuard<'_, Appender> {
        self.appender.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why the log refuses appends, if an earlier write or fsync failed.
    pub fn failure(&self) -> Option<String> {
        self.lock_appender().failed.clone()
    }

    /// Appends encoded records (each from [`encode`]) as one unit: they land
    /// in one segment. Returns the log sequence number to wait for and
    /// where the first record starts.
    pub fn append(&self, encoded: &[u8]) -> Result<(u64, Position), WalError> {
        let mut a = self.lock_appender();
        if let Some(reason) = &a.failed {
            return Err(WalError::Failed {
                path: self.dir.display().to_string(),
                reason: reason.clone(),
            });
        }
        let len = encoded.len() as u64;
        if a.segment_len > HEADER_LEN
            && (a.segment_len + len > self.max_segment_bytes
                || a.opened.elapsed() >= self.max_segment_age)
        {
            a.segment += 1;
            a.segment_len = HEADER_LEN;
            a.opened = Instant::now();
        }
        let segment = a.segment;
        let position = Position {
            segment,
            offset: a.segment_len,
        };
        match a.pending.last_mut() {
            Some(c) if c.segment == segment => c.data.extend_from_slice(encoded),
            _ => a.pending.push(Chunk {
                segment,
                data: encoded.to_vec(),
            }),
        }
        a.segment_len += len;
        a.lsn += len;
        Ok((a.lsn, position))
    }

    /// Makes everything appended up to `lsn` durable. Concurrent callers
    /// share one fsync: whoever holds the writer writes and syncs every
    /// pending chunk; the others find their bytes already durable.
    pub fn sync(&self, lsn: u64) -> Result<(), WalError> {
        let mut w = self.lock_writer();
        if w.durable_lsn >= lsn {
            return Ok(());
        }
        self.write_pending(&mut w)
    }

    fn write_pending(&self, w: &mut Writer) -> Result<(), WalError> {
        let (chunks, end) = {
            let mut a = self.lock_appender();
            if let Some(reason) = &a.failed {
                return Err(WalError::Failed {
                    path: self.dir.display().to_string(),
                    reason: reason.clone(),
                });
            }
            (std::mem::take(&mut a.pending), a.lsn)
        };
        let result = self.write_chunks(w, chunks);
        match result {
            Ok(()) => {
                w.durable_lsn = end;
                Ok(())
            }
            Err(e) => {
                self.lock_appender().failed = Some(e.to_string());
                Err(e)
            }
        }
    }

    fn write_chunks(&self, w: &mut Writer, chunks: Vec<Chunk>) -> Result<(), WalError> {
        for chunk in chunks {
            if w.file.as_ref().map(|(s, _)| *s) != Some(chunk.segment) {
                self.close_current(w)?;
                let path = self.dir.join(segment_name(chunk.segment));
                let mut file = OpenOptions::new()
                    .create_new(true)
                    .write(true)
                    .open(&path)
                    .map_err(io_err(&path, "creating a segment"))?;
                let mut header = [0u8; HEADER_LEN as usize];
                header[..8].copy_from_slice(SEGMENT_MAGIC);
                header[8..].copy_from_slice(&chunk.segment.to_le_bytes());
                file.write_all(&header)
                    .map_err(io_err(&path, "writing a segment header"))?;
                sync_dir(&self.dir).map_err(io_err(&self.dir, "syncing the folder"))?;
                w.file = Some((chunk.segment, file));
            }
            let (seq, file) = w.file.as_mut().expect("opened above");
            let path = self.dir.join(segment_name(*seq));
            file.write_all(&chunk.data)
                .map_err(io_err(&path, "appending records"))?;
        }
        if let Some((seq, file)) = w.file.as_ref() {
            file.sync_data()
                .map_err(io_err(&self.dir.join(segment_name(*seq)), "fsync"))?;
        }
        Ok(())
    }

    /// Closes the open segment (already synced) and marks it sealed.
    fn close_current(&self, w: &mut Writer) -> Result<(), WalError> {
        if let Some((seq, file)) = w.file.take() {
            file.sync_data()
                .map_err(io_err(&self.dir.join(segment_name(seq)), "fsync"))?;
            self.sealed_below.fetch_max(seq + 1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Writes and syncs everything appended so far (the async-durability
    /// flush), and seals the open segment if it is older than the segment
    /// age or `force` is set. Returns the sequence below which every
    /// segment is now sealed.
    pub fn flush(&self, force_seal: bool) -> Result<u64, WalError> {
        let mut w = self.lock_writer();
        self.write_pending(&mut w)?;
        let seal = {
            let mut a = self.lock_appender();
            let due = force_seal || a.opened.elapsed() >= self.max_segment_age;
            if due && a.segment_len > HEADER_LEN {
                a.segment += 1;
                a.segment_len = HEADER_LEN;
                a.opened = Instant::now();
                true
            } else {
                if a.segment_len == HEADER_LEN {
                    // Nothing in the open segment: whatever is on disk
                    // below it is complete.
                    self.sealed_below.fetch_max(a.segment, Ordering::AcqRel);
                }
                false
            }
        };
        if seal {
            self.close_current(&mut w)?;
        }
        Ok(self.sealed_below())
    }
}

/// Appends one record's framing and payload to `out`. The payload is one
/// byte naming the table (`d`, `i`, `j`) and the row as JSON: decoding
/// picks the row type from the byte, which is several times faster than a
/// tagged JSON object (serde buffers those whole before choosing).
pub fn encode(record: &AuditRecord, out: &mut Vec<u8>) {
    match record {
        AuditRecord::Decision(r) => encode_row(b'd', r, out),
        AuditRecord::Inference(r) => encode_row(b'i', r, out),
        AuditRecord::Judgement(r) => encode_row(b'j', r, out),
    }
}

/// Appends one record: `tag` (`d`, `i`, `j`) and `row` as JSON, framed.
pub fn encode_row<T: serde::Serialize>(tag: u8, row: &T, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&RECORD_MAGIC.to_le_bytes());
    out.extend_from_slice(&[0u8; 8]);
    out.push(tag);
    serde_json::to_writer(&mut *out, row).expect("audit records serialise");
    let len = (out.len() - start - RECORD_HEADER_LEN) as u32;
    out[start + 4..start + 8].copy_from_slice(&len.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(&out[start + RECORD_HEADER_LEN..]);
    out[start + 8..start + 12].copy_from_slice(&h.finalize().to_le_bytes());
}

/// Damage found while reading a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// The segment header is not a railyard WAL header.
    BadHeader,
    /// Bytes that do not form a valid record, followed by valid records.
    Corrupt {
        /// Where the bad bytes start.
        offset: u64,
        /// How many bytes were skipped.
        bytes: u64,
    },
    /// Bytes at the end that do not form a complete valid record: a write
    /// cut short by a crash (or damage at the very end).
    TornTail {
        /// Where the bad bytes start.
        offset: u64,
        /// How many bytes were skipped.
        bytes: u64,
    },
    /// A record whose checksum holds but whose payload does not decode.
    Undecodable {
        /// The record's offset.
        offset: u64,
        /// The decoder's message.
        error: String,
    },
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::BadHeader => f.write_str("bad segment header"),
            Damage::Corrupt { offset, bytes } => {
                write!(f, "{bytes} damaged bytes at offset {offset} skipped")
            }
            Damage::TornTail { offset, bytes } => {
                write!(f, "torn tail: {bytes} bytes at offset {offset} skipped")
            }
            Damage::Undecodable { offset, error } => {
                write!(f, "record at offset {offset} does not decode: {error}")
            }
        }
    }
}

/// What reading one segment gave.
#[derive(Debug)]
pub struct SegmentContents {
    /// The segment's sequence.
    pub segment: u64,
    /// Every valid record with its offset (and position stamped in).
    pub records: Vec<(u64, AuditRecord)>,
    /// Every damaged region.
    pub damage: Vec<Damage>,
}

/// Whether a valid record starts at `pos`; returns its end.
fn valid_at(data: &[u8], pos: usize) -> Option<usize> {
    let rest = data.get(pos..)?;
    if rest.len() < RECORD_HEADER_LEN {
        return None;
    }
    let word = |i: usize| u32::from_le_bytes(rest[i..i + 4].try_into().expect("4 bytes"));
    if word(0) != RECORD_MAGIC {
        return None;
    }
    let len = word(4);
    if len > MAX_RECORD || rest.len() < RECORD_HEADER_LEN + len as usize {
        return None;
    }
    let payload = &rest[RECORD_HEADER_LEN..RECORD_HEADER_LEN + len as usize];
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(payload);
    (h.finalize() == word(8)).then_some(pos + RECORD_HEADER_LEN + len as usize)
}

/// A record's payload (see [`encode`]).
fn decode(payload: &[u8]) -> Result<AuditRecord, String> {
    let (tag, json) = payload.split_first().ok_or("an empty record")?;
    let e = |e: serde_json::Error| e.to_string();
    match tag {
        b'd' => serde_json::from_slice(json)
            .map(AuditRecord::Decision)
            .map_err(e),
        b'i' => serde_json::from_slice(json)
            .map(AuditRecord::Inference)
            .map_err(e),
        b'j' => serde_json::from_slice(json)
            .map(AuditRecord::Judgement)
            .map_err(e),
        other => Err(format!("unknown record type byte {other:#04x}")),
    }
}

/// Reads a segment file, keeping every record whose checksum holds.
pub fn read_segment(path: &Path, segment: u64) -> Result<SegmentContents, WalError> {
    let data = fs::read(path).map_err(io_err(path, "reading a segment"))?;
    let mut damage = Vec::new();
    let header_ok = data.len() >= HEADER_LEN as usize
        && &data[..8] == SEGMENT_MAGIC
        && data[8..16] == segment.to_le_bytes();
    if !header_ok {
        damage.push(Damage::BadHeader);
    }
    let mut records = Vec::new();
    let mut pos = (HEADER_LEN as usize).min(data.len());
    while pos < data.len() {
        match valid_at(&data, pos) {
            Some(end) => {
                let payload = &data[pos + RECORD_HEADER_LEN..end];
                match decode(payload) {
                    Ok(mut r) => {
                        r.set_position(segment, pos as u64);
                        records.push((pos as u64, r));
                    }
                    Err(e) => damage.push(Damage::Undecodable {
                        offset: pos as u64,
                        error: e,
                    }),
                }
                pos = end;
            }
            None => {
                // Re-synchronise: the next offset where a whole valid
                // record starts.
                let next = (pos + 1..data.len()).find(|&p| valid_at(&data, p).is_some());
                match next {
                    Some(n) => {
                        damage.push(Damage::Corrupt {
                            offset: pos as u64,
                            bytes: (n - pos) as u64,
                        });
                        pos = n;
                    }
                    None => {
                        damage.push(Damage::TornTail {
                            offset: pos as u64,
                            bytes: (data.len() - pos) as u64,
                        });
                        break;
                    }
                }
            }
        }
    }
    Ok(SegmentContents {
        segment,
        records,
        damage,
    })
}
