//! Guarded streams at scale: every streamed answer holds an instance of
//! each of the policy's stream scanners for its whole life, so the engine's
//! instance pool bounds how many streams can be guarded at once. With a
//! fixed pool of 512 the default policy (two stream scanners) guarded about
//! 255 streams at once and failed the rest closed; `railyard serve` now
//! sizes its pool from `max-concurrency`. Here 300 streams are held open at
//! once by the upstream (each waits after its first pieces until all 300
//! are there) and every one must end whole and redacted.

use crate::common;

use std::time::{Duration, Instant};

use common::http::{Upstream, get, metric, post};
use common::script::{Gate, Script, assemble};
use common::serve_env::ServeEnv as Env;
use serde_json::json;

const STREAMS: usize = 300;
const EMAIL: &str = "maria.gonzalez@example.com";

#[test]
fn three_hundred_guarded_streams_at_once_all_end_whole_and_redacted() {
    let env = Env::new();
    let upstream = Upstream::start();
    // Piece 1 is the role, pieces 2 to 6 content: by then
    // railyard has started the answer's stream scanners.
    let gate = Gate::new(6, STREAMS);
    upstream.script(
        "held",
        Script {
            messages: vec![json!({"content": format!("Your refund goes out today; we wrote to {EMAIL} with the details.")})],
            gate: Some(gate.clone()),
            ..Script::default()
        },
    );
    let server = env.start_patient(&["--upstream", &upstream.base_url()]);
    let addr = server.addr;
    let body = json!({"model": "fake-model", "stream": true, "x_chunk": 8,
                      "messages": [{"role": "user", "content": "SCRIPT: held"}]})
    .to_string();
    let clients: Vec<_> = (0..STREAMS)
        .map(|_| {
            let body = body.clone();
            std::thread::Builder::new()
                .stack_size(256 << 10)
                .spawn(move || post(addr, "/v1/chat/completions", &[], &body))
                .unwrap()
        })
        .collect();
    let answers: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(
        gate.opened(),
        "the upstream never held {STREAMS} streams at once ({} arrived)",
        gate.arrived()
    );
    let mut failed = Vec::new();
    for (i, a) in answers.iter().enumerate() {
        let text = a.text();
        let got = assemble(&text);
        let content = got.messages.get(&0).and_then(|m| m["content"].as_str());
        let whole = a.status == 200
            && got.done
            && got.error.is_none()
            && content.is_some_and(|c| {
                c.starts_with("Your refund goes out today") && c.ends_with("with the details.")
            });
        if !whole {
            failed.push(format!(
                "stream {i}: {} {}",
                a.status,
                text.chars().take(400).collect::<String>()
            ));
        }
        assert!(
            !text.contains("gonzalez"),
            "stream {i} leaked the address: {text}"
        );
    }
    // The pool is reported: its size, and the memory it keeps in slots
    // that held these streams' instances (a stream's instances are dropped
    // just after its last bytes go out, so wait for that, bounded).
    let value = |metrics: &str, name: &str| -> u64 {
        metric(metrics, name).unwrap_or_else(|| panic!("{name} missing from /metrics:\n{metrics}"))
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let metrics = loop {
        let m = get(addr, "/metrics", &[]).text();
        if value(&m, "railyard_pool_instances_in_use") == 0 || Instant::now() > deadline {
            break m;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(value(&metrics, "railyard_pool_instances_capacity"), 2048);
    assert_eq!(
        value(&metrics, "railyard_pool_instances_in_use"),
        0,
        "{metrics}"
    );
    assert!(
        value(&metrics, "railyard_pool_warm_memory_slots") > 0,
        "{metrics}"
    );
    assert!(value(&metrics, "railyard_pool_warm_memory_resident_bytes") > 0);
    // A server with streams open holds heap (glibc builds report it).
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        assert!(value(&metrics, "railyard_heap_in_use_bytes") > 1 << 20);
    }
    assert!(
        failed.is_empty(),
        "{} of {STREAMS} streams did not end whole; first: {}",
        failed.len(),
        failed[0]
    );
}
