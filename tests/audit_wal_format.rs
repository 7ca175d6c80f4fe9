//! The WAL's record formats end to end: a WAL left by the version that
//! wrote JSON records is committed after an upgrade, beside new binary
//! records, and binary and JSON records of the same evaluation land as the
//! same Delta rows.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use railyard::audit::{
    self, AuditLog, AuditSettings, CallInfo, Capture, DecisionRow, InferenceRow, RecordContext,
    RecordFormat, wal,
};
use railyard::cli::log::{read_decisions, read_inferences};

/// A segment written by `railyard check --jsonl` of the JSON version: 3
/// payloads under the default policy (9 decisions, 3 inferences, 1 policy).
const JSON_V1: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/audit/wal/testdata/json-v1.wal"
);

fn settings(table: &Path, state: &Path, format: RecordFormat) -> AuditSettings {
    let mut s = AuditSettings::new(table.display().to_string(), state);
    s.host_id = Some("test-host".into());
    s.hash_key = Some(b"test key".to_vec());
    s.segment_age = Duration::from_millis(50);
    s.wal_format = format;
    s
}

fn rows(table: &Path) -> (Vec<DecisionRow>, Vec<InferenceRow>) {
    let root = audit::root_url(&table.display().to_string()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let d = rt
        .block_on(read_decisions(&root, &Default::default()))
        .unwrap();
    let i = rt
        .block_on(read_inferences(&root, &Default::default()))
        .unwrap();
    (d, i)
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    wal::list_segments(dir)
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

#[test]
fn a_wal_written_by_the_json_version_is_committed_after_an_upgrade() {
    let tmp = tempfile::tempdir().unwrap();
    let (table, state) = (tmp.path().join("audit"), tmp.path().join("state"));
    let wal_dir = {
        let log = AuditLog::open(settings(&table, &state, RecordFormat::Binary)).unwrap();
        log.wal_dir().to_path_buf()
    };
    assert!(segments(&wal_dir).is_empty());
    // The old version stopped with this segment uncommitted.
    std::fs::copy(JSON_V1, wal_dir.join(wal::segment_name(1))).unwrap();

    let pipeline =
        common::pipeline("[stages]\nrequest = [\"pii\", \"secrets\", \"prompt-injection\"]\n");
    let payload = common::request("after the upgrade: write to ana@example.org");
    let evaluation = pipeline.evaluate(&payload);
    let log = AuditLog::open(settings(&table, &state, RecordFormat::Binary)).unwrap();
    assert_eq!(log.interrupted_calls(), 0, "every old call had its end");
    let ack = log
        .record(
            &evaluation,
            &RecordContext {
                payload: &payload,
                capture: Capture::Redacted,
                call: Some(CallInfo::default()),
            },
        )
        .unwrap();
    log.flush(Duration::from_secs(120)).unwrap();
    assert!(segments(&wal_dir).is_empty(), "committed and deleted");
    assert!(
        !wal_dir.join("quarantine").exists(),
        "no record of the old segment was damaged or undecodable"
    );
    assert_eq!(log.stats().corrupt_regions, 0);

    let (decisions, inferences) = rows(&table);
    let old: Vec<&DecisionRow> = decisions.iter().filter(|d| d.wal_segment == 1).collect();
    assert_eq!(old.len(), 9, "{decisions:#?}");
    assert!(old.iter().all(|d| d.host_id == "vm-1da112da"));
    let email: Vec<_> = old
        .iter()
        .flat_map(|d| &d.findings)
        .filter(|f| f.category == "EMAIL_ADDRESS")
        .collect();
    assert_eq!(email.len(), 1);
    let injections = old
        .iter()
        .flat_map(|d| &d.findings)
        .filter(|f| f.category == "PROMPT_INJECTION")
        .count();
    assert_eq!(injections, 3);
    let old_calls: Vec<&InferenceRow> = inferences.iter().filter(|i| i.wal_segment == 1).collect();
    assert_eq!(old_calls.len(), 3);
    assert!(
        old_calls.iter().any(|i| i
            .request
            .as_deref()
            .unwrap_or("")
            .contains("<EMAIL_ADDRESS>")),
        "{old_calls:#?}"
    );
    // The new record, binary, in a later segment of the same WAL.
    let mut new: Vec<&String> = decisions
        .iter()
        .filter(|d| d.wal_segment > 1)
        .map(|d| &d.decision_id)
        .collect();
    new.sort();
    let mut acked: Vec<&String> = ack.decision_ids.iter().collect();
    acked.sort();
    assert_eq!(new, acked);
    let new_call = inferences.iter().find(|i| i.wal_segment > 1).unwrap();
    assert!(
        new_call
            .request
            .as_deref()
            .unwrap()
            .contains("<EMAIL_ADDRESS>"),
        "{new_call:?}"
    );
}

/// What differs between two recordings of one evaluation: ids, times and
/// WAL positions.
fn normalised(
    (mut d, mut i): (Vec<DecisionRow>, Vec<InferenceRow>),
) -> (Vec<DecisionRow>, Vec<InferenceRow>) {
    for r in &mut d {
        r.decision_id.clear();
        r.timestamp_us = 0;
        r.wal_segment = 0;
        r.wal_offset = 0;
    }
    for r in &mut i {
        r.timestamp_us = 0;
        r.wal_segment = 0;
        r.wal_offset = 0;
    }
    d.sort_by(|a, b| (&a.stage, &a.plugin).cmp(&(&b.stage, &b.plugin)));
    i.sort_by(|a, b| (&a.stage, &a.capture).cmp(&(&b.stage, &b.capture)));
    (d, i)
}

#[test]
fn binary_and_json_records_of_one_call_commit_the_same_rows() {
    let pipeline = common::pipeline(
        "[stages]\nrequest = [\"pii\", \"secrets\", \"prompt-injection\"]\nresponse = [\"pii\", \"secrets\"]\n",
    );
    let mut request =
        common::request("mail bob@example.com \"quoted\" é, key AKIAZ7VRSQ5TJN2EXMPL");
    request.messages[0].field = Some("messages[0].content".into());
    request.route = "gpt-test".into();
    request.caller = "team-a".into();
    let req_eval = pipeline.evaluate(&request);
    let mut answer =
        railyard::Payload::text(railyard::Stage::Response, "reach me at x@example.net");
    answer.request_id = request.request_id.clone();
    let resp_eval = pipeline.evaluate(&answer);
    let provenance = audit::Provenance {
        upstream: Some("primary".into()),
        upstream_model: Some("gpt-x".into()),
        attributes: [("team".to_string(), "a".to_string())].into(),
        request_body: Some("{\"raw\":true}".into()),
        ..Default::default()
    };
    let mut got = Vec::new();
    for format in [RecordFormat::Binary, RecordFormat::Json] {
        let tmp = tempfile::tempdir().unwrap();
        let table = tmp.path().join("audit");
        let log = AuditLog::open(settings(&table, &tmp.path().join("state"), format)).unwrap();
        for capture in [Capture::Redacted, Capture::Verbatim] {
            let call = CallInfo {
                status_code: Some(200),
                api: Some("openai"),
                provenance: Some(&provenance),
                trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736"),
                ..Default::default()
            };
            log.record(
                &req_eval,
                &RecordContext {
                    payload: &request,
                    capture,
                    call: None,
                },
            )
            .unwrap();
            log.record_call(
                (&req_eval, &request),
                Some((&resp_eval, &answer)),
                capture,
                call,
            )
            .unwrap();
        }
        log.flush(Duration::from_secs(120)).unwrap();
        let (d, i) = normalised(rows(&table));
        assert_eq!((d.len(), i.len()), (10, 2), "{format:?}");
        got.push((d, i));
    }
    assert_eq!(got[0], got[1]);
    let (d, i) = &got[0];
    assert!(d.iter().any(|r| {
        r.findings
            .iter()
            .any(|f| f.field.as_deref() == Some("messages[0].content"))
    }));
    assert!(
        i.iter().any(|r| r.provenance.request_body.is_some()),
        "verbatim keeps the body"
    );
    assert!(
        i.iter().any(|r| r.provenance.request_body.is_none()),
        "redacted does not"
    );
}
