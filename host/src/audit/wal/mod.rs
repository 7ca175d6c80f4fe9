//! The write-ahead log: where a decision is made durable before anything
//! slow (Parquet, object storage, Delta commits) happens.
//!
//! Layout: a folder of segment files named by a sequence number that only
//! grows (`00000000000000000007.wal`). A segment starts with a 16-byte
//! header (`RYWAL001` and its sequence, little-endian) followed by records:
//!
//! ```text
//! magic u32 "RYD1" | length u32 | crc32 u32 (of length and payload) | payload
//! ```
//!
//! The payload's first byte names the row's table and format: binary
//! decisions and inferences, JSON for the rest and for WALs written before
//! the binary records (see `wire`; the reader takes every form).
//!
//! A segment is usually made from a file of zeros prepared ahead (see
//! `spare`): while it is open, and if a crash left it open, its records
//! are followed by zero bytes up to the preallocated size, which the reader
//! takes as the end. Sealing cuts the file back to its records.
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
//! Sealing is decided in the same critical section that takes the pending
//! records to write: a segment is closed only with every record ever
//! appended to it on disk, and a record appended after that lands in the
//! next segment. (Deciding the seal after writing, under a second lock,
//! let a record slip into a segment already handed to the committer: its
//! write then failed with "File exists", or, had the committer deleted
//! the segment, re-created it below the committed `txn` version, where the
//! committer would have skipped it.)
//!
//! A write or fsync that fails is a sixth state, *lost*: every record
//! appended and not yet durable is dropped unacknowledged (its caller gets
//! the error; the server refuses that call), the segment that failed is
//! sealed where it stands (its valid records are committed; a torn tail is
//! skipped), and appends are refused while [`Wal::failure`] says why
//! (`/readyz`). [`Wal::flush`], which the committer calls at least once a
//! second, then tries a fresh segment with backoff; once one is created
//! and synced, appends resume there. Nothing acknowledged is ever lost,
//! and no sequence number is written twice.
//!
//! Reading a segment checks every record's checksum. A torn tail (a record
//! cut short by a crash mid-write) and a damaged record (a flipped byte)
//! are reported and skipped; the reader re-synchronises on the next record
//! magic whose checksum holds, so one bad byte costs one record, never the
//! rest of the segment.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod encode;
mod error;
mod failure;
mod read;
mod spare;
pub(crate) mod wire;

pub(crate) use encode::frame;
pub use encode::{RecordFormat, encode, encode_row};
pub use error::WalError;
use error::io_err;
use failure::Failure;
use spare::{OpenSegment, Spares};

pub use read::{Damage, Scanned, ScannedSegment, SegmentContents, read_bytes, read_segment, scan};

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
/// The largest buffer kept for reuse.
const SPARE_MAX: usize = 8 << 20;

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
    /// An emptied buffer of a written chunk, reused by the next one (a
    /// group's buffer otherwise grows from empty by doubling, copying its
    /// bytes each time, on the recording threads).
    spare: Vec<u8>,
    /// Total bytes appended by this process (a log sequence number).
    lsn: u64,
    /// Set after a write or fsync failed, until a fresh segment is open.
    failed: Option<Failure>,
}

/// The writing side: held while writing and fsyncing.
struct Writer {
    file: Option<OpenSegment>,
    /// Every appended byte up to here is durable, or lost in a failure.
    durable_lsn: u64,
    /// LSN ranges `(after, up_to]` dropped by failures: a caller waiting
    /// for an LSN in one is told it failed, never acknowledged.
    lost: std::collections::VecDeque<(u64, u64)>,
}

