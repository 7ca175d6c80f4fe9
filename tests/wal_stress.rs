//! The audit WAL under load with segments sealed every 10 ms (a hundred
//! seals a second, each a window for an append to race a seal): a real
//! server, 24 concurrent callers, a bounded run. Every call is served (no
//! `audit_unavailable`), the server flushes on SIGTERM, and every
//! acknowledged call is in the `inferences` table exactly once.

use crate::common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::http::{Server, Upstream, post};
use serde_json::json;

const CALLERS: usize = 24;
/// Calls per caller at most, and the wall-clock bound of the run: the run
/// stops at whichever comes first, so a slow machine runs fewer calls
/// instead of timing out.
const CALLS_EACH: usize = 400;
const RUN_FOR: Duration = Duration::from_secs(25);

#[test]
fn ten_ms_segments_under_concurrent_calls_serve_everything_and_record_each_call_once() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    let state = tmp.path().join("state");
    let cache = common::cache_dir();
    let upstream = Upstream::start();
    // The default policy with a deadline no busy machine reaches: a plugin
    // timeout would be a refusal this test does not count on.
    let policy = common::patient_default_policy(tmp.path());
    let mut server = Server::start(
        &[
            "--upstream",
            &upstream.base_url(),
            "--policy",
            policy.to_str().unwrap(),
        ],
        &[
            ("RAILYARD_CACHE_DIR", cache.as_path()),
            ("RAILYARD_AUDIT_URL", audit.as_path()),
            ("RAILYARD_STATE_DIR", state.as_path()),
            ("RAILYARD_AUDIT_SEGMENT_MS", std::path::Path::new("10")),
        ],
    );
    let addr = server.addr;
    let served: Arc<Mutex<Vec<String>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..CALLERS)
        .map(|c| {
            let (served, failures, stop) = (served.clone(), failures.clone(), stop.clone());
            std::thread::spawn(move || {
                for i in 0..CALLS_EACH {
                    if stop.load(Ordering::Relaxed) || started.elapsed() > RUN_FOR {
                        break;
                    }
                    let body = json!({
                        "model": "fake-model",
                        "messages": [{"role": "user", "content": format!("caller {c} call {i}")}],
                    })
                    .to_string();
                    let a = post(addr, "/v1/chat/completions", &[], &body);
                    if a.status == 200 {
                        let id = a.header("x-railyard-request-id").unwrap_or("").to_string();
                        served.lock().unwrap().push(id);
                    } else {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}: {}", a.status, a.text()));
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let failures = failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "calls refused under load: {:?}\nserver log:\n{}",
        &failures[..failures.len().min(5)],
        server.stderr.lock().unwrap()
    );
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());
    assert!(
        server.stderr.lock().unwrap().contains("audit log flushed"),
        "{}",
        server.stderr.lock().unwrap()
    );

    let served = served.lock().unwrap().clone();
    assert!(served.len() >= CALLERS, "only {} calls ran", served.len());
    let rows = common::audit_rows(&audit, &tmp.path().join("reader"), "inferences", &[]);
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in &rows {
        *seen
            .entry(r["request_id"].as_str().unwrap_or("").to_string())
            .or_default() += 1;
    }
    for id in &served {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "call {id} recorded {:?} times",
            seen.get(id)
        );
    }
    assert_eq!(
        rows.len(),
        served.len(),
        "no row without an acknowledged call"
    );
    let decisions = common::audit_rows(&audit, &tmp.path().join("reader"), "decisions", &[]);
    let mut ids: Vec<&str> = decisions
        .iter()
        .map(|d| d["decision_id"].as_str().unwrap_or(""))
        .collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "a decision recorded twice");
}
