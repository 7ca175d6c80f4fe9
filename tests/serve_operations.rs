//! `railyard serve` run as operators meet it: callers' keys, the admin
//! key and overload refusals, a graceful shutdown that drains and flushes,
//! and plugins and policies going live without a restart. A real server
//! process on 127.0.0.1 in front of a real upstream.

use crate::common;

use std::time::Duration;

use common::http::{Upstream, get, post};
use common::serve_env::ServeEnv as Env;
use serde_json::{Value, json};

fn chat(text: &str) -> String {
    json!({"model": "fake-model", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}]}).to_string()
}

fn sha256(s: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

#[test]
fn callers_need_keys_admin_needs_its_own_and_overload_is_refused() {
    let env = Env::new();
    let cfg = env.config(
        &format!(
            "[admin]\nkey-sha256 = \"{}\"\n[limits]\nmax-concurrency = 2\n[[callers]]\nname = \"team-a\"\nkey-sha256 = \"{}\"\nmax-concurrency = 1\n[[callers]]\nname = \"team-b\"\nkey-sha256 = \"{}\"\n",
            sha256("admin-secret"),
            sha256("key-a"),
            sha256("key-b")
        ),
    );
    let upstream = Upstream::start();
    let mut server = env.start(&[
        "--config",
        cfg.to_str().unwrap(),
        "--upstream",
        &upstream.base_url(),
    ]);
    let addr = server.addr;
    let a = post(addr, "/v1/chat/completions", &[], &chat("hi"));
    assert_eq!((a.status, a.code().as_str()), (401, "missing_api_key"));
    let a = post(
        addr,
        "/v1/chat/completions",
        &[("authorization", "Bearer wrong")],
        &chat("hi"),
    );
    assert_eq!((a.status, a.code().as_str()), (401, "invalid_api_key"));
    let a = post(
        addr,
        "/v1/chat/completions",
        &[("authorization", "Bearer key-a")],
        &chat("hi from a"),
    );
    assert_eq!(a.status, 200, "{}", a.text());

    // Admin endpoints: not with a caller key, yes with the admin key.
    assert_eq!(
        get(addr, "/admin/plugins", &[("authorization", "Bearer key-a")]).status,
        401
    );
    let a = get(addr, "/admin/plugins", &[("x-admin-key", "admin-secret")]);
    assert_eq!(a.status, 200);
    let plugins = &a.json()["policies"][0]["plugins"];
    assert_eq!(plugins.as_array().unwrap().len(), 3, "{plugins}");
    assert!(
        plugins[0]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let a = post(
        addr,
        "/admin/reload",
        &[("x-admin-key", "admin-secret")],
        "{}",
    );
    assert_eq!(a.status, 200, "{}", a.text());

    // team-a may have one request in flight: a second gets 429; past the
    // server's limit of 2, 503.
    let slow = |key: &'static str| {
        std::thread::spawn(move || {
            post(
                addr,
                "/v1/chat/completions",
                &[("authorization", key)],
                &chat("SLEEP: 4000"),
            )
        })
    };
    // Each slow call holds its slots from before it reaches the upstream
    // until the upstream answers, 4 s after it got the call.
    let reached = upstream.received.lock().unwrap().len();
    let first = slow("Bearer key-a");
    wait_for_upstream(&upstream, reached + 1);
    let a = post(
        addr,
        "/v1/chat/completions",
        &[("authorization", "Bearer key-a")],
        &chat("me too"),
    );
    assert_eq!((a.status, a.code().as_str()), (429, "too_many_requests"));
    let second = slow("Bearer key-b");
    wait_for_upstream(&upstream, reached + 2);
    let a = post(
        addr,
        "/v1/chat/completions",
        &[("authorization", "Bearer key-b")],
        &chat("and me"),
    );
    assert_eq!((a.status, a.code().as_str()), (503, "overloaded"));
    assert_eq!(a.header("retry-after"), Some("1"));
    assert_eq!(first.join().unwrap().status, 200);
    assert_eq!(second.join().unwrap().status, 200);

    let m = get(addr, "/metrics", &[]).text();
    for needle in [
        "railyard_plugin_actions_total{plugin=\"pii\",stage=\"request\",action=\"allow\"}",
        "railyard_plugin_duration_seconds_bucket{plugin=\"pii\"",
        "railyard_requests_refused_total{reason=\"overloaded\"} 1",
        "railyard_requests_refused_total{reason=\"caller_concurrency\"} 1",
        "railyard_audit_backlog_bytes",
        "railyard_plugin_outcomes_total{plugin=\"secrets\",outcome=\"ok\"}",
    ] {
        assert!(m.contains(needle), "{needle} missing from:\n{m}");
    }
    assert_eq!(get(addr, "/readyz", &[]).status, 200);

    assert!(server.stop());
    let callers: Vec<String> = env
        .rows("decisions", &[])
        .iter()
        .map(|d| d["caller"].as_str().unwrap().to_string())
        .collect();
    assert!(callers.iter().any(|c| c == "team-a"));
    assert!(callers.iter().any(|c| c == "team-b"));
    assert!(
        callers.iter().all(|c| c == "team-a" || c == "team-b"),
        "{callers:?}"
    );
    // Each refusal and admin call is an `events` row.
    let events = env.rows("events", &[]);
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["kind"] == kind).collect() };
    let overloaded: Vec<(&Value, &Value, &Value)> = of("overloaded")
        .into_iter()
        .map(|e| (&e["caller"], &e["status_code"], &e["code"]))
        .collect();
    assert_eq!(
        overloaded,
        [
            (&json!("team-a"), &json!(429), &json!("too_many_requests")),
            (&json!("team-b"), &json!(503), &json!("overloaded"))
        ],
        "{events:#?}"
    );
    let auth: Vec<(&Value, &Value)> = of("auth_failure")
        .into_iter()
        .map(|e| (&e["code"], &e["key_prefix"]))
        .collect();
    assert_eq!(
        auth,
        [
            (&json!("missing_api_key"), &Value::Null),
            (&json!("invalid_api_key"), &json!(sha256("wrong")[..12]))
        ]
    );
    assert_eq!(
        of("admin_auth_failure")[0]["key_prefix"],
        sha256("key-a")[..12]
    );
    let admin: Vec<&Value> = of("admin_call")
        .into_iter()
        .map(|e| &e["endpoint"])
        .collect();
    assert_eq!(admin, [&json!("/admin/plugins"), &json!("/admin/reload")]);
}

