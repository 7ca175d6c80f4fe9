//! `serve.toml` reloaded while the server serves, through a real server and
//! the real `openai` client: on the admin endpoint, on SIGHUP and when the
//! file changes; a revoked key refused and a new one accepted, an invalid
//! file refused whole with the old keys still working, and reloads under
//! load with no failed call by a valid caller.

use crate::common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::http::{Upstream, get, post};
use common::openai_calls::{openai_calls, serve_config, sha256};
use common::python;
use serde_json::{Value, json};

const ADMIN: &str = "key-admin";

/// A `serve.toml` with an upstream, a catch-all route to it, the admin,
/// and one caller per `(name, key)`.
fn config(upstream: &str, callers: &[(&str, &str)], extra: &str) -> String {
    let mut c = format!(
        "[upstreams.up]\nbase-url = \"{upstream}\"\n\
         [[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
         [[admins]]\nname = \"ops\"\nkey-sha256 = \"{}\"\n",
        sha256(ADMIN)
    );
    for (name, key) in callers {
        c.push_str(&format!(
            "[[callers]]\nname = \"{name}\"\nkey-sha256 = \"{}\"\n",
            sha256(key)
        ));
    }
    c.push_str(extra);
    c
}

/// Replaces the file whole (write, then rename), as an editor or a
/// ConfigMap does: the server never sees it half-written.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("toml.new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn reload_config(addr: SocketAddr) -> (u16, Value) {
    let a = post(
        addr,
        "/admin/reload-config",
        &[("authorization", &format!("Bearer {ADMIN}"))],
        "",
    );
    (a.status, a.json())
}

/// `railyard_config_reloads_total{result}` from `/metrics`.
fn reloads(addr: SocketAddr, result: &str) -> u64 {
    let m = get(addr, "/metrics", &[]).text();
    let prefix = format!("railyard_config_reloads_total{{result=\"{result}\"}} ");
    m.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|n| n.trim().parse().unwrap())
        .unwrap_or_else(|| panic!("no {prefix} in /metrics:\n{m}"))
}

