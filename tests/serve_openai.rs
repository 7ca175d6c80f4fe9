//! The real `openai` Python client (from PyPI, installed by
//! `scripts/test`) against `railyard serve` in front of a real upstream on
//! 127.0.0.1: a normal call, a blocked call, streamed calls, and scripted
//! answers with tool calls (unstreamed, streamed, through the SDK's
//! streaming helper), a refusal and two choices.

use crate::common;

use common::http::{Server, Upstream};
use common::python;
use common::script::Script;
use serde_json::json;
use std::path::Path;

const CARD: &str = "4111 1111 1111 1111";

fn scripts(upstream: &Upstream) {
    let args = json!({"card": CARD, "amount": 12.5}).to_string();
    upstream.script(
        "tools",
        Script {
            messages: vec![json!({"tool_calls": [
                {"id": "call_refund_1", "type": "function", "function": {"name": "refund", "arguments": args}},
            ]})],
            ..Script::default()
        },
    );
    upstream.script(
        "refusal",
        Script {
            messages: vec![json!({"refusal": format!("I will not charge {CARD} again.")})],
            ..Script::default()
        },
    );
    upstream.script(
        "two",
        Script {
            messages: vec![
                json!({"content": format!("one: card {CARD} on file")}),
                json!({"content": "two: nothing to hide here"}),
            ],
            ..Script::default()
        },
    );
}

#[test]
fn the_openai_client_gets_answers_errors_and_streams() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    scripts(&upstream);
    let cache = common::cache_dir();
    let state = tmp.path().join("state");
    let audit = tmp.path().join("audit");
    let server = Server::start(
        &["--upstream", &upstream.base_url()],
        &[
            ("RAILYARD_CACHE_DIR", cache.as_path()),
            ("RAILYARD_STATE_DIR", state.as_path()),
            ("RAILYARD_AUDIT_URL", audit.as_path()),
        ],
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/openai_client.py");
    let out = std::process::Command::new(py)
        .arg(script)
        .arg(format!("http://{}/v1", server.addr))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.stderr.lock().unwrap()
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("openai client {}", v["version"]);
    assert_eq!(v["normal"]["content"], "echo: hello from the openai client");
    assert_eq!(v["normal"]["total_tokens"], 12);
    assert_eq!(v["blocked"]["raised"], "BadRequestError", "{v}");
    assert_eq!(v["blocked"]["status"], 400);
    assert_eq!(v["blocked"]["code"], "request_blocked");
    assert_eq!(
        v["streamed"]["text"],
        "streamed words arrive one piece at a time"
    );
    assert!(v["streamed"]["chunks"].as_u64().unwrap() > 1, "{v}");
    assert_eq!(
        v["streamed_redacted"]["text"],
        "your card <CREDIT_CARD> is on file"
    );
    // Tool calls, unstreamed, streamed and through the SDK's helper: the
    // same call, its card redacted.
    let redacted_args = json!({"card": "<CREDIT_CARD>", "amount": 12.5});
    for case in ["tools", "tools_streamed", "tools_helper"] {
        let c = &v[case];
        assert_eq!(c["finish"], "tool_calls", "{case}: {c}");
        let calls = c["calls"].as_array().unwrap();
        assert_eq!(calls.len(), 1, "{case}: {c}");
        assert_eq!(calls[0]["id"], "call_refund_1", "{case}: {c}");
        assert_eq!(calls[0]["type"], "function", "{case}: {c}");
        assert_eq!(calls[0]["name"], "refund", "{case}: {c}");
        let args: serde_json::Value =
            serde_json::from_str(calls[0]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(args, redacted_args, "{case}: {c}");
    }
    assert_eq!(v["tools_helper"]["arguments_done"], 1, "{v}");
    let refusal = "I will not charge <CREDIT_CARD> again.";
    assert_eq!(v["refusal"]["refusal"], refusal, "{v}");
    assert_eq!(v["refusal"]["content"], serde_json::Value::Null, "{v}");
    assert_eq!(v["refusal_streamed"]["refusal"], refusal, "{v}");
    let two = json!([
        "one: card <CREDIT_CARD> on file",
        "two: nothing to hide here"
    ]);
    assert_eq!(v["n2"], two, "{v}");
    assert_eq!(v["n2_streamed"], two, "{v}");
    // The prompt the client sent never reached the upstream when blocked.
    assert!(
        upstream
            .prompts()
            .iter()
            .all(|p| !p.contains("Ignore all previous instructions"))
    );
}
