//! Quotas shared by two hosts through a real Redis on 127.0.0.1, seen by
//! the real `openai` client, and what each `on-unreachable` choice does
//! when Redis stops.

use crate::common;

use serde_json::json;

use common::http::{Server, Upstream, get};
use common::openai_calls::{openai_calls, serve_config, sha256};
use common::python;
use common::redis::Redis;

fn host(tmp: &std::path::Path, name: &str, upstream: &Upstream, redis: &Redis, on: &str) -> Server {
    let config = format!(
        "[upstreams.up]\nbase-url = \"{base}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
         [quotas]\nbackend = \"redis\"\nredis-url = \"{url}\"\non-unreachable = \"{on}\"\ntimeout-ms = 10000\n\
         [[callers]]\nname = \"apps\"\nkey-sha256 = \"{k}\"\nrequests-per-minute = 3\n\
         [[callers]]\nname = \"other\"\nkey-sha256 = \"{o}\"\nrequests-per-minute = 3\n",
        base = upstream.base_url(),
        url = redis.url(),
        k = sha256("key-apps"),
        o = sha256("key-other"),
    );
    serve_config(tmp, name, &config, false, &[])
}

#[test]
fn two_hosts_share_one_quota_and_redis_down_is_decided_by_the_config() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut redis = Redis::start();
    let upstream = Upstream::start();
    let a = host(tmp.path(), "a", &upstream, &redis, "closed");
    let b = host(tmp.path(), "b", &upstream, &redis, "local");
    let base = |s: &Server| format!("http://{}/v1", s.addr);
    let call = |key: &str| json!([{"key": key, "model": "m", "content": "hi"}]);
    // Three a minute for `apps`, across both hosts.
    for (server, n) in [(&a, 1), (&b, 2), (&a, 3)] {
        let r = openai_calls(&py, &base(server), &call("key-apps"));
        assert_eq!(r[0]["ok"], true, "call {n}: {r:?}");
    }
    for server in [&b, &a] {
        let r = openai_calls(&py, &base(server), &call("key-apps"));
        assert_eq!(r[0]["raised"], "RateLimitError", "{r:?}");
        assert_eq!(r[0]["code"], "requests_per_minute_exceeded");
        assert_eq!(r[0]["headers"]["x-ratelimit-limit-requests"], "3");
        assert_eq!(r[0]["headers"]["x-ratelimit-remaining-requests"], "0");
        assert!(r[0]["headers"]["retry-after"].is_string(), "{r:?}");
    }
    // Another caller has its own bucket.
    let r = openai_calls(&py, &base(&b), &call("key-other"));
    assert_eq!(r[0]["ok"], true, "{r:?}");
    assert_eq!(upstream.prompts().len(), 4);

    redis.stop();
    // `closed`: refused with its own code while Redis is away.
    let r = openai_calls(&py, &base(&a), &call("key-other"));
    assert_eq!(r[0]["status"], 503, "{r:?}");
    assert_eq!(r[0]["code"], "quota_backend_unavailable", "{r:?}");
    // `local`: this host's own buckets decide (full: it charged nothing
    // locally while Redis decided), so 3 pass and the 4th is refused.
    let calls = json!([
        {"key": "key-apps", "model": "m", "content": "hi"},
        {"key": "key-apps", "model": "m", "content": "hi"},
        {"key": "key-apps", "model": "m", "content": "hi"},
        {"key": "key-apps", "model": "m", "content": "hi"},
    ]);
    let r = openai_calls(&py, &base(&b), &calls);
    assert!(r[..3].iter().all(|c| c["ok"] == true), "{r:?}");
    assert_eq!(r[3]["code"], "requests_per_minute_exceeded", "{r:?}");
    for (server, n) in [(&a, 1), (&b, 4)] {
        let m = get(server.addr, "/metrics", &[]).text();
        assert!(
            m.contains(&format!("railyard_quota_backend_unreachable_total {n}")),
            "{m}"
        );
    }
    assert!(
        b.stderr
            .lock()
            .unwrap()
            .contains("the shared quota backend cannot be reached"),
        "the alarm is logged at warn"
    );
}

#[test]
fn two_hosts_settle_tokens_in_the_shared_buckets() {
    let tmp = tempfile::tempdir().unwrap();
    let redis = Redis::start();
    let upstream = Upstream::start();
    let config = |name: &str| {
        let text = format!(
            "[upstreams.up]\nbase-url = \"{base}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
             [quotas]\nbackend = \"redis\"\nredis-url = \"{url}\"\non-unreachable = \"closed\"\ntimeout-ms = 10000\n\
             [[callers]]\nname = \"apps\"\nkey-sha256 = \"{k}\"\ntokens-per-minute = 1000\n",
            base = upstream.base_url(),
            url = redis.url(),
            k = sha256("key-apps"),
        );
        serve_config(tmp.path(), name, &text, false, &[])
    };
    let (a, b) = (config("a"), config("b"));
    // Each call reserves 2 + 400 of the fleet's 1000 tokens a minute and
    // the upstream says it used 12: settled in Redis, the fourth call (on
    // either host) still fits; unsettled, the third would not.
    let body =
        json!({"model": "m", "max_tokens": 400, "messages": [{"role": "user", "content": "hi"}]})
            .to_string();
    for (i, server) in [&a, &b, &a, &b].into_iter().enumerate() {
        let r = common::http::post(
            server.addr,
            "/v1/chat/completions",
            &[("authorization", "Bearer key-apps")],
            &body,
        );
        assert_eq!(r.status, 200, "call {i}: {}", r.text());
        let left: u64 = r
            .header("x-ratelimit-remaining-tokens")
            .unwrap()
            .parse()
            .unwrap();
        // The settled fleet bucket (refills only add).
        assert!(left >= 1000 - 12 * (i as u64 + 1), "call {i}: {left}");
    }
}
