//! Answers an upstream shapes unlike the format, and the fields of a
//! Responses answer outside its output, through a real `railyard serve`
//! and an upstream on 127.0.0.1 that answers exactly what each case
//! scripts (`common::replay`):
//!
//! - JSON that is not an object (an array, a bare string) is no answer of
//!   any format: `502 upstream_invalid`, and none of its text reaches the
//!   client, on all three endpoints;
//! - an object of the wrong shape (chat `choices` that is a string, a
//!   Responses answer without `output`) has every string judged;
//! - a Responses answer's `instructions`, `tools`, `metadata` and unknown
//!   fields are judged, streamed (in `response.created`, `.in_progress`
//!   and `.completed`) and not, unless the request sent that very string.

use serde_json::{Value, json};

use crate::common;
use crate::responses_upstream::events_of;
use common::http::{Server, post};
use common::replay::{Answer, Replay, named_sse};

const CARD: &str = "4111 1111 1111 1111";

/// An answer the upstream gives as JSON only.
fn json_answer(body: &Value) -> Answer {
    Answer {
        sse: String::new(),
        json: Some(body.clone()),
    }
}

fn serve(dir: &std::path::Path, upstream: &Replay) -> Server {
    let cfg = dir.join("serve.toml");
    std::fs::write(
        &cfg,
        format!(
            "[upstreams.claude]\nbase-url = \"http://{0}/v1\"\napi = \"anthropic\"\n\
             [upstreams.oai]\nbase-url = \"http://{0}/v1\"\n\
             [[routes]]\nmodel = \"claude-*\"\nupstream = \"claude\"\n\
             [[routes]]\nmodel = \"*\"\nupstream = \"oai\"\n",
            upstream.addr
        ),
    )
    .unwrap();
    let cache = common::cache_dir();
    Server::start(
        &["--config", cfg.to_str().unwrap()],
        &[
            ("RAILYARD_CACHE_DIR", cache.as_path()),
            ("RAILYARD_STATE_DIR", dir.join("state").as_path()),
            ("RAILYARD_AUDIT_URL", dir.join("audit").as_path()),
        ],
    )
}

/// A request to `path` whose prompt picks the upstream's answer `name`.
fn request(path: &str, name: &str, stream: bool) -> Value {
    let hi = format!("REPLAY:{name}");
    match path {
        "/v1/messages" => json!({"model": "claude-x", "max_tokens": 10, "stream": stream,
            "messages": [{"role": "user", "content": hi}]}),
        "/v1/responses" => json!({"model": "gpt-x", "input": hi, "stream": stream,
            "instructions": "be brief", "tools": [{"type": "function", "name": "refund",
            "description": "refunds an order", "parameters": {"type": "object"}}]}),
        _ => {
            json!({"model": "gpt-x", "stream": stream, "messages": [{"role": "user", "content": hi}]})
        }
    }
}

#[test]
fn json_that_is_not_an_object_is_refused_on_every_endpoint_and_none_of_it_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Replay::start();
    let server = serve(tmp.path(), &upstream);
    for path in ["/v1/chat/completions", "/v1/responses", "/v1/messages"] {
        for body in [
            json!([format!("card {CARD}")]),
            json!(format!("card {CARD}")),
        ] {
            upstream.set("shape", json_answer(&body));
            let a = post(
                server.addr,
                path,
                &[],
                &request(path, "shape", false).to_string(),
            );
            let text = a.text();
            assert_eq!(a.status, 502, "{path} {body}: {text}");
            assert_eq!(a.code(), "upstream_invalid", "{path}: {text}");
            assert!(text.contains("not an object"), "{path}: {text}");
            assert!(!text.contains("1111"), "{path}: {text}");
        }
    }
}

#[test]
fn an_answer_of_the_wrong_shape_has_every_string_judged() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Replay::start();
    let server = serve(tmp.path(), &upstream);
    let cases = [
        (
            "/v1/chat/completions",
            json!({"id": "c", "choices": format!("card {CARD}")}),
        ),
        (
            "/v1/chat/completions",
            json!({"id": "c", "choices": [format!("card {CARD}")]}),
        ),
        (
            "/v1/responses",
            json!({"id": "r", "foo": format!("card {CARD}")}),
        ),
    ];
    for (path, body) in cases {
        upstream.set("shape", json_answer(&body));
        let a = post(
            server.addr,
            path,
            &[],
            &request(path, "shape", false).to_string(),
        );
        let text = a.text();
        assert_eq!(a.status, 200, "{path} {body}: {text}");
        assert!(!text.contains("1111"), "{path}: {text}");
        assert!(text.contains("<CREDIT_CARD>"), "{path}: {text}");
    }
}

/// A Responses answer whose fields outside `output` differ from the
/// request: `instructions` expanded (as a stored prompt is), a tool's new
/// field, metadata and an unknown field, each with a card; the request's
/// own tool description comes back as it was sent.
fn response_with_envelope() -> Value {
    json!({"id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "model": "gpt-x",
        "instructions": format!("be brief; the billing card is {CARD}"),
        "tools": [{"type": "function", "name": "refund", "description": "refunds an order",
            "parameters": {"type": "object"}, "x_hint": format!("card {CARD}")}],
        "metadata": {"note": format!("card {CARD}")},
        "x_new": {"text": format!("card {CARD}")},
        "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": "done", "annotations": []}]}],
        "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}})
}

fn assert_envelope_guarded(r: &Value, what: &str) {
    let text = r.to_string();
    assert!(!text.contains("1111"), "{what}: {text}");
    assert_eq!(
        r["instructions"], "be brief; the billing card is <CREDIT_CARD>",
        "{what}"
    );
    assert_eq!(r["tools"][0]["x_hint"], "card <CREDIT_CARD>", "{what}");
    assert_eq!(r["tools"][0]["description"], "refunds an order", "{what}");
    assert_eq!(r["metadata"]["note"], "card <CREDIT_CARD>", "{what}");
    assert_eq!(r["x_new"]["text"], "card <CREDIT_CARD>", "{what}");
}

#[test]
fn a_responses_answers_fields_outside_its_output_are_judged_streamed_and_not() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Replay::start();
    let server = serve(tmp.path(), &upstream);
    let answer = response_with_envelope();

    upstream.set(
        "envelope",
        Answer {
            sse: named_sse(&events_of(&answer, 2)),
            json: Some(answer),
        },
    );
    let a = post(
        server.addr,
        "/v1/responses",
        &[],
        &request("/v1/responses", "envelope", false).to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert_envelope_guarded(&a.json(), "unstreamed");

    let a = post(
        server.addr,
        "/v1/responses",
        &[],
        &request("/v1/responses", "envelope", true).to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let events: Vec<Value> = a
        .text()
        .split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let mut seen = Vec::new();
    for e in &events {
        let kind = e["type"].as_str().unwrap();
        if let Some(r) = e.get("response") {
            assert_envelope_guarded(r, kind);
            seen.push(kind.to_string());
        }
    }
    assert_eq!(
        seen,
        [
            "response.created",
            "response.in_progress",
            "response.completed"
        ],
        "{events:?}"
    );
    assert_eq!(
        events.last().unwrap()["response"]["output"][0]["content"][0]["text"],
        "done"
    );
}
