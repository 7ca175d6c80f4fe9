//! The resident memory of `railyard serve` (issue 19, target 6): idle,
//! at 1,000 requests/s, with 1,000 streamed answers in flight at once,
//! after the load, and (opt-in) over a soak of mixed calls.
//!
//! - railyard: the `railyard serve` binary as a child process, so that
//!   its resident set is its own, on the embedded default policy (request
//!   rails pii + secrets + prompt-injection, response rails pii + secrets,
//!   fresh WASM instances per call), the audit log on with the default
//!   `fsync` durability and table maintenance, everything (tables, state,
//!   compile cache) in a temp dir; `[limits] max-concurrency = 4096` so
//!   that 1,000 concurrent streams are not refused. It is killed at the
//!   end (or if this process panics).
//! - Memory: `VmRSS`, `RssAnon` and `VmHWM` from `/proc/<pid>/status`; the
//!   peak of each phase is `VmHWM` after resetting it (`clear_refs` 5) at
//!   the phase's start.
//! - The upstream (in this process, `serve_load.rs`): answers at once; the
//!   slow streams send a chat delta every 100 ms for 10 s.
//! - Phases: idle after start; idle after warm-up calls (every kind of
//!   call once); open loop at `MEMORY_RATE` (default 1,000) plain chat
//!   calls per second for `MEMORY_SECS` (default 20); `MEMORY_STREAMS`
//!   (default 1,000) slow streamed answers opened at once, the count held
//!   open confirmed from the client side (response head received, body
//!   not yet ended); after the load (5 s and 30 s idle).
//! - Soak (`SOAK_SECS`, default off; 600 for ten minutes): see `soak.rs`.
//! - Table maintenance: on, every 300 s, as the defaults have it;
//!   `MEMORY_MAINTENANCE=off` turns it off, `MEMORY_MAINTENANCE_SECS=60`
//!   runs a round every minute.
//!
//! - `MEMORY_BIN=<path>`: run that `railyard` binary instead of this
//!   build's (two builds side by side, each in its own run at once).
//!
//! Run: `cargo bench -p railyard --bench serve_memory`;
//! `SOAK_SECS=600 cargo bench -p railyard --bench serve_memory`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "serve_load.rs"]
mod serve_load;
#[path = "serve_memory/soak.rs"]
mod soak;

use serve_load::*;

/// A slow streamed chat call (the upstream streams it per `SLOW`).
pub const SLOW_PROMPT: &str = r#"{"model":"m","stream":true,"x_slow":true,"messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly and accurately."},{"role":"user","content":"What is the capital of France, and what is it known for? Please keep the answer to two sentences."}]}"#;

/// The slow stream: a delta every 100 ms for 10 s.
pub const SLOW: SlowStream = SlowStream {
    every: Duration::from_millis(100),
    chunks: 100,
};

/// Resident memory of a process, KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mem {
    /// `VmRSS`: resident now.
    pub rss: u64,
    /// `RssAnon`: of which anonymous (heap, stacks), not file-backed code.
    pub anon: u64,
    /// `VmHWM`: the peak resident since start or the last reset.
    pub hwm: u64,
}

/// `/proc/<pid>/status`'s memory lines.
pub fn mem(pid: u32) -> Mem {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/status: {e}"));
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    Mem {
        rss: field("VmRSS:"),
        anon: field("RssAnon:"),
        hwm: field("VmHWM:"),
    }
}

