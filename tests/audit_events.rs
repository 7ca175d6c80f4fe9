//! Operational evidence through a real server: a wrong key, an over-quota
//! call, a policy or model not granted, an admin reload and a policy
//! change each leave an `events` row
//! (read back through the Delta log); every `policy_digest` of a decision
//! resolves in `policies` to the text that hashes to it; a server killed
//! with SIGKILL is reported as an unclean stop by its next start.

use crate::common;

use std::path::Path;

use common::http::post;
use common::openai_calls::{serve_config, sha256};
use serde_json::{Value, json};

const POLICY_FLAG: &str = "name = \"house\"\n[plugins.pii]\nbuiltin = \"pii\"\naction = \"flag\"\n[stages]\nrequest = [\"pii\"]\n";
const POLICY_REDACT: &str = "name = \"house\"\n[plugins.pii]\nbuiltin = \"pii\"\naction = \"redact\"\n[stages]\nrequest = [\"pii\"]\n";

fn config(dir: &Path) -> String {
    std::fs::write(dir.join("house.toml"), POLICY_FLAG).unwrap();
    format!(
        "[policies]\ndefault = \"house.toml\"\n\
         [[callers]]\nname = \"apps\"\nkey-sha256 = \"{}\"\n\
         [[callers]]\nname = \"slow\"\nkey-sha256 = \"{}\"\nrequests-per-minute = 1\n\
         [[admins]]\nname = \"ops-alice\"\nkey-sha256 = \"{}\"\n",
        sha256("key-apps"),
        sha256("key-slow"),
        sha256("key-admin"),
    )
}

fn guard(addr: std::net::SocketAddr, key: &str, text: &str) -> common::http::Answer {
    post(
        addr,
        "/v1/guard",
        &[("authorization", &format!("Bearer {key}"))],
        &json!({"text": text}).to_string(),
    )
}

fn rows(dir: &Path, name: &str, table: &str) -> Vec<Value> {
    common::audit_rows(
        &dir.join(format!("audit-{name}")),
        &dir.join("reader"),
        table,
        &[],
    )
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["kind"] == kind).collect()
}

#[test]
fn a_policy_or_model_not_granted_is_an_access_denied_event_naming_the_caller() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("lax.toml"), POLICY_FLAG.replace("house", "lax")).unwrap();
    // The upstream is never called: every call here is refused first.
    let config = format!(
        "[policies]\nlax = \"lax.toml\"\n\
         [upstreams.up]\nbase-url = \"http://127.0.0.1:9/v1\"\n\
         [[routes]]\nmodel = \"lax-*\"\nupstream = \"up\"\npolicy = \"lax\"\n\
         [[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
         [[callers]]\nname = \"alice\"\nkey-sha256 = \"{}\"\nmodels = [\"gpt-*\", \"lax-*\"]\n",
        sha256("key-alice"),
    );
    let mut server = serve_config(dir, "denied", &config, true, &[]);
    let bearer = [("authorization", "Bearer key-alice")];
    let chat = |model: &str| {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
        post(
            server.addr,
            "/v1/chat/completions",
            &bearer,
            &body.to_string(),
        )
    };
    let mut ids = Vec::new();
    for (answer, code) in [
        (
            post(
                server.addr,
                "/v1/guard",
                &bearer,
                &json!({"text": "hi", "policy": "lax"}).to_string(),
            ),
            "policy_not_allowed",
        ),
        (chat("lax-1"), "policy_not_allowed"),
        (chat("claude-x"), "model_not_allowed"),
    ] {
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (403, code),
            "{}",
            answer.text()
        );
        ids.push(answer.header("x-railyard-request-id").unwrap().to_string());
    }
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());
    let events = rows(dir, "denied", "events");
    let denied = of_kind(&events, "access_denied");
    assert_eq!(denied.len(), 3, "{events:?}");
    for (e, id) in denied.iter().zip(&ids) {
        assert_eq!(e["caller"], "alice", "{e}");
        assert_eq!(e["status_code"], 403, "{e}");
        assert_eq!(e["severity"], "warn", "{e}");
        assert!(
            ids.contains(&e["request_id"].as_str().unwrap().to_string()),
            "{e} {id}"
        );
    }
}

