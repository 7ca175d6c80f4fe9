//! The audit log in-process: rows read back through the Delta log equal
//! what was decided, replays are not committed twice, WAL damage is found
//! and survived, and a full backlog is refused (or alarmed), never dropped.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use railyard::audit::{
    self, AuditLog, AuditSettings, CallInfo, Capture, DecisionRow, OnFull, RecordContext,
    TableKind, table, wal,
};
use railyard::cli::log::{read_decisions, read_inferences};
use railyard::{Evaluation, Payload};

const DEFAULT_POLICY: &str = r#"
[stages]
request = ["pii", "secrets", "prompt-injection"]
response = ["pii", "secrets"]
"#;

struct Dirs {
    _tmp: tempfile::TempDir,
    table: PathBuf,
    state: PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    Dirs {
        table: tmp.path().join("audit"),
        state: tmp.path().join("state"),
        _tmp: tmp,
    }
}

fn settings(d: &Dirs) -> AuditSettings {
    let mut s = AuditSettings::new(d.table.display().to_string(), &d.state);
    s.host_id = Some("test-host".into());
    s.hash_key = Some(b"test key".to_vec());
    s.segment_age = Duration::from_millis(50);
    s
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn decisions(d: &Dirs) -> Vec<DecisionRow> {
    let root = audit::root_url(&d.table.display().to_string()).unwrap();
    rt().block_on(read_decisions(&root, &Default::default()))
        .unwrap()
}

fn record(log: &AuditLog, e: &Evaluation, p: &Payload, capture: Capture) -> audit::Ack {
    log.record(
        e,
        &RecordContext {
            payload: p,
            capture,
            call: Some(CallInfo::default()),
        },
    )
    .expect("recorded")
}

#[test]
fn decisions_read_back_through_the_delta_log_equal_what_was_decided() {
    let d = dirs();
    let pipeline = common::pipeline(DEFAULT_POLICY);
    let log = AuditLog::open(settings(&d)).unwrap();
    let mut payload = common::request("mail bob@example.com, key AKIAZ7VRSQ5TJN2EXMPL");
    payload.route = "gpt-test".into();
    payload.caller = "team-a".into();
    let evaluation = pipeline.evaluate(&payload);
    let ack = record(&log, &evaluation, &payload, Capture::Redacted);
    assert_eq!(ack.decision_ids.len(), evaluation.decisions.len());
    log.flush(Duration::from_secs(30)).unwrap();

    let rows = decisions(&d);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let hash = log.payload_hash(&payload.messages);
    for (decision, id) in evaluation.decisions.iter().zip(&ack.decision_ids) {
        let row = rows
            .iter()
            .find(|r| &r.decision_id == id)
            .unwrap_or_else(|| panic!("decision {id} missing"));
        assert_eq!(row.request_id, evaluation.request_id);
        assert_eq!(row.host_id, "test-host");
        assert_eq!(row.policy_name, evaluation.policy);
        assert_eq!(row.policy_digest, evaluation.policy_digest);
        assert_eq!(row.route, "gpt-test");
        assert_eq!(row.caller, "team-a");
        assert_eq!(row.stage, "request");
        assert_eq!(row.plugin, decision.plugin);
        assert_eq!(row.plugin_name, decision.plugin_name);
        assert_eq!(row.plugin_version, decision.plugin_version);
        assert_eq!(row.plugin_digest, decision.plugin_digest.to_string());
        assert_eq!(row.plugin_kind, decision.kind.as_str());
        assert_eq!(row.action, decision.action.as_str());
        assert_eq!(row.reason, decision.reason);
        assert_eq!(row.outcome, decision.outcome.as_str());
        assert_eq!(
            row.failure_mode,
            decision.failure_mode.map(|m| m.as_str().to_string())
        );
        assert_eq!(row.error, decision.error);
        assert_eq!(row.latency_us, decision.latency_us as i64);
        assert_eq!(row.payload_hash, hash);
        assert_eq!(row.findings.len(), decision.findings.len());
        for (got, want) in row.findings.iter().zip(&decision.findings) {
            assert_eq!(got.rule_id, want.rule_id);
            assert_eq!(got.category, want.category);
            assert_eq!(got.score, want.score);
            assert_eq!(got.message_index, want.span.map(|s| s.message as i32));
            assert_eq!(got.span_start, want.span.map(|s| s.start as i32));
            assert_eq!(got.span_end, want.span.map(|s| s.end as i32));
        }
        assert_eq!(row.wal_segment as u64, ack.position.segment);
        assert!(row.wal_offset as u64 >= ack.position.offset);
        let now = chrono::Utc::now().timestamp_micros();
        assert!(
            (now - row.timestamp_us).abs() < 60_000_000,
            "timestamp {}",
            row.timestamp_us
        );
    }
    assert!(
        rows.iter()
            .any(|r| r.plugin == "pii" && r.action == "redact" && !r.findings.is_empty())
    );

    let root = audit::root_url(&d.table.display().to_string()).unwrap();
    let inferences = rt()
        .block_on(read_inferences(&root, &Default::default()))
        .unwrap();
    assert_eq!(inferences.len(), 1);
    let inf = &inferences[0];
    assert_eq!(inf.request_id, evaluation.request_id);
    assert_eq!(inf.action, evaluation.action.as_str());
    assert_eq!(inf.capture, "redacted");
    assert_eq!(inf.decision_count, 3);
    let request = inf.request.as_deref().unwrap();
    assert!(request.contains("<EMAIL_ADDRESS>"), "{request}");
    assert!(
        !request.contains("bob@example.com"),
        "PII reached the table: {request}"
    );
    assert_eq!(inf.payload_hash, hash);
    assert_eq!(inf.response, None);
}

#[test]
fn capture_full_keeps_the_text_and_none_keeps_only_the_hash() {
    let d = dirs();
    let pipeline = common::pipeline(DEFAULT_POLICY);
    let log = AuditLog::open(settings(&d)).unwrap();
    let full = common::request("full: carol@example.com");
    let none = common::request("none: dave@example.com");
    record(&log, &pipeline.evaluate(&full), &full, Capture::Full);
    record(&log, &pipeline.evaluate(&none), &none, Capture::None);
    log.flush(Duration::from_secs(30)).unwrap();
    let root = audit::root_url(&d.table.display().to_string()).unwrap();
    let rows = rt()
        .block_on(read_inferences(&root, &Default::default()))
        .unwrap();
    let by = |id: &str| rows.iter().find(|r| r.request_id == id).unwrap();
    assert!(
        by(&full.request_id)
            .request
            .as_deref()
            .unwrap()
            .contains("carol@example.com")
    );
    assert_eq!(by(&full.request_id).capture, "full");
    assert_eq!(by(&none.request_id).request, None);
    assert_eq!(by(&none.request_id).capture, "none");
    assert_eq!(
        by(&none.request_id).payload_hash,
        log.payload_hash(&none.messages)
    );
}

#[test]
fn a_segment_already_recorded_in_the_table_is_not_committed_twice() {
    let d = dirs();
    std::fs::create_dir_all(&d.table).unwrap();
    let root = audit::root_url(&d.table.display().to_string()).unwrap();
    let rt = rt();
    rt.block_on(async {
        let mut t = table::open_or_create(&root, TableKind::Decisions, &Default::default())
            .await
            .unwrap();
        let row = DecisionRow {
            decision_id: "0190a0a0-0000-7000-8000-000000000001".into(),
            request_id: "r1".into(),
            timestamp_us: 1_763_800_000_000_000,
            host_id: "h".into(),
            policy_name: "p".into(),
            policy_digest: "sha256:00".into(),
            route: String::new(),
            caller: "c".into(),
            stage: "request".into(),
            plugin: "pii".into(),
            plugin_name: "pii".into(),
            plugin_version: "0.1.0".into(),
            plugin_digest: "sha256:11".into(),
            plugin_kind: "pii-detector".into(),
            action: "allow".into(),
            reason: String::new(),
            findings: vec![],
            outcome: "ok".into(),
            failure_mode: None,
            error: None,
            latency_us: 5,
            payload_hash: "ab".into(),
            wal_segment: 7,
            wal_offset: 16,
            arm: None,
        };
        let batch = audit::schema::decisions_batch(std::slice::from_ref(&row)).unwrap();
        let first = table::commit_segment(&mut t, "app", 7, batch.clone(), None)
            .await
            .unwrap();
        assert!(matches!(first, table::CommitOutcome::Committed(_)));
        // The replay of segment 7 after a crash, and a stale lower one.
        for seq in [7, 3] {
            let again = table::commit_segment(&mut t, "app", seq, batch.clone(), None)
                .await
                .unwrap();
            assert_eq!(
                again,
                table::CommitOutcome::AlreadyCommitted,
                "segment {seq}"
            );
        }
        // Another writer's app id has its own sequence space.
        let other = table::commit_segment(&mut t, "other-app", 7, batch, None)
            .await
            .unwrap();
        assert!(matches!(other, table::CommitOutcome::Committed(_)));
        assert_eq!(
            table::recorded_version(&mut t, "app").await.unwrap(),
            Some(7)
        );
    });
    let rows = decisions(&d);
    assert_eq!(rows.len(), 2, "one row per committing app id");
}

#[test]
fn the_committer_reads_its_tables_afresh_without_losing_or_repeating_a_row() {
    // Reopen after every 2 commits: each flush below seals one segment,
    // which commits to `decisions` and `inferences`, so the committer
    // reopens its tables after every flush, in the middle of the run.
    let d = dirs();
    let mut s = settings(&d);
    s.reopen_after_commits = 2;
    let pipeline = common::pipeline(DEFAULT_POLICY);
    let log = AuditLog::open(s).unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..6 {
        let payload = common::request(&format!("call {i}: mail bob{i}@example.com"));
        let evaluation = pipeline.evaluate(&payload);
        let ack = record(&log, &evaluation, &payload, Capture::Redacted);
        ids.extend(ack.decision_ids);
        log.flush(Duration::from_secs(120)).expect("committed");
    }
    let reopens = log.stats().table_reopens;
    assert!(
        reopens >= 3,
        "the committer reopened its tables {reopens} times in 6 rounds of 2 commits"
    );
    log.shutdown(Duration::from_secs(120)).unwrap();
    let rows = decisions(&d);
    let read: Vec<&str> = rows.iter().map(|r| r.decision_id.as_str()).collect();
    let unique: std::collections::BTreeSet<&str> = read.iter().copied().collect();
    assert_eq!(read.len(), unique.len(), "no row twice");
    assert_eq!(
        unique,
        ids.iter().map(String::as_str).collect(),
        "every decision recorded, read back through the Delta log"
    );
}

fn only_wal_dir(state: &Path) -> PathBuf {
    let mut dirs: Vec<_> = std::fs::read_dir(state.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().unwrap()
}

#[test]
fn torn_tail_and_flipped_byte_are_reported_and_the_good_records_still_commit() {
    let d = dirs();
    let pipeline = common::pipeline(DEFAULT_POLICY);
    // Write 5 evaluations (15 decisions) into the WAL with a table that
    // cannot be created yet (a file where its folder should be), so the
    // segment stays on disk for us to damage.
    std::fs::create_dir_all(&d.table).unwrap();
    std::fs::write(d.table.join("decisions"), b"not a folder").unwrap();
    let payloads: Vec<Payload> = (0..5)
        .map(|i| common::request(&format!("hello {i}")))
        .collect();
    let mut acks = Vec::new();
    {
        // One segment for all five: sealed only by the flush below.
        let mut s = settings(&d);
        s.segment_age = Duration::from_secs(600);
        let log = AuditLog::open(s).unwrap();
        for p in &payloads {
            acks.push(record(&log, &pipeline.evaluate(p), p, Capture::Redacted));
        }
        assert!(
            log.flush(Duration::from_millis(300)).is_err(),
            "the table is unreachable"
        );
    }
    let wal_dir = only_wal_dir(&d.state);
    let segments = wal::list_segments(&wal_dir).unwrap();
    assert_eq!(segments.len(), 1, "{segments:?}");
    let (seq, path) = &segments[0];
    let mut bytes = std::fs::read(path).unwrap();
    // Flip one byte inside the payload of the 2nd evaluation's first record.
    let second = acks[1].position.offset as usize;
    bytes[second + wal::RECORD_HEADER_LEN + 5] ^= 0x40;
    // Tear the last record in half, as a crash mid-write would.
    let last = acks[4].position.offset as usize;
    bytes.truncate(last + 30);
    std::fs::write(path, &bytes).unwrap();

    let contents = wal::read_segment(path, *seq).unwrap();
    assert_eq!(contents.damage.len(), 2, "{:?}", contents.damage);
    assert!(
        matches!(contents.damage[0], wal::Damage::Corrupt { offset, .. } if offset as usize == second)
    );
    assert!(
        matches!(contents.damage[1], wal::Damage::TornTail { offset, .. } if offset as usize == last)
    );
    // 5 evaluations × 4 records; one record lost to the flipped byte, the
    // whole last evaluation's 4 records lost to the tear.
    assert_eq!(contents.records.len(), 20 - 1 - 4);

    std::fs::remove_file(d.table.join("decisions")).unwrap();
    let log = AuditLog::open(settings(&d)).unwrap();
    log.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(log.stats().corrupt_regions, 2);
    let rows = decisions(&d);
    let ids: Vec<&String> = acks[..4].iter().flat_map(|a| &a.decision_ids).collect();
    assert_eq!(
        rows.len(),
        12 - 1,
        "every undamaged decision of the first four evaluations"
    );
    for r in &rows {
        assert!(ids.contains(&&r.decision_id));
    }
    assert!(
        wal_dir
            .join("quarantine")
            .join(wal::segment_name(*seq))
            .is_file(),
        "the damaged segment is kept for inspection"
    );
}

#[test]
fn a_full_backlog_is_refused_by_default_and_alarmed_when_configured() {
    let pipeline = common::pipeline(DEFAULT_POLICY);
    for on_full in [OnFull::Reject, OnFull::Alarm] {
        let d = dirs();
        std::fs::create_dir_all(&d.table).unwrap();
        std::fs::write(d.table.join("decisions"), b"table unreachable").unwrap();
        let mut s = settings(&d);
        s.backlog_limit_bytes = 1;
        s.on_full = on_full;
        let log = AuditLog::open(s).unwrap();
        let p = common::request("first");
        record(&log, &pipeline.evaluate(&p), &p, Capture::Redacted);
        let p2 = common::request("second");
        let second = log.record(
            &pipeline.evaluate(&p2),
            &RecordContext {
                payload: &p2,
                capture: Capture::Redacted,
                call: None,
            },
        );
        match on_full {
            OnFull::Reject => {
                let e = second.expect_err("refused past the bound").to_string();
                assert!(e.contains("backlog is full"), "{e}");
                assert_eq!(log.stats().over_limit_records, 0);
            }
            OnFull::Alarm => {
                second.expect("kept serving");
                assert_eq!(log.stats().over_limit_records, 1);
            }
        }
        // The table comes back: everything accepted reaches it.
        std::fs::remove_file(d.table.join("decisions")).unwrap();
        log.flush(Duration::from_secs(30)).unwrap();
        let expected = if on_full == OnFull::Reject { 3 } else { 6 };
        assert_eq!(decisions(&d).len(), expected);
    }
}

#[test]
fn backlog_left_by_a_previous_run_is_committed_on_start() {
    let d = dirs();
    let pipeline = common::pipeline(DEFAULT_POLICY);
    std::fs::create_dir_all(&d.table).unwrap();
    std::fs::write(d.table.join("decisions"), b"down").unwrap();
    let p = common::request("left behind");
    let ack = {
        let log = AuditLog::open(settings(&d)).unwrap();
        record(&log, &pipeline.evaluate(&p), &p, Capture::Redacted)
    };
    std::fs::remove_file(d.table.join("decisions")).unwrap();
    let log = AuditLog::open(settings(&d)).unwrap();
    log.flush(Duration::from_secs(30)).unwrap();
    let rows = decisions(&d);
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| ack.decision_ids.contains(&r.decision_id))
    );
    assert!(
        wal::list_segments(&only_wal_dir(&d.state))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn segments_made_from_preallocated_files_commit_every_decision_once() {
    let d = dirs();
    let pipeline = common::pipeline(DEFAULT_POLICY);
    // Segments seal every 50 ms; the committer prepares each next one's
    // file. Record until several segments were made from one (a counter,
    // not a sleep), then read everything back from Delta.
    let log = AuditLog::open(settings(&d)).unwrap();
    let mut ids = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let mut i = 0;
    while log.stats().wal_segments_preallocated < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "no preallocated segment was used: {:?}",
            log.stats()
        );
        let p = common::request(&format!("call {i}"));
        ids.extend(record(&log, &pipeline.evaluate(&p), &p, Capture::Redacted).decision_ids);
        i += 1;
        std::thread::yield_now();
    }
    log.flush(Duration::from_secs(60)).unwrap();
    let stats = log.stats();
    assert_eq!(stats.corrupt_regions, 0, "{stats:?}");
    let mut rows: Vec<String> = decisions(&d).into_iter().map(|r| r.decision_id).collect();
    rows.sort();
    ids.sort();
    assert_eq!(rows, ids, "every decision once, none damaged");
    drop(log);
    let wal_dir = only_wal_dir(&d.state);
    let left: Vec<_> = std::fs::read_dir(&wal_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".spare"))
        .collect();
    assert!(left.is_empty(), "a closed log leaves no spare: {left:?}");
}

