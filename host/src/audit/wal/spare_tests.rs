//! Preallocated segments (see `spare`): made ahead by the committer, taken by
//! the next segment, cut back when sealed, and read whole when a crash
//! left one open.

use std::path::Path;

use super::spare::{MIN_SPARE, SPARE_SUFFIX, Spares};
use super::tests::{append_sync, decision, on_disk, open};
use super::*;

fn spares_in(dir: &Path) -> Vec<(String, u64)> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(SPARE_SUFFIX))
        .map(|e| {
            let len = e.metadata().unwrap().len();
            (e.file_name().to_string_lossy().into_owned(), len)
        })
        .collect();
    out.sort();
    out
}

/// Like `tests::open`, owned (dropped where a test says, or configured).
fn owned(dir: &Path) -> Wal {
    Wal::open(
        dir,
        Durability::Fsync,
        1 << 20,
        Duration::from_secs(3600),
        0,
    )
    .unwrap()
}

fn file_len(dir: &Path, seq: u64) -> u64 {
    fs::metadata(dir.join(segment_name(seq))).unwrap().len()
}

#[test]
fn a_prepared_spare_becomes_the_next_segment_and_is_cut_back_when_sealed() {
    let tmp = tempfile::tempdir().unwrap();
    let wal = open(tmp.path());
    assert!(
        spares_in(tmp.path()).is_empty(),
        "none before one is asked for"
    );
    // The first segment: no spare is ready yet.
    let first = append_sync(&wal, "one").unwrap();
    assert_eq!(wal.preallocated_segments(), (0, 1));
    wal.flush(true).unwrap();
    assert!(spares_in(tmp.path()).is_empty(), "a flush makes none");
    wal.prepare_spare();
    assert_eq!(
        file_len(tmp.path(), first.segment),
        HEADER_LEN + decision("one").len() as u64,
        "a segment made without a spare holds its records only"
    );
    let spares = spares_in(tmp.path());
    assert_eq!(spares.len(), 1, "{spares:?}");
    assert!(spares[0].1 >= MIN_SPARE, "{spares:?}");

    // The next segment is the spare: its file is preallocated while open.
    let second = append_sync(&wal, "two").unwrap();
    assert_eq!(second.segment, first.segment + 1);
    assert_eq!(wal.preallocated_segments(), (1, 1));
    assert_eq!(file_len(tmp.path(), second.segment), spares[0].1);
    let open_contents = read_segment(
        &tmp.path().join(segment_name(second.segment)),
        second.segment,
    )
    .unwrap();
    assert_eq!(open_contents.records.len(), 1);
    assert!(
        open_contents.damage.is_empty(),
        "the zeros are the end: {:?}",
        open_contents.damage
    );
    append_sync(&wal, "three").unwrap();

    // Sealed: cut back to its records; then a new spare.
    wal.flush(true).unwrap();
    wal.prepare_spare();
    assert_eq!(
        file_len(tmp.path(), second.segment),
        HEADER_LEN + (decision("two").len() + decision("three").len()) as u64,
        "cut back to its two records"
    );
    let after = spares_in(tmp.path());
    assert_eq!(after.len(), 1, "one spare at a time: {after:?}");
    assert_ne!(after[0].0, spares[0].0, "each spare has its own name");
    let seen = on_disk(tmp.path());
    for id in ["one", "two", "three"] {
        assert_eq!(seen.get(id).map(Vec::len), Some(1), "{id}: {seen:?}");
    }
}

