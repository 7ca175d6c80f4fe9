//! `POST /v1/responses` (unstreamed): the real `openai` client's
//! `responses.create` with function tools against `railyard serve` in front
//! of a fake Responses upstream on 127.0.0.1 (`anthropic_upstream` answers
//! `/v1/responses` as OpenAI does): a card in a tool call's arguments is
//! redacted, a card in the input and in a tool output reaches the upstream
//! redacted, `previous_response_id` is passed on, injections are blocked,
//! bad input gets OpenAI-shaped 400s, and the row records the API. Streamed
//! (`create(stream=True)` and the `stream()` helper): the card split across
//! argument deltas never leaves, every `.done` and the final response carry
//! the redacted values, a truncated or failed upstream stream raises.

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
    assert!(!v.to_string().contains("1111"), "{v}");
    streamed_answers_are_guarded(&v);
    for (case, code) in [
        ("blocked", "request_blocked"),
        ("blocked_streamed", "request_blocked"),
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
        10,
        "blocked and refused calls never reach it"
    );
    for r in &received {
        let body = r.body.to_string();
        assert!(!body.contains(CARD), "{body}");
    }
    let last = received
        .iter()
        .find(|r| r.body["previous_response_id"] == "resp_0")
        .unwrap()
        .body
        .clone();
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
    assert_eq!(rows.len(), 12, "{rows:?}");
    assert!(rows.iter().all(|r| r["api"] == "openai"), "{rows:?}");
    // The truncated and the failed stream.
    let gateway: Vec<&Value> = rows.iter().filter(|r| r["status_code"] == 502).collect();
    assert_eq!(gateway.len(), 2, "{rows:?}");
    for r in &rows {
        let text = r.to_string();
        assert!(!text.contains(CARD), "{text}");
    }
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

/// The values a client sees of one answer, wherever they sit.
fn everything_texts(r: &Value) -> Vec<Value> {
    let o = &r["output"];
    vec![
        o[0]["summary"][0]["text"].clone(),
        o[1]["content"][0]["text"].clone(),
        o[1]["content"][0]["annotations"][0]["title"].clone(),
        o[1]["content"][1]["refusal"].clone(),
        serde_json::from_str(o[2]["arguments"].as_str().unwrap_or("null")).unwrap_or(Value::Null),
        o[3]["action"]["query"].clone(),
    ]
}

fn streamed_answers_are_guarded(v: &Value) {
    let t = &v["tools_streamed"];
    let types: Vec<&str> = t["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(types.first(), Some(&"response.created"), "{t}");
    assert_eq!(types.last(), Some(&"response.completed"), "{t}");
    for e in [
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ] {
        assert!(types.contains(&e), "{e} not in {types:?}");
    }
    let raw: Vec<Value> = t["raw"].as_array().unwrap().clone();
    let a = crate::responses_upstream::assemble(&raw);
    assert_eq!(a.items.len(), 2, "{t}");
    assert_eq!(t["text"], "Refunding now.", "{t}");
    let args = json!({"card": "<CREDIT_CARD>", "amount": 12.5});
    let streamed: Value = serde_json::from_str(t["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(streamed, args, "{t}");
    assert!(t["argument_pieces"].as_u64().unwrap() >= 1, "{t}");
    assert_eq!(t["done_arguments"], json!([t["arguments"]]), "{t}");
    assert_eq!(t["final_arguments"], json!([t["arguments"]]), "{t}");
    assert_eq!(t["final_text"], "Refunding now.", "{t}");
    let h = &v["tools_helper"];
    assert_eq!(h["output_text"], "Refunding now.", "{h}");
    assert_eq!(h["name"], "refund");
    assert_eq!(h["call_id"], "call_1");
    assert_eq!(h["arguments"], args, "{h}");
    // A card in every text of the answer: redacted alike streamed and not.
    let e = &v["everything_streamed"];
    assert!(!e.to_string().contains("1111"), "{e}");
    let expected = vec![
        json!("thinking about <CREDIT_CARD>"),
        json!("your card <CREDIT_CARD> is on file"),
        json!("about <CREDIT_CARD>"),
        json!("I cannot use <CREDIT_CARD>"),
        json!({"card": "<CREDIT_CARD>", "amount": 12.5}),
        json!("lookup <CREDIT_CARD>"),
    ];
    assert_eq!(everything_texts(&e["final"]), expected, "{e}");
    assert_eq!(everything_texts(&v["everything"]), expected, "{v}");
    let a = crate::responses_upstream::assemble(e["raw"].as_array().unwrap());
    assert_eq!(a.items.len(), 4, "{e}");
    for (case, code) in [
        ("truncated", "upstream_truncated"),
        ("failed", "upstream_error"),
    ] {
        assert_eq!(v[case]["raised"], "APIError", "{case}: {v}");
        assert_eq!(v[case]["body"]["code"], code, "{case}: {v}");
    }
}

/// A client that leaves a streamed Responses call mid-answer: the upstream
/// sees its connection dropped long before its stream ends, the single
/// concurrency slot is free again, and the call is recorded with status
/// 499.
#[test]
fn a_client_that_leaves_a_responses_stream_cancels_the_upstream() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let cfg = tmp.path().join("serve.toml");
    std::fs::write(
        &cfg,
        format!(
            "[limits]\nmax-concurrency = 1\n[upstreams.oai]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"oai\"\n",
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
    let body = json!({"model": "m", "stream": true, "input": "SLOW please"}).to_string();
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // Wait for the first released text, then leave.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("response.output_text.delta") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended early");
        seen.extend_from_slice(&buf[..n]);
    }
    let request_id = String::from_utf8_lossy(&seen)
        .lines()
        .find_map(|l| {
            l.strip_prefix("x-railyard-request-id: ")
                .map(str::to_string)
        })
        .expect("a request id header");
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (written, total) = loop {
        if let Some(l) = upstream.slow_streams.lock().unwrap().first().cloned() {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "the upstream never saw the client leave"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(written < total, "{written} of {total} events written");
    // The slot is free: a new call gets through (not `overloaded`).
    let a = common::http::post(
        server.addr,
        "/v1/responses",
        &[],
        r#"{"model": "m", "input": "hello again"}"#,
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(
        started.elapsed() < Duration::from_millis(50 * total as u64),
        "the upstream's whole stream would have taken {} ms",
        50 * total
    );
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());
    let rows = common::audit_rows(
        &tmp.path().join("audit"),
        &tmp.path().join("reader"),
        "inferences",
        &["--request-id", &request_id],
    );
    assert_eq!(rows[0]["status_code"], 499, "{rows:?}");
    assert!(
        rows[0]["response"].as_str().unwrap().contains("word"),
        "{rows:?}"
    );
}
