//! Shadow and canary rollouts through a real `railyard serve`, a real
//! upstream on loopback and the audit tables read back through the Delta
//! log: a shadow candidate that blocks what the live policy lets through
//! never blocks a call but is recorded and counted; a full shadow queue
//! skips and counts without holding a call; a canary at 0 %, 100 % and
//! 50 % (each caller always in the same arm), rolled back by a reload.

use crate::common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::audit_rows;
use common::http::{Answer, Upstream, get, post};
use common::openai_calls::{serve_config, sha256};
use serde_json::{Value, json};

const ADMIN: &str = "key-admin";

/// The live policy: PII is flagged and let through.
const LIVE: &str = "name = \"live\"\n[defaults]\ntimeout-ms = 20000\n[plugins.pii]\nbuiltin = \"pii\"\naction = \"flag\"\n[stages]\nrequest = [\"pii\"]\nresponse = [\"pii\"]\n";
/// The candidate: the same detector, blocking.
const STRICT: &str = "name = \"strict\"\n[defaults]\ntimeout-ms = 20000\n[plugins.pii]\nbuiltin = \"pii\"\naction = \"block\"\n[stages]\nrequest = [\"pii\"]\nresponse = [\"pii\"]\n";

/// Writes both policies to `dir`; the `[policies]` table naming them.
fn policies(dir: &Path) -> String {
    std::fs::write(dir.join("live.toml"), LIVE).unwrap();
    std::fs::write(dir.join("strict.toml"), STRICT).unwrap();
    "[policies]\nlive = \"live.toml\"\nstrict = \"strict.toml\"\n".into()
}

/// Both policies, `top` (e.g. a `[rollout]` table), the upstream `up` at
/// `base_url` and one route for every model on `live`, with `rollout`
/// (e.g. `shadow = "strict"`) added to the route.
fn route_config(dir: &Path, top: &str, base_url: &str, rollout: &str) -> String {
    format!(
        "{}{top}[upstreams.up]\nbase-url = \"{base_url}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\npolicy = \"live\"\n{rollout}",
        policies(dir)
    )
}

fn chat(addr: SocketAddr, key: Option<&str>, text: &str, stream: bool) -> Answer {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    post(
        addr,
        "/v1/chat/completions",
        &headers,
        &json!({"model": "gpt-x", "stream": stream, "messages": [{"role": "user", "content": text}]})
            .to_string(),
    )
}

/// The value of the `/metrics` line starting `name{labels}` (0 if absent).
fn metric(addr: SocketAddr, series: &str) -> u64 {
    let text = get(addr, "/metrics", &[]).text();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// Waits (up to 120 s) until `done` holds, looking every 20 ms.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or("").to_string()
}

