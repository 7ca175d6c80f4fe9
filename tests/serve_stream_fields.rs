//! Streams carry everything: a real `railyard serve` in front of a real
//! upstream that streams tool calls, refusals, reasoning and several
//! choices the way OpenAI does. Every text goes through the stream guard
//! (a card number in a tool call's arguments never leaves), the client
//! assembles well-formed messages, a cut-off stream ends with an error, an
//! upstream that answers JSON to a streamed request is streamed, and a
//! client that leaves cancels the upstream request and frees its slot.

use crate::common;

use std::time::{Duration, Instant};

use common::http::{Server, Upstream, post};
use common::script::{Script, assemble};
use serde_json::{Value, json};

const CARD: &str = "4111 1111 1111 1111";
const EMAIL: &str = "maria.gonzalez@example.com";

use common::serve_env::ServeEnv as Env;

fn streamed(server: &Server, script: &str, chunk: usize) -> common::http::Answer {
    post(
        server.addr,
        "/v1/chat/completions",
        &[],
        &json!({"model": "fake-model", "stream": true, "x_chunk": chunk,
                "stream_options": {"include_usage": true},
                "messages": [{"role": "user", "content": format!("SCRIPT: {script}")}]})
        .to_string(),
    )
}

fn tool_call(id: &str, name: &str, args: Value) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}})
}

/// A message with two tool calls whose arguments carry a card and an
/// e-mail address, reasoning with the e-mail, and a short content.
fn agent_message() -> Value {
    json!({
        "reasoning_content": format!("The user wants a refund; their address is {EMAIL} so I will call the tools."),
        "content": "Calling the billing tools now.",
        "tool_calls": [
            tool_call("call_refund_1", "refund", json!({"card": CARD, "amount": 12.5})),
            tool_call("call_mail_2", "send_mail", json!({"to": EMAIL, "body": "Your refund is on its way."})),
        ]
    })
}