#[test]
fn shutdown_drains_requests_in_flight_and_flushes_the_audit_log() {
    let env = Env::new();
    let upstream = Upstream::start();
    let mut server = env.start(&["--upstream", &upstream.base_url()]);
    let addr = server.addr;
    let inflight =
        std::thread::spawn(move || post(addr, "/v1/chat/completions", &[], &chat("SLEEP: 1000")));
    // In flight once the upstream has it (it then sleeps 1 s before answering).
    wait_for_upstream(&upstream, 1);
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());
    let a = inflight.join().unwrap();
    assert_eq!(
        a.status,
        200,
        "the request in flight finished: {}",
        a.text()
    );
    let rows = env.rows("inferences", &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status_code"], 200);
}

/// Waits (up to 60 s) until the upstream has received `n` calls.
fn wait_for_upstream(upstream: &Upstream, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while upstream.received.lock().unwrap().len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "the upstream never got call {n}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls `/v1/guard` until `done` holds for its answer, for up to 120 s
/// (a reload compiles a component; a loaded machine is slow at it).
fn eventually(addr: std::net::SocketAddr, body: &str, what: &str, done: impl Fn(&Value) -> bool) {
    let started = std::time::Instant::now();
    loop {
        let v = post(addr, "/v1/guard", &[], body).json();
        if done(&v) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "waited 120 s for {what}; last answer: {v:#}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_plugin_dropped_in_the_folder_and_a_policy_edit_go_live_without_a_restart() {
    let env = Env::new();
    let root = env.path("deploy");
    let plugins = root.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let policy = root.join("policy.toml");
    let write_policy = |pii_action: &str| {
        let tmp = root.join("policy.toml.partial");
        std::fs::write(
            &tmp,
            format!(
                "name = \"live\"\n[registry]\ndir = \"plugins\"\npoll-ms = 100\n[plugins.pii]\nbuiltin = \"pii\"\naction = \"{pii_action}\"\n[stages]\nrequest = [\"pii\"]\n"
            ),
        )
        .unwrap();
        std::fs::rename(&tmp, &policy).unwrap();
    };
    write_policy("redact");
    let server = env.start(&["--policy", policy.to_str().unwrap()]);
    let addr = server.addr;
    let body = json!({"text": "mail ana@example.org"}).to_string();
    let v = post(addr, "/v1/guard", &[], &body).json();
    assert_eq!(v["decisions"].as_array().unwrap().len(), 1, "{v}");

    // Drop a component, then its manifest (written by `railyard manifest`).
    let wasm = common::wasm("railyard_plugin_judge_router");
    let bytes = std::fs::read(&wasm).unwrap();
    std::fs::write(plugins.join("judge-router.wasm"), &bytes).unwrap();
    let manifest = std::process::Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args([
            "manifest",
            plugins.join("judge-router.wasm").to_str().unwrap(),
        ])
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .output()
        .unwrap();
    assert!(
        manifest.status.success(),
        "{}",
        String::from_utf8_lossy(&manifest.stderr)
    );
    std::fs::write(plugins.join("judge-router.toml"), &manifest.stdout).unwrap();
    let digest = railyard::plugin::PluginDigest::of(&bytes).to_string();
    eventually(addr, &body, "the dropped plugin to decide", |v| {
        v["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["plugin_digest"] == digest.as_str())
    });

    // SIGHUP reloads; it does not stop the server.
    let _ = std::process::Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(get(addr, "/healthz", &[]).status, 200);

    // A policy edit goes live; a broken one is refused and the last good
    // one keeps serving.
    write_policy("block");
    eventually(addr, &body, "the edited policy", |v| v["action"] == "block");
    std::fs::write(
        &policy,
        "name = \"broken\"\n[stages]\nrequest = [\"no-such-plugin\"]\n",
    )
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let m = get(addr, "/metrics", &[]).text();
        if m.contains("railyard_policy_reload_refused_total 1") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the broken policy was never refused: {m}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let v = post(addr, "/v1/guard", &[], &body).json();
    assert_eq!(
        v["action"], "block",
        "the last good policy still serves: {v}"
    );
}
