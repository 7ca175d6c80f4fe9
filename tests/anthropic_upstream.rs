//! A fake Anthropic Messages API on 127.0.0.1 for the `/v1/messages`
//! tests: it answers by the last user text —
//! - `TOOL` → a text block and a `tool_use` whose input carries a card;
//! - `CARD` → a text with a card, a thinking block with a card;
//! - `FAIL` → a 400 Anthropic error whose message quotes a card;
//! - `INJECT` → an injection in a thinking block, a text and a tool's
//!   input (`ONLY=<k>`: in the `k`th of them only);
//! - anything else → `echo: <text>`.
//!
//! Streamed answers split every value across events (4 characters a
//! delta) and write the bytes in 7-byte pieces.
//!
//! On `/v1/responses` it answers as the OpenAI Responses API instead,
//! streamed or not (see `responses_upstream`): `TOOL` → a message and a
//! `function_call` whose arguments carry a card; `EVERYTHING` → a canary
//! in every text an answer carries; `SLOW` → 400 words streamed one event
//! each 50 ms; `JSON_STREAM` → JSON even to `stream: true`; anything else
//! → `echo: <input>`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

pub const CARD: &str = "4111 1111 1111 1111";

/// What the upstream received: headers (lower-case) and body.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct Upstream {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Per `SLOW` Responses stream that ended: (events written, events in
    /// it); fewer written means the reader went away.
    pub slow_streams: Arc<Mutex<Vec<(usize, usize)>>>,
}

impl Upstream {
    pub fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let slow_streams = Arc::new(Mutex::new(Vec::new()));
        let r = received.clone();
        let s = slow_streams.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let r = r.clone();
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve_one(conn, &r, &s);
                });
            }
        });
        Upstream {
            addr,
            received,
            slow_streams,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every body received, as text.
    pub fn bodies(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.body.to_string())
            .collect()
    }
}

fn last_user(body: &Value) -> String {
    let Some(m) = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
    else {
        return String::new();
    };
    match &m["content"] {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// The answer for `prompt`.
pub fn message(prompt: &str) -> Value {
    let content = if prompt.contains("INJECT") {
        let x = crate::responses_upstream::INJECTION;
        let f = |k: usize| {
            if only(prompt).is_none_or(|o| o == k) {
                x
            } else {
                "nothing much"
            }
        };
        json!([{"type": "thinking", "thinking": format!("hmm: {}", f(0)), "signature": "sig-1"},
               {"type": "text", "text": format!("so: {}", f(1))},
               {"type": "tool_use", "id": "toolu_1", "name": "note", "input": {"text": f(2)}}])
    } else if prompt.contains("TOOL") {
        json!([{"type": "text", "text": "Refunding now."},
               {"type": "tool_use", "id": "toolu_1", "name": "refund",
                "input": {"card": CARD, "amount": 12.5}}])
    } else if prompt.contains("CARD") {
        json!([{"type": "thinking", "thinking": format!("the card is {CARD}"), "signature": "sig-1"},
               {"type": "text", "text": format!("your card {CARD} is on file")}])
    } else {
        json!([{"type": "text", "text": format!("echo: {prompt}")}])
    };
    let stop = if prompt.contains("TOOL") {
        "tool_use"
    } else {
        "end_turn"
    };
    json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-fake",
        "content": content, "stop_reason": stop, "stop_sequence": null,
        "usage": {"input_tokens": 7, "output_tokens": 5}})
}