#[test]
fn refusals_admin_calls_and_reloads_are_events_and_every_policy_digest_resolves() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut server = serve_config(dir, "ev", &config(dir), true, &[]);
    let log = |s: &common::http::Server| s.stderr.lock().unwrap().clone();

    assert_eq!(
        guard(server.addr, "key-apps", "mail frank@example.com").status,
        200
    );
    let wrong = guard(server.addr, "key-wrong", "hi");
    assert_eq!(
        (wrong.status, wrong.code().as_str()),
        (401, "invalid_api_key")
    );
    assert_eq!(guard(server.addr, "key-slow", "hi").status, 200);
    let over = guard(server.addr, "key-slow", "hi");
    assert_eq!(
        (over.status, over.code().as_str()),
        (429, "requests_per_minute_exceeded")
    );
    // An admin call with a wrong key, then one with the right key.
    let denied = post(server.addr, "/admin/reload", &[("x-admin-key", "nope")], "");
    assert_eq!(denied.status, 401);
    // The policy changes; the admin's reload (or the watcher, whichever is
    // first) swaps it in.
    // Renamed into place: a watcher never reads a half-written file.
    std::fs::write(dir.join("house.toml.new"), POLICY_REDACT).unwrap();
    std::fs::rename(dir.join("house.toml.new"), dir.join("house.toml")).unwrap();
    let reload = post(
        server.addr,
        "/admin/reload",
        &[("x-admin-key", "key-admin")],
        "",
    );
    assert_eq!(reload.status, 200, "{}", reload.text());
    // Whoever swapped it, the new policy serves once the file is read.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let a = guard(server.addr, "key-apps", "mail frank@example.com");
        if a.json()["action"] == "redact" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", log(&server));
        let _ = post(
            server.addr,
            "/admin/reload",
            &[("x-admin-key", "key-admin")],
            "",
        );
    }
    // Security events are logged at `warn`, which the default filter shows.
    // (The log is read by a thread: waited for, not assumed.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let warned = |l: &str| l.contains("WARN") && l.contains("auth_failure");
    while !log(&server).lines().any(warned) {
        assert!(std::time::Instant::now() < deadline, "{}", log(&server));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(server.stop(), "{}", log(&server));

    let events = rows(dir, "ev", "events");
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    let auth = of_kind(&events, "auth_failure");
    assert_eq!(auth.len(), 1, "{kinds:?}");
    assert_eq!(
        auth[0]["key_prefix"],
        sha256("key-wrong")[..12],
        "{}",
        auth[0]
    );
    assert_eq!(auth[0]["status_code"], 401);
    assert_eq!(auth[0]["code"], "invalid_api_key");
    assert_eq!(auth[0]["endpoint"], "/v1/guard");
    assert!(
        auth[0]["remote_addr"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{}",
        auth[0]
    );
    assert_eq!(auth[0]["severity"], "warn");
    let admin_denied = of_kind(&events, "admin_auth_failure");
    assert_eq!(admin_denied.len(), 1, "{kinds:?}");
    assert_eq!(admin_denied[0]["key_prefix"], sha256("nope")[..12]);

    let quota = of_kind(&events, "quota_refused");
    assert_eq!(quota.len(), 1, "{kinds:?}");
    assert_eq!(
        (
            &quota[0]["caller"],
            &quota[0]["status_code"],
            &quota[0]["code"]
        ),
        (
            &json!("slow"),
            &json!(429),
            &json!("requests_per_minute_exceeded")
        )
    );

    let admin = of_kind(&events, "admin_call");
    assert!(!admin.is_empty(), "{kinds:?}");
    assert!(
        admin
            .iter()
            .all(|e| e["admin"] == "ops-alice" && e["endpoint"] == "/admin/reload"),
        "{admin:?}"
    );
    let detail: Value = serde_json::from_str(admin[0]["detail"].as_str().unwrap()).unwrap();
    assert!(detail["reloaded"].is_array(), "{detail}");

    let digest = |text: &str| format!("sha256:{}", sha256(text));
    let reloads = of_kind(&events, "policy_reload");
    assert_eq!(reloads.len(), 1, "one swap, whoever did it: {kinds:?}");
    assert_eq!(reloads[0]["policy"], "default");
    assert_eq!(reloads[0]["digest_before"], digest(POLICY_FLAG));
    assert_eq!(reloads[0]["digest_after"], digest(POLICY_REDACT));

    assert_eq!(of_kind(&events, "start").len(), 1, "{kinds:?}");
    assert_eq!(of_kind(&events, "stop").len(), 1, "{kinds:?}");
    assert!(of_kind(&events, "unclean_stop").is_empty(), "{kinds:?}");

    // Every digest a decision carries resolves to the text that hashes to
    // it, with the plugins that ran.
    let policies = rows(dir, "ev", "policies");
    let reload: Value = serde_json::from_str(reloads[0]["detail"].as_str().unwrap()).unwrap();
    for side in ["inventory_before", "inventory_after"] {
        assert!(
            policies
                .iter()
                .any(|p| p["inventory_digest"] == reload[side]),
            "{side} {reload} not in {policies:#?}"
        );
    }
    let decisions = rows(dir, "ev", "decisions");
    let mut used: Vec<&str> = decisions
        .iter()
        .map(|d| d["policy_digest"].as_str().unwrap())
        .collect();
    used.sort();
    used.dedup();
    assert_eq!(used.len(), 2, "both versions decided: {used:?}");
    for d in used {
        let p: Vec<&Value> = policies
            .iter()
            .filter(|p| p["policy_digest"] == d)
            .collect();
        assert!(!p.is_empty(), "{d} is not in policies: {policies:#?}");
        for p in p {
            let text = p["text"].as_str().unwrap();
            assert_eq!(digest(text), d, "the text hashes to its digest");
            let plugins: Value = serde_json::from_str(p["plugins"].as_str().unwrap()).unwrap();
            assert_eq!(plugins[0]["plugin"], "pii", "{plugins}");
            assert!(
                plugins[0]["digest"]
                    .as_str()
                    .unwrap()
                    .starts_with("sha256:")
            );
        }
    }
    let texts: Vec<&str> = policies
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&POLICY_FLAG) && texts.contains(&POLICY_REDACT),
        "{texts:?}"
    );

    // An evidence pack over the same tables gives each policy its text
    // and counts the refusals that never became calls.
    let pack = dir.join("pack");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["log", "evidence", "--since", "1d", "--out"])
        .arg(&pack)
        .env("RAILYARD_AUDIT_URL", dir.join("audit-ev"))
        .env("RAILYARD_STATE_DIR", dir.join("pack-state"))
        .env_remove("RAILYARD_AUDIT_SIGNING_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let read = |f: &str| -> Value {
        serde_json::from_slice(&std::fs::read(pack.join(f)).unwrap()).unwrap()
    };
    let in_pack = read("policies.json");
    let texts: Vec<&str> = in_pack["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["text"]
                .as_str()
                .expect("every policy resolved to its text")
        })
        .collect();
    assert!(
        texts.contains(&POLICY_FLAG) && texts.contains(&POLICY_REDACT),
        "{in_pack:#}"
    );
    let summary = read("summary.json");
    assert!(
        summary["events_by_kind"]["auth_failure"].as_u64() >= Some(1),
        "{summary:#}"
    );
}

