//! Traces through a real server: the caller's W3C `traceparent` is
//! continued, handed to the upstream as a child span, returned to the
//! caller, written in the `inferences` row (read back through the Delta
//! log), and the call's spans reach a real OTLP/HTTP receiver on
//! 127.0.0.1 (protobuf `ExportTraceServiceRequest`, decoded with the
//! OpenTelemetry proto types) with the parent/child structure.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::http::{Upstream, post};
use common::openai_calls::serve_config;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use serde_json::json;

/// An OTLP/HTTP receiver: every span of every `POST /v1/traces`.
struct Receiver {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<Span>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let spans = Arc::new(Mutex::new(Vec::new()));
        let sink = spans.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let sink = sink.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                        let mut length = 0;
                        let mut content_type = String::new();
                        loop {
                            let mut h = String::new();
                            reader.read_line(&mut h).unwrap();
                            let h = h.trim_end();
                            if h.is_empty() {
                                break;
                            }
                            let (k, v) = h.split_once(':').unwrap();
                            match k.to_ascii_lowercase().as_str() {
                                "content-length" => length = v.trim().parse().unwrap(),
                                "content-type" => content_type = v.trim().to_string(),
                                _ => {}
                            }
                        }
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).unwrap();
                        assert_eq!(path, "/v1/traces");
                        assert_eq!(content_type, "application/x-protobuf");
                        let request = ExportTraceServiceRequest::decode(body.as_slice())
                            .expect("an ExportTraceServiceRequest");
                        let mut got = sink.lock().unwrap();
                        for rs in request.resource_spans {
                            for ss in rs.scope_spans {
                                got.extend(ss.spans);
                            }
                        }
                        drop(got);
                        let _ = conn.write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
                        );
                    }
                });
            }
        });
        Receiver { addr, spans }
    }

    /// The spans of trace `trace_id` once `done` holds of them (120 s at
    /// most: export is batched).
    fn wait_for(&self, trace_id: &str, done: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let spans: Vec<Span> = self
                .spans
                .lock()
                .unwrap()
                .iter()
                .filter(|s| hex::encode(&s.trace_id) == trace_id)
                .cloned()
                .collect();
            if done(&spans) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "spans of {trace_id} never arrived complete: {:?}",
                spans
                    .iter()
                    .map(|s| (
                        &s.name,
                        hex::encode(&s.span_id),
                        hex::encode(&s.parent_span_id)
                    ))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// (trace id, span id) of a `traceparent`.
fn ids(traceparent: &str) -> (String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[0], "00", "{traceparent}");
    assert_eq!((parts[1].len(), parts[2].len()), (32, 16), "{traceparent}");
    (parts[1].to_string(), parts[2].to_string())
}

