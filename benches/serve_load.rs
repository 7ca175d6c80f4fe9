//! The pieces the `serve` benchmarks share: the requests and answers of
//! the calls they send (chat, tool calls, streamed, Responses API,
//! Anthropic Messages), a fake OpenAI/Anthropic-compatible upstream on
//! 127.0.0.1, and the open-loop load generator.
//!
//! Included by `serve_overhead.rs` and `serve_memory.rs` with `#[path]`;
//! each uses a part of it.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response};

pub const ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris. It has been the capital for centuries and is known for its museums, cafes and the Seine."},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":28,"total_tokens":58}}"#;

pub const PROMPT: &str = r#"{"model":"m","messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly and accurately."},{"role":"user","content":"What is the capital of France, and what is it known for? Please keep the answer to two sentences."}]}"#;

pub const TOOL_ANSWER: &str = r#"{"id":"chatcmpl-2","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\", \"unit\": \"celsius\", \"days\": 3}"}},{"id":"call_2","type":"function","function":{"name":"find_museums","arguments":"{\"city\": \"Paris\", \"open_on\": \"Sunday\", \"max_results\": 5}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":80,"completion_tokens":40,"total_tokens":120}}"#;

pub const TOOL_PROMPT: &str = r#"{"model":"m","x_answer":"tools","messages":[{"role":"system","content":"You are a helpful assistant. Use the tools when they help."},{"role":"user","content":"What will the weather be in Paris this weekend, and which museums are open on Sunday?"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather forecast for a city","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer"}},"required":["city"]}}},{"type":"function","function":{"name":"find_museums","description":"Museums in a city, with opening days","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"},"open_on":{"type":"string","description":"Day of the week"},"max_results":{"type":"integer"}},"required":["city"]}}}]}"#;

pub const STREAM_TOOL_PROMPT: &str = r#"{"model":"m","x_answer":"tools","stream":true,"messages":[{"role":"system","content":"You are a helpful assistant. Use the tools when they help."},{"role":"user","content":"What will the weather be in Paris this weekend, and which museums are open on Sunday?"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather forecast for a city","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer"}},"required":["city"]}}},{"type":"function","function":{"name":"find_museums","description":"Museums in a city, with opening days","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"},"open_on":{"type":"string","description":"Day of the week"},"max_results":{"type":"integer"}},"required":["city"]}}}]}"#;

/// The streamed tool call: the OpenAI shape (a first delta with both
/// calls' ids and names, then argument pieces of about 8 bytes, then the
/// finish reason and `[DONE]`).
pub fn tool_stream() -> Bytes {
    let chunk = |delta: &str, finish: &str| {
        format!(
            "data: {{\"id\":\"chatcmpl-3\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
        )
    };
    let mut out = chunk(
        r#"{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}},{"index":1,"id":"call_2","type":"function","function":{"name":"find_museums","arguments":""}}]}"#,
        "null",
    );
    let args = [
        r#"{"city": "Paris", "unit": "celsius", "days": 3}"#,
        r#"{"city": "Paris", "open_on": "Sunday", "max_results": 5}"#,
    ];
    for (k, a) in args.iter().enumerate() {
        for piece in a.as_bytes().chunks(8) {
            let piece = serde_json::to_string(std::str::from_utf8(piece).unwrap()).unwrap();
            out.push_str(&chunk(
                &format!(
                    r#"{{"tool_calls":[{{"index":{k},"function":{{"arguments":{piece}}}}}]}}"#
                ),
                "null",
            ));
        }
    }
    out.push_str(&chunk("{}", "\"tool_calls\""));
    out.push_str("data: [DONE]\n\n");
    Bytes::from(out)
}

/// The Responses API answer: a message and a function call.
pub const RESPONSES_ANSWER: &str = r#"{"id":"resp_1","object":"response","created_at":0,"status":"completed","model":"m","output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Let me check the forecast.","annotations":[]}]},{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"city\": \"Paris\", \"unit\": \"celsius\", \"days\": 3}","status":"completed"}],"usage":{"input_tokens":80,"output_tokens":40,"total_tokens":120}}"#;