#[test]
fn a_shadow_that_blocks_what_live_allows_is_recorded_and_counted_and_never_blocks_a_call() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let config = route_config(
        tmp.path(),
        "",
        &upstream.base_url(),
        "shadow = \"strict\"\n",
    );
    let mut server = serve_config(tmp.path(), "serve", &config, true, &[]);
    let addr = server.addr;

    // Two calls the candidate would block (one streamed), one it would not.
    let a = chat(addr, None, "write to bob@example.com please", false);
    let b = chat(addr, None, "hello there", false);
    let c = chat(addr, None, "mail carol@example.com now", true);
    for (name, answer) in [("a", &a), ("b", &b), ("c", &c)] {
        assert_eq!(answer.status, 200, "{name}: {}", answer.text());
    }
    assert!(
        a.json()["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("bob@example.com"),
        "live flags, so the answer is untouched: {}",
        a.text()
    );
    // A guard call naming a route that runs `live` takes its shadow too.
    let g = post(
        addr,
        "/v1/guard",
        &[],
        &json!({"policy": "live", "route": "gpt-x", "text": "dave@example.com"}).to_string(),
    );
    assert_eq!(g.status, 200, "{}", g.text());
    assert_eq!(
        (g.json()["action"].as_str(), g.json()["arm"].as_str()),
        (Some("flag"), Some("live"))
    );
    let ids: Vec<String> = [&a, &b, &c, &g]
        .iter()
        .map(|x| x.header("x-railyard-request-id").unwrap().to_string())
        .collect();

    // Seven stages (request and response of three calls, one guard call)
    // evaluated in shadow.
    let evaluated = "railyard_shadow_evaluations_total{policy=\"live\",candidate=\"strict\"}";
    wait_until("seven shadow evaluations", || metric(addr, evaluated) == 7);
    let cell = |stage: &str, live: &str, shadow: &str| {
        metric(
            addr,
            &format!(
                "railyard_shadow_decisions_total{{policy=\"live\",candidate=\"strict\",stage=\"{stage}\",plugin=\"pii\",live=\"{live}\",shadow=\"{shadow}\"}}"
            ),
        )
    };
    for (stage, flagged) in [("request", 3), ("response", 2)] {
        assert_eq!(cell(stage, "flag", "block"), flagged, "{stage}");
        assert_eq!(cell(stage, "allow", "allow"), 1, "{stage}");
    }
    assert_eq!(
        metric(
            addr,
            "railyard_shadow_verdicts_total{policy=\"live\",candidate=\"strict\",stage=\"request\",live=\"flag\",shadow=\"block\"}"
        ),
        3
    );
    assert!(server.stop(), "the server stops cleanly");

    // The rows, read back through the Delta log by another process.
    let audit = tmp.path().join("audit-serve");
    let reader = tmp.path().join("reader");
    let decisions = audit_rows(&audit, &reader, "decisions", &[]);
    let (shadow, live): (Vec<&Value>, Vec<&Value>) =
        decisions.iter().partition(|d| d["arm"] == "shadow");
    assert_eq!((shadow.len(), live.len()), (7, 7), "{decisions:#?}");
    let strict_digest = format!("sha256:{}", sha256(STRICT));
    let live_digest = format!("sha256:{}", sha256(LIVE));
    for d in &shadow {
        assert_eq!(s(d, "policy_name"), "strict");
        assert_eq!(s(d, "policy_digest"), strict_digest);
        assert!(s(d, "plugin_digest").starts_with("sha256:"), "{d}");
        assert!(ids.contains(&s(d, "request_id")), "{d}");
        // Joinable to the live decision of the same call, stage and plugin.
        let twin = live
            .iter()
            .find(|l| {
                (s(l, "request_id"), s(l, "stage"), s(l, "plugin"))
                    == (s(d, "request_id"), s(d, "stage"), s(d, "plugin"))
            })
            .unwrap_or_else(|| panic!("no live row for {d}"));
        assert_eq!(s(twin, "arm"), "live");
        assert_eq!(s(twin, "policy_digest"), live_digest);
        assert_eq!(s(twin, "plugin_digest"), s(d, "plugin_digest"));
        assert_eq!(s(twin, "payload_hash"), s(d, "payload_hash"));
        let expected = if s(twin, "action") == "flag" {
            "block"
        } else {
            "allow"
        };
        assert_eq!(s(d, "action"), expected, "{d}");
    }
    let inferences = audit_rows(&audit, &reader, "inferences", &[]);
    assert_eq!(inferences.len(), 4, "shadows write no inferences rows");
    for i in &inferences {
        assert_eq!(
            (s(i, "arm"), i["status_code"].as_i64()),
            ("live".into(), Some(200))
        );
        assert_eq!(s(i, "policy_name"), "live");
    }

    // `railyard log stats` shows the same agreement, from the table.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["log", "stats", "--json"])
        .env("RAILYARD_AUDIT_URL", &audit)
        .env("RAILYARD_STATE_DIR", &reader)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        stats["decisions"], 7,
        "shadow rows are not counted as decisions: {stats}"
    );
    assert_eq!(stats["by_arm"], json!({"live": 7}));
    assert_eq!(stats["shadowed_stages"], 7);
    let mut cells: Vec<(String, String, u64)> = stats["shadow_agreement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["plugin"], "pii");
            (s(c, "live"), s(c, "shadow"), c["count"].as_u64().unwrap())
        })
        .collect();
    cells.sort();
    assert_eq!(
        cells,
        [
            ("allow".into(), "allow".into(), 2),
            ("flag".into(), "block".into(), 5)
        ]
    );
}