/// Resets `VmHWM` to the current resident size, so that the next reading
/// is this phase's peak; false when the kernel refuses.
fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `railyard serve` as a child process; killed when dropped.
pub struct Railyard {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Railyard {
    /// `pool`: `RAILYARD_POOL_INSTANCES` (None: railyard's default, sized
    /// from `max-concurrency`).
    pub fn start(upstream: SocketAddr, pool: Option<u32>) -> Railyard {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("serve.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[upstreams.openai]
base-url = "http://{upstream}/v1"

[upstreams.claude]
base-url = "http://{upstream}/v1"
api = "anthropic"

[[routes]]
model = "claude-*"
upstream = "claude"

[[routes]]
model = "*"
upstream = "openai"

[limits]
max-concurrency = 4096
"#
            ),
        )
        .unwrap();
        // `MEMORY_BIN`: another build of `railyard` (a copy of an older
        // one, or one with another allocator), so that two builds can be
        // soaked side by side under the same load.
        let bin =
            std::env::var_os("MEMORY_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_railyard").into());
        let mut cmd = Command::new(bin);
        match pool {
            Some(n) => cmd.env("RAILYARD_POOL_INSTANCES", n.to_string()),
            None => cmd.env_remove("RAILYARD_POOL_INSTANCES"),
        };
        // Table maintenance as the defaults have it, unless the run asks
        // otherwise (`MEMORY_MAINTENANCE=off`, `MEMORY_MAINTENANCE_SECS`).
        for (ours, theirs) in [
            ("MEMORY_MAINTENANCE", "RAILYARD_AUDIT_MAINTENANCE"),
            ("MEMORY_MAINTENANCE_SECS", "RAILYARD_AUDIT_MAINTENANCE_SECS"),
        ] {
            match std::env::var(ours) {
                Ok(v) => cmd.env(theirs, v),
                Err(_) => cmd.env_remove(theirs),
            };
        }
        let mut child = cmd
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .env("RAILYARD_AUDIT_URL", dir.path().join("audit"))
            .env("RAILYARD_STATE_DIR", dir.path().join("state"))
            .env("RAILYARD_CACHE_DIR", dir.path().join("cache"))
            .env_remove("RAILYARD_AUDIT_DURABILITY")
            .env_remove("RAILYARD_UPSTREAM_URL")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting railyard serve");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            match lines.next() {
                Some(Ok(l)) => {
                    if let Some(a) = l.strip_prefix("railyard: listening on http://") {
                        break a.trim().parse().unwrap();
                    }
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "railyard serve exited before listening:\n{}",
                        log.lock().unwrap()
                    );
                }
            }
        };
        // Keep reading stdout, so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Railyard {
            child,
            addr,
            log,
            _dir: dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn mem(&self) -> Mem {
        mem(self.pid())
    }

    /// The server's stderr so far (its warnings, if any): the line count
    /// and the last 10 lines.
    pub fn log(&self) -> String {
        let log = self.log.lock().unwrap();
        let lines: Vec<&str> = log.lines().collect();
        format!(
            "{} lines; the last ones:\n{}",
            lines.len(),
            lines[lines.len().saturating_sub(10)..].join("\n")
        )
    }

    fn quiet(&self) -> bool {
        self.log.lock().unwrap().lines().count() <= 1
    }
}

impl Drop for Railyard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One call: its status (None: no answer) once the body has been read.
pub async fn call(client: &reqwest::Client, url: &str, body: &'static str) -> Option<u16> {
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    r.bytes().await.ok()?;
    Some(status)
}

/// The kinds of call, by path and body.
pub const CALLS: [(&str, &str, &str); 7] = [
    ("plain answer", "/v1/chat/completions", PROMPT),
    ("tool-calling answer", "/v1/chat/completions", TOOL_PROMPT),
    (
        "streamed tool call",
        "/v1/chat/completions",
        STREAM_TOOL_PROMPT,
    ),
    ("responses: tool call", "/v1/responses", RESPONSES_PROMPT),
    (
        "responses: streamed tool call",
        "/v1/responses",
        RESPONSES_STREAM_PROMPT,
    ),
    ("anthropic: tool call", "/v1/messages", ANTHROPIC_PROMPT),
    (
        "anthropic: streamed tool call",
        "/v1/messages",
        ANTHROPIC_STREAM_PROMPT,
    ),
];

