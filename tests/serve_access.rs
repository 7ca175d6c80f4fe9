//! Who may do what, through a real server and the real `openai` client:
//! callers bound to policies and models, keys with expiry, and a server
//! that refuses to face a network without authenticating callers.

use crate::common;

use std::process::Command;

use common::http::{Upstream, post};
use common::openai_calls::{openai_calls, serve_config, sha256, write_lenient_policy};
use common::python;
use serde_json::{Value, json};

const CARD: &str = "4111 1111 1111 1111";

#[test]
fn callers_use_only_their_policies_and_models_and_expired_keys_are_refused() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    write_lenient_policy(tmp.path());
    let upstream = Upstream::start();
    let config = format!(
        "[policies]\nlenient = \"lenient.toml\"\n\
         [upstreams.up]\nbase-url = \"{base}\"\n\
         [[routes]]\nmodel = \"lenient-*\"\nupstream = \"up\"\npolicy = \"lenient\"\n\
         [[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
         [[callers]]\nname = \"apps\"\nkey-sha256 = \"{a}\"\n\
         [[callers]]\nname = \"research\"\nkeys = [{{ sha256 = \"{r}\" }}, {{ sha256 = \"{old}\", expires = \"2020-01-01T00:00:00Z\" }}]\npolicies = [\"default\", \"lenient\"]\n\
         [[callers]]\nname = \"small-only\"\nkey-sha256 = \"{s}\"\nmodels = [\"small\"]\n",
        base = upstream.base_url(),
        a = sha256("key-apps"),
        r = sha256("key-research"),
        old = sha256("key-research-old"),
        s = sha256("key-small"),
    );
    let server = serve_config(tmp.path(), "serve", &config, true, &[]);
    let base = format!("http://{}/v1", server.addr);
    let with_card = format!("pay with {CARD}");
    let calls = json!([
        {"key": "key-apps", "model": "gpt-x", "content": with_card},
        {"key": "key-apps", "model": "lenient-1", "content": with_card},
        {"key": "key-apps", "model": "lenient-1", "content": with_card, "stream": true},
        {"key": "key-research", "model": "lenient-1", "content": with_card},
        {"key": "key-research-old", "model": "gpt-x", "content": "hi"},
        {"key": "key-nobody", "model": "gpt-x", "content": "hi"},
        {"key": "key-small", "model": "gpt-x", "content": "hi"},
        {"key": "key-small", "model": "small", "content": "hi"},
    ]);
    let r = openai_calls(&py, &base, &calls);
    let log = || server.stderr.lock().unwrap().clone();
    // Its own policy: the card is redacted before the model sees it.
    assert_eq!(r[0]["ok"], true, "{r:?}\n{}", log());
    assert_eq!(r[0]["content"], "echo: pay with <CREDIT_CARD>");
    // A route to a policy the caller was not granted: refused whole.
    for refused in &r[1..3] {
        assert_eq!(refused["raised"], "PermissionDeniedError", "{r:?}");
        assert_eq!(refused["status"], 403);
        assert_eq!(refused["code"], "policy_not_allowed");
        assert!(
            refused["message"].as_str().unwrap().contains("`lenient`"),
            "{refused}"
        );
    }
    // A caller granted the lenient policy gets it (flagged, not redacted).
    assert_eq!(r[3]["ok"], true, "{r:?}");
    assert_eq!(r[3]["content"], format!("echo: {with_card}"));
    assert_eq!(
        (r[4]["raised"].as_str(), r[4]["code"].as_str()),
        (Some("AuthenticationError"), Some("expired_api_key"))
    );
    assert_eq!(
        (r[5]["raised"].as_str(), r[5]["code"].as_str()),
        (Some("AuthenticationError"), Some("invalid_api_key"))
    );
    assert_eq!(
        (r[6]["raised"].as_str(), r[6]["code"].as_str()),
        (Some("PermissionDeniedError"), Some("model_not_allowed"))
    );
    assert_eq!(r[7]["ok"], true, "{r:?}");
    // The card reached the model only through the caller granted `lenient`.
    let verbatim = upstream
        .prompts()
        .iter()
        .filter(|p| p.contains(CARD))
        .count();
    assert_eq!(verbatim, 1, "{:?}", upstream.prompts());

    // The guard API: `policy` is limited to the caller's grants, and a
    // caller that names none gets its own.
    let guard = |key: &str, body: Value| {
        post(
            server.addr,
            "/v1/guard",
            &[("authorization", &format!("Bearer {key}"))],
            &body.to_string(),
        )
    };
    let a = guard("key-apps", json!({"text": with_card, "policy": "lenient"}));
    assert_eq!(
        (a.status, a.code().as_str()),
        (403, "policy_not_allowed"),
        "{}",
        a.text()
    );
    let a = guard("key-apps", json!({"text": with_card}));
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["action"], "redact");
    let a = guard(
        "key-research",
        json!({"text": with_card, "policy": "lenient"}),
    );
    assert_eq!(a.json()["action"], "flag", "{}", a.text());
    // Two keys, one of them wrong, never pass.
    let a = post(
        server.addr,
        "/v1/guard",
        &[
            ("authorization", "Bearer key-apps"),
            ("x-api-key", "key-nobody"),
        ],
        &json!({"text": "hi"}).to_string(),
    );
    assert_eq!((a.status, a.code().as_str()), (401, "conflicting_api_keys"));
    // The model list holds only what a caller may call.
    let listed = |key: &str| {
        let a = common::http::get(
            server.addr,
            "/v1/models",
            &[("authorization", &format!("Bearer {key}"))],
        );
        assert_eq!(a.status, 200, "{}", a.text());
        let ids: Vec<String> = a.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect();
        ids
    };
    assert_eq!(listed("key-apps"), ["fake-model"]);
    assert!(listed("key-small").is_empty());
}