#[test]
fn a_callers_trace_is_continued_upstream_recorded_and_exported() {
    let tmp = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let upstream = Upstream::start();
    let config = format!(
        "[upstreams.up]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
         [telemetry]\notlp-endpoint = \"http://{}\"\n",
        upstream.base_url(),
        receiver.addr,
    );
    // A short batch delay: spans go out within 100 ms (the shutdown
    // flushes whatever is left either way).
    let mut server = serve_config(
        tmp.path(),
        "serve",
        &config,
        true,
        &[("OTEL_BSP_SCHEDULE_DELAY", Path::new("100"))],
    );
    assert!(
        server.stdout_head.contains(&format!(
            "exporting traces to http://{}/v1/traces",
            receiver.addr
        )),
        "{}",
        server.stdout_head
    );
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let body =
        json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]}).to_string();
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &[
            ("traceparent", &format!("00-{trace_id}-{caller_span}-01")),
            ("x-request-id", "traced-1"),
        ],
        &body,
    );
    assert_eq!(a.status, 200, "{}", a.text());
    // The caller is told the call's span, in its own trace.
    let (t, call_span) = ids(a.header("traceparent").expect("a traceparent header"));
    assert_eq!(t, trace_id);
    assert_ne!(call_span, caller_span);
    // The upstream saw the same trace, under a span of its own.
    let seen = upstream.headers.lock().unwrap().clone();
    let sent = seen[0]
        .iter()
        .find(|(k, _)| k == "traceparent")
        .map(|(_, v)| v.clone())
        .expect("the upstream got a traceparent");
    let (t, upstream_span) = ids(&sent);
    assert_eq!(t, trace_id);
    assert!(upstream_span != call_span && upstream_span != caller_span);
    assert!(sent.ends_with("-01"), "{sent}");

    // Without a traceparent (or with a broken one) a trace is started.
    let b = post(
        server.addr,
        "/v1/chat/completions",
        &[("traceparent", "00-nonsense"), ("x-request-id", "traced-2")],
        &body,
    );
    assert_eq!(b.status, 200, "{}", b.text());
    let (new_trace, _) = ids(b.header("traceparent").unwrap());
    assert_ne!(new_trace, trace_id);
    assert_ne!(new_trace, "0".repeat(32));
    let sent = upstream.headers.lock().unwrap()[1]
        .iter()
        .find(|(k, _)| k == "traceparent")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(ids(&sent).0, new_trace);

    // The spans: the call under the caller's span, the upstream call and
    // both stages under the call, each plugin under its stage.
    let spans = receiver.wait_for(trace_id, |s| {
        s.iter().filter(|s| s.name == "railyard.stage").count() == 2
            && s.iter().any(|s| s.name == "railyard.call")
            && s.iter().any(|s| s.name == "railyard.upstream")
    });
    let by = |name: &str| -> Vec<&Span> { spans.iter().filter(|s| s.name == name).collect() };
    let call = by("railyard.call")[0];
    assert_eq!(hex::encode(&call.span_id), call_span);
    assert_eq!(hex::encode(&call.parent_span_id), caller_span);
    assert_eq!(call.kind, SpanKind::Server as i32);
    let up = by("railyard.upstream")[0];
    assert_eq!(hex::encode(&up.span_id), upstream_span);
    assert_eq!(hex::encode(&up.parent_span_id), call_span);
    assert_eq!(up.kind, SpanKind::Client as i32);
    let stages = by("railyard.stage");
    let all_plugins = by("railyard.plugin");
    for stage in &stages {
        assert_eq!(hex::encode(&stage.parent_span_id), call_span);
        assert!(stage.start_time_unix_nano <= stage.end_time_unix_nano);
        let plugins: Vec<&&Span> = all_plugins
            .iter()
            .filter(|p| p.parent_span_id == stage.span_id)
            .collect();
        assert!(!plugins.is_empty(), "no plugin spans under a stage");
        for p in plugins {
            assert!(p.start_time_unix_nano >= stage.start_time_unix_nano);
            assert!(
                p.attributes
                    .iter()
                    .any(|kv| kv.key == "railyard.plugin_digest"),
                "{:?}",
                p.attributes
            );
        }
    }
    // The call span holds the stages in time.
    assert!(
        stages
            .iter()
            .all(|s| s.end_time_unix_nano <= call.end_time_unix_nano)
    );
    // The second call's spans form their own trace.
    receiver.wait_for(&new_trace, |s| s.iter().any(|s| s.name == "railyard.call"));

    // The rows carry the trace id.
    assert!(server.stop(), "the server did not stop cleanly");
    let rows = common::audit_rows(
        &tmp.path().join("audit-serve"),
        &tmp.path().join("reader"),
        "inferences",
        &[],
    );
    let trace_of = |id: &str| {
        rows.iter()
            .find(|r| r["request_id"] == id)
            .unwrap_or_else(|| panic!("no row for {id}: {rows:?}"))["trace_id"]
            .clone()
    };
    assert_eq!(trace_of("traced-1"), json!(trace_id));
    assert_eq!(trace_of("traced-2"), json!(new_trace));
}