#[test]
fn a_server_killed_with_sigkill_is_an_unclean_stop_at_the_next_start() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cfg = config(dir);
    let mut first = serve_config(dir, "kill", &cfg, true, &[]);
    assert_eq!(guard(first.addr, "key-apps", "hello").status, 200);
    let killed_pid = first.child.id();
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let mut second = serve_config(dir, "kill", &cfg, true, &[]);
    assert_eq!(guard(second.addr, "key-apps", "hello again").status, 200);
    assert!(second.stop(), "{}", second.stderr.lock().unwrap());

    let events = rows(dir, "kill", "events");
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    let unclean = of_kind(&events, "unclean_stop");
    assert_eq!(unclean.len(), 1, "{kinds:?}");
    let detail: Value = serde_json::from_str(unclean[0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["previous_pid"], killed_pid, "{detail}");
    assert_eq!(unclean[0]["severity"], "error");
    // Two starts, one clean stop (the second run's), in that order.
    let order: Vec<&str> = kinds
        .iter()
        .copied()
        .filter(|k| ["start", "stop", "unclean_stop"].contains(k))
        .collect();
    assert_eq!(
        order,
        ["start", "unclean_stop", "start", "stop"],
        "{events:#?}"
    );
}

#[test]
fn railyard_check_records_the_policy_its_decisions_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("house.toml"), POLICY_FLAG).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["check", "--policy"])
        .arg(dir.join("house.toml"))
        .arg("mail frank@example.com")
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .env("RAILYARD_AUDIT_URL", dir.join("audit-check"))
        .env("RAILYARD_STATE_DIR", dir.join("state"))
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c != 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decisions = rows(dir, "check", "decisions");
    let policies = rows(dir, "check", "policies");
    assert!(!decisions.is_empty());
    for d in &decisions {
        let p: Vec<&Value> = policies
            .iter()
            .filter(|p| p["policy_digest"] == d["policy_digest"])
            .collect();
        assert_eq!(p.len(), 1, "{policies:#?}");
        assert_eq!(p[0]["text"], POLICY_FLAG);
    }
}
