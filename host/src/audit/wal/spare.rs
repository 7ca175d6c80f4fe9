//! Preallocated segments: the next segment's file is written full of
//! zeros and synced ahead of time, off the recording path, so that the
//! records later written into it overwrite blocks the filesystem already
//! has. An `fdatasync` of an append that grows a file must also commit the
//! file's new size and blocks to the filesystem's journal; one of an
//! overwrite flushes only the data. On this project's development disk
//! (ext4) that is about a third off every fsync a caller waits for
//! (BENCHMARKS.md, "Preallocated WAL segments").
//!
//! - The spare is a file `<n>.spare` in the WAL folder, at most one at a
//!   time, prepared by [`Wal::prepare_spare`] whenever none is ready. The
//!   committer calls it after each pass (at least twice per segment age),
//!   not the async-durability ticker, whose fsync every 10 ms it would
//!   delay. Its size follows the
//!   segments sealed so far: a quarter more than the last one, never less
//!   than three quarters of the size before, within
//!   [`MIN_SPARE`]..=the segment size limit.
//! - A new segment takes the spare when one is ready: it is linked under
//!   the segment's name (a link, not a rename, so an existing segment is
//!   never replaced), its header written over the first zeros, synced with
//!   the folder. Without a spare a segment is created empty, as before.
//!   Records written past the spare's end grow the file as before.
//! - Sealing a segment cuts the file back to its records (the cut need
//!   not be durable). A segment left open by a crash or a stop keeps its
//!   zeros: the reader takes a tail of zero bytes after the last record as
//!   the segment's end, not as damage (`read::scan`).
//! - Spares left by an earlier process are removed when the folder is
//!   opened.
//!
//! `RAILYARD_AUDIT_WAL_PREALLOCATE=off` turns it off (then every segment
//! grows by appends).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::{HEADER_LEN, SEGMENT_MAGIC, Wal, WalError, io_err, segment_name, sync_dir};

/// The ending of a spare's file name in the WAL folder (each spare has
/// a name of its own, so one being prepared never opens a file another
/// segment was just linked from).
pub(super) const SPARE_SUFFIX: &str = ".spare";
/// The smallest spare prepared.
pub(super) const MIN_SPARE: u64 = 256 << 10;
/// The first spare's size, before any segment was sealed.
const FIRST_SPARE: u64 = 1 << 20;
/// Spares are sized in whole steps of this.
const STEP: u64 = 64 << 10;

/// The segment being written: its file, how many bytes of it are records
/// (with the header), and how many were preallocated.
pub(super) struct OpenSegment {
    pub(super) seq: u64,
    pub(super) file: File,
    pub(super) written: u64,
    pub(super) allocated: u64,
}

/// A prepared file of zeros.
struct Spare {
    file: File,
    path: PathBuf,
    len: u64,
}

/// The WAL's spare, and what sizes it.
pub(super) struct Spares {
    enabled: bool,
    ready: Mutex<Option<Spare>>,
    preparing: AtomicBool,
    /// Names the next spare.
    made: AtomicU64,
    /// The next spare's size.
    pub(super) size: AtomicU64,
    /// Segments created from a spare, and without one (tests, stats).
    pub(super) used: AtomicU64,
    pub(super) missed: AtomicU64,
}

impl Spares {
    pub(super) fn new(enabled: bool, dir: &std::path::Path) -> Spares {
        // Spares an earlier process left are not trusted: their sizes and
        // sync state are unknown.
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().ends_with(SPARE_SUFFIX) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Spares {
            enabled,
            ready: Mutex::new(None),
            preparing: AtomicBool::new(false),
            made: AtomicU64::new(0),
            size: AtomicU64::new(FIRST_SPARE),
            used: AtomicU64::new(0),
            missed: AtomicU64::new(0),
        }
    }