pub const RESPONSES_PROMPT: &str = r#"{"model":"m","instructions":"You are a helpful assistant. Use the tools when they help.","input":[{"role":"user","content":"What will the weather be in Paris this weekend?"}],"tools":[{"type":"function","name":"get_weather","description":"Weather forecast for a city","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer"}},"required":["city"]}}]}"#;

/// The same call streamed.
pub const RESPONSES_STREAM_PROMPT: &str = r#"{"model":"m","stream":true,"instructions":"You are a helpful assistant. Use the tools when they help.","input":[{"role":"user","content":"What will the weather be in Paris this weekend?"}],"tools":[{"type":"function","name":"get_weather","description":"Weather forecast for a city","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer"}},"required":["city"]}}]}"#;

/// The Responses answer streamed as the API streams it (railyard's own
/// `as_events`), the text and the arguments in deltas of 8 bytes.
pub fn responses_stream() -> Bytes {
    let answer: serde_json::Value = serde_json::from_str(RESPONSES_ANSWER).unwrap();
    let mut out = String::new();
    let mut seq = 0;
    for e in railyard::serve::responses::wire::as_events(&answer).unwrap() {
        let pieces: Vec<serde_json::Value> = match e["delta"].as_str() {
            Some(d) => d
                .as_bytes()
                .chunks(8)
                .map(|p| {
                    let mut e = e.clone();
                    e["delta"] = std::str::from_utf8(p).unwrap().into();
                    e
                })
                .collect(),
            None => vec![e],
        };
        for mut p in pieces {
            p["sequence_number"] = seq.into();
            seq += 1;
            out.push_str(&format!(
                "event: {}\ndata: {p}\n\n",
                p["type"].as_str().unwrap()
            ));
        }
    }
    Bytes::from(out)
}

/// The Anthropic Messages answer: a text block and a tool call.
pub const ANTHROPIC_ANSWER: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-m","content":[{"type":"text","text":"Let me check the forecast."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris","unit":"celsius","days":3}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":80,"output_tokens":40}}"#;

pub const ANTHROPIC_PROMPT: &str = r#"{"model":"claude-m","max_tokens":200,"system":"You are a helpful assistant. Use the tools when they help.","messages":[{"role":"user","content":"What will the weather be in Paris this weekend?"}],"tools":[{"name":"get_weather","description":"Weather forecast for a city","input_schema":{"type":"object","properties":{"city":{"type":"string","description":"City name"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer"}},"required":["city"]}}]}"#;

pub const ANTHROPIC_STREAM_PROMPT: &str = r#"{"model":"claude-m","max_tokens":200,"stream":true,"system":"You are a helpful assistant. Use the tools when they help.","messages":[{"role":"user","content":"What will the weather be in Paris this weekend?"}],"tools":[{"name":"get_weather","description":"Weather forecast for a city","input_schema":{"type":"object","properties":{"city":{"type":"string","description":"City name"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer"}},"required":["city"]}}]}"#;