#[test]
fn serving_a_network_without_caller_keys_must_be_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["serve", "--no-audit", "--listen", "0.0.0.0:0"])
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .env("RAILYARD_STATE_DIR", tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0 without caller authentication"),
        "{err}"
    );
}

#[test]
fn quotas_refuse_with_retry_after_and_the_rate_limit_headers() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    // One request a minute for `slow`: its second call within the minute
    // is refused whatever the machine's speed. `budget` has 1,000 tokens a
    // minute: a call that may ask for 2,000 never fits.
    let config = format!(
        "[upstreams.up]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
         [[callers]]\nname = \"slow\"\nkey-sha256 = \"{}\"\nrequests-per-minute = 1\n\
         [[callers]]\nname = \"budget\"\nkey-sha256 = \"{}\"\ntokens-per-minute = 1000\n\
         [metrics]\nkey-sha256 = \"{}\"\n",
        upstream.base_url(),
        sha256("key-slow"),
        sha256("key-budget"),
        sha256("key-metrics"),
    );
    let server = serve_config(tmp.path(), "serve", &config, true, &[]);
    // The raw answer first: the headers OpenAI clients read.
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).to_string();
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &[("authorization", "Bearer key-slow")],
        &body,
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("x-ratelimit-limit-requests"), Some("1"));
    assert_eq!(a.header("x-ratelimit-remaining-requests"), Some("0"));
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &[("authorization", "Bearer key-slow")],
        &body,
    );
    assert_eq!(
        (a.status, a.code().as_str()),
        (429, "requests_per_minute_exceeded"),
        "{}",
        a.text()
    );
    let retry: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(
        a.header("x-ratelimit-reset-requests")
            .unwrap()
            .ends_with('s')
    );

    let base = format!("http://{}/v1", server.addr);
    let calls = json!([
        {"key": "key-slow", "model": "m", "content": "hi"},
        {"key": "key-budget", "model": "m", "content": "hi", "max_tokens": 2000},
        {"key": "key-budget", "model": "m", "content": "hi", "max_tokens": 10},
    ]);
    let r = openai_calls(&py, &base, &calls);
    assert_eq!(r[0]["raised"], "RateLimitError", "{r:?}");
    assert_eq!(r[0]["code"], "requests_per_minute_exceeded");
    assert!(r[0]["headers"]["retry-after"].is_string(), "{r:?}");
    assert_eq!(r[1]["raised"], "RateLimitError", "{r:?}");
    assert_eq!(r[1]["code"], "tokens_per_minute_exceeded");
    assert!(
        r[1]["message"]
            .as_str()
            .unwrap()
            .contains("whole per-minute quota"),
        "{r:?}"
    );
    assert_eq!(r[2]["ok"], true, "{r:?}");
    // Refused calls never reached the model: two answered calls in all.
    assert_eq!(upstream.prompts().len(), 2, "{:?}", upstream.prompts());
    // /metrics is behind its own key here.
    assert_eq!(common::http::get(server.addr, "/metrics", &[]).status, 401);
    let m = common::http::get(
        server.addr,
        "/metrics",
        &[("authorization", "Bearer key-metrics")],
    )
    .text();
    assert!(
        m.contains("railyard_caller_requests_total{caller=\"slow\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("railyard_caller_requests_total{caller=\"budget\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("railyard_requests_refused_total{reason=\"requests_per_minute\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("railyard_requests_refused_total{reason=\"tokens_per_minute\"} 1"),
        "{m}"
    );
}

#[test]
fn metrics_on_their_own_address_and_logs_as_json_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let config = format!(
        "[metrics]\nlisten = \"127.0.0.1:0\"\n[[callers]]\nname = \"apps\"\nkey-sha256 = \"{}\"\n",
        sha256("key-apps")
    );
    let server = serve_config(
        tmp.path(),
        "serve",
        &config,
        false,
        &[("RAILYARD_LOG_FORMAT", std::path::Path::new("json"))],
    );
    let metrics = server.metrics_addr();
    // Not on the model-facing address...
    let a = common::http::get(server.addr, "/metrics", &[]);
    assert_eq!(
        (a.status, a.code().as_str()),
        (404, "not_found"),
        "{}",
        a.text()
    );
    // ...and nothing but /metrics on its own.
    assert_eq!(common::http::get(metrics, "/v1/models", &[]).status, 404);
    // A refused caller: a security event, logged at warn as one JSON object.
    let a = post(
        server.addr,
        "/v1/guard",
        &[("authorization", "Bearer key-wrong")],
        &json!({"text": "hi"}).to_string(),
    );
    assert_eq!(a.status, 401);
    let m = common::http::get(metrics, "/metrics", &[]);
    assert_eq!(m.status, 200);
    assert!(
        m.text()
            .contains("railyard_requests_refused_total{reason=\"auth\"} 1"),
        "{}",
        m.text()
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let line = loop {
        let log = server.stderr.lock().unwrap().clone();
        let found = log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["event"] == "auth_failure");
        if let Some(v) = found {
            break v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no JSON log line: {log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(line["level"], "WARN", "{line}");
    assert_eq!(line["code"], "invalid_api_key", "{line}");
    assert_eq!(line["key_prefix"], sha256("key-wrong")[..12], "{line}");
}
