//! The WAL's interleavings, reproduced deterministically with the flush
//! hook (no sleeps): a record appended while a segment is being sealed, and
//! a failed write followed by recovery on a fresh segment.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use super::failure::FIRST_RECOVERY_WAIT;
use super::*;
use crate::audit::record::{AuditRecord, DecisionRow};

pub(super) fn decision(id: &str) -> Vec<u8> {
    let row = DecisionRow {
        decision_id: id.into(),
        request_id: id.into(),
        timestamp_us: 0,
        host_id: "h".into(),
        policy_name: "p".into(),
        policy_digest: "sha256:00".into(),
        route: String::new(),
        caller: String::new(),
        stage: "request".into(),
        plugin: "pii".into(),
        plugin_name: "pii".into(),
        plugin_version: "1".into(),
        plugin_digest: "sha256:00".into(),
        plugin_kind: "pii-detector".into(),
        action: "allow".into(),
        reason: String::new(),
        findings: Vec::new(),
        outcome: "ok".into(),
        failure_mode: None,
        error: None,
        latency_us: 0,
        payload_hash: String::new(),
        wal_segment: 0,
        wal_offset: 0,
        arm: None,
    };
    let mut out = Vec::new();
    encode(&AuditRecord::Decision(row), RecordFormat::Binary, &mut out);
    out
}

/// Every decision id on disk, with the segments it is in.
pub(super) fn on_disk(dir: &Path) -> HashMap<String, Vec<u64>> {
    let mut seen: HashMap<String, Vec<u64>> = HashMap::new();
    for (seq, path) in list_segments(dir).unwrap() {
        for (_, r) in read_segment(&path, seq).unwrap().records {
            if let AuditRecord::Decision(d) = r {
                seen.entry(d.decision_id).or_default().push(seq);
            }
        }
    }
    seen
}

/// A WAL whose segments never age out on their own.
pub(super) fn open(dir: &Path) -> Arc<Wal> {
    Arc::new(
        Wal::open(
            dir,
            Durability::Fsync,
            1 << 20,
            Duration::from_secs(3600),
            0,
        )
        .unwrap(),
    )
}

/// A log whose next segment cannot be created: one record durable in a
/// sealed segment, and the next segment's name held by another file.
pub(super) fn next_segment_taken(dir: &Path) -> Arc<Wal> {
    let wal = open(dir);
    let kept = append_sync(&wal, "kept").unwrap();
    wal.flush(true).unwrap();
    std::fs::write(dir.join(segment_name(kept.segment + 1)), b"x").unwrap();
    wal
}

pub(super) fn append_sync(wal: &Wal, id: &str) -> Result<Position, WalError> {
    let (lsn, pos) = wal.append(&decision(id))?;
    wal.sync(lsn)?;
    Ok(pos)
}

#[test]
fn record_appended_while_a_segment_is_sealed_goes_to_the_next_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let wal = open(tmp.path());
    let first = append_sync(&wal, "a").unwrap();

    // The interleaving that wedged the log: a record appended after the
    // flush wrote its batch and before it closed the segment.
    let slipped: Arc<Mutex<Option<(u64, Position)>>> = Arc::default();
    let slot = slipped.clone();
    wal.set_flush_hook(move |wal| {
        let mut slot = slot.lock().unwrap();
        if slot.is_none() {
            *slot = Some(wal.append(&decision("b")).unwrap());
        }
    });
    let sealed_below = wal.flush(true).unwrap();
    let (lsn, pos) = slipped.lock().unwrap().take().expect("the hook ran");
    assert!(sealed_below > first.segment, "the first segment is sealed");
    assert!(
        pos.segment >= sealed_below,
        "the slipped record must land in a segment the committer has not been given: {pos:?}, sealed below {sealed_below}"
    );

    // The committer takes the sealed segment and deletes it, as it does
    // after committing it.
    std::fs::remove_file(tmp.path().join(segment_name(first.segment))).unwrap();
    // The slipped record's write must neither fail ("File exists") nor
    // re-create the deleted segment below the committed sequence.
    wal.sync(lsn).expect("the slipped record becomes durable");
    assert!(wal.failure().is_none());
    assert!(!tmp.path().join(segment_name(first.segment)).exists());
    wal.flush(true).unwrap();
    let seen = on_disk(tmp.path());
    assert_eq!(seen.get("b"), Some(&vec![pos.segment]), "{seen:?}");
}