#[test]
fn a_candidate_changed_on_disk_is_what_the_shadow_runs_next() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let config = route_config(
        tmp.path(),
        "",
        &upstream.base_url(),
        "shadow = \"strict\"\n",
    );
    let mut server = serve_config(tmp.path(), "serve", &config, true, &[]);
    let addr = server.addr;
    let evaluated = "railyard_shadow_evaluations_total{policy=\"live\",candidate=\"strict\"}";
    let id = |a: &Answer| a.header("x-railyard-request-id").unwrap().to_string();

    let before = chat(addr, None, "write to bob@example.com", false);
    assert_eq!(before.status, 200, "{}", before.text());
    wait_until("the first call's shadow", || metric(addr, evaluated) == 2);

    // The candidate now redacts instead of blocking: written whole, as an
    // editor does, and hot-reloaded like any policy.
    let swaps = metric(addr, "railyard_pipeline_swaps_total");
    let v2 = STRICT.replace("action = \"block\"", "action = \"redact\"");
    let path = tmp.path().join("strict.toml");
    std::fs::write(path.with_extension("new"), &v2).unwrap();
    std::fs::rename(path.with_extension("new"), &path).unwrap();
    wait_until("the candidate reloaded", || {
        metric(addr, "railyard_pipeline_swaps_total") > swaps
    });

    let after = chat(addr, None, "write to bob@example.com", false);
    assert_eq!(after.status, 200, "{}", after.text());
    assert!(after.text().contains("bob@example.com"), "{}", after.text());
    wait_until("the second call's shadow", || metric(addr, evaluated) == 4);
    assert!(server.stop(), "the server stops cleanly");

    let rows = audit_rows(
        &tmp.path().join("audit-serve"),
        &tmp.path().join("reader"),
        "decisions",
        &[],
    );
    let shadow_of = |request: &str| {
        let mut v: Vec<(String, String, String)> = rows
            .iter()
            .filter(|d| d["arm"] == "shadow" && s(d, "request_id") == request)
            .map(|d| (s(d, "stage"), s(d, "action"), s(d, "policy_digest")))
            .collect();
        v.sort();
        v
    };
    let (d1, d2) = (
        format!("sha256:{}", sha256(STRICT)),
        format!("sha256:{}", sha256(&v2)),
    );
    assert_eq!(
        shadow_of(&id(&before)),
        [
            ("request".into(), "block".into(), d1.clone()),
            ("response".into(), "block".into(), d1)
        ]
    );
    assert_eq!(
        shadow_of(&id(&after)),
        [
            ("request".into(), "redact".into(), d2.clone()),
            ("response".into(), "redact".into(), d2)
        ]
    );
}

#[test]
fn a_full_shadow_queue_skips_and_counts_without_holding_a_call() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let config = route_config(
        tmp.path(),
        "[rollout]\nshadow-queue = 1\n",
        &upstream.base_url(),
        "shadow = \"strict\"\n",
    );
    // While this file exists the shadow worker takes nothing from its
    // queue: the first job fills it, every later one finds it full.
    let hold = tmp.path().join("hold");
    std::fs::write(&hold, "").unwrap();
    let server = serve_config(
        tmp.path(),
        "serve",
        &config,
        true,
        &[("RAILYARD_SHADOW_HOLD", hold.as_path())],
    );
    let addr = server.addr;
    for i in 0..3 {
        let a = chat(addr, None, &format!("call {i}: bob@example.com"), false);
        assert_eq!(a.status, 200, "{}", a.text());
    }
    // Three calls, two stages each: one job queued, five skipped, every
    // call answered while the worker was held.
    let skipped =
        "railyard_shadow_skipped_total{policy=\"live\",candidate=\"strict\",reason=\"queue_full\"}";
    let evaluated = "railyard_shadow_evaluations_total{policy=\"live\",candidate=\"strict\"}";
    assert_eq!(metric(addr, skipped), 5);
    assert_eq!(
        metric(addr, "railyard_shadow_queue_depth{candidate=\"strict\"}"),
        1
    );
    assert_eq!(
        metric(addr, "railyard_shadow_queue_capacity{candidate=\"strict\"}"),
        1
    );
    assert_eq!(metric(addr, evaluated), 0);

    std::fs::remove_file(&hold).unwrap();
    wait_until("the queued job evaluated", || metric(addr, evaluated) == 1);
    assert_eq!(metric(addr, skipped), 5);
    assert_eq!(
        metric(addr, "railyard_shadow_queue_depth{candidate=\"strict\"}"),
        0
    );
}

