//! Tokens-per-minute quotas settle each call to what it really used,
//! through a real server: the upstream's `usage` when it reports one, the
//! streamed text when it does not, and an upstream that ignores the bound
//! is charged the overshoot.

use crate::common;

use std::time::{Duration, Instant};

use common::http::{Upstream, post};
use common::openai_calls::{openai_calls, serve_config, sha256};
use common::python;
use common::script::Script;
use serde_json::json;

fn remaining_tokens(a: &common::http::Answer) -> u64 {
    a.header("x-ratelimit-remaining-tokens")
        .unwrap_or_else(|| panic!("no x-ratelimit-remaining-tokens: {:?}", a.headers))
        .parse()
        .unwrap()
}

#[test]
fn a_tokens_quota_is_charged_what_the_upstream_says_was_used() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    upstream.script(
        "long",
        Script {
            messages: vec![json!({"content": "a long answer"})],
            usage: Some(json!({"prompt_tokens": 7, "completion_tokens": 900, "total_tokens": 907})),
            ..Script::default()
        },
    );
    let config = format!(
        "[upstreams.up]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
         [[callers]]\nname = \"a\"\nkey-sha256 = \"{}\"\ntokens-per-minute = 1000\n\
         [[callers]]\nname = \"b\"\nkey-sha256 = \"{}\"\ntokens-per-minute = 1000\n",
        upstream.base_url(),
        sha256("key-a"),
        sha256("key-b"),
    );
    let server = serve_config(tmp.path(), "serve", &config, false, &[]);
    // Each call reserves 2 + 400 tokens at admission, so without
    // settlement the third would be refused; the upstream says each used
    // 7 + 5, and every call is served.
    let body =
        json!({"model": "m", "max_tokens": 400, "messages": [{"role": "user", "content": "hi"}]})
            .to_string();
    for i in 0..6u64 {
        let a = post(
            server.addr,
            "/v1/chat/completions",
            &[("authorization", "Bearer key-a")],
            &body,
        );
        assert_eq!(a.status, 200, "call {i}: {}", a.text());
        let last = remaining_tokens(&a);
        // The header reports the settled bucket (refills only add).
        assert!(last >= 1000 - 12 * (i + 1), "call {i}: {last}");
        if i == 0 {
            assert!(last >= 988, "{last}");
        }
    }
    assert_eq!(upstream.prompts().len(), 6);

    // An upstream that ignores the bound (10) and answers 900 tokens: the
    // overshoot is charged, and the caller's next large call must wait.
    let started = Instant::now();
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &[("authorization", "Bearer key-b")],
        &json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "SCRIPT: long"}]})
            .to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let left = remaining_tokens(&a);
    // 1000 - (7 + 900), plus what refilled since (1000 a minute).
    let refilled = (started.elapsed().as_secs_f64() * 1000.0 / 60.0).ceil() as u64;
    assert!((93..=93 + refilled).contains(&left), "{left}");
    let base = format!("http://{}/v1", server.addr);
    let r = openai_calls(
        &py,
        &base,
        &json!([{"key": "key-b", "model": "m", "content": "hi", "max_tokens": 900}]),
    );
    if started.elapsed() < Duration::from_secs(45) {
        // 93 + 1000/60 a second stays under 902 for 48 s.
        assert_eq!(r[0]["raised"], "RateLimitError", "{r:?}");
        assert_eq!(r[0]["code"], "tokens_per_minute_exceeded", "{r:?}");
    }
}

#[test]
fn a_stream_without_usage_is_charged_its_counted_text() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let config = format!(
        "[upstreams.up]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
         [[callers]]\nname = \"s\"\nkey-sha256 = \"{}\"\ntokens-per-minute = 10000\n",
        upstream.base_url(),
        sha256("key-s"),
    );
    let server = serve_config(tmp.path(), "serve", &config, false, &[]);
    let auth = [("authorization", "Bearer key-s")];
    // Reserves 103 (the prompt) + 8000 (the bound); the fake upstream
    // streams the 400 bytes back without usage: 100 tokens counted.
    let text = "x".repeat(400);
    let started = Instant::now();
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &auth,
        &json!({"model": "m", "stream": true, "x_chunk": 50, "max_tokens": 8000,
                "messages": [{"role": "user", "content": format!("SAY: {text}")}]})
        .to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let (streamed, error) = common::http::streamed_text(&a.text());
    assert_eq!((streamed.as_str(), error), (text.as_str(), None));
    // The stream's task settles once the answer is recorded: a guard call
    // (which reserves no tokens) then reads the bucket. Unsettled, it would
    // hold at most 10000 - 8103 plus what refilled since the call began.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let g = post(
            server.addr,
            "/v1/guard",
            &auth,
            &json!({"text": "hello"}).to_string(),
        );
        assert_eq!(g.status, 200, "{}", g.text());
        let left = remaining_tokens(&g);
        let unsettled =
            10000 - 8103 + (started.elapsed().as_secs_f64() * 10000.0 / 60.0).ceil() as u64;
        if left > unsettled {
            // Settled to 103 + 100 (refills only add).
            assert!(left >= 10000 - 203, "{left}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stream's reservation was never settled: {left} left"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_streams_final_usage_is_charged_even_past_the_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    upstream.script(
        "big",
        Script {
            messages: vec![json!({"content": "a short text"})],
            usage: Some(
                json!({"prompt_tokens": 7, "completion_tokens": 9000, "total_tokens": 9007}),
            ),
            ..Script::default()
        },
    );
    let config = format!(
        "[upstreams.up]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
         [[callers]]\nname = \"s\"\nkey-sha256 = \"{}\"\ntokens-per-minute = 10000\n",
        upstream.base_url(),
        sha256("key-s"),
    );
    let server = serve_config(tmp.path(), "serve", &config, false, &[]);
    let auth = [("authorization", "Bearer key-s")];
    // Reserves 4 + 10; the stream's last event says 7 + 9000 were used.
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &auth,
        &json!({"model": "m", "stream": true, "max_tokens": 10,
                "stream_options": {"include_usage": true},
                "messages": [{"role": "user", "content": "SCRIPT: big"}]})
        .to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(
        a.text().contains("\"completion_tokens\":9000"),
        "{}",
        a.text()
    );
    // Settled, the bucket holds 10000 - 9007 plus what refilled (under
    // 6000 for 30 s); unsettled, at least 10000 - 14.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let g = post(
            server.addr,
            "/v1/guard",
            &auth,
            &json!({"text": "hello"}).to_string(),
        );
        assert_eq!(g.status, 200, "{}", g.text());
        let left = remaining_tokens(&g);
        if left < 6000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stream's usage was never charged: {left} left"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
