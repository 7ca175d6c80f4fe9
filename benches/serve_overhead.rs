//! What `railyard serve` adds over calling the model endpoint directly,
//! measured side by side with the same load generator and the same upstream.
//!
//! - The upstream: a minimal OpenAI-compatible HTTP server on 127.0.0.1
//!   answering a fixed chat completion at once.
//! - railyard: `serve` in this process with the embedded default policy
//!   (request rails pii + secrets + prompt-injection, response rails pii +
//!   secrets, fresh WASM instances per call), recording to an audit log in
//!   a temp dir with the default `fsync` durability, and again with `async`.
//! - The load: open-loop at a fixed rate (each request sent at its
//!   scheduled time whatever the others are doing, and timed from its
//!   send), then closed-loop with `OVERHEAD_CONNECTIONS` (32) connections
//!   for the maximum sustained rate.
//!
//! - Three calls, each against the upstream directly and through railyard
//!   (no audit log, to show the guard's own cost): a plain answer; a
//!   tool-calling answer (two tool calls, with tool definitions in the
//!   request), whose every text (arguments, names, descriptions) the rails
//!   see; and the same tool call streamed (15 events), which the stream
//!   guard relays lane by lane.
//!
//! Everything shares this machine's cores; the figures are what one box
//! running model client, railyard and upstream together sees.
//!
//! Run: `cargo bench -p railyard --bench serve_overhead` (env
//! `OVERHEAD_RATE`, default 1000 requests/s; `OVERHEAD_SECS`, default 10;
//! `OVERHEAD_UPSTREAM_MS`, default 0: how long the upstream takes to
//! answer, as a model would, e.g. 20; `OVERHEAD_CONNECTIONS`, default 32,
//! at most 256: the closed loop's connections, which with a 20 ms
//! upstream must be more than 32 for the maximum rate to be railyard's).
//!
//! The audit rows: `fsync` (the default: the request's fsync overlaps the
//! upstream call, the answer waits for both records), the same with the
//! WAL's segments growing by appends instead of preallocated
//! (`RAILYARD_AUDIT_WAL_PREALLOCATE=off`), `fsync` with
//! `request-durability = "before-upstream"` (the strict order: two fsync
//! waits a call), and `async`.
//!
//! `OVERHEAD_ONLY=<part of a row's name>` runs only the rows whose name
//! holds it (a row whose baseline did not run shows no added figures).
//!
//! `OVERHEAD_PAIRED=N` instead sends N rounds of the calls (the three
//! chat calls, then a Responses API tool-calling answer on `/v1/responses`
//! and the same streamed, an Anthropic Messages tool-calling answer and the same streamed, on
//! `/v1/messages` to an `api = "anthropic"` upstream), each
//! directly and through railyard (no audit), one request at a time and
//! interleaved, so every kind of call sees the same machine load: on a
//! shared machine whose load drifts, the ratios between the calls are then
//! fair even when the absolute figures are not.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use railyard::audit::{AuditLog, AuditSettings, Durability};
use railyard::serve::audit_config::RequestDurability;
use railyard::serve::config::{Api, Route, Upstream};
use railyard::serve::{ServeConfig, State};

#[path = "serve_load.rs"]
mod serve_load;
use serve_load::*;

/// What serves a row of the table.
#[derive(Clone, Copy)]
enum Serve {
    /// The upstream, called directly.
    Upstream,
    /// railyard without an audit log (one server for every such row).
    NoAudit,
    /// railyard with an audit log: durability, strict order, preallocated
    /// WAL segments.
    Audit(Durability, bool, bool),
}

/// How long the upstream takes to answer (`OVERHEAD_UPSTREAM_MS`).
fn upstream_delay() -> Duration {
    Duration::from_millis(
        std::env::var("OVERHEAD_UPSTREAM_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}

fn railyard(
    upstream: SocketAddr,
    durability: Option<Durability>,
    strict: bool,
    preallocate: bool,
) -> (SocketAddr, Option<tempfile::TempDir>) {
    let tmp = tempfile::tempdir().unwrap();
    let audit = durability.map(|d| {
        let mut s = AuditSettings::new(
            tmp.path().join("audit").display().to_string(),
            tmp.path().join("state"),
        );
        s.durability = d;
        s.wal_preallocate = preallocate;
        AuditLog::open(s).unwrap()
    });
    let mut config = ServeConfig::default()
        .with_default_upstream(&format!("http://{upstream}/v1"), None)
        .unwrap();
    // The same upstream, spoken to as an Anthropic one for `claude-*`.
    config.upstreams.insert(
        "claude".into(),
        Upstream {
            name: "claude".into(),
            api: Api::Anthropic,
            base_url: format!("http://{upstream}/v1"),
            api_key_env: None,
            timeout: Duration::from_secs(120),
        },
    );
    if strict {
        config.audit.request_durability = RequestDurability::BeforeUpstream;
    }
    let judging = config.judging;
    config.routes.insert(
        0,
        Route {
            model: "claude-*".into(),
            upstream: "claude".into(),
            policy: "default".into(),
            judging,
            rollout: Default::default(),
        },
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = railyard::serve::bind("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            let state = railyard::serve::Server::new(
                tokio::task::block_in_place(|| State::new(config, audit)).unwrap(),
                None,
            );
            railyard::serve::serve(state, l, std::future::pending())
                .await
                .unwrap();
        });
    });
    (rx.recv().unwrap(), Some(tmp))
}