/// Waits (up to 120 s) until `done` holds, looking every 20 ms.
fn wait_until(what: impl Fn() -> String, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {}",
            what()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn chat(addr: SocketAddr, key: &str, text: &str) -> common::http::Answer {
    post(
        addr,
        "/v1/chat/completions",
        &[("authorization", &format!("Bearer {key}"))],
        &json!({"model": "gpt-x", "messages": [{"role": "user", "content": text}]}).to_string(),
    )
}

#[test]
fn a_reload_revokes_and_adds_keys_and_an_invalid_file_is_refused_whole() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let base_url = upstream.base_url();
    let v1 = config(&base_url, &[("alice", "key-a"), ("bob", "key-b")], "");
    let server = serve_config(tmp.path(), "serve", &v1, false, &[]);
    let path = tmp.path().join("serve.toml");
    let base = format!("http://{}/v1", server.addr);
    let log = || server.stderr.lock().unwrap().clone();
    let calls = json!([
        {"key": "key-a", "model": "gpt-x", "content": "hi"},
        {"key": "key-b", "model": "gpt-x", "content": "hi"},
        {"key": "key-c", "model": "gpt-x", "content": "hi"},
    ]);
    let r = openai_calls(&py, &base, &calls);
    assert_eq!(
        (r[0]["ok"].as_bool(), r[1]["ok"].as_bool()),
        (Some(true), Some(true)),
        "{r:?}"
    );
    assert_eq!(r[2]["status"], 401, "{r:?}");

    // bob's key revoked, carol's added; the admin endpoint applies it.
    replace(
        &path,
        &config(&base_url, &[("alice", "key-a"), ("carol", "key-c")], ""),
    );
    let (status, report) = reload_config(server.addr);
    assert_eq!(status, 200, "{report}\n{}", log());
    assert_eq!(report["applied"], true, "{report}");
    assert_eq!(report["needs_restart"], json!([]), "{report}");
    let r = openai_calls(&py, &base, &calls);
    assert_eq!(r[0]["ok"], true, "{r:?}");
    assert_eq!(
        (
            r[1]["raised"].as_str(),
            r[1]["status"].as_u64(),
            r[1]["code"].as_str()
        ),
        (
            Some("AuthenticationError"),
            Some(401),
            Some("invalid_api_key")
        ),
        "the revoked key: {r:?}"
    );
    assert_eq!(r[2]["ok"], true, "the new key: {r:?}\n{}", log());
    assert!(reloads(server.addr, "applied") >= 1);

    // An invalid file (a route to an upstream that does not exist, and
    // bob back) is refused whole: bob stays out, carol stays in.
    let invalid = config(&base_url, &[("alice", "key-a"), ("bob", "key-b")], "")
        .replace("upstream = \"up\"", "upstream = \"nowhere\"");
    replace(&path, &invalid);
    let (status, report) = reload_config(server.addr);
    assert_eq!(status, 400, "{report}");
    assert_eq!(report["applied"], false);
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains("routes[0].upstream") && error.contains("nowhere"),
        "{error}"
    );
    // The server logs before it answers, but the test reads its stderr
    // through a pipe on another thread: wait for the line to arrive.
    wait_until(log, || log().contains("serve.toml refused whole"));
    let r = openai_calls(&py, &base, &calls);
    assert_eq!(r[0]["ok"], true, "{r:?}");
    assert_eq!(r[1]["status"], 401, "a refused file adds no key: {r:?}");
    assert_eq!(r[2]["ok"], true, "a refused file removes no key: {r:?}");
    assert!(reloads(server.addr, "refused") >= 1);

    // A file that would turn caller authentication off is refused too:
    // that needs a restart, never a reload.
    replace(&path, &config(&base_url, &[], ""));
    let (status, report) = reload_config(server.addr);
    assert_eq!(status, 400, "{report}");
    assert!(
        report["error"].as_str().unwrap().contains("restart"),
        "{report}"
    );
    assert_eq!(chat(server.addr, "key-nobody", "hi").status, 401);

    // Settings that need a restart are reported and keep their running
    // values; the rest of the file applies.
    let with_listen = config(&base_url, &[("alice", "key-a"), ("dave", "key-d")], "")
        + "[metrics]\nlisten = \"127.0.0.1:0\"\n";
    replace(&path, &with_listen);
    let (status, report) = reload_config(server.addr);
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["needs_restart"],
        json!(["metrics.listen"]),
        "{report}"
    );
    assert_eq!(chat(server.addr, "key-d", "hi").status, 200);
    // /metrics stays where it was.
    assert_eq!(get(server.addr, "/metrics", &[]).status, 200);
}

#[test]
fn sighup_and_a_changed_file_reload_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let base_url = upstream.base_url();
    let server = serve_config(
        tmp.path(),
        "serve",
        &config(&base_url, &[("alice", "key-a")], ""),
        false,
        &[],
    );
    let path = tmp.path().join("serve.toml");
    let log = || server.stderr.lock().unwrap().clone();
    assert_eq!(chat(server.addr, "key-e", "hi").status, 401);

    // The file changes: the watcher reloads it without being asked.
    replace(
        &path,
        &config(&base_url, &[("alice", "key-a"), ("erin", "key-e")], ""),
    );
    wait_until(
        || format!("the changed file to be applied: {}", log()),
        || reloads(server.addr, "applied") >= 1,
    );
    assert_eq!(chat(server.addr, "key-e", "hi").status, 200, "{}", log());
    wait_until(log, || log().contains("file change"));

    // SIGHUP reloads it too, whatever the watcher saw.
    replace(
        &path,
        &config(&base_url, &[("alice", "key-a"), ("frank", "key-f")], ""),
    );
    let status = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_until(
        || format!("a reload triggered by SIGHUP: {}", log()),
        || {
            log()
                .lines()
                .any(|l| l.contains("serve.toml reloaded") && l.contains("SIGHUP"))
        },
    );
    assert_eq!(chat(server.addr, "key-f", "hi").status, 200, "{}", log());
    assert_eq!(chat(server.addr, "key-e", "hi").status, 401, "{}", log());
    // The server kept serving through both (SIGHUP never stops it).
    assert_eq!(get(server.addr, "/healthz", &[]).status, 200);
}

