//! When a proxied call's records are durable (issue 19, target 5): by
//! default the request's fsync overlaps the upstream call and the answer
//! waits for both records; `[audit] request-durability =
//! "before-upstream"` keeps the strict order. Either way, no answer
//! reaches a client unrecorded: a server killed with SIGKILL under load
//! leaves, after recovery, every call a client got an answer for in the
//! tables, its request and answer decisions and its `inferences` row,
//! each once.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::http::{Upstream, post, post_request, try_raw};
use common::serve_env::ServeEnv;
use serde_json::json;

fn chat(text: &str) -> String {
    json!({"model": "fake-model", "messages": [{"role": "user", "content": text}]}).to_string()
}

/// (request id, stage) → decision rows, and request id → inference rows.
fn recorded(env: &ServeEnv) -> (BTreeMap<(String, String), usize>, BTreeMap<String, usize>) {
    let mut decisions = BTreeMap::new();
    for r in env.rows("decisions", &[]) {
        let key = (
            r["request_id"].as_str().unwrap().to_string(),
            r["stage"].as_str().unwrap().to_string(),
        );
        *decisions.entry(key).or_default() += 1;
    }
    let mut inferences = BTreeMap::new();
    for r in env.rows("inferences", &[]) {
        *inferences
            .entry(r["request_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    (decisions, inferences)
}

#[test]
fn every_answer_a_client_got_is_recorded_after_a_sigkill_under_load() {
    let env = ServeEnv::new();
    let upstream = Upstream::start();
    let args = ["--upstream", &upstream.base_url()];
    let mut server = env.start_patient(&args);
    let addr = server.addr;

    // Four clients call in a loop; each answer that arrives whole is
    // acknowledged by its request id.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let dead = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|t| {
            let (acked, dead) = (acked.clone(), dead.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let id = format!("durable-{t}-{i}");
                    let req = post_request(
                        addr,
                        "/v1/chat/completions",
                        &[("x-request-id", &id)],
                        &chat(&format!("call {i} of client {t}")),
                    );
                    match try_raw(addr, &req) {
                        Some(a) if a.status == 200 => acked.lock().unwrap().push(id),
                        Some(a) => panic!("call {id}: {} {}", a.status, a.text()),
                        None if dead.load(Ordering::SeqCst) => return,
                        None => panic!("call {id}: no answer while the server was up"),
                    }
                }
            })
        })
        .collect();

    // Kill it mid-load, once the clients have been answered many times.
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.lock().unwrap().len() < 60 {
        assert!(Instant::now() < deadline, "60 answers within 120 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    dead.store(true, Ordering::SeqCst);
    server.child.kill().unwrap();
    let _ = server.child.wait();
    for c in clients {
        c.join().unwrap();
    }
    let acked: Vec<String> = acked.lock().unwrap().clone();

    // The next start recovers the WAL; a clean stop commits everything.
    let mut second = env.start_patient(&args);
    assert!(second.stop(), "{}", second.stderr.lock().unwrap());

    let (decisions, inferences) = recorded(&env);
    for id in &acked {
        for stage in ["request", "response"] {
            let n = decisions
                .get(&(id.clone(), stage.to_string()))
                .copied()
                .unwrap_or(0);
            assert!(n > 0, "{id}: answered, but no {stage} decisions recorded");
        }
        assert_eq!(
            inferences.get(id),
            Some(&1),
            "{id}: answered, so exactly one inferences row"
        );
    }
    // Nothing twice: a request's decision rows per stage are one per
    // plugin of the default chain, the same count for every call.
    // (A call cut by the kill may also have an interrupted-call row.)
    let per_stage: BTreeSet<(String, usize)> = decisions
        .iter()
        .filter(|((_, stage), _)| stage == "request" || stage == "response")
        .map(|((_, stage), n)| (stage.clone(), *n))
        .collect();
    assert_eq!(
        per_stage.len(),
        2,
        "one row per plugin and stage, for every call: {per_stage:?}"
    );
}

#[test]
fn the_strict_order_is_a_policy_option_and_a_wrong_value_is_named() {
    let env = ServeEnv::new();
    let upstream = Upstream::start();
    let cfg = env.config(&format!(
        "[upstreams.up]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n[audit]\nrequest-durability = \"before-upstream\"\n",
        upstream.base_url()
    ));
    let mut server = env.start_patient(&["--config", cfg.to_str().unwrap()]);
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &[("x-request-id", "strict-1")],
        &chat("hello"),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(server.stop());
    let (decisions, inferences) = recorded(&env);
    assert!(decisions.contains_key(&("strict-1".into(), "request".into())));
    assert_eq!(inferences.get("strict-1"), Some(&1));

    let bad = env.config(&format!(
        "[upstreams.up]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n[audit]\nrequest-durability = \"later\"\n",
        upstream.base_url()
    ));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&bad)
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .env("RAILYARD_AUDIT_URL", env.path("audit"))
        .env("RAILYARD_STATE_DIR", env.path("state"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("request-durability")
            && err.contains("with-answer")
            && err.contains("before-upstream"),
        "{err}"
    );
}