/// `serve.toml` with twenty callers granted `live`, the admin, and the
/// catch-all route with a canary at `percent` (none when `None`).
fn canary_config(dir: &Path, upstream: &str, percent: Option<f64>) -> String {
    let canary = percent
        .map(|p| format!("canary = \"strict\"\ncanary-percent = {p:.1}\ncanary-by = \"caller\"\n"))
        .unwrap_or_default();
    let mut c = route_config(dir, "", upstream, &canary);
    c.push_str(&format!(
        "[[admins]]\nname = \"ops\"\nkey-sha256 = \"{}\"\n",
        sha256(ADMIN)
    ));
    for i in 0..20 {
        c.push_str(&format!(
            "[[callers]]\nname = \"caller-{i}\"\nkey-sha256 = \"{}\"\npolicies = [\"live\"]\n",
            sha256(&format!("key-{i}"))
        ));
    }
    c
}

/// Rewrites `serve.toml` and reloads it through the admin endpoint.
fn reload(addr: SocketAddr, path: &Path, text: &str) {
    let tmp = path.with_extension("toml.new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
    let a = post(
        addr,
        "/admin/reload-config",
        &[("authorization", &format!("Bearer {ADMIN}"))],
        "",
    );
    assert_eq!(a.status, 200, "{}", a.text());
}

/// Each caller's call with PII: whether the strict canary blocked it.
fn blocked_by_caller(addr: SocketAddr) -> Vec<bool> {
    (0..20)
        .map(|i| {
            let a = chat(
                addr,
                Some(&format!("key-{i}")),
                "reach me at bob@example.com",
                false,
            );
            match a.status {
                200 => false,
                400 => {
                    assert_eq!(a.code(), "request_blocked", "{}", a.text());
                    true
                }
                s => panic!("caller-{i}: {s} {}", a.text()),
            }
        })
        .collect()
}

#[test]
fn a_canary_serves_its_share_by_caller_and_removing_it_rolls_back() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let base = upstream.base_url();
    let config = canary_config(tmp.path(), &base, Some(0.0));
    let mut server = serve_config(tmp.path(), "serve", &config, true, &[]);
    let (addr, path) = (server.addr, tmp.path().join("serve.toml"));
    let arm = |a: &str| {
        format!("railyard_canary_calls_total{{route=\"*\",candidate=\"strict\",arm=\"{a}\"}}")
    };

    // 0 %: every call is live.
    assert_eq!(blocked_by_caller(addr), [false; 20]);
    assert_eq!(
        (metric(addr, &arm("live")), metric(addr, &arm("canary"))),
        (20, 0)
    );

    // 100 %: every call is the candidate's, for real.
    reload(addr, &path, &canary_config(tmp.path(), &base, Some(100.0)));
    assert_eq!(blocked_by_caller(addr), [true; 20]);
    assert_eq!(metric(addr, &arm("canary")), 20);

    // 50 %: some callers in each arm, each always in the same one.
    reload(addr, &path, &canary_config(tmp.path(), &base, Some(50.0)));
    let first = blocked_by_caller(addr);
    let second = blocked_by_caller(addr);
    assert_eq!(first, second, "a caller changed arms");
    let canaried = first.iter().filter(|b| **b).count();
    assert!(
        (1..20).contains(&canaried),
        "{canaried} of 20 in the canary"
    );

    // Rollback: the lines removed, every caller live again.
    reload(addr, &path, &canary_config(tmp.path(), &base, None));
    assert_eq!(blocked_by_caller(addr), [false; 20]);
    assert!(server.stop(), "the server stops cleanly");

    // The rows say which arm served each call.
    let audit = tmp.path().join("audit-serve");
    let reader = tmp.path().join("reader");
    let inferences = audit_rows(&audit, &reader, "inferences", &[]);
    assert_eq!(inferences.len(), 100);
    let count = |arm: Option<&str>, policy: &str| {
        inferences
            .iter()
            .filter(|i| i["arm"].as_str() == arm && s(i, "policy_name") == policy)
            .count()
    };
    assert_eq!(count(Some("canary"), "strict"), 20 + 2 * canaried);
    assert_eq!(count(Some("live"), "live"), 20 + 2 * (20 - canaried));
    assert_eq!(count(None, "live"), 20, "no rollout after the rollback");
    for i in inferences.iter().filter(|i| i["arm"] == "canary") {
        assert_eq!(i["status_code"], 400, "{i}");
    }
    let decisions = audit_rows(&audit, &reader, "decisions", &[]);
    let by_arm = |arm: Option<&str>| {
        decisions
            .iter()
            .filter(|d| d["arm"].as_str() == arm)
            .map(|d| s(d, "policy_name"))
            .collect::<Vec<_>>()
    };
    // A blocked call has its request-stage decision only.
    assert_eq!(by_arm(Some("canary")), vec!["strict"; 20 + 2 * canaried]);
    assert!(by_arm(Some("live")).iter().all(|p| p == "live"));
    assert!(by_arm(None).iter().all(|p| p == "live"));
    assert_eq!(
        decisions.len(),
        20 + 2 * canaried + 2 * (20 + 2 * (20 - canaried)) + 40
    );
}