#[test]
fn a_segment_a_crash_left_open_reads_whole_and_the_next_process_starts_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let wal = owned(tmp.path());
    append_sync(&wal, "before").unwrap();
    wal.flush(true).unwrap();
    wal.prepare_spare();
    let open_one = append_sync(&wal, "acked").unwrap();
    wal.prepare_spare();
    // A crash: the folder as it is now, copied before the log is dropped
    // (a drop trims the open segment and removes the spare).
    let crashed = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(tmp.path()).unwrap().flatten() {
        if entry.file_type().unwrap().is_file() && entry.file_name() != "lock" {
            fs::copy(entry.path(), crashed.path().join(entry.file_name())).unwrap();
        }
    }
    drop(wal);
    let dir = crashed.path();
    assert!(file_len(dir, open_one.segment) > HEADER_LEN + 200);
    assert_eq!(spares_in(dir).len(), 1);
    let contents =
        read_segment(&dir.join(segment_name(open_one.segment)), open_one.segment).unwrap();
    assert_eq!(contents.records.len(), 1);
    assert!(contents.damage.is_empty(), "{:?}", contents.damage);

    // The next process: its own spares only, and sequences go on.
    let wal = open(dir);
    assert!(
        spares_in(dir).is_empty(),
        "an earlier process's spare is removed"
    );
    let next = append_sync(&wal, "after").unwrap();
    assert!(next.segment > open_one.segment);
    let seen = on_disk(dir);
    for id in ["before", "acked", "after"] {
        assert_eq!(seen.get(id).map(Vec::len), Some(1), "{id}: {seen:?}");
    }
}

#[test]
fn a_record_torn_before_the_zeros_is_reported_and_the_zeros_are_not() {
    let mut bytes = SEGMENT_MAGIC.to_vec();
    bytes.extend_from_slice(&7u64.to_le_bytes());
    bytes.extend_from_slice(&decision("whole"));
    let end = bytes.len();
    // Whole record then zeros: no damage.
    let mut clean = bytes.clone();
    clean.resize(end + 4096, 0);
    let scanned = scan(&clean, 7);
    assert_eq!((scanned.records.len(), scanned.damage.len()), (1, 0));
    // Half a record then zeros: a torn tail where the half starts.
    let mut torn = bytes.clone();
    torn.extend_from_slice(&decision("half")[..40]);
    torn.resize(end + 4096, 0);
    let scanned = scan(&torn, 7);
    assert_eq!(scanned.records.len(), 1);
    assert!(
        matches!(scanned.damage[..], [Damage::TornTail { offset, .. }] if offset as usize == end),
        "{:?}",
        scanned.damage
    );
    // Zeros between records (a page that never reached the disk) are
    // damage, not the end: the record after them is still read.
    let mut gap = bytes.clone();
    gap.resize(end + 100, 0);
    gap.extend_from_slice(&decision("after the gap"));
    let scanned = scan(&gap, 7);
    assert_eq!(scanned.records.len(), 2);
    assert!(
        matches!(scanned.damage[..], [Damage::Corrupt { offset, bytes: 100 }] if offset as usize == end),
        "{:?}",
        scanned.damage
    );
}

#[test]
fn with_preallocation_off_no_spare_is_made() {
    let tmp = tempfile::tempdir().unwrap();
    let wal = owned(tmp.path()).preallocating(false);
    let first = append_sync(&wal, "one").unwrap();
    wal.prepare_spare();
    assert!(spares_in(tmp.path()).is_empty());
    let one = file_len(tmp.path(), first.segment);
    wal.flush(true).unwrap();
    let second = append_sync(&wal, "two").unwrap();
    assert_eq!(
        file_len(tmp.path(), second.segment),
        one,
        "grown by appends"
    );
    assert_eq!(wal.preallocated_segments(), (0, 0));
}

#[test]
fn the_spare_follows_the_segments_sealed() {
    let tmp = tempfile::tempdir().unwrap();
    let spares = Spares::new(true, tmp.path());
    let limit = 16 << 20;
    let size = |s: &Spares| s.size.load(Ordering::Relaxed);
    assert_eq!(size(&spares), 1 << 20, "before any segment");
    spares.sealed(4 << 20, limit);
    assert_eq!(size(&spares), 5 << 20, "a quarter more than the last");
    spares.sealed(1000, limit);
    assert_eq!(
        size(&spares),
        (5 << 20) / 4 * 3,
        "falls by a quarter at most"
    );
    for _ in 0..40 {
        spares.sealed(1000, limit);
    }
    assert_eq!(size(&spares), MIN_SPARE, "never under the floor");
    spares.sealed(100 << 20, limit);
    assert_eq!(size(&spares), limit, "never over the segment limit");
}