    fn take(&self) -> Option<Spare> {
        self.ready.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn put_back(&self, spare: Spare) {
        *self.ready.lock().unwrap_or_else(|p| p.into_inner()) = Some(spare);
    }

    /// Turns preallocation on or off (before the log is shared: no spare
    /// is ready yet, and the folder was cleaned by [`Spares::new`]).
    pub(super) fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    /// Learns from a sealed segment of `len` bytes (header included).
    pub(super) fn sealed(&self, len: u64, limit: u64) {
        let before = self.size.load(Ordering::Relaxed);
        let wanted = (len + len / 4).max(before - before / 4);
        let size = wanted.div_ceil(STEP) * STEP;
        self.size.store(
            size.clamp(MIN_SPARE, limit.max(MIN_SPARE)),
            Ordering::Relaxed,
        );
    }
}

impl Wal {
    /// Prepares the next segment's file if preallocation is on and none is
    /// ready (or being prepared). Takes neither of the log's locks for the
    /// writing, so appends and syncs go on meanwhile; a failure is logged
    /// and leaves the next segment to be created empty.
    pub fn prepare_spare(&self) {
        let spares = &self.spares;
        if !spares.enabled
            || spares
                .ready
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some()
            || spares.preparing.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let len = spares.size.load(Ordering::Relaxed);
        let n = spares.made.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("{n}{SPARE_SUFFIX}"));
        match write_spare(&path, len) {
            Ok(file) => spares.put_back(Spare { file, path, len }),
            Err(e) => {
                let _ = fs::remove_file(&path);
                tracing::warn!(
                    wal = %self.dir.display(),
                    error = %e,
                    "audit WAL: could not preallocate the next segment; it will grow by appends"
                );
            }
        }
        spares.preparing.store(false, Ordering::Release);
    }

    /// Creates segment `seq` with its header, synced with its folder: from
    /// the spare when one is ready, else an empty file.
    pub(super) fn create_segment(&self, seq: u64) -> Result<OpenSegment, WalError> {
        let path = self.dir.join(segment_name(seq));
        let mut header = [0u8; HEADER_LEN as usize];
        header[..8].copy_from_slice(SEGMENT_MAGIC);
        header[8..].copy_from_slice(&seq.to_le_bytes());
        let (file, allocated) = match self.spares.take() {
            Some(spare) => {
                if let Err(e) = fs::hard_link(&spare.path, &path) {
                    self.spares.put_back(spare);
                    return Err(io_err(&path, "creating a segment")(e));
                }
                let _ = fs::remove_file(&spare.path);
                let mut file = spare.file;
                file.write_all_at(&header, 0)
                    .and_then(|()| file.seek(SeekFrom::Start(HEADER_LEN)).map(drop))
                    .and_then(|()| file.sync_data())
                    .map_err(io_err(&path, "writing a segment header"))?;
                self.spares.used.fetch_add(1, Ordering::Relaxed);
                (file, spare.len)
            }
            None => {
                let mut file = OpenOptions::new()
                    .create_new(true)
                    .write(true)
                    .open(&path)
                    .map_err(io_err(&path, "creating a segment"))?;
                file.write_all(&header)
                    .and_then(|()| file.sync_data())
                    .map_err(io_err(&path, "writing a segment header"))?;
                if self.spares.enabled {
                    self.spares.missed.fetch_add(1, Ordering::Relaxed);
                }
                (file, HEADER_LEN)
            }
        };
        sync_dir(&self.dir).map_err(io_err(&self.dir, "syncing the folder"))?;
        Ok(OpenSegment {
            seq,
            file,
            written: HEADER_LEN,
            allocated,
        })
    }

    /// A segment is done with (sealed, failed or the log closed): cuts a
    /// preallocated file back to its records and learns its size.
    pub(super) fn retire_segment(&self, segment: OpenSegment) {
        if segment.allocated > segment.written
            && let Err(e) = segment.file.set_len(segment.written)
        {
            // Harmless: the reader takes the zeros as the end.
            tracing::debug!(segment = segment.seq, error = %e, "audit WAL: could not trim a segment");
        }
        self.spares.sealed(segment.written, self.max_segment_bytes);
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        let open = self
            .writer
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .file
            .take();
        if let Some(segment) = open {
            self.retire_segment(segment);
        }
        if let Some(spare) = self.spares.take() {
            let _ = fs::remove_file(spare.path);
        }
    }
}

/// Writes `len` zero bytes to a new file at `path` and syncs them with the
/// file's size and blocks, so that overwriting them later needs no
/// journal commit.
fn write_spare(path: &std::path::Path, len: u64) -> io::Result<File> {
    let mut file = OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(path)?;
    // Written, not `set_len` or `fallocate`: those leave holes or
    // unwritten extents, and an overwrite of either is again a metadata
    // change that the caller's fsync must commit to the journal.
    let zeros = vec![0u8; STEP as usize];
    let mut left = len;
    while left > 0 {
        let n = left.min(STEP) as usize;
        file.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    file.sync_all()?;
    Ok(file)
}