#[test]
fn every_record_lands_exactly_once_while_flushes_race_appends() {
    let tmp = tempfile::tempdir().unwrap();
    let wal = open(tmp.path());
    // The hook appends one record inside every flush; the main thread
    // appends between flushes.
    let n = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = n.clone();
    wal.set_flush_hook(move |wal| {
        // The hook runs while flush holds the writer, so it only appends;
        // the next sync or flush writes the record.
        let i = counter.fetch_add(1, Ordering::Relaxed);
        wal.append(&decision(&format!("h{i}"))).unwrap();
    });
    for i in 0..200 {
        append_sync(&wal, &format!("m{i}")).unwrap();
        wal.flush(i % 3 != 0).unwrap();
    }
    let (lsn, _) = wal.append(&decision("last")).unwrap();
    wal.sync(lsn).unwrap();
    // The last flush's hook appended once more: one flush without the
    // hook writes it.
    wal.set_flush_hook(|_| {});
    wal.flush(true).unwrap();
    let hooks = n.load(Ordering::Relaxed);
    let seen = on_disk(tmp.path());
    assert_eq!(seen.len() as u64, 200 + hooks + 1);
    for (id, segments) in &seen {
        assert_eq!(segments.len(), 1, "{id} on disk {} times", segments.len());
    }
    assert!(wal.failure().is_none());
}

#[test]
fn failed_write_is_refused_then_recovers_on_a_fresh_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let wal = open(tmp.path());
    let kept = append_sync(&wal, "kept").unwrap();
    wal.flush(true).unwrap();
    wal.prepare_spare();
    // Something else holds the name of the next segment: creating it fails.
    let next = kept.segment + 1;
    std::fs::write(tmp.path().join(segment_name(next)), b"not ours").unwrap();

    let err = append_sync(&wal, "lost").unwrap_err();
    assert!(err.to_string().contains("creating a segment"), "{err}");
    let why = wal
        .failure()
        .expect("the failure is reported (what /readyz says)");
    assert!(why.contains("File exists"), "{why}");
    assert!(matches!(
        wal.append(&decision("refused")),
        Err(WalError::Failed { .. })
    ));
    assert!(
        wal.sealed_below() > next,
        "the failed segment is sealed for the committer (it quarantines what it cannot read)"
    );

    // The committer's flush tries a fresh segment once the wait is over.
    let deadline = Instant::now() + Duration::from_secs(60);
    while wal.failure().is_some() {
        assert!(
            Instant::now() < deadline,
            "no recovery: {:?}",
            wal.failure()
        );
        std::thread::sleep(FIRST_RECOVERY_WAIT);
        let _ = wal.flush(false);
    }
    let resumed = append_sync(&wal, "after").unwrap();
    assert!(resumed.segment > next, "{resumed:?}");
    assert_eq!(
        wal.preallocated_segments(),
        (1, 1),
        "the spare whose link was refused is where appends resumed (the name in the way was never replaced)"
    );
    wal.flush(true).unwrap();
    let seen = on_disk(tmp.path());
    assert_eq!(seen.get("kept"), Some(&vec![kept.segment]));
    assert_eq!(seen.get("after"), Some(&vec![resumed.segment]));
    assert!(
        !seen.contains_key("lost"),
        "a refused record is not on disk"
    );
}

#[test]
fn a_caller_whose_bytes_were_dropped_is_never_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let wal = next_segment_taken(tmp.path());
    // Two appends; the first sync fails for both (group commit).
    let (lsn1, _) = wal.append(&decision("one")).unwrap();
    let (lsn2, _) = wal.append(&decision("two")).unwrap();
    assert!(wal.sync(lsn1).is_err());
    // Even after recovery, the second caller learns its bytes were dropped.
    let deadline = Instant::now() + Duration::from_secs(60);
    while wal.failure().is_some() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(FIRST_RECOVERY_WAIT);
        let _ = wal.flush(false);
    }
    let err = wal.sync(lsn2).unwrap_err();
    assert!(err.to_string().contains("not recorded"), "{err}");
    append_sync(&wal, "three").unwrap();
    assert!(wal.sync(lsn2).is_err(), "still refused after later records");
}
