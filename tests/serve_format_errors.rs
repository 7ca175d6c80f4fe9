//! Bad input to `/v1/responses` and `/v1/messages` (malformed JSON, a body
//! that is not an object, a missing or mistyped `model`, `input` or
//! `messages` of the wrong shape, a body over `[limits] max-body-kib`),
//! sent by the real `openai` and `anthropic` clients: each gets its
//! format's error shape with a message naming what is wrong, the client
//! raises its usual exception, and nothing reaches the upstream.

use std::path::Path;

use serde_json::Value;

use crate::anthropic_upstream::Upstream;
use crate::common;
use common::http::Server;
use common::python;

#[test]
fn bad_input_gets_each_formats_own_error_and_the_clients_raise_their_usual_exceptions() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let cfg = tmp.path().join("serve.toml");
    std::fs::write(
        &cfg,
        format!(
            "[limits]\nmax-body-kib = 64\n\
             [upstreams.claude]\nbase-url = \"{0}\"\napi = \"anthropic\"\n\
             [upstreams.oai]\nbase-url = \"{0}\"\n\
             [[routes]]\nmodel = \"claude-*\"\nupstream = \"claude\"\n\
             [[routes]]\nmodel = \"*\"\nupstream = \"oai\"\n",
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
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/format_errors.py");
    let out = std::process::Command::new(py)
        .arg(script)
        .arg(format!("http://{}", server.addr))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.stderr.lock().unwrap()
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`
    // (the client's `body` is the inner object).
    for (case, code, needle) in [
        ("malformed", "invalid_json", "not valid JSON"),
        ("not_object", "invalid_request", "must be a JSON object"),
        ("missing_model", "invalid_request", "`model`"),
        ("model_type", "invalid_request", "`model`"),
        ("input_type", "invalid_request", "`input`"),
        ("input_item", "invalid_request", "`input[0]`"),
        ("content_type", "invalid_request", "`input[0].content`"),
        ("instructions_type", "invalid_request", "`instructions`"),
    ] {
        let c = &v["responses"][case];
        assert_eq!(c["raised"], "BadRequestError", "{case}: {c}");
        assert_eq!(c["body"]["type"], "invalid_request_error", "{case}: {c}");
        assert_eq!(c["body"]["code"], code, "{case}: {c}");
        let message = c["body"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{case}: {message}");
    }
    for case in ["huge", "huge_streamed"] {
        let c = &v["responses"][case];
        assert_eq!(c["status"], 413, "{case}: {c}");
        assert_eq!(c["body"]["code"], "body_too_large", "{case}: {c}");
        assert!(
            c["body"]["message"]
                .as_str()
                .unwrap()
                .contains("65536 bytes"),
            "{case}: {c}"
        );
    }
    // Anthropic's shape: `{"type": "error", "error": {"type", "message"}}`.
    for (case, needle) in [
        ("malformed", "not valid JSON"),
        ("not_object", "must be a JSON object"),
        ("missing_model", "`model`"),
        ("model_type", "`model`"),
        ("max_tokens_type", "`max_tokens`"),
        ("messages_type", "`messages`"),
        ("message_item", "`messages[0]`"),
        ("content_type", "`messages[0].content`"),
    ] {
        let c = &v["messages"][case];
        assert_eq!(c["raised"], "BadRequestError", "{case}: {c}");
        assert_eq!(c["body"]["type"], "error", "{case}: {c}");
        assert_eq!(
            c["body"]["error"]["type"], "invalid_request_error",
            "{case}: {c}"
        );
        let message = c["body"]["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{case}: {message}");
    }
    for case in ["huge", "huge_streamed"] {
        let c = &v["messages"][case];
        assert_eq!(c["status"], 413, "{case}: {c}");
        assert_eq!(
            c["body"]["error"]["type"], "request_too_large",
            "{case}: {c}"
        );
        assert_eq!(c["body"]["error"]["code"], "body_too_large", "{case}: {c}");
    }
    assert!(
        upstream.received.lock().unwrap().is_empty(),
        "bad input never reaches the upstream"
    );
    // The server still serves both formats.
    let a = common::http::post(
        server.addr,
        "/v1/responses",
        &[],
        r#"{"model": "gpt-fake", "input": "still there?"}"#,
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let a = common::http::post(
        server.addr,
        "/v1/messages",
        &[],
        r#"{"model": "claude-fake", "max_tokens": 5, "messages": [{"role": "user", "content": "still there?"}]}"#,
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());
}