#[test]
fn reloads_under_load_fail_no_call_of_a_valid_caller() {
    let tmp = tempfile::tempdir().unwrap();
    let up1 = Upstream::start();
    let up2 = Upstream::start();
    // Two shapes of the file, both valid for `steady`: the other caller's
    // key, the route's upstream and the limits change between them.
    let shape = |i: usize| {
        let (other, upstream, concurrency) = if i.is_multiple_of(2) {
            (("guest", "key-guest"), up1.base_url(), 64)
        } else {
            (("visitor", "key-visitor"), up2.base_url(), 65)
        };
        config(
            &upstream,
            &[("steady", "key-steady"), other],
            &format!("[limits]\nmax-concurrency = {concurrency}\n"),
        )
    };
    let server = serve_config(tmp.path(), "serve", &shape(0), false, &[]);
    let path = tmp.path().join("serve.toml");
    let addr = server.addr;

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let callers: Vec<_> = (0..4)
        .map(|n| {
            let (stop, ok) = (stop.clone(), ok.clone());
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let a = chat(addr, "key-steady", &format!("caller {n}"));
                    if a.status == 200 {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failures.push(format!("{} {}", a.status, a.text()));
                    }
                }
                failures
            })
        })
        .collect();
    // Calls are flowing before the first reload.
    wait_until(
        || "calls to flow".into(),
        || ok.load(Ordering::Relaxed) >= 4,
    );
    const RELOADS: usize = 40;
    for i in 1..=RELOADS {
        replace(&path, &shape(i));
        let (status, report) = reload_config(addr);
        assert_eq!(
            (status, &report["applied"]),
            (200, &json!(true)),
            "{report}"
        );
        // Calls go on between reloads.
        let at = ok.load(Ordering::Relaxed);
        wait_until(
            || "calls after the reload".into(),
            || ok.load(Ordering::Relaxed) >= at + 4,
        );
    }
    stop.store(true, Ordering::Relaxed);
    let failures: Vec<String> = callers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert!(failures.is_empty(), "failed calls: {failures:?}");
    eprintln!(
        "{} calls by a valid caller across {RELOADS} reloads, none failed",
        ok.load(Ordering::Relaxed)
    );
    assert!(reloads(addr, "applied") >= RELOADS as u64);
    // Both upstreams served: the route really changed under load.
    assert!(!up1.prompts().is_empty() && !up2.prompts().is_empty());
    // The last shape holds: `visitor` (odd) is out after an even reload.
    assert_eq!(chat(addr, "key-guest", "hi").status, 200);
    assert_eq!(chat(addr, "key-visitor", "hi").status, 401);
}

/// The mistakes refused at start are refused by a reload too, whole: a
/// route after the catch-all, a `*` before a pattern's end, an unset
/// `api-key-env`. The running configuration keeps serving.
#[test]
fn a_reload_refuses_unreachable_routes_bad_patterns_and_unset_key_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let base_url = upstream.base_url();
    let good = config(&base_url, &[("alice", "key-a")], "");
    let server = serve_config(tmp.path(), "serve", &good, false, &[]);
    let path = tmp.path().join("serve.toml");
    assert_eq!(chat(server.addr, "key-a", "hi").status, 200);
    for (extra, expected) in [
        (
            "[[routes]]\nmodel = \"gpt-4o\"\nupstream = \"up\"\n".to_string(),
            "routes[1] (model `gpt-4o`) can never be used",
        ),
        (
            "[[callers]]\nname = \"bob\"\nkey-sha256 = \"".to_string()
                + &sha256("key-b")
                + "\"\nmodels = [\"gpt-*-mini\"]\n",
            "callers[1].models[0]",
        ),
        (
            format!(
                "[upstreams.keyed]\nbase-url = \"{base_url}\"\napi-key-env = \"RY_TEST_UNSET_RELOAD_KEY\"\n"
            ),
            "`RY_TEST_UNSET_RELOAD_KEY` is not set",
        ),
    ] {
        replace(&path, &config(&base_url, &[("alice", "key-a")], &extra));
        let (status, report) = reload_config(server.addr);
        assert_eq!(status, 400, "{extra}: {report}");
        assert_eq!(report["applied"], false, "{report}");
        let error = report["error"].as_str().unwrap();
        assert!(error.contains(expected), "{expected:?} in {error}");
        assert_eq!(chat(server.addr, "key-a", "hi").status, 200);
        assert_eq!(chat(server.addr, "key-b", "hi").status, 401);
    }
}