/// `s` in pieces of `n` characters.
fn pieces(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

/// The stream of `m`: every value split across events.
pub fn stream_of(m: &Value) -> String {
    let mut events = Vec::new();
    let mut start = m.clone();
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    events.push(json!({"type": "message_start", "message": start}));
    events.push(json!({"type": "ping"}));
    for (i, b) in m["content"].as_array().unwrap().iter().enumerate() {
        let (first, key, dtype, text) = match b["type"].as_str().unwrap() {
            "text" => (
                json!({"type": "text", "text": ""}),
                "text",
                "text_delta",
                b["text"].as_str().unwrap().to_string(),
            ),
            "thinking" => (
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                "thinking",
                "thinking_delta",
                b["thinking"].as_str().unwrap().to_string(),
            ),
            _ => {
                let mut f = b.clone();
                f["input"] = json!({});
                (
                    f,
                    "partial_json",
                    "input_json_delta",
                    b["input"].to_string(),
                )
            }
        };
        events.push(json!({"type": "content_block_start", "index": i, "content_block": first}));
        for p in pieces(&text, 4) {
            events.push(json!({"type": "content_block_delta", "index": i, "delta": {"type": dtype, key: p}}));
        }
        if let Some(sig) = b.get("signature") {
            events.push(json!({"type": "content_block_delta", "index": i, "delta": {"type": "signature_delta", "signature": sig}}));
        }
        events.push(json!({"type": "content_block_stop", "index": i}));
    }
    events.push(json!({"type": "message_delta", "delta": {"stop_reason": m["stop_reason"], "stop_sequence": null}, "usage": {"output_tokens": 5}}));
    events.push(json!({"type": "message_stop"}));
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect()
}

fn serve_one(
    mut conn: TcpStream,
    received: &Mutex<Vec<Received>>,
    slow: &Mutex<Vec<(usize, usize)>>,
) -> std::io::Result<()> {
    let mut r = BufReader::new(conn.try_clone()?);
    let mut headers = Vec::new();
    let mut line = String::new();
    r.read_line(&mut line)?;
    let responses = line
        .split_whitespace()
        .nth(1)
        .is_some_and(|p| p.ends_with("/responses"));
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if responses {
        received.lock().unwrap().push(Received {
            headers,
            body: body.clone(),
        });
        let r = response(&body);
        let input = body["input"].to_string();
        if input.contains("SLOW") {
            return slow_stream(&mut conn, &r, slow);
        }
        if body["stream"] == true && !input.contains("JSON_STREAM") {
            return stream_response(&mut conn, &body, &r);
        }
        let s = r.to_string();
        write!(
            conn,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{s}",
            s.len()
        )?;
        return Ok(());
    }
    let prompt = last_user(&body);
    let streaming = body["stream"] == true;
    received.lock().unwrap().push(Received {
        headers,
        body: body.clone(),
    });
    if prompt.contains("FAIL") {
        let e = json!({"type": "error", "error": {"type": "invalid_request_error",
            "message": format!("card {CARD} was declined")}})
        .to_string();
        write!(
            conn,
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{e}",
            e.len()
        )?;
        return Ok(());
    }
    let m = message(&prompt);
    if !streaming {
        let s = m.to_string();
        write!(
            conn,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{s}",
            s.len()
        )?;
        return Ok(());
    }
    write!(
        conn,
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
    )?;
    for piece in stream_of(&m).as_bytes().chunks(7) {
        conn.write_all(piece)?;
        conn.flush()?;
    }
    Ok(())
}

/// `r` streamed (see `responses_upstream`): every value in pieces of 4
/// characters, the bytes in 7-byte writes; `TRUNCATE` in the input ends
/// the stream before `response.completed`, `FAILED` ends it with
/// `response.failed` whose message quotes a card.
fn stream_response(conn: &mut TcpStream, body: &Value, r: &Value) -> std::io::Result<()> {
    let input = body["input"].to_string();
    let mut events = crate::responses_upstream::events_of(r, 4);
    if input.contains("TRUNCATE") {
        events.pop();
    } else if input.contains("FAILED") {
        let last = events.last_mut().unwrap();
        last["type"] = json!("response.failed");
        last["response"]["status"] = json!("failed");
        last["response"]["error"] =
            json!({"code": "server_error", "message": format!("card {CARD} failed")});
    }
    write!(
        conn,
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
    )?;
    for piece in crate::responses_upstream::sse_of(&events)
        .as_bytes()
        .chunks(7)
    {
        conn.write_all(piece)?;
        conn.flush()?;
    }
    Ok(())
}

/// `r` streamed one event each 50 ms (`SLOW`), for a client that leaves:
/// how many events went out is logged when the writing stops.
fn slow_stream(
    conn: &mut TcpStream,
    r: &Value,
    log: &Mutex<Vec<(usize, usize)>>,
) -> std::io::Result<()> {
    let events = crate::responses_upstream::events_of(r, 4);
    write!(
        conn,
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
    )?;
    let mut written = 0;
    for e in &events {
        let sent = conn
            .write_all(crate::responses_upstream::sse_of(std::slice::from_ref(e)).as_bytes())
            .and_then(|_| conn.flush());
        if sent.is_err() {
            break;
        }
        written += 1;
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    log.lock().unwrap().push((written, events.len()));
    Ok(())
}

/// `ONLY=<digit>` in a prompt: the one field to put a canary in.
fn only(prompt: &str) -> Option<usize> {
    let at = prompt.find("ONLY=")? + 5;
    prompt[at..at + 1].parse().ok()
}

/// A Responses API answer to `body`: `EVERYTHING card` (or `EVERYTHING
/// inject`) → a card (an injection) in every text an answer carries (see
/// `responses_upstream::everything`; `ONLY=<k>`: in its field `k` only).
pub fn response(body: &Value) -> Value {
    let input = match &body["input"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if input.contains("EVERYTHING") {
        let x = if input.contains("inject") {
            crate::responses_upstream::INJECTION
        } else {
            CARD
        };
        return json!({"id": "resp_1", "object": "response", "created_at": 0, "status": "completed", "model": body["model"],
            "output": crate::responses_upstream::everything(x, only(&input)), "parallel_tool_calls": true, "tool_choice": "auto", "tools": [],
            "usage": {"input_tokens": 7, "output_tokens": 5, "total_tokens": 12,
                      "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}});
    }
    let mut output = vec![
        json!({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
        "content": [{"type": "output_text", "text": if input.contains("TOOL") { "Refunding now.".to_string() } else if input.contains("SLOW") { "word ".repeat(400) } else { format!("echo: {input}") }, "annotations": []}]}),
    ];
    if input.contains("TOOL") {
        output.push(
            json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "refund",
            "arguments": json!({"card": CARD, "amount": 12.5}).to_string(), "status": "completed"}),
        );
    }
    json!({"id": "resp_1", "object": "response", "created_at": 0, "status": "completed", "model": body["model"],
        "output": output, "parallel_tool_calls": true, "tool_choice": "auto", "tools": body.get("tools").cloned().unwrap_or(json!([])),
        "usage": {"input_tokens": 7, "output_tokens": 5, "total_tokens": 12,
                  "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}})
}
