//! A `decisions` row like the default policy's, for the audit benches
//! (`audit_maintenance`, `maintenance_heap`), included with `#[path]`.

use railyard::audit::{DecisionRow, FindingRow};

/// Decision `i` of simulated second `second` at `rate` decisions a
/// second, as the default policy records one: one in five finds an
/// e-mail address and is redacted.
pub fn row(second: u64, i: usize, rate: usize) -> DecisionRow {
    let n = second * rate as u64 + i as u64;
    let redacted = n.is_multiple_of(5);
    DecisionRow {
        decision_id: format!("01a241d3-{n:04x}-7d3a-a8a7-{n:012x}"),
        request_id: format!("01a241d3-{:04x}-7fd1-bd12-{:012x}", n / 3, n / 3),
        timestamp_us: 1_796_400_000_000_000 + (second * 1_000_000) as i64 + i as i64,
        host_id: "bench-host-1a2b3c4d".into(),
        policy_name: "default".into(),
        policy_digest: "sha256:b6c1f400418ae8581d38b4613a14782ac73a4c6dd82f6fce2ee7d47d2ff451bc"
            .into(),
        route: "gpt-bench".into(),
        caller: format!("caller-{}", n % 17),
        stage: "request".into(),
        plugin: ["pii", "secrets", "prompt-injection"][i % 3].into(),
        plugin_name: ["pii", "secrets", "prompt-injection"][i % 3].into(),
        plugin_version: "0.1.0".into(),
        plugin_digest: format!("sha256:{:064x}", i % 3),
        plugin_kind: "guardrail".into(),
        action: if redacted { "redact" } else { "allow" }.into(),
        reason: if redacted {
            "EMAIL_ADDRESS found".into()
        } else {
            String::new()
        },
        findings: if redacted {
            vec![FindingRow {
                rule_id: "email".into(),
                category: "EMAIL_ADDRESS".into(),
                score: 0.95,
                message_index: Some(1),
                span_start: Some(14),
                span_end: Some(40),
                field: Some("messages[1].content".into()),
            }]
        } else {
            Vec::new()
        },
        outcome: "ok".into(),
        failure_mode: None,
        error: None,
        latency_us: 20 + (n % 40) as i64,
        payload_hash: format!("{:064x}", n / 3),
        wal_segment: second as i64,
        wal_offset: (i * 700) as i64,
        arm: None,
    }
}
