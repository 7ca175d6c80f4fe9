//! Which field of the wire body each finding came from: a decision row's
//! findings name it (`finding_fields`, parallel to `findings`), the
//! `inferences` row lists the fields the rails were shown, and a
//! `decisions` table written before the column existed still opens, gains
//! it in place and is appended to; pyarrow (replaying `_delta_log` by
//! hand) and DuckDB's delta extension read it.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::http::{Server, Upstream, post};
use railyard::audit::{self, DecisionRow, FindingRow, TableKind, table};
use railyard::cli::log::read_decisions;
use serde_json::{Value, json};

const CARD: &str = "4111 1111 1111 1111";

#[test]
fn a_card_in_a_tool_call_argument_and_in_a_user_message_name_their_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let upstream = Upstream::start();
    let policy = common::patient_default_policy(dir);
    let (audit, state, cache) = (dir.join("audit"), dir.join("state"), common::cache_dir());
    let envs: [(&str, &Path); 3] = [
        ("RAILYARD_CACHE_DIR", &cache),
        ("RAILYARD_AUDIT_URL", &audit),
        ("RAILYARD_STATE_DIR", &state),
    ];
    let mut server = Server::start(
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--upstream",
            &upstream.base_url(),
        ],
        &envs,
    );
    let body = json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": format!("pay with {CARD}")},
            {"role": "assistant", "content": null, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "pay", "arguments": json!({"card": CARD}).to_string()},
            }]},
            {"role": "tool", "tool_call_id": "call_1", "content": "paid"},
        ],
    });
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &[("x-request-id", "fields-1")],
        &body.to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());

    let reader = dir.join("reader");
    let decisions = common::audit_rows(&audit, &reader, "decisions", &["--request-id", "fields-1"]);
    let cards: Vec<(Option<&str>, Option<u64>)> = decisions
        .iter()
        .filter(|d| d["stage"] == "request")
        .flat_map(|d| d["findings"].as_array().unwrap())
        .filter(|f| f["category"] == "CREDIT_CARD")
        .map(|f| (f["field"].as_str(), f["message_index"].as_u64()))
        .collect();
    let mut fields: Vec<&str> = cards.iter().filter_map(|(f, _)| *f).collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "messages[0].content",
            "messages[1].tool_calls[0].function.arguments"
        ],
        "{decisions:#?}"
    );
    // Each field is the one of the message the span points into.
    assert!(
        cards.iter().all(|(_, i)| i.is_some()),
        "every card finding has a span: {cards:?}"
    );
    let calls = common::audit_rows(&audit, &reader, "inferences", &["--request-id", "fields-1"]);
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let scanned: Vec<&str> = calls[0]["scanned_fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no scanned_fields: {}", calls[0]))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for f in [
        "messages[0].content",
        "messages[1].tool_calls[0].function.arguments",
        "messages[2].content",
    ] {
        assert!(scanned.contains(&f), "{f} not in {scanned:?}");
    }
    assert!(
        scanned.iter().any(|f| f.starts_with("choices[0].message")),
        "the answer's fields are listed too: {scanned:?}"
    );
}

fn decision(id: &str, field: Option<&str>) -> DecisionRow {
    DecisionRow {
        decision_id: id.into(),
        request_id: id.into(),
        timestamp_us: 1_763_800_000_000_000,
        host_id: "h".into(),
        policy_name: "p".into(),
        policy_digest: "sha256:00".into(),
        stage: "request".into(),
        plugin: "pii".into(),
        action: "redact".into(),
        outcome: "ok".into(),
        findings: vec![FindingRow {
            rule_id: "card".into(),
            category: "CREDIT_CARD".into(),
            score: 0.9,
            message_index: Some(1),
            span_start: Some(3),
            span_end: Some(22),
            field: field.map(str::to_string),
        }],
        ..DecisionRow::default()
    }
}

#[test]
fn a_decisions_table_without_finding_fields_gains_the_column_and_every_reader_sees_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = audit::root_url(&tmp.path().display().to_string()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // The table as an older railyard created it: no `finding_fields`
        // (nor the columns added after it, such as `arm`).
        let batch = audit::schema::decisions_batch(&[decision("old", None)]).unwrap();
        let (_, first_added) =
            common::old_table::old_table(&root, TableKind::Decisions, batch).await;
        assert_eq!(first_added, "finding_fields");

        // Opened by this version: the column is added, new rows carry it.
        let mut t = table::open_or_create(&root, TableKind::Decisions, &Default::default())
            .await
            .unwrap();
        let batch = audit::schema::decisions_batch(&[decision("new", Some("messages[1].content"))])
            .unwrap();
        table::commit_segment(&mut t, "new-host", 1, batch, None)
            .await
            .unwrap();
        table::open_or_create(&root, TableKind::Decisions, &Default::default())
            .await
            .unwrap();
    });
    let rows = rt
        .block_on(read_decisions(&root, &Default::default()))
        .unwrap();
    let got: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|r| (r.decision_id.as_str(), r.findings[0].field.as_deref()))
        .collect();
    assert_eq!(got, [("new", Some("messages[1].content")), ("old", None)]);

    let Some(py) = common::python() else { return };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/audit_reader.py");
    let decisions = tmp.path().join("decisions");
    for mode in ["replay", "duckdb"] {
        let o = Command::new(&py)
            .arg(&script)
            .args([mode, decisions.to_str().unwrap(), "finding_fields"])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            v["values"]["new"],
            json!(["messages[1].content"]),
            "{mode}: {v}"
        );
        assert_eq!(v["values"]["old"], Value::Null, "{mode}: {v}");
    }
}