/// The same answer streamed as Anthropic streams it: text in pieces of
/// about 8 bytes, the tool input in `input_json_delta`s of 8 bytes.
pub fn anthropic_stream() -> Bytes {
    let ev = |v: String| {
        let name = serde_json::from_str::<serde_json::Value>(&v).unwrap()["type"]
            .as_str()
            .unwrap()
            .to_string();
        format!("event: {name}\ndata: {v}\n\n")
    };
    let mut out = ev(r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":80,"output_tokens":1}}}"#.into());
    out.push_str(&ev(
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
            .into(),
    ));
    for piece in "Let me check the forecast.".as_bytes().chunks(8) {
        let piece = serde_json::to_string(std::str::from_utf8(piece).unwrap()).unwrap();
        out.push_str(&ev(format!(r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":{piece}}}}}"#)));
    }
    out.push_str(&ev(r#"{"type":"content_block_stop","index":0}"#.into()));
    out.push_str(&ev(r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#.into()));
    for piece in r#"{"city": "Paris", "unit": "celsius", "days": 3}"#
        .as_bytes()
        .chunks(8)
    {
        let piece = serde_json::to_string(std::str::from_utf8(piece).unwrap()).unwrap();
        out.push_str(&ev(format!(r#"{{"type":"content_block_delta","index":1,"delta":{{"type":"input_json_delta","partial_json":{piece}}}}}"#)));
    }
    out.push_str(&ev(r#"{"type":"content_block_stop","index":1}"#.into()));
    out.push_str(&ev(r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":40}}"#.into()));
    out.push_str(&ev(r#"{"type":"message_stop"}"#.into()));
    Bytes::from(out)
}

/// A chat answer streamed slowly: `chunks` content deltas, one every
/// `every`, for requests that carry `"x_slow"` (so that many streams are
/// in flight at once).
#[derive(Clone, Copy)]
pub struct SlowStream {
    pub every: Duration,
    pub chunks: usize,
}

/// The Server-Sent Events of a slow stream: the role, `chunks` deltas of
/// a few words, the finish reason and `[DONE]`, one event a frame.
fn slow_stream(
    s: SlowStream,
) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>> {
    const WORDS: [&str; 8] = [
        "Paris ",
        "is ",
        "known ",
        "for ",
        "its ",
        "museums, ",
        "cafes ",
        "and the Seine. ",
    ];
    let event = |delta: String, finish: &str| {
        Bytes::from(format!(
            "data: {{\"id\":\"chatcmpl-4\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
        ))
    };
    futures_util::stream::unfold(0usize, move |k| async move {
        let frame = match k {
            0 => event(r#"{"role":"assistant","content":""}"#.into(), "null"),
            k if k <= s.chunks => {
                tokio::time::sleep(s.every).await;
                event(
                    format!(r#"{{"content":"{}"}}"#, WORDS[(k - 1) % WORDS.len()]),
                    "null",
                )
            }
            k if k == s.chunks + 1 => event("{}".into(), "\"stop\""),
            k if k == s.chunks + 2 => Bytes::from_static(b"data: [DONE]\n\n"),
            _ => return None,
        };
        Some((Ok(Frame::data(frame)), k + 1))
    })
}

/// The fake upstream: answers at once after `delay` (as a model would),
/// by the request's path and markers; `slow`: how `"x_slow"` chat
/// requests are streamed (none: they get the plain answer).
pub fn upstream(delay: Duration, slow: Option<SlowStream>) -> SocketAddr {
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
                // Out of file descriptors under overload: wait for some to
                // close rather than end the upstream.
                let Ok((s, _)) = l.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = s.set_nodelay(true);
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(
                        |req: Request<hyper::body::Incoming>| async move {
                            let messages = req.uri().path().ends_with("/messages");
                            let responses = req.uri().path().ends_with("/responses");
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            if !delay.is_zero() {
                                tokio::time::sleep(delay).await;
                            }
                            let has = |s: &[u8]| body.windows(s.len()).any(|w| w == s);
                            let streamed = has(b"\"stream\":true");
                            if let Some(slow) = slow
                                && streamed
                                && has(b"x_slow")
                            {
                                let mut r = Response::new(Either::Right(StreamBody::new(
                                    slow_stream(slow),
                                )));
                                r.headers_mut()
                                    .insert("content-type", "text/event-stream".parse().unwrap());
                                return Ok::<_, Infallible>(r);
                            }
                            let (answer, kind) = match (has(b"x_answer"), streamed) {
                                _ if responses && streamed => {
                                    (responses_stream(), "text/event-stream")
                                }
                                _ if responses => (
                                    Bytes::from_static(RESPONSES_ANSWER.as_bytes()),
                                    "application/json",
                                ),
                                _ if messages && streamed => {
                                    (anthropic_stream(), "text/event-stream")
                                }
                                _ if messages => (
                                    Bytes::from_static(ANTHROPIC_ANSWER.as_bytes()),
                                    "application/json",
                                ),
                                (true, true) => (tool_stream(), "text/event-stream"),
                                (true, false) => (
                                    Bytes::from_static(TOOL_ANSWER.as_bytes()),
                                    "application/json",
                                ),
                                _ => (Bytes::from_static(ANSWER.as_bytes()), "application/json"),
                            };
                            let mut r = Response::new(Either::Left(Full::new(answer)));
                            r.headers_mut()
                                .insert("content-type", kind.parse().unwrap());
                            Ok::<_, Infallible>(r)
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

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Open loop at `rate` for `secs`: the latency of every request.
pub async fn open_loop(
    client: &reqwest::Client,
    url: &str,
    body: &'static str,
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
                .body(body)
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