/// What the streams phase saw.
struct Streams {
    /// The most streams in flight at once, counted by the client.
    max_in_flight: usize,
    /// Memory when all of them were in flight (None: never all at once).
    all_in_flight: Option<Mem>,
    /// Streams that ended with `[DONE]`.
    completed: usize,
    took: Duration,
}

/// Opens `n` slow streams at once and reads them to their end.
async fn streams(client: &reqwest::Client, railyard: &Railyard, n: usize) -> Streams {
    let url = format!("http://{}/v1/chat/completions", railyard.addr);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let (client, url) = (client.clone(), url.clone());
        let (in_flight, max) = (in_flight.clone(), max.clone());
        tasks.push(tokio::spawn(async move {
            let mut r = client
                .post(&url)
                .header("content-type", "application/json")
                .body(SLOW_PROMPT)
                .send()
                .await
                .ok()?;
            if !r.status().is_success() {
                return None;
            }
            // In flight: the head is here, the body has not ended.
            max.fetch_max(
                in_flight.fetch_add(1, Ordering::SeqCst) + 1,
                Ordering::SeqCst,
            );
            let mut body = Vec::new();
            let end = loop {
                match r.chunk().await {
                    Ok(Some(c)) => body.extend_from_slice(&c),
                    Ok(None) => break true,
                    Err(_) => break false,
                }
            };
            in_flight.fetch_sub(1, Ordering::SeqCst);
            let done = end && body.ends_with(b"data: [DONE]\n\n");
            done.then_some(())
        }));
    }
    // Sample while all are open: wait for the count to reach n (or the
    // first stream to end, or a generous bound).
    let mut all_in_flight = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline && !tasks.iter().any(|t| t.is_finished()) {
        if in_flight.load(Ordering::SeqCst) == n {
            // Let the streams run a while with all of them open.
            tokio::time::sleep(Duration::from_secs(2)).await;
            if in_flight.load(Ordering::SeqCst) == n {
                all_in_flight = Some(railyard.mem());
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut completed = 0;
    for t in tasks {
        if t.await.unwrap().is_some() {
            completed += 1;
        }
    }
    Streams {
        max_in_flight: max.load(Ordering::SeqCst),
        all_in_flight,
        completed,
        took: started.elapsed(),
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn row(what: &str, m: Mem, peak: Option<u64>, note: &str) {
    println!(
        "| {what} | {} | {} | {} | {note} |",
        mib(m.rss),
        mib(m.anon),
        peak.map(mib).unwrap_or_else(|| "—".into())
    );
}

/// Idle after start, and after one call of each kind.
async fn idle(client: &reqwest::Client, railyard: &Railyard) {
    let base = format!("http://{}", railyard.addr);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let m = railyard.mem();
    row("idle, 2 s after start", m, Some(m.hwm), "peak: since start");
    for (name, path, body) in CALLS {
        let s = call(client, &format!("{base}{path}"), body).await;
        assert_eq!(s, Some(200), "{name} through railyard: {}", railyard.log());
    }
    let s = call(client, &format!("{base}/v1/chat/completions"), SLOW_PROMPT).await;
    assert_eq!(s, Some(200), "a slow stream: {}", railyard.log());
    tokio::time::sleep(Duration::from_secs(2)).await;
    row(
        "idle, after one call of each kind",
        railyard.mem(),
        None,
        "",
    );
}

/// After the load: 5 s and 30 s idle.
async fn after(railyard: &Railyard) {
    tokio::time::sleep(Duration::from_secs(5)).await;
    row("after the load, 5 s idle", railyard.mem(), None, "");
    tokio::time::sleep(Duration::from_secs(25)).await;
    row("after the load, 30 s idle", railyard.mem(), None, "");
}

fn header(railyard: &Railyard, what: &str) {
    println!();
    let bin = std::env::var("MEMORY_BIN").unwrap_or_else(|_| "this build".into());
    println!(
        "railyard serve (pid {}, {bin}), default policy, audit log fsync, {what}",
        railyard.pid()
    );
    println!("| phase | VmRSS | RssAnon | peak (VmHWM) of the phase | |");
    println!("|---|---|---|---|---|");
}

/// Reports the server's stderr when it said more than its start line.
fn stderr(railyard: &Railyard) {
    if !railyard.quiet() {
        println!("railyard serve's stderr: {}", railyard.log());
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rate = env_u64("MEMORY_RATE", 1000);
    let secs = env_u64("MEMORY_SECS", 20);
    let n_streams = env_u64("MEMORY_STREAMS", 1000) as usize;
    // Each guarded stream holds an instance of each stream scanner (two on
    // the default policy) for its whole life, so n streams need 2n pooled
    // instances: past railyard's own sizing (at most 2,048) from about
    // 1,000 streams on.
    let pool = Some(env_u64("MEMORY_POOL_INSTANCES", 2 * n_streams as u64 + 512) as u32);
    let soak_secs = env_u64("SOAK_SECS", 0);
    let up = upstream(Duration::ZERO, Some(SLOW));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(2048)
        .build()
        .unwrap();
    let mut failed = false;

    // Calls per second, on the default settings.
    let railyard = Railyard::start(up, None);
    let pid = railyard.pid();
    rt.block_on(async {
        header(&railyard, "default settings");
        idle(&client, &railyard).await;
        let resettable = reset_peak(pid);
        let url = format!("http://{}/v1/chat/completions", railyard.addr);
        let (lat, lost) = open_loop(&client, &url, PROMPT, rate, secs).await;
        let m = railyard.mem();
        row(
            &format!("open loop, {rate} plain calls/s for {secs} s: at the end"),
            m,
            resettable.then_some(m.hwm),
            &format!(
                "{} answered, {lost} failed, median {:.2} ms, p99 {:.2} ms",
                lat.len(),
                percentile(&lat, 0.5).as_secs_f64() * 1e3,
                percentile(&lat, 0.99).as_secs_f64() * 1e3
            ),
        );
        after(&railyard).await;
        stderr(&railyard);
    });
    drop(railyard);

    // Concurrent streams.
    let railyard = Railyard::start(up, pool);
    let pid = railyard.pid();
    rt.block_on(async {
        header(
            &railyard,
            &match pool {
                Some(n) => format!("RAILYARD_POOL_INSTANCES={n}"),
                None => "default pool (sized from max-concurrency)".to_string(),
            },
        );
        idle(&client, &railyard).await;
        let resettable = reset_peak(pid);
        let s = streams(&client, &railyard, n_streams).await;
        match s.all_in_flight {
            Some(m) => row(
                &format!("{n_streams} streamed answers in flight at once"),
                m,
                None,
                &format!(
                    "counted by the client: {} in flight at most",
                    s.max_in_flight
                ),
            ),
            None => println!(
                "| {n_streams} streamed answers in flight at once | never all at once | | | at most {} |",
                s.max_in_flight
            ),
        }
        let m = railyard.mem();
        row(
            "streams ended",
            m,
            resettable.then_some(m.hwm),
            &format!(
                "{} of {n_streams} completed with [DONE] in {:.1} s; peak: whole phase",
                s.completed,
                s.took.as_secs_f64()
            ),
        );
        after(&railyard).await;
        stderr(&railyard);
        failed |= s.all_in_flight.is_none() || s.completed < n_streams;
    });
    drop(railyard);

    // The soak, on the default settings.
    if soak_secs > 0 {
        let railyard = Railyard::start(up, None);
        rt.block_on(async {
            header(&railyard, "default settings, soak");
            idle(&client, &railyard).await;
            failed |= !soak::run(&client, &railyard, soak_secs).await;
            stderr(&railyard);
        });
    }
    if failed {
        std::process::exit(1);
    }
}
