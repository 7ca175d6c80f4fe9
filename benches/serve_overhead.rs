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
//!   send), then closed-loop with 32 connections for the maximum sustained
//!   rate.
//!
//! Everything shares this machine's cores; the figures are what one box
//! running model client, railyard and upstream together sees.
//!
//! Run: `cargo bench -p railyard --bench serve_overhead` (env
//! `OVERHEAD_RATE`, default 1000 requests/s; `OVERHEAD_SECS`, default 10).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use railyard::audit::{AuditLog, AuditSettings, Durability};
use railyard::serve::{ServeConfig, State};

const ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris. It has been the capital for centuries and is known for its museums, cafes and the Seine."},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":28,"total_tokens":58}}"#;

const PROMPT: &str = r#"{"model":"m","messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly and accurately."},{"role":"user","content":"What is the capital of France, and what is it known for? Please keep the answer to two sentences."}]}"#;

fn upstream() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            loop {
                let (s, _) = l.accept().await.unwrap();
                let _ = s.set_nodelay(true);
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(
                        |req: Request<hyper::body::Incoming>| async move {
                            let _ = req.into_body().collect().await;
                            let mut r =
                                Response::new(Full::new(Bytes::from_static(ANSWER.as_bytes())));
                            r.headers_mut()
                                .insert("content-type", "application/json".parse().unwrap());
                            Ok::<_, std::convert::Infallible>(r)
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                        .await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

fn railyard(
    upstream: SocketAddr,
    durability: Option<Durability>,
) -> (SocketAddr, Option<tempfile::TempDir>) {
    let tmp = tempfile::tempdir().unwrap();
    let audit = durability.map(|d| {
        let mut s = AuditSettings::new(
            tmp.path().join("audit").display().to_string(),
            tmp.path().join("state"),
        );
        s.durability = d;
        AuditLog::open(s).unwrap()
    });
    let config = ServeConfig::default()
        .with_default_upstream(&format!("http://{upstream}/v1"), None)
        .unwrap();
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
            let state =
                Arc::new(tokio::task::block_in_place(|| State::new(config, audit)).unwrap());
            railyard::serve::serve(state, l, std::future::pending())
                .await
                .unwrap();
        });
    });
    (rx.recv().unwrap(), Some(tmp))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Open loop at `rate` for `secs`: the latency of every request.
async fn open_loop(
    client: &reqwest::Client,
    url: &str,
    rate: u64,
    secs: u64,
) -> (Vec<Duration>, usize) {
    let n = rate * secs;
    let started = Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        let at = started + Duration::from_nanos(i * 1_000_000_000 / rate);
        let (client, url) = (client.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            // Timed from the actual send: tokio's timer wakes up to 1 ms
            // late, which would otherwise be counted as latency of both
            // sides alike.
            let sent = Instant::now();
            let r = client
                .post(&url)
                .header("content-type", "application/json")
                .body(PROMPT)
                .send()
                .await;
            let ok = match r {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            (sent.elapsed(), ok)
        }));
    }
    let mut lat = Vec::with_capacity(n as usize);
    let mut failed = 0;
    for t in tasks {
        let (d, ok) = t.await.unwrap();
        if ok {
            lat.push(d);
        } else {
            failed += 1;
        }
    }
    lat.sort();
    (lat, failed)
}

/// Closed loop: `conns` workers for `secs`; requests per second.
async fn closed_loop(client: &reqwest::Client, url: &str, conns: usize, secs: u64) -> f64 {
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
                    .body(PROMPT)
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

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rate: u64 = std::env::var("OVERHEAD_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let secs: u64 = std::env::var("OVERHEAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let up = upstream();
    let targets = [
        ("upstream directly", (up, None)),
        (
            "railyard, audit fsync (default)",
            railyard(up, Some(Durability::Fsync)),
        ),
        (
            "railyard, audit async",
            railyard(up, Some(Durability::Async)),
        ),
        ("railyard, no audit", railyard(up, None)),
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
            "open loop: {rate} requests/s for {secs} s each; closed loop: 32 connections, {secs} s"
        );
        println!("| target | median | p99 | added median | added p99 | failed | max req/s |");
        println!("|---|---|---|---|---|---|---|");
        let mut base: Option<(Duration, Duration)> = None;
        for (name, (addr, _dir)) in &targets {
            let url = format!("http://{addr}/v1/chat/completions");
            // Warm: connections, compile cache, instance pool.
            let _ = open_loop(&client, &url, 200, 1).await;
            let (lat, failed) = open_loop(&client, &url, rate, secs).await;
            let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
            let max = closed_loop(&client, &url, 32, secs).await;
            let added = |d: Duration, b: Duration| {
                format!("{:.0} µs", d.as_secs_f64() * 1e6 - b.as_secs_f64() * 1e6)
            };
            let (a50, a99) = match base {
                None => ("—".to_string(), "—".to_string()),
                Some((b50, b99)) => (added(p50, b50), added(p99, b99)),
            };
            println!(
                "| {name} | {:.0} µs | {:.0} µs | {a50} | {a99} | {failed} | {max:.0} |",
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6
            );
            if base.is_none() {
                base = Some((p50, p99));
            }
        }
    });
}
