//! Provenance on every `inferences` row, through a real `railyard serve`,
//! a real upstream on 127.0.0.1 and the Delta table read back three ways:
//! railyard's own reader, pyarrow replaying `_delta_log` by hand, and
//! DuckDB's delta extension.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::http::{Upstream, post};
use common::openai_calls::serve_config;
use railyard::audit::{self, InferenceRow};
use railyard::cli::log::read_inferences;
use serde_json::{Value, json};

const COLUMNS: &str = "request_id,upstream,upstream_model,system_fingerprint,parameters,end_user,attributes,request_body,response_body";

fn config(upstream: &Upstream, claude: &crate::anthropic_upstream::Upstream) -> String {
    format!(
        r#"
[policies]
default = "verbatim.toml"
[upstreams.primary]
base-url = "{}"
[upstreams.claude]
base-url = "{}"
api = "anthropic"
[[routes]]
model = "claude-*"
upstream = "claude"
[[routes]]
model = "*"
upstream = "primary"
[audit]
end-user-header = "X-End-User"
[audit.attributes]
"x-team" = "team"
"x-cost-center" = "cost_center"
"#,
        upstream.base_url(),
        claude.base_url()
    )
}

const POLICY: &str = r#"
name = "verbatim"
[audit]
capture = "verbatim"
[plugins.pii]
builtin = "pii"
action = "redact"
[stages]
request = ["pii"]
response = ["pii"]
"#;

fn reader(py: &Path, mode: &str, table: &Path) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/audit_reader.py");
    let o = Command::new(py)
        .arg(script)
        .args([mode, table.to_str().unwrap(), COLUMNS])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["records"].as_array().unwrap().clone()
}

fn id_of(a: &common::http::Answer) -> String {
    a.header("x-railyard-request-id").unwrap().to_string()
}