#[cfg(test)]
type Hook = Box<dyn Fn(&Wal) + Send + Sync>;

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
    /// [`Writer::durable_lsn`], readable without the writer: a caller whose
    /// bytes a group fsync covered returns without queueing for the lock.
    durable: AtomicU64,
    /// The same mark for async waiters ([`Wal::durable_changes`]): a task
    /// waits for its bytes without holding a thread.
    durable_tx: tokio::sync::watch::Sender<u64>,
    /// Whether a failure ever dropped bytes (then callers check
    /// [`Writer::lost`]).
    any_lost: AtomicBool,
    /// Whether a caller of [`Wal::sync`] is writing and fsyncing for the
    /// group; the others wait on `synced` for it.
    leading: Mutex<bool>,
    synced: Condvar,
    /// The next segment's preallocated file (see `spare`).
    spares: Spares,
    _lock: File,
    /// Called by [`Wal::flush`] after it wrote its batch and before it
    /// closes a segment: where a concurrent append used to slip in.
    #[cfg(test)]
    flush_hook: Mutex<Option<Hook>>,
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
                spare: Vec::new(),
                lsn: 0,
                failed: None,
            }),
            writer: Mutex::new(Writer {
                file: None,
                durable_lsn: 0,
                lost: Default::default(),
            }),
            sealed_below: AtomicU64::new(next),
            durable: AtomicU64::new(0),
            durable_tx: tokio::sync::watch::Sender::new(0),
            any_lost: AtomicBool::new(false),
            leading: Mutex::new(false),
            synced: Condvar::new(),
            spares: Spares::new(true, dir),
            _lock: lock,
            #[cfg(test)]
            flush_hook: Mutex::new(None),
        })
    }

    /// With `on` false, segments are created empty and grow by appends
    /// instead of being preallocated (see `spare`; on by default).
    pub fn preallocating(mut self, on: bool) -> Wal {
        self.spares.set_enabled(on);
        self
    }

    /// Segments created from a preallocated file, and created empty while
    /// preallocation was on (none was ready).
    pub fn preallocated_segments(&self) -> (u64, u64) {
        (
            self.spares.used.load(Ordering::Relaxed),
            self.spares.missed.load(Ordering::Relaxed),
        )
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

    /// Why the log refuses appends, if a write or fsync failed and no fresh
    /// segment could be opened since.
    pub fn failure(&self) -> Option<String> {
        self.lock_appender()
            .failed
            .as_ref()
            .map(|f| f.reason.clone())
    }

    fn refused(&self, failure: &Failure) -> WalError {
        WalError::Failed {
            path: self.dir.display().to_string(),
            reason: failure.reason.clone(),
        }
    }

    /// Appends encoded records (each from [`encode()`]) as one unit: they land
    /// in one segment. Returns the log sequence number to wait for and
    /// where the first record starts.
    pub fn append(&self, encoded: &[u8]) -> Result<(u64, Position), WalError> {
        let mut a = self.lock_appender();
        if let Some(failure) = &a.failed {
            return Err(self.refused(failure));
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
            _ => {
                let mut data = std::mem::take(&mut a.spare);
                data.extend_from_slice(encoded);
                a.pending.push(Chunk { segment, data });
            }
        }
        a.segment_len += len;
        a.lsn += len;
        Ok((a.lsn, position))
    }

    /// Moves the durable mark up to `lsn` (durable, or lost in a failure)
    /// and wakes the async waiters it covers.
    fn mark_durable(&self, lsn: u64) {
        self.durable.fetch_max(lsn, Ordering::Release);
        self.durable_tx.send_if_modified(|mark| {
            let moved = lsn > *mark;
            if moved {
                *mark = lsn;
            }
            moved
        });
    }

    /// The durable mark as it moves: an async caller waits on it for its
    /// LSN, then takes [`Wal::synced`]'s answer. Something else must make
    /// the bytes durable ([`Wal::sync`] on a thread, or the async-durability
    /// flush): the mark moves only when an fsync ends or a failure drops
    /// bytes.
    pub fn durable_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.durable_tx.subscribe()
    }

    /// [`Wal::sync`]'s answer when it needs no wait: `Some` once `lsn` is
    /// at or below the durable mark, `None` while it is not.
    pub fn synced(&self, lsn: u64) -> Option<Result<(), WalError>> {
        (self.durable.load(Ordering::Acquire) >= lsn).then(|| self.settled(lsn))
    }

    /// Makes everything appended up to `lsn` durable. Concurrent callers
    /// share one fsync: one of them leads (writes and syncs every pending
    /// chunk) while the others wait for it; those its fsync covered return,
    /// and the first one it did not cover leads the next. An `Err` means
    /// the bytes up to `lsn` are not acknowledged.
    ///
    /// (Waiting on the writer's lock instead, as this did before, let a
    /// fresh caller take the lock for the next fsync while most of the
    /// group the last one covered still queued behind it: each paid two
    /// fsyncs, and 64 writers were woken one at a time.)
    pub fn sync(&self, lsn: u64) -> Result<(), WalError> {
        let mut leading = self.leading.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.durable.load(Ordering::Acquire) >= lsn {
                drop(leading);
                return self.settled(lsn);
            }
            if !*leading {
                break;
            }
            leading = self.synced.wait(leading).unwrap_or_else(|p| p.into_inner());
        }
        *leading = true;
        drop(leading);
        /// Hands the lead back and wakes the waiters, however the fsync
        /// ended.
        struct Lead<'a>(&'a Wal);
        impl Drop for Lead<'_> {
            fn drop(&mut self) {
                *self.0.leading.lock().unwrap_or_else(|p| p.into_inner()) = false;
                self.0.synced.notify_all();
            }
        }
        let _lead = Lead(self);
        let mut w = self.lock_writer();
        if let Some(e) = self.lost_error(&w, lsn) {
            return Err(e);
        }
        if w.durable_lsn >= lsn {
            return Ok(());
        }
        self.write_pending(&mut w, |_| {})?;
        Ok(())
    }

    /// Takes every pending chunk (after `decide` ran on the appender in the
    /// same critical section), writes and syncs it. Returns the segment
    /// that was open for appends when the chunks were taken: every byte of
    /// every segment below it is on disk once this returns `Ok`.
    fn write_pending(
        &self,
        w: &mut Writer,
        decide: impl FnOnce(&mut Appender),
    ) -> Result<u64, WalError> {
        let (chunks, end, open) = {
            let mut a = self.lock_appender();
            if let Some(failure) = &a.failed {
                return Err(self.refused(failure));
            }
            decide(&mut a);
            (std::mem::take(&mut a.pending), a.lsn, a.segment)
        };
        match self.write_chunks(w, &chunks) {
            Ok(()) => {
                w.durable_lsn = end;
                self.mark_durable(end);
                self.recycle(chunks);
                Ok(open)
            }
            Err(e) => {
                self.fail(w, e.to_string());
                Err(e)
            }
        }
    }

    /// Keeps the largest written buffer (up to [`SPARE_MAX`]) for the next
    /// chunk.
    fn recycle(&self, chunks: Vec<Chunk>) {
        let Some(mut data) = chunks
            .into_iter()
            .map(|c| c.data)
            .filter(|d| d.capacity() <= SPARE_MAX)
            .max_by_key(Vec::capacity)
        else {
            return;
        };
        data.clear();
        let mut a = self.lock_appender();
        if a.spare.capacity() < data.capacity() {
            a.spare = data;
        }
    }

    fn write_chunks(&self, w: &mut Writer, chunks: &[Chunk]) -> Result<(), WalError> {
        for chunk in chunks {
            if w.file.as_ref().map(|s| s.seq) != Some(chunk.segment) {
                self.close_current(w)?;
                w.file = Some(self.create_segment(chunk.segment)?);
            }
            let open = w.file.as_mut().expect("opened above");
            let path = self.dir.join(segment_name(open.seq));
            open.file
                .write_all(&chunk.data)
                .map_err(io_err(&path, "appending records"))?;
            open.written += chunk.data.len() as u64;
        }
        if let Some(open) = w.file.as_ref() {
            open.file
                .sync_data()
                .map_err(io_err(&self.dir.join(segment_name(open.seq)), "fsync"))?;
        }
        Ok(())
    }

    /// Closes the open segment (already synced) and marks it sealed.
    fn close_current(&self, w: &mut Writer) -> Result<(), WalError> {
        if let Some(open) = w.file.take() {
            let seq = open.seq;
            open.file
                .sync_data()
                .map_err(io_err(&self.dir.join(segment_name(seq)), "fsync"))?;
            self.retire_segment(open);
            self.sealed_below.fetch_max(seq + 1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Writes and syncs everything appended so far (the async-durability
    /// flush), and seals the open segment if it is older than the segment
    /// age or `force_seal` is set. After a failure, tries a fresh segment
    /// first (see the module docs). Returns the sequence below which every
    /// segment is now sealed.
    pub fn flush(&self, force_seal: bool) -> Result<u64, WalError> {
        let mut w = self.lock_writer();
        self.recover(&mut w);
        // The seal is decided with the pending records taken, in one
        // critical section: whatever is appended after it goes to the next
        // segment, so the segment closed below holds all its records.
        let open = self.write_pending(&mut w, |a| {
            let due = force_seal || a.opened.elapsed() >= self.max_segment_age;
            if due && a.segment_len > HEADER_LEN {
                a.segment += 1;
                a.segment_len = HEADER_LEN;
                a.opened = Instant::now();
            }
        })?;
        #[cfg(test)]
        if let Some(hook) = &*self.flush_hook.lock().unwrap_or_else(|p| p.into_inner()) {
            hook(self);
        }
        if w.file.as_ref().is_some_and(|s| s.seq < open)
            && let Err(e) = self.close_current(&mut w)
        {
            self.fail(&mut w, e.to_string());
            return Err(e);
        }
        self.sealed_below.fetch_max(open, Ordering::AcqRel);
        Ok(self.sealed_below())
    }

    /// Runs `hook` inside every later [`Wal::flush`], after its batch is
    /// written and before a segment is closed.
    #[cfg(test)]
    fn set_flush_hook(&self, hook: impl Fn(&Wal) + Send + Sync + 'static) {
        *self.flush_hook.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(hook));
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod format_tests;

#[cfg(test)]
mod spare_tests;

#[cfg(test)]
mod watch_tests;