#[test]
fn streamed_tool_calls_reasoning_and_refusals_are_guarded_and_assemble() {
    let env = Env::new();
    let upstream = Upstream::start();
    upstream.script(
        "agent",
        Script {
            messages: vec![agent_message()],
            ..Script::default()
        },
    );
    upstream.script(
        "refusal",
        Script {
            messages: vec![json!({"refusal": format!("I cannot charge the card {CARD} for you.")})],
            ..Script::default()
        },
    );
    let mut server = env.start_patient(&["--upstream", &upstream.base_url()]);
    let mut last = String::new();
    for chunk in [1, 3, 7, 64] {
        let a = streamed(&server, "agent", chunk);
        assert_eq!(a.status, 200, "{}", a.text());
        let body = a.text();
        assert!(!body.contains("1111"), "chunk {chunk}: {body}");
        assert!(!body.contains("gonzalez"), "chunk {chunk}: {body}");
        let got = assemble(&body);
        assert!(got.done && got.error.is_none(), "chunk {chunk}: {body}");
        let m = &got.messages[&0];
        assert_eq!(m["role"], "assistant");
        assert_eq!(m["content"], "Calling the billing tools now.");
        assert_eq!(
            m["reasoning_content"],
            "The user wants a refund; their address is <EMAIL_ADDRESS> so I will call the tools."
        );
        let calls = m["tool_calls"].as_array().unwrap();
        assert_eq!(calls.len(), 2, "{m}");
        assert_eq!(calls[0]["id"], "call_refund_1");
        assert_eq!(calls[0]["type"], "function");
        assert_eq!(calls[0]["function"]["name"], "refund");
        let args: Value =
            serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(args, json!({"card": "<CREDIT_CARD>", "amount": 12.5}));
        assert_eq!(calls[1]["id"], "call_mail_2");
        assert_eq!(calls[1]["function"]["name"], "send_mail");
        let args: Value =
            serde_json::from_str(calls[1]["function"]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(
            args,
            json!({"to": "<EMAIL_ADDRESS>", "body": "Your refund is on its way."})
        );
        assert_eq!(got.finish[&0], "tool_calls");
        // The usage chunk comes after the finish reason.
        let usage_at = got.events.iter().position(|e| e.contains("\"usage\""));
        let finish_at = got.events.iter().position(|e| {
            e.contains("\"tool_calls\"") && e.contains("finish_reason\":\"tool_calls")
        });
        assert!(usage_at > finish_at, "{:?}", got.events);
        last = a.header("x-railyard-request-id").unwrap().to_string();

        let a = streamed(&server, "refusal", chunk);
        let got = assemble(&a.text());
        assert!(got.done && got.error.is_none(), "{}", a.text());
        assert_eq!(
            got.messages[&0]["refusal"],
            "I cannot charge the card <CREDIT_CARD> for you."
        );
        assert!(!a.text().contains("1111"), "{}", a.text());
    }
    // The audit record names the field of every finding.
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());
    let calls = env.rows("inferences", &["--request-id", &last]);
    let response: Vec<Value> =
        serde_json::from_str(calls[0]["response"].as_str().unwrap()).unwrap();
    let fields: Vec<&str> = response
        .iter()
        .filter_map(|m| m["field"].as_str())
        .collect();
    for f in [
        "choices[0].message.reasoning_content",
        "choices[0].message.content",
        "choices[0].message.tool_calls[0].function.name",
        "choices[0].message.tool_calls[0].function.arguments",
        "choices[0].message.tool_calls[1].function.arguments",
    ] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
    let decisions = env.rows("decisions", &["--request-id", &last]);
    let pii = decisions
        .iter()
        .find(|d| d["stage"] == "response" && d["plugin"] == "pii")
        .expect("a pii decision on the answer");
    assert_eq!(pii["action"], "redact", "{pii}");
    // The decision row names each finding's field itself, the same one.
    for f in pii["findings"].as_array().unwrap() {
        let i = f["message_index"].as_u64().unwrap() as usize;
        assert_eq!(f["field"], response[i]["field"], "{f}");
    }
    let found: Vec<(String, &str)> = pii["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let i = f["message_index"].as_u64().unwrap() as usize;
            (
                f["category"].as_str().unwrap().to_string(),
                response[i]["field"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        found.contains(&(
            "CREDIT_CARD".into(),
            "choices[0].message.tool_calls[0].function.arguments"
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "EMAIL_ADDRESS".into(),
            "choices[0].message.tool_calls[1].function.arguments"
        )),
        "{found:?}"
    );
    // Captured redacted: the card is nowhere in the row.
    assert!(!calls[0]["response"].as_str().unwrap().contains("1111"));
}

#[test]
fn two_choices_stream_in_two_lanes() {
    let env = Env::new();
    let upstream = Upstream::start();
    upstream.script(
        "two",
        Script {
            messages: vec![
                json!({"content": format!("First answer: the card is {CARD}, done.")}),
                json!({"content": "Second answer, nothing sensitive in it at all."}),
            ],
            ..Script::default()
        },
    );
    let server = env.start_patient(&["--upstream", &upstream.base_url()]);
    for chunk in [1, 4, 64] {
        let a = post(
            server.addr,
            "/v1/chat/completions",
            &[],
            &json!({"model": "m", "stream": true, "n": 2, "x_chunk": chunk,
                    "messages": [{"role": "user", "content": "SCRIPT: two"}]})
            .to_string(),
        );
        assert_eq!(a.status, 200, "{}", a.text());
        let got = assemble(&a.text());
        assert!(got.done && got.error.is_none(), "{}", a.text());
        assert_eq!(
            got.messages[&0]["content"],
            "First answer: the card is <CREDIT_CARD>, done."
        );
        assert_eq!(
            got.messages[&1]["content"],
            "Second answer, nothing sensitive in it at all."
        );
        assert_eq!(got.finish.len(), 2);
        assert!(!a.text().contains("1111"));
    }
}

#[test]
fn a_cut_off_stream_ends_with_an_error_and_json_to_a_stream_is_streamed() {
    let env = Env::new();
    let upstream = Upstream::start();
    upstream.script(
        "cut",
        Script {
            messages: vec![json!({"content": "This answer never gets to its end, it is cut off midway through."})],
            truncate_after: Some(6),
            ..Script::default()
        },
    );
    upstream.script(
        "whole",
        Script {
            messages: vec![agent_message()],
            ignore_stream: true,
            ..Script::default()
        },
    );
    let server = env.start_patient(&["--upstream", &upstream.base_url()]);
    let a = streamed(&server, "cut", 3);
    assert_eq!(a.status, 200);
    let got = assemble(&a.text());
    assert!(
        !got.done,
        "a cut-off stream must not end with [DONE]: {}",
        a.text()
    );
    let error = got.error.expect("an error event");
    assert_eq!(error["error"]["code"], "upstream_truncated", "{error}");

    let a = streamed(&server, "whole", 3);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("content-type"), Some("text/event-stream"));
    let got = assemble(&a.text());
    assert!(got.done && got.error.is_none(), "{}", a.text());
    let calls = got.messages[&0]["tool_calls"].as_array().unwrap().clone();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["id"], "call_refund_1");
    assert!(
        calls[0]["function"]["arguments"]
            .as_str()
            .unwrap()
            .contains("<CREDIT_CARD>")
    );
    assert!(!a.text().contains("1111"));
    assert_eq!(got.finish[&0], "tool_calls");
}