#[test]
fn every_inference_row_says_which_model_answered_whom_with_what() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("verbatim.toml"), POLICY).unwrap();
    let upstream = Upstream::start();
    let claude = crate::anthropic_upstream::Upstream::start();
    let mut server = serve_config(tmp.path(), "prov", &config(&upstream, &claude), true, &[]);

    // 1. Headers name the end user and the team; the body's `user` loses
    //    to the operator's header.
    let body = json!({
        "model": "fake-model", "temperature": 0.2, "max_tokens": 50, "user": "body-user",
        "x_model": "fake-model-2026-01-01", "x_fingerprint": "fp_test_1",
        "tools": [{"type": "function", "function": {"name": "lookup", "description": "finds things", "parameters": {}}}],
        "messages": [{"role": "user", "content": "mail ana@example.org please"}],
    });
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &[("x-end-user", "alice"), ("x-team", "payments")],
        &body.to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let first = id_of(&a);
    let first_answer = a.json();

    // 2. No header: the body's `user` names the end user.
    let b = post(
        server.addr,
        "/v1/chat/completions",
        &[],
        &json!({"model": "fake-model", "user": "bob", "messages": [{"role": "user", "content": "hi"}]}).to_string(),
    );
    assert_eq!(b.status, 200, "{}", b.text());
    let second = id_of(&b);

    // 3. A stream: the model and fingerprint come from its chunks, the
    //    verbatim answer is the event stream the caller received.
    let c = post(
        server.addr,
        "/v1/chat/completions",
        &[("x-cost-center", "cc-7")],
        &json!({"model": "fake-model", "stream": true, "x_fingerprint": "fp_stream",
                "messages": [{"role": "user", "content": "SAY: streamed words"}]})
        .to_string(),
    );
    assert_eq!(c.status, 200, "{}", c.text());
    let third = id_of(&c);
    let streamed = c.text();

    // 4. The guard API: its attributes are the business attributes, and
    //    `end_user` among them names the end user.
    let d = post(
        server.addr,
        "/v1/guard",
        &[("x-team", "risk")],
        &json!({"text": "hello", "attributes": {"end_user": "carol", "channel": "web"}})
            .to_string(),
    );
    assert_eq!(d.status, 200, "{}", d.text());
    let fourth = id_of(&d);

    // 5. An Anthropic stream: the end user from `metadata.user_id`, the
    //    model from `message_start`, the events as the caller got them.
    let e = post(
        server.addr,
        "/v1/messages",
        &[("anthropic-version", "2023-06-01")],
        &json!({"model": "claude-test", "max_tokens": 20, "stream": true, "temperature": 0.5,
                "metadata": {"user_id": "dana"},
                "messages": [{"role": "user", "content": "hello claude"}]})
        .to_string(),
    );
    assert_eq!(e.status, 200, "{}", e.text());
    let fifth = id_of(&e);
    let claude_stream = e.text();
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());

    let sent = upstream.received.lock().unwrap().clone();
    let audit_dir = tmp.path().join("audit-prov");
    let root = audit::root_url(&audit_dir.display().to_string()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rows: Vec<InferenceRow> = rt
        .block_on(read_inferences(&root, &Default::default()))
        .unwrap();
    let row = |id: &str| rows.iter().find(|r| r.request_id == id).unwrap().clone();

    let r1 = row(&first).provenance;
    assert_eq!(r1.upstream.as_deref(), Some("primary"));
    assert_eq!(r1.upstream_model.as_deref(), Some("fake-model-2026-01-01"));
    assert_eq!(r1.system_fingerprint.as_deref(), Some("fp_test_1"));
    assert_eq!(r1.end_user.as_deref(), Some("alice"));
    assert_eq!(
        r1.attributes.into_iter().collect::<Vec<_>>(),
        [("team".to_string(), "payments".to_string())]
    );
    let params: Value = serde_json::from_str(r1.parameters.as_deref().unwrap()).unwrap();
    assert_eq!(
        params,
        json!({"temperature": 0.2, "max_tokens": 50, "tools": ["lookup"]})
    );
    // Verbatim: the body exactly as it went upstream (the email already
    // redacted), and the answer exactly as the caller got it.
    let went: Value = serde_json::from_str(r1.request_body.as_deref().unwrap()).unwrap();
    assert_eq!(went, sent[0]);
    assert!(
        !r1.request_body
            .as_deref()
            .unwrap()
            .contains("ana@example.org")
    );
    let came: Value = serde_json::from_str(r1.response_body.as_deref().unwrap()).unwrap();
    assert_eq!(came, first_answer);
    assert_eq!(row(&first).capture, "verbatim");

    let r2 = row(&second).provenance;
    assert_eq!(r2.end_user.as_deref(), Some("bob"));
    assert!(r2.attributes.is_empty() && r2.system_fingerprint.is_none());
    assert_eq!(r2.upstream_model.as_deref(), Some("fake-model"));

    let r3 = row(&third).provenance;
    assert_eq!(r3.system_fingerprint.as_deref(), Some("fp_stream"));
    assert_eq!(r3.upstream_model.as_deref(), Some("fake-model"));
    assert_eq!(r3.response_body.as_deref(), Some(streamed.as_str()));
    assert_eq!(
        r3.attributes.get("cost_center").map(String::as_str),
        Some("cc-7")
    );
    assert_eq!(
        serde_json::from_str::<Value>(r3.parameters.as_deref().unwrap()).unwrap(),
        json!({"stream": true})
    );

    let r4 = row(&fourth).provenance;
    assert_eq!(r4.end_user.as_deref(), Some("carol"));
    assert_eq!(r4.upstream, None);
    assert_eq!(
        r4.attributes.into_iter().collect::<Vec<_>>(),
        [
            ("channel".to_string(), "web".to_string()),
            ("end_user".to_string(), "carol".to_string()),
            ("team".to_string(), "risk".to_string()),
        ]
    );
    assert!(r4.request_body.is_none() && r4.response_body.is_none());

    let r5 = row(&fifth).provenance;
    assert_eq!(r5.upstream.as_deref(), Some("claude"));
    assert_eq!(r5.upstream_model.as_deref(), Some("claude-fake"));
    assert_eq!(r5.end_user.as_deref(), Some("dana"));
    assert_eq!(
        serde_json::from_str::<Value>(r5.parameters.as_deref().unwrap()).unwrap(),
        json!({"temperature": 0.5, "max_tokens": 20, "stream": true})
    );
    assert_eq!(r5.response_body.as_deref(), Some(claude_stream.as_str()));
    assert!(r5.request_body.as_deref().unwrap().contains("hello claude"));

    // The same through readers that share no code with railyard.
    let Some(py) = common::python() else { return };
    let table = audit_dir.join("inferences");
    for mode in ["replay", "duckdb"] {
        let records = reader(&py, mode, &table);
        assert_eq!(records.len(), rows.len(), "{mode}");
        for r in &rows {
            let rec = records
                .iter()
                .find(|x| x["request_id"] == r.request_id.as_str())
                .unwrap_or_else(|| panic!("{mode}: no row {}", r.request_id));
            let p = &r.provenance;
            assert_eq!(rec["upstream"], json!(p.upstream), "{mode}");
            assert_eq!(rec["upstream_model"], json!(p.upstream_model), "{mode}");
            assert_eq!(
                rec["system_fingerprint"],
                json!(p.system_fingerprint),
                "{mode}"
            );
            assert_eq!(rec["parameters"], json!(p.parameters), "{mode}");
            assert_eq!(rec["end_user"], json!(p.end_user), "{mode}");
            assert_eq!(rec["attributes"], json!(p.attributes), "{mode}");
            assert_eq!(rec["request_body"], json!(p.request_body), "{mode}");
            assert_eq!(rec["response_body"], json!(p.response_body), "{mode}");
        }
    }
}
