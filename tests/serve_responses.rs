//! `POST /v1/responses` (unstreamed): the real `openai` client's
//! `responses.create` with function tools against `railyard serve` in front
//! of a fake Responses upstream on 127.0.0.1 (`anthropic_upstream` answers
//! `/v1/responses` as OpenAI does): a card in a tool call's arguments is
//! redacted, a card in the input and in a tool output reaches the upstream
//! redacted, `previous_response_id` is passed on, injections are blocked,
//! bad input and `stream` get OpenAI-shaped 400s, and the row records the
//! API.

use std::path::Path;

use serde_json::{Value, json};

use crate::anthropic_upstream::{CARD, Upstream};
use crate::common;
use common::http::Server;
use common::python;

#[test]
fn the_openai_client_gets_guarded_responses() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let cfg = tmp.path().join("serve.toml");
    std::fs::write(
        &cfg,
        format!(
            "[upstreams.oai]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"oai\"\n",
            upstream.base_url()
        ),
    )
    .unwrap();
    let cache = common::cache_dir();
    let mut server = Server::start(
        &["--config", cfg.to_str().unwrap()],
        &[
            ("RAILYARD_CACHE_DIR", cache.as_path()),
            ("RAILYARD_STATE_DIR", tmp.path().join("state").as_path()),
            ("RAILYARD_AUDIT_URL", tmp.path().join("audit").as_path()),
        ],
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/responses_client.py");
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
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["text"]["output_text"], "echo: hello there", "{v}");
    assert_eq!(v["text"]["tokens"], 12);
    assert_eq!(v["tools"]["output_text"], "Refunding now.", "{v}");
    assert_eq!(v["tools"]["name"], "refund");
    assert_eq!(v["tools"]["call_id"], "call_1");
    assert_eq!(
        v["tools"]["arguments"],
        json!({"card": "<CREDIT_CARD>", "amount": 12.5}),
        "{v}"
    );
    assert!(!v.to_string().contains(CARD), "{v}");
    for (case, code) in [
        ("streamed", "stream_unsupported"),
        ("blocked", "request_blocked"),
        ("bad_input", "invalid_request"),
    ] {
        assert_eq!(v[case]["raised"], "BadRequestError", "{case}: {v}");
        assert_eq!(v[case]["body"]["code"], code, "{case}: {v}");
    }
    assert!(
        v["bad_input"]["body"]["message"]
            .as_str()
            .unwrap()
            .contains("`input[0].role`"),
        "{v}"
    );
    let received = upstream.received.lock().unwrap().clone();
    assert_eq!(
        received.len(),
        3,
        "blocked and refused calls never reach it"
    );
    for r in &received {
        let body = r.body.to_string();
        assert!(!body.contains(CARD), "{body}");
    }
    let last = &received[2].body;
    assert_eq!(last["previous_response_id"], "resp_0");
    assert_eq!(
        last["input"][0]["content"][0]["text"],
        "my card is <CREDIT_CARD>"
    );
    assert_eq!(last["input"][1]["output"], "refunded <CREDIT_CARD>");
    assert_eq!(received[1].body["instructions"], "be brief");
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());
    let rows = common::audit_rows(
        &tmp.path().join("audit"),
        &tmp.path().join("reader"),
        "inferences",
        &[],
    );
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().all(|r| r["api"] == "openai"), "{rows:?}");
    let continued: Vec<&Value> = rows
        .iter()
        .filter(|r| r["previous_response_id"] == "resp_0")
        .collect();
    assert_eq!(continued.len(), 1, "{rows:?}");
    assert!(
        rows.iter()
            .filter(|r| r["previous_response_id"] != "resp_0")
            .all(|r| r["previous_response_id"].is_null()),
        "{rows:?}"
    );
}
