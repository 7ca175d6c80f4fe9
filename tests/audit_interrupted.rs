//! Calls cut by a crash: a `railyard serve` killed while calls wait on the
//! upstream leaves their request-stage decisions without an `inferences`
//! row. The next process to open the log writes one row per such call
//! (`stage = "interrupted"`), exactly once, even when that recovery is
//! itself killed.

use crate::common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::http::{Server, Upstream, post};
use serde_json::{Value, json};

fn chat(text: &str) -> String {
    json!({"model": "fake-model", "messages": [{"role": "user", "content": text}]}).to_string()
}

/// Sends a chat call and keeps the connection open without reading: the
/// call stays in flight until the server dies.
fn call_in_flight(addr: std::net::SocketAddr, text: &str) -> TcpStream {
    let body = chat(text);
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    s
}

/// Waits for `what` to hold, up to a generous bound.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "waited 120 s for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `open-calls` file of the (only) WAL folder under `state`.
fn open_calls_file(state: &Path) -> Option<PathBuf> {
    let wal = state.join("wal");
    std::fs::read_dir(wal)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("open-calls"))
        .find(|p| p.exists())
}

fn log_cmd(tmp: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_railyard"));
    c.arg("log")
        .args(args)
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .env("RAILYARD_AUDIT_URL", tmp.join("audit"));
    c
}

/// A recovering process: `railyard log flush` on the dead server's state.
fn recovery(tmp: &Path) -> Child {
    log_cmd(tmp, &["flush"])
        .env("RAILYARD_STATE_DIR", tmp.join("state"))
        .env("RAILYARD_LOG", "warn,railyard=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start railyard log flush")
}

/// The log's text without terminal colour codes.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn rows(tmp: &Path, table: &str) -> Vec<Value> {
    common::audit_rows(&tmp.join("audit"), &tmp.join("reader"), table, &[])
}

#[test]
fn calls_cut_by_a_crash_get_one_interrupted_row_even_if_recovery_is_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let upstream = Upstream::start();
    let (cache, audit, state) = (common::cache_dir(), tmp.join("audit"), tmp.join("state"));
    // The strict order: a call the upstream has seen has its request
    // record durable, so all five cut calls below are in the WAL or in
    // `open-calls` when the server is killed. (With the default
    // `with-answer`, a call killed while its request's fsync is still
    // queued has no record, and no answer either: the documented
    // relaxation, and a race this test must not depend on.)
    let config = tmp.join("railyard.toml");
    std::fs::write(
        &config,
        format!(
            "[upstreams.up]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n[audit]\nrequest-durability = \"before-upstream\"\n",
            upstream.base_url()
        ),
    )
    .unwrap();
    let server = Server::start(
        &["--config", config.to_str().unwrap()],
        &[
            ("RAILYARD_CACHE_DIR", cache.as_path()),
            ("RAILYARD_AUDIT_URL", audit.as_path()),
            ("RAILYARD_STATE_DIR", state.as_path()),
            ("RAILYARD_AUDIT_SEGMENT_MS", Path::new("50")),
        ],
    );
    let hanging = |upstream: &Upstream| {
        upstream
            .prompts()
            .iter()
            .filter(|p| p.starts_with("SLEEP"))
            .count()
    };
    // Calls that end: they must get their own row and nothing else.
    for i in 0..3 {
        let a = post(
            server.addr,
            "/v1/chat/completions",
            &[],
            &chat(&format!("hello {i}")),
        );
        assert_eq!(a.status, 200, "{}", a.text());
    }
    // Calls whose request segment is committed and deleted before the
    // crash: only `open-calls` remembers them.
    let mut in_flight: Vec<TcpStream> = (0..3)
        .map(|_| call_in_flight(server.addr, "SLEEP: 600000"))
        .collect();
    wait_for("three calls at the upstream", || hanging(&upstream) == 3);
    wait_for("the three open calls in open-calls", || {
        open_calls_file(&state)
            .and_then(|p| std::fs::read_to_string(p).ok())
            .is_some_and(|t| t.lines().count() == 3)
    });
    // Calls cut right after their request was acknowledged: most likely
    // still in a WAL segment.
    in_flight.extend((0..2).map(|_| call_in_flight(server.addr, "SLEEP: 600000")));
    wait_for("five calls at the upstream", || hanging(&upstream) == 5);
    let mut server = server;
    server.child.kill().expect("SIGKILL the server");
    server.child.wait().unwrap();
    drop(in_flight);

    // Recovery killed right after it wrote the interrupted rows to the
    // WAL (it says so on stderr), before it could commit them.
    let mut r = recovery(tmp);
    let mut err = BufReader::new(r.stderr.take().unwrap());
    let mut line = String::new();
    let mut said = String::new();
    while err.read_line(&mut line).unwrap_or(0) > 0 {
        said.push_str(&line);
        if line.contains("recorded as interrupted") {
            break;
        }
        line.clear();
    }
    assert!(
        strip_ansi(&said).contains("calls=5"),
        "recovery did not report five interrupted calls: {said}"
    );
    r.kill().unwrap();
    r.wait().unwrap();
    // Recoveries killed at other points (the WAL replay, the commit).
    for wait_ms in [0, 150, 400, 900] {
        let mut r = recovery(tmp);
        std::thread::sleep(Duration::from_millis(wait_ms));
        let _ = r.kill();
        r.wait().unwrap();
    }
    let done = recovery(tmp).wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );

    let decisions = rows(tmp, "decisions");
    let inferences = rows(tmp, "inferences");
    let mut per_request: HashMap<&str, Vec<&Value>> = HashMap::new();
    for i in &inferences {
        per_request
            .entry(i["request_id"].as_str().unwrap())
            .or_default()
            .push(i);
    }
    let twice: Vec<_> = per_request
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(id, v)| (id, v.len()))
        .collect();
    assert!(
        twice.is_empty(),
        "calls with two inferences rows: {twice:?}"
    );
    let orphans: Vec<_> = decisions
        .iter()
        .filter(|d| !per_request.contains_key(d["request_id"].as_str().unwrap()))
        .collect();
    assert!(
        orphans.is_empty(),
        "{} decisions without an inferences row, e.g. {:?}",
        orphans.len(),
        orphans.first()
    );
    let interrupted: Vec<_> = inferences
        .iter()
        .filter(|i| i["stage"] == "interrupted")
        .collect();
    assert_eq!(
        interrupted.len(),
        5,
        "one interrupted row per cut call: {inferences:?}"
    );
    for i in &interrupted {
        let id = i["request_id"].as_str().unwrap();
        let own = decisions.iter().filter(|d| d["request_id"] == id).count();
        assert!(own > 0, "an interrupted row for a call with no decisions");
        assert_eq!(i["decision_count"], own, "{i}");
        assert!(i["status_code"].is_null(), "{i}");
    }
    assert_eq!(inferences.len(), 8, "3 ended calls and 5 cut ones");
}