#[test]
fn deferred_records_are_awaited_by_tasks_and_each_commits_once() {
    let d = dirs();
    let pipeline = common::pipeline(DEFAULT_POLICY);
    let log = std::sync::Arc::new(AuditLog::open(settings(&d)).unwrap());
    // Appended, not yet known durable: what a call's answer waits for.
    let mut ids = Vec::new();
    let mut deferred = Vec::new();
    for i in 0..3 {
        let p = common::request(&format!("deferred {i}"));
        let ctx = RecordContext {
            payload: &p,
            capture: Capture::Redacted,
            call: Some(CallInfo::default()),
        };
        let (ack, d) = log.record_deferred(&pipeline.evaluate(&p), &ctx).unwrap();
        ids.extend(ack.decision_ids);
        deferred.push(d.expect("fsync durability defers"));
    }
    let points: Vec<_> = deferred.iter().map(|d| d.point()).collect();
    // The last record's fsync is made on another thread (as the server's
    // syncing thread does); tasks on a multi-threaded runtime wait for
    // every point without holding a thread, and all three are covered.
    let last = deferred.pop().unwrap();
    let syncer = {
        let log = log.clone();
        std::thread::spawn(move || log.complete(last))
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let waits = points.iter().map(|&p| {
            let log = log.clone();
            tokio::spawn(async move { log.durable(p).await })
        });
        for w in waits.collect::<Vec<_>>() {
            w.await.unwrap().expect("durable");
        }
    });
    syncer.join().unwrap().unwrap();
    // Each deferred record is completed exactly once; these are cheap now.
    for d in deferred {
        log.complete(d).unwrap();
    }
    log.flush(Duration::from_secs(60)).unwrap();
    let mut rows: Vec<String> = decisions(&d).into_iter().map(|r| r.decision_id).collect();
    rows.sort();
    ids.sort();
    assert_eq!(rows, ids, "every deferred decision once");
}