/// A client that leaves mid-stream: the upstream sees its connection
/// dropped long before its script ends, the single concurrency slot is
/// free again, and the call is recorded with status 499.
#[test]
fn a_client_that_leaves_cancels_the_upstream_and_frees_its_slot() {
    use std::io::{Read, Write};
    let env = Env::new();
    let upstream = Upstream::start();
    // 400 pieces 100 ms apart: 40 s if nobody cancels it.
    upstream.script(
        "slow",
        Script {
            messages: vec![json!({"content": "word ".repeat(400)})],
            delay: Duration::from_millis(100),
            ..Script::default()
        },
    );
    let cfg = env.path("serve.toml");
    std::fs::write(&cfg, "[limits]\nmax-concurrency = 1\n").unwrap();
    let mut server = env.start_patient(&[
        "--config",
        cfg.to_str().unwrap(),
        "--upstream",
        &upstream.base_url(),
    ]);
    let body = json!({"model": "m", "stream": true, "x_chunk": 5,
                      "messages": [{"role": "user", "content": "SCRIPT: slow"}]})
    .to_string();
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // Wait for the first released text, then leave.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("word") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended early");
        seen.extend_from_slice(&buf[..n]);
    }
    let request_id = String::from_utf8_lossy(&seen)
        .lines()
        .find_map(|l| {
            l.strip_prefix("x-railyard-request-id: ")
                .map(str::to_string)
        })
        .expect("a request id header");
    drop(s);
    // The upstream notices its reader is gone.
    let deadline = Instant::now() + Duration::from_secs(30);
    let log = loop {
        if let Some(l) = upstream.stream_logs().first().cloned() {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "the upstream never saw the client leave"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(log.aborted, "{log:?}");
    assert!(log.written < log.total, "{log:?}");
    // The slot is free: a new call gets through (not `overloaded`).
    upstream.script(
        "short",
        Script {
            messages: vec![json!({"content": "hello again"})],
            ..Script::default()
        },
    );
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &[],
        &json!({"model": "m", "messages": [{"role": "user", "content": "SCRIPT: short"}]})
            .to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "the upstream's whole script would have taken 40 s"
    );
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());
    let calls = env.rows("inferences", &["--request-id", &request_id]);
    assert_eq!(calls[0]["status_code"], 499, "{calls:?}");
    let response = calls[0]["response"].as_str().unwrap();
    assert!(response.contains("word"), "{response}");
}

/// `/v1/completions`: a card in the answer's text never reaches the
/// client, streamed (two choices) or not.
#[test]
fn completion_answers_are_guarded_streamed_and_not() {
    let env = Env::new();
    let upstream = Upstream::start();
    upstream.script(
        "text",
        Script {
            messages: vec![
                json!({"content": format!("the card is {CARD}, as requested")}),
                json!({"content": "nothing to see in this one"}),
            ],
            ..Script::default()
        },
    );
    let server = env.start_patient(&["--upstream", &upstream.base_url()]);
    let a = post(
        server.addr,
        "/v1/completions",
        &[],
        &json!({"model": "m", "prompt": "SCRIPT: text"}).to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        a.json()["choices"][0]["text"],
        "the card is <CREDIT_CARD>, as requested"
    );
    for chunk in [1, 5, 64] {
        let a = post(
            server.addr,
            "/v1/completions",
            &[],
            &json!({"model": "m", "prompt": "SCRIPT: text", "stream": true, "n": 2, "x_chunk": chunk})
                .to_string(),
        );
        assert_eq!(a.status, 200, "{}", a.text());
        assert!(!a.text().contains("1111"), "{}", a.text());
        let got = assemble(&a.text());
        assert!(got.done && got.error.is_none(), "{}", a.text());
        assert_eq!(
            got.messages[&0]["text"],
            "the card is <CREDIT_CARD>, as requested"
        );
        assert_eq!(got.messages[&1]["text"], "nothing to see in this one");
        assert_eq!(got.finish.len(), 2);
    }
}
