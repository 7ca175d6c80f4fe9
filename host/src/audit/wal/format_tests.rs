//! The record formats: every field of a row survives the binary form and
//! the JSON form, and a segment written by the JSON-only version (a file
//! it wrote, kept in `testdata/`) still reads whole.

use std::path::Path;

use super::*;
use crate::audit::Provenance;
use crate::audit::record::{AuditRecord, DecisionRow, FindingRow, InferenceRow};

/// A segment file holding `records` (already framed), as the WAL writes it.
fn segment(dir: &Path, seq: u64, records: &[u8]) -> PathBuf {
    let path = dir.join(segment_name(seq));
    let mut bytes = SEGMENT_MAGIC.to_vec();
    bytes.extend_from_slice(&seq.to_le_bytes());
    bytes.extend_from_slice(records);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A decision with every optional field set and text that JSON escapes.
fn full_decision() -> DecisionRow {
    DecisionRow {
        decision_id: "01a24649-de44-7835-8353-0e84dd43b4ad".into(),
        request_id: "r-1".into(),
        timestamp_us: 1_796_475_575_876_222,
        host_id: "host \"a\"".into(),
        policy_name: "default".into(),
        policy_digest: "sha256:b6c1".into(),
        route: "gpt-ü".into(),
        caller: "team\\a".into(),
        stage: "response".into(),
        plugin: "pii".into(),
        plugin_name: "pii".into(),
        plugin_version: "0.1.0".into(),
        plugin_digest: "sha256:fa75".into(),
        plugin_kind: "pii-detector".into(),
        action: "redact".into(),
        reason: "found EMAIL_ADDRESS\n\ttwice \u{1}".into(),
        findings: vec![
            FindingRow {
                rule_id: "pii.email".into(),
                category: "EMAIL_ADDRESS".into(),
                score: 0.9,
                message_index: Some(1),
                span_start: Some(-3),
                span_end: Some(i32::MAX),
                field: Some("messages[1].content".into()),
            },
            FindingRow {
                rule_id: "pii.email".into(),
                category: "EMAIL_ADDRESS".into(),
                score: 0.25,
                message_index: None,
                span_start: None,
                span_end: None,
                field: None,
            },
        ],
        outcome: "trapped".into(),
        failure_mode: Some("fail-closed".into()),
        error: Some("wasm trap: unreachable".into()),
        latency_us: -1,
        payload_hash: "aea7".into(),
        wal_segment: 0,
        wal_offset: 0,
        arm: Some("canary".into()),
    }
}

/// An inference row with every optional field and provenance column set.
fn full_inference() -> InferenceRow {
    InferenceRow {
        request_id: "r-1".into(),
        timestamp_us: i64::MIN,
        host_id: "h".into(),
        policy_name: "p".into(),
        policy_digest: "sha256:00".into(),
        route: "gpt".into(),
        caller: "c".into(),
        stage: "response".into(),
        capture: "verbatim".into(),
        request: Some(r#"[{"role":"user","content":"say \"hi\" é"}]"#.into()),
        response: Some(r#"[{"role":"assistant","content":"hi"}]"#.into()),
        payload_hash: "ff".into(),
        action: "block".into(),
        reason: "why".into(),
        status_code: Some(403),
        prompt_tokens: Some(12),
        completion_tokens: Some(0),
        guard_latency_us: 1234,
        total_latency_us: Some(i64::MAX),
        decision_count: 5,
        wal_segment: 0,
        wal_offset: 0,
        api: Some("openai".into()),
        previous_response_id: Some("resp_1".into()),
        scanned_fields: Some(vec!["messages[0].content".into(), "input[1]".into()]),
        provenance: Provenance {
            upstream: Some("primary".into()),
            upstream_model: Some("gpt-x".into()),
            system_fingerprint: Some("fp_1".into()),
            parameters: Some(r#"{"temperature":0.2}"#.into()),
            end_user: Some("u-7".into()),
            attributes: [("team", "a"), ("cost-centre", "42")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            request_body: Some("{\"messages\":[]}".into()),
            response_body: Some("{}".into()),
        },
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        arm: Some("shadow".into()),
    }
}

#[test]
fn every_field_survives_both_formats_and_the_payload_byte_names_the_format() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = [
        AuditRecord::Decision(full_decision()),
        AuditRecord::Inference(full_inference()),
        // The defaults: empty strings, no findings, every option null.
        AuditRecord::Decision(DecisionRow::default()),
        AuditRecord::Inference(InferenceRow::default()),
    ];
    for (seq, format, tags) in [
        (1, RecordFormat::Binary, b"DIDI"),
        (2, RecordFormat::Json, b"didi"),
    ] {
        let mut bytes = Vec::new();
        let mut offsets = Vec::new();
        for r in &rows {
            offsets.push(HEADER_LEN + bytes.len() as u64);
            encode(r, format, &mut bytes);
        }
        for (o, tag) in offsets.iter().zip(tags) {
            let at = (*o - HEADER_LEN) as usize + RECORD_HEADER_LEN;
            assert_eq!(bytes[at], *tag, "{format:?}");
        }
        let path = segment(tmp.path(), seq, &bytes);
        let read = read_segment(&path, seq).unwrap();
        assert!(read.damage.is_empty(), "{:?}", read.damage);
        assert_eq!(read.records.len(), rows.len());
        for ((offset, got), (want, at)) in read.records.iter().zip(rows.iter().zip(&offsets)) {
            assert_eq!(offset, at);
            let mut want = want.clone();
            want.set_position(seq, *at);
            assert_eq!(got, &want, "{format:?}");
        }
    }
}

#[test]
fn binary_records_are_smaller_than_json() {
    let (mut binary, mut json) = (Vec::new(), Vec::new());
    for r in [
        AuditRecord::Decision(full_decision()),
        AuditRecord::Inference(full_inference()),
    ] {
        encode(&r, RecordFormat::Binary, &mut binary);
        encode(&r, RecordFormat::Json, &mut json);
    }
    assert!(
        binary.len() * 2 < json.len(),
        "binary {} bytes, JSON {}",
        binary.len(),
        json.len()
    );
}

#[test]
fn a_binary_record_of_another_layout_is_reported_not_misread() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    // A valid frame whose body is a decision with one byte too many: the
    // checksum holds, the layout does not.
    frame(wire::DECISION, &mut bytes, |o| {
        wire::put(&wire::DecisionIn::of(&full_decision()), o);
        o.push(0);
    });
    // And a byte no version writes.
    frame(b'Z', &mut bytes, |o| o.extend_from_slice(b"{}"));
    encode(
        &AuditRecord::Decision(full_decision()),
        RecordFormat::Binary,
        &mut bytes,
    );
    let path = segment(tmp.path(), 3, &bytes);
    let read = read_segment(&path, 3).unwrap();
    assert_eq!(read.records.len(), 1, "the good record is kept");
    assert_eq!(read.damage.len(), 2, "{:?}", read.damage);
    assert!(
        read.damage
            .iter()
            .all(|d| matches!(d, Damage::Undecodable { .. })),
        "{:?}",
        read.damage
    );
}

/// A segment written by `railyard check --jsonl` of the version before the
/// binary records (three payloads under the default policy, the table
/// unreachable so the segment stayed in the WAL).
const JSON_V1: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/audit/wal/testdata/json-v1.wal"
);

#[test]
fn a_segment_written_by_the_json_version_reads_whole() {
    let read = read_segment(Path::new(JSON_V1), 1).unwrap();
    assert!(read.damage.is_empty(), "{:?}", read.damage);
    let (mut decisions, mut inferences, mut policies) = (Vec::new(), Vec::new(), 0);
    for (_, r) in read.records {
        match r {
            AuditRecord::Decision(d) => decisions.push(d),
            AuditRecord::Inference(i) => inferences.push(i),
            AuditRecord::Policy(_) => policies += 1,
            other => panic!("unexpected record {other:?}"),
        }
    }
    assert_eq!((decisions.len(), inferences.len(), policies), (9, 3, 1));
    let email = &decisions[0];
    assert_eq!(email.plugin, "pii");
    assert_eq!(email.findings.len(), 1);
    assert_eq!(email.findings[0].category, "EMAIL_ADDRESS");
    assert_eq!(email.wal_segment, 1);
    let injection: Vec<_> = decisions[5].findings.iter().map(|f| &f.rule_id).collect();
    assert_eq!(injection.len(), 3, "{injection:?}");
    assert_eq!(decisions[5].action, "block");
    let request = inferences[0].request.as_deref().unwrap();
    assert!(request.contains("<EMAIL_ADDRESS>"), "{request}");
    // The rows of the old records, written again in binary, read back
    // equal: the binary layout carries everything the JSON one did.
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    let mut offsets = Vec::new();
    let old: Vec<AuditRecord> = decisions
        .into_iter()
        .map(AuditRecord::Decision)
        .chain(inferences.into_iter().map(AuditRecord::Inference))
        .collect();
    for r in &old {
        offsets.push(HEADER_LEN + bytes.len() as u64);
        encode(r, RecordFormat::Binary, &mut bytes);
    }
    let path = segment(tmp.path(), 2, &bytes);
    let again = read_segment(&path, 2).unwrap();
    assert!(again.damage.is_empty());
    for ((_, got), (want, at)) in again.records.iter().zip(old.iter().zip(offsets)) {
        let mut want = want.clone();
        want.set_position(2, at);
        assert_eq!(got, &want);
    }
}
