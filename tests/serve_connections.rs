//! Client connections are bounded: past `[limits] max-connections` a new
//! connection waits in the kernel's listen queue, unread, until an open one
//! closes; then it is served. (Unbounded, an overload of queued clients took
//! every file descriptor and the audit log could not open its next WAL
//! segment.)

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::http::{Upstream, get, metric};
use common::serve_env::ServeEnv as Env;

fn gauge(metrics: SocketAddr, name: &str) -> u64 {
    let text = get(metrics, "/metrics", &[]).text();
    metric(&text, name).unwrap_or_else(|| panic!("{name} missing from /metrics:\n{text}"))
}

#[test]
fn connections_past_the_limit_wait_unread_until_one_closes() {
    let env = Env::new();
    // Idle connections must stay open for the whole test: a long header
    // timeout.
    let cfg = env.config(
        "[limits]\nmax-connections = 2\nheader-timeout-ms = 600000\n[metrics]\nlisten = \"127.0.0.1:0\"\n",
    );
    let upstream = Upstream::start();
    let server = env.start(&[
        "--config",
        cfg.to_str().unwrap(),
        "--upstream",
        &upstream.base_url(),
    ]);
    let metrics = server.metrics_addr();
    assert_eq!(gauge(metrics, "railyard_connections_limit"), 2);

    // Two idle connections take both slots.
    let first = TcpStream::connect(server.addr).unwrap();
    let _second = TcpStream::connect(server.addr).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while gauge(metrics, "railyard_connections_open") < 2 {
        assert!(
            Instant::now() < deadline,
            "the two connections were never accepted"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // A third connects (the kernel queues it) but is not read.
    let mut third = TcpStream::connect(server.addr).unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: railyard\r\nconnection: close\r\n\r\n")
        .unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut byte = [0u8; 1];
    match third.read(&mut byte) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        other => panic!("a connection past the limit was served: {other:?}"),
    }
    assert_eq!(gauge(metrics, "railyard_connections_open"), 2);

    // One closes: the third is accepted and answered.
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut answer = String::new();
    third.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
