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
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::http::{Server, Upstream, post, post_request, try_raw};
use common::script::{Hold, Script};
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
    let cfg = config(&env, &upstream, "request-durability = \"before-upstream\"");
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

    let bad = config(&env, &upstream, "request-durability = \"later\"");
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

/// A config routing every model to `upstream`, with `audit` under
/// `[audit]`.
fn config(env: &ServeEnv, upstream: &Upstream, audit: &str) -> PathBuf {
    env.config(&format!(
        "[upstreams.up]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n[audit]\n{audit}\n",
        upstream.base_url()
    ))
}

/// A server whose WAL segments seal every 20 ms (so a record soon needs a
/// new segment), with `audit` under `[audit]`.
fn start_short_segments(env: &ServeEnv, upstream: &Upstream, audit: &str) -> Server {
    let cfg = config(env, upstream, audit);
    env.start_patient_with(
        &["--config", cfg.to_str().unwrap()],
        &[("RAILYARD_AUDIT_SEGMENT_MS", Path::new("20"))],
    )
}

/// Something else takes the names of the 2,000 segments after the WAL's
/// last, so creating one fails and the records not yet durable are lost.
/// Returns the last segment's file (the open one, unless it was already
/// committed and deleted) and the files taken, for [`free_segment_names`].
fn take_segment_names(env: &ServeEnv) -> (Option<PathBuf>, Vec<PathBuf>) {
    let wal_dir = std::fs::read_dir(env.path("state").join("wal"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .next()
        .expect("the WAL folder");
    // Segments only: a spare (`<n>.spare`) is numbered by its own count.
    let last = std::fs::read_dir(&wal_dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".wal")?.parse::<u64>().ok()
        })
        .max();
    let name = |seq: u64| wal_dir.join(format!("{seq:020}.wal"));
    let from = last.unwrap_or(0) + 1;
    let taken: Vec<_> = (from..from + 2000).map(name).collect();
    for path in &taken {
        std::fs::write(path, b"not a segment").unwrap();
    }
    (last.map(name), taken)
}

/// Frees the names (those the committer did not already move aside) and
/// waits until a call is answered again: the server resumes by itself.
/// Returns that call's id.
fn free_segment_names(server: &Server, taken: &[PathBuf]) -> String {
    for path in taken {
        let _ = std::fs::remove_file(path);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    for i in 0.. {
        assert!(Instant::now() < deadline, "the server did not resume");
        let id = format!("after-{i}");
        let req = post_request(
            server.addr,
            "/v1/chat/completions",
            &[("x-request-id", &id)],
            &chat("hello"),
        );
        let a = try_raw(server.addr, &req).unwrap_or_else(|| {
            panic!(
                "{id}: no answer; the server's log:\n{}",
                server.stderr.lock().unwrap()
            )
        });
        if a.status == 200 {
            return id;
        }
        assert_eq!(a.code(), "audit_unavailable", "{}", a.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    unreachable!()
}

#[test]
fn a_call_whose_request_record_is_lost_gets_503_never_the_answer() {
    let env = ServeEnv::new();
    let upstream = Upstream::start();
    let mut server = start_short_segments(&env, &upstream, "");
    let call = |id: &str| {
        post(
            server.addr,
            "/v1/chat/completions",
            &[("x-request-id", id)],
            &chat("hello"),
        )
    };
    assert_eq!(call("ok-0").status, 200);
    let mut answered = vec!["ok-0".to_string()];
    let (_, taken) = take_segment_names(&env);
    let deadline = Instant::now() + Duration::from_secs(120);
    let refused = loop {
        assert!(Instant::now() < deadline, "no call was refused");
        let id = format!("lost-{}", answered.len());
        let a = call(&id);
        match a.status {
            200 => answered.push(id),
            503 => {
                assert_eq!(a.code(), "audit_unavailable", "{}", a.text());
                assert!(!a.text().contains("echo: hello"), "{}", a.text());
                break id;
            }
            other => panic!("{other}: {}", a.text()),
        }
    };
    let ready = common::http::get(server.addr, "/readyz", &[]);
    assert_eq!(ready.status, 503, "{}", ready.text());
    answered.push(free_segment_names(&server, &taken));
    assert!(server.stop());
    let (_, inferences) = recorded(&env);
    for id in &answered {
        assert_eq!(
            inferences.get(id),
            Some(&1),
            "{id}: every answer is recorded once"
        );
    }
    assert!(!answered.contains(&refused));
}

/// The answer's own record, lost after the request's was durable: the
/// answer is held back by the call's wait for its records (the request
/// stage's record is durable first, by the strict order, and the upstream
/// holds its answer while the WAL's next segments are taken).
#[test]
fn a_call_whose_answer_record_is_lost_gets_503_never_the_answer() {
    let env = ServeEnv::new();
    let upstream = Upstream::start();
    let hold = Hold::default();
    upstream.script(
        "held",
        Script {
            messages: vec![json!({"content": "the held answer"})],
            hold: Some(hold.clone()),
            ..Default::default()
        },
    );
    let mut server =
        start_short_segments(&env, &upstream, "request-durability = \"before-upstream\"");
    let addr = server.addr;
    let ok = post(
        addr,
        "/v1/chat/completions",
        &[("x-request-id", "ok-0")],
        &chat("hello"),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    let held = std::thread::spawn(move || {
        post(
            addr,
            "/v1/chat/completions",
            &[("x-request-id", "held-1")],
            &chat("SCRIPT: held"),
        )
    });
    // The upstream has the request: its record is durable (strict order).
    assert!(
        hold.arrived(Duration::from_secs(120)),
        "the call reached the upstream"
    );
    let (open, taken) = take_segment_names(&env);
    // The segment holding the request's record is sealed by age (20 ms),
    // committed and deleted; the answer's record then needs a new
    // segment, whose name is taken.
    let deadline = Instant::now() + Duration::from_secs(120);
    while open.as_ref().is_some_and(|p| p.exists()) {
        assert!(
            Instant::now() < deadline,
            "the open segment was never committed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    hold.release();
    let a = held.join().unwrap();
    assert_eq!(a.status, 503, "{}", a.text());
    assert_eq!(a.code(), "audit_unavailable", "{}", a.text());
    assert!(!a.text().contains("the held answer"), "{}", a.text());
    let after = free_segment_names(&server, &taken);
    assert!(server.stop());
    let (decisions, inferences) = recorded(&env);
    assert_eq!(inferences.get("ok-0"), Some(&1));
    assert_eq!(inferences.get(&after), Some(&1));
    assert!(
        decisions.contains_key(&("held-1".into(), "request".into())),
        "the request's record was durable before the upstream saw it"
    );
    assert!(
        !decisions.contains_key(&("held-1".into(), "response".into())),
        "the answer's decisions were lost, and the answer with them"
    );
}