/// Closed loop: `conns` workers for `secs`; requests per second.
async fn closed_loop(
    client: &reqwest::Client,
    url: &str,
    body: &'static str,
    conns: usize,
    secs: u64,
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (client, url) = (client.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status().is_success()
                    && r.bytes().await.is_ok()
                {
                    done += 1;
                }
            }
            done
        }));
    }
    let started = Instant::now();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64().max(secs as f64)
}

/// `OVERHEAD_PAIRED`: the three calls interleaved, one at a time.
fn paired(up: SocketAddr, railyard: SocketAddr, rounds: usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let chat = "/v1/chat/completions";
        let calls = [
            ("plain answer", chat, PROMPT),
            ("tool-calling answer", chat, TOOL_PROMPT),
            ("streamed tool call", chat, STREAM_TOOL_PROMPT),
            ("responses: tool-calling answer", "/v1/responses", RESPONSES_PROMPT),
            ("responses: streamed tool call", "/v1/responses", RESPONSES_STREAM_PROMPT),
            ("anthropic: tool-calling message", "/v1/messages", ANTHROPIC_PROMPT),
            ("anthropic: streamed tool call", "/v1/messages", ANTHROPIC_STREAM_PROMPT),
        ];
        let time = |addr: SocketAddr, path: &'static str, body: &'static str| {
            let client = client.clone();
            async move {
                let sent = Instant::now();
                let r = client
                    .post(format!("http://{addr}{path}"))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let ok = match r {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                (sent.elapsed(), ok)
            }
        };
        // Warm both sides.
        for (_, path, body) in calls {
            for _ in 0..20 {
                let _ = time(up, path, body).await;
                let (_, ok) = time(railyard, path, body).await;
                assert!(ok, "{path} through railyard failed while warming up");
            }
        }
        let mut direct: Vec<Vec<Duration>> = vec![Vec::new(); calls.len()];
        let mut guarded: Vec<Vec<Duration>> = vec![Vec::new(); calls.len()];
        let mut failed = vec![0usize; calls.len()];
        for _ in 0..rounds {
            for (k, (_, path, body)) in calls.iter().enumerate() {
                let (d, _) = time(up, path, body).await;
                direct[k].push(d);
                let (g, ok) = time(railyard, path, body).await;
                if ok {
                    guarded[k].push(g);
                } else {
                    failed[k] += 1;
                }
            }
        }
        let median = |v: &mut Vec<Duration>| {
            v.sort();
            percentile(v, 0.5).as_secs_f64() * 1e6
        };
        println!("paired: {rounds} rounds, one request at a time, railyard without audit log");
        println!("| call | upstream directly, median | through railyard, median | added median | failed | median vs plain | added vs plain |");
        println!("|---|---|---|---|---|---|---|");
        let mut plain = (0.0, 0.0);
        for (k, (name, _, _)) in calls.iter().enumerate() {
            let (d, g) = (median(&mut direct[k]), median(&mut guarded[k]));
            if k == 0 {
                plain = (g, g - d);
            }
            println!(
                "| {name} | {d:.0} µs | {g:.0} µs | {:.0} µs | {} | {:.2}x | {:.2}x |",
                g - d,
                failed[k],
                g / plain.0.max(1e-9),
                (g - d) / plain.1.max(1e-9)
            );
        }
    });
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // This process runs five railyard servers, each with its own engine,
    // and `serve` sizes an engine's pool for 512 calls at once (2,048
    // instances, ~16 TiB of address space each): five of those would not
    // fit in one process. These loads keep a few dozen calls in flight.
    if std::env::var_os("RAILYARD_POOL_INSTANCES").is_none() {
        // SAFETY: no other thread has started yet.
        unsafe { std::env::set_var("RAILYARD_POOL_INSTANCES", "512") };
    }
    let rate: u64 = std::env::var("OVERHEAD_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let secs: u64 = std::env::var("OVERHEAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    // Enough connections that the closed loop is not bounded by them: at
    // 20 ms an answer, 32 connections cap every row near 1,600 calls/s.
    let connections: usize = std::env::var("OVERHEAD_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|c| (1..=256).contains(c))
        .unwrap_or(32);
    let up = upstream(upstream_delay(), None);
    let no_audit = railyard(up, None, false, true);
    if let Some(rounds) = std::env::var("OVERHEAD_PAIRED")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        paired(up, no_audit.0, rounds);
        return;
    }
    let only = std::env::var("OVERHEAD_ONLY").unwrap_or_default();
    // Each row: its name, what serves it, the request, and the row it is
    // compared against (the upstream called directly with the same request).
    let plain = Some("upstream directly");
    let rows: [(&str, Serve, &str, Option<&str>); 10] = [
        ("upstream directly", Serve::Upstream, PROMPT, None),
        (
            "railyard, audit fsync (default)",
            Serve::Audit(Durability::Fsync, false, true),
            PROMPT,
            plain,
        ),
        (
            "railyard, audit fsync, WAL segments not preallocated",
            Serve::Audit(Durability::Fsync, false, false),
            PROMPT,
            plain,
        ),
        (
            "railyard, audit fsync, request durable before upstream",
            Serve::Audit(Durability::Fsync, true, true),
            PROMPT,
            plain,
        ),
        (
            "railyard, audit async",
            Serve::Audit(Durability::Async, false, true),
            PROMPT,
            plain,
        ),
        ("railyard, no audit", Serve::NoAudit, PROMPT, plain),
        (
            "tool-calling answer: upstream directly",
            Serve::Upstream,
            TOOL_PROMPT,
            None,
        ),
        (
            "tool-calling answer: railyard, no audit",
            Serve::NoAudit,
            TOOL_PROMPT,
            Some("tool-calling answer: upstream directly"),
        ),
        (
            "streamed tool call: upstream directly",
            Serve::Upstream,
            STREAM_TOOL_PROMPT,
            None,
        ),
        (
            "streamed tool call: railyard, no audit",
            Serve::NoAudit,
            STREAM_TOOL_PROMPT,
            Some("streamed tool call: upstream directly"),
        ),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap();
        println!(
            "open loop: {rate} requests/s for {secs} s each; closed loop: {connections} connections, {secs} s"
        );
        println!(
            "| target | median | p99 | added median | added p99 | failed | max req/s | median vs plain railyard |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        let mut seen: Vec<(&str, Duration, Duration)> = Vec::new();
        // Audited servers stay up (their temp dirs kept) to the end.
        let mut kept = Vec::new();
        let seen_row = |seen: &[(&str, Duration, Duration)], name: Option<&str>| {
            seen.iter()
                .find(|(n, _, _)| Some(*n) == name)
                .map(|&(_, p50, p99)| (p50, p99))
        };
        for (name, serve, body, base) in rows {
            if !name.contains(only.as_str()) {
                continue;
            }
            // A server of its own for each audited row; the rows without an
            // audit log share one.
            let server = match serve {
                Serve::Upstream => (up, None),
                Serve::NoAudit => (no_audit.0, None),
                Serve::Audit(d, strict, preallocate) => railyard(up, Some(d), strict, preallocate),
            };
            let url = format!("http://{}/v1/chat/completions", server.0);
            kept.push(server.1);
            // Warm: connections, compile cache, instance pool.
            let _ = open_loop(&client, &url, body, 200, 1).await;
            let (lat, failed) = open_loop(&client, &url, body, rate, secs).await;
            let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
            let max = closed_loop(&client, &url, body, connections, secs).await;
            let added = |d: Duration, b: Duration| {
                format!("{:.0} µs", d.as_secs_f64() * 1e6 - b.as_secs_f64() * 1e6)
            };
            let base = seen_row(&seen, base);
            let (a50, a99) = match base {
                None => ("—".to_string(), "—".to_string()),
                Some((b50, b99)) => (added(p50, b50), added(p99, b99)),
            };
            // A tool row's median against the plain answer's through the
            // same server, and its added median against the plain answer's.
            let ratio = match (
                body == PROMPT,
                base,
                seen_row(&seen, Some("railyard, no audit")),
                seen_row(&seen, plain),
            ) {
                (false, Some((b50, _)), Some((r50, _)), Some((u50, _))) => format!(
                    "{:.2}x median, {:.2}x added",
                    p50.as_secs_f64() / r50.as_secs_f64().max(1e-9),
                    (p50.as_secs_f64() - b50.as_secs_f64())
                        / (r50.as_secs_f64() - u50.as_secs_f64()).max(1e-9)
                ),
                _ => String::new(),
            };
            println!(
                "| {name} | {:.0} µs | {:.0} µs | {a50} | {a99} | {failed} | {max:.0} | {ratio} |",
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6
            );
            seen.push((name, p50, p99));
        }
    });
    drop(no_audit);
}