#[test]
fn the_anthropic_endpoint_takes_the_route_shadow_too() {
    let tmp = tempfile::tempdir().unwrap();
    let anthropic = crate::anthropic_upstream::Upstream::start();
    let config = format!(
        "{}[upstreams.claude]\nbase-url = \"{}\"\napi = \"anthropic\"\n[[routes]]\nmodel = \"claude-*\"\nupstream = \"claude\"\npolicy = \"live\"\nshadow = \"strict\"\n",
        policies(tmp.path()),
        anthropic.base_url()
    );
    let server = serve_config(tmp.path(), "serve", &config, false, &[]);
    let addr = server.addr;
    let a = post(
        addr,
        "/v1/messages",
        &[("anthropic-version", "2023-06-01")],
        &json!({"model": "claude-x", "max_tokens": 50, "messages": [{"role": "user", "content": "write to bob@example.com"}]})
            .to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        a.json()["content"][0]["text"],
        "echo: write to bob@example.com"
    );
    let evaluated = "railyard_shadow_evaluations_total{policy=\"live\",candidate=\"strict\"}";
    wait_until("both stages shadowed", || metric(addr, evaluated) == 2);
    for stage in ["request", "response"] {
        assert_eq!(
            metric(
                addr,
                &format!(
                    "railyard_shadow_decisions_total{{policy=\"live\",candidate=\"strict\",stage=\"{stage}\",plugin=\"pii\",live=\"flag\",shadow=\"block\"}}"
                )
            ),
            1,
            "{stage}"
        );
    }
}

#[test]
fn a_guard_call_takes_a_rollout_only_through_a_route_it_names() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let config = route_config(
        tmp.path(),
        "",
        &upstream.base_url(),
        "canary = \"strict\"\ncanary-percent = 100\ncanary-by = \"request-id\"\n",
    );
    let server = serve_config(tmp.path(), "serve", &config, false, &[]);
    let guard = |body: Value| {
        let a = post(server.addr, "/v1/guard", &[], &body.to_string());
        assert_eq!(a.status, 200, "{}", a.text());
        let v = a.json();
        (s(&v, "policy_name"), s(&v, "action"), v["arm"].clone())
    };
    let text = "mail bob@example.com";
    assert_eq!(
        guard(json!({"policy": "live", "route": "gpt-x", "text": text})),
        ("strict".into(), "block".into(), json!("canary"))
    );
    // No route named: the policy asked for, no rollout (the catch-all
    // route does not claim it).
    assert_eq!(
        guard(json!({"policy": "live", "text": text})),
        ("live".into(), "flag".into(), Value::Null)
    );
    // A route named whose policy is another: no rollout either.
    assert_eq!(
        guard(json!({"policy": "strict", "route": "gpt-x", "text": text})),
        ("strict".into(), "block".into(), Value::Null)
    );
}
