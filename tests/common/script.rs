//! Scripted answers of the fake upstream: a test registers a whole
//! answer under a name ([`super::http::Upstream::script`]) and asks for it
//! with the prompt `SCRIPT: <name>`. The upstream answers it unstreamed, or
//! streams it the way OpenAI does: per choice a first delta with the role
//! (and each tool call's id, type and name), then pieces of every text
//! (content, refusal, reasoning, each tool call's arguments) with the
//! choices interleaved, then each choice's finish reason, usage when asked
//! for, and `[DONE]`.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// One scripted answer.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// One assistant message per choice (`content`, `refusal`,
    /// `reasoning_content`, `tool_calls` as in an unstreamed answer).
    pub messages: Vec<Value>,
    /// Streams stop after this many pieces, without finish reasons and
    /// without `[DONE]`.
    pub truncate_after: Option<usize>,
    /// Answer JSON even to `stream: true`.
    pub ignore_stream: bool,
    /// Wait this long before each streamed piece.
    pub delay: Duration,
    /// Answer with this HTTP status and body instead (an upstream error).
    pub error: Option<(u16, Value)>,
    /// The `usage` object to report (unstreamed, and streamed when the
    /// request asks for it) instead of 7 prompt and 5 completion tokens.
    pub usage: Option<Value>,
    /// Holds every stream of this script at one point until enough of them
    /// are there (streams in flight at once, by construction).
    pub gate: Option<Gate>,
    /// Holds an unstreamed answer until the test releases it.
    pub hold: Option<Hold>,
}

/// An unstreamed answer held back: the test sees its request arrive
/// ([`Hold::arrived`]), changes something, and lets it go
/// ([`Hold::release`]).
#[derive(Debug, Clone, Default)]
pub struct Hold {
    /// (a request arrived, the answer may go)
    state: Arc<(Mutex<(bool, bool)>, Condvar)>,
}

impl Hold {
    /// Waits (at most `bound`) for a request to reach the hold; whether
    /// one did.
    pub fn arrived(&self, bound: Duration) -> bool {
        let (lock, cv) = &*self.state;
        let st = lock.lock().unwrap();
        cv.wait_timeout_while(st, bound, |st| !st.0).unwrap().0.0
    }

    /// Lets the held answer go.
    pub fn release(&self) {
        let (lock, cv) = &*self.state;
        lock.lock().unwrap().1 = true;
        cv.notify_all();
    }

    /// The upstream's side: arrives, then waits (at most `bound`) to be
    /// released.
    pub(super) fn pass(&self, bound: Duration) {
        let (lock, cv) = &*self.state;
        let mut st = lock.lock().unwrap();
        st.0 = true;
        cv.notify_all();
        let _ = cv.wait_timeout_while(st, bound, |st| !st.1).unwrap();
    }
}

/// Streams of a script wait after their first `after` pieces until
/// `needed` streams have written them.
#[derive(Debug, Clone)]
pub struct Gate {
    after: usize,
    needed: usize,
    state: Arc<(Mutex<(usize, bool)>, Condvar)>,
}

impl Gate {
    pub fn new(after: usize, needed: usize) -> Gate {
        Gate {
            after,
            needed,
            state: Arc::default(),
        }
    }

    /// Whether `needed` streams were held at the gate at once (false while
    /// they are not, or when a stream gave up waiting).
    pub fn opened(&self) -> bool {
        self.state.0.lock().unwrap().1
    }

    /// Streams that reached the gate so far.
    pub fn arrived(&self) -> usize {
        self.state.0.lock().unwrap().0
    }

    /// Waits at the gate (at most `bound`).
    fn pass(&self, bound: Duration) {
        let (lock, cv) = &*self.state;
        let mut st = lock.lock().unwrap();
        st.0 += 1;
        if st.0 >= self.needed {
            st.1 = true;
            cv.notify_all();
            return;
        }
        let _ = cv
            .wait_timeout_while(st, bound, |st| st.0 < self.needed)
            .unwrap();
    }
}

fn usage(s: &Script) -> Value {
    s.usage
        .clone()
        .unwrap_or_else(|| json!({"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}))
}

/// What the upstream saw of a scripted stream.
#[derive(Debug, Clone, Default)]
pub struct StreamLog {
    /// Pieces written before the stream ended.
    pub written: usize,
    /// Pieces the script had.
    pub total: usize,
    /// Whether a write failed (the reader went away).
    pub aborted: bool,
}

pub type Scripts = Arc<Mutex<std::collections::HashMap<String, Script>>>;
pub type StreamLogs = Arc<Mutex<Vec<StreamLog>>>;

fn finish_reason(m: &Value) -> &'static str {
    if m.get("tool_calls").is_some() {
        "tool_calls"
    } else {
        "stop"
    }
}

/// The unstreamed answer: a chat completion, or (`chat` false) a text
/// completion whose choices' texts are the messages' `content`.
pub fn unstreamed(req: &Value, s: &Script, chat: bool) -> Value {
    if !chat {
        let choices: Vec<Value> = s
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| json!({"index": i, "text": m["content"], "logprobs": null, "finish_reason": "stop"}))
            .collect();
        return json!({"id": "cmpl-script", "object": "text_completion", "created": 1, "model": req["model"],
                      "choices": choices, "usage": usage(s)});
    }
    let choices: Vec<Value> = s
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut m = m.clone();
            m["role"] = json!("assistant");
            if m.get("content").is_none() {
                m["content"] = Value::Null;
            }
            json!({"index": i, "message": m, "logprobs": null, "finish_reason": finish_reason(&m)})
        })
        .collect();
    json!({"id": "chatcmpl-script", "object": "chat.completion", "created": 1, "model": req["model"],
           "choices": choices,
           "usage": usage(s)})
}

/// Pieces of `text`, `size` bytes each (widened to character boundaries).
fn pieces(text: &str, size: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = size.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (a, b) = rest.split_at(cut);
        out.push(a.to_string());
        rest = b;
    }
    out
}

/// Streams the script to `conn` (a chat or, `chat` false, a text
/// completion stream); returns what was written.
pub fn stream(conn: &mut TcpStream, req: &Value, s: &Script, size: usize, chat: bool) -> StreamLog {
    let chunk = |choice: usize, delta: Value, finish: Value| {
        json!({"id": "chatcmpl-script", "object": "chat.completion.chunk", "created": 1, "model": req["model"],
               "choices": [{"index": choice, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    };
    let text_chunk = |choice: usize, text: &str, finish: Value| {
        json!({"id": "cmpl-script", "object": "text_completion", "created": 1, "model": req["model"],
               "choices": [{"index": choice, "text": text, "logprobs": null, "finish_reason": finish}]})
    };
    // Per choice: the first delta, then the pieces.
    let mut lanes: Vec<Vec<Value>> = Vec::new();
    for (i, m) in s.messages.iter().enumerate() {
        if !chat {
            let mut events: Vec<Value> = pieces(m["content"].as_str().unwrap_or(""), size)
                .iter()
                .map(|p| text_chunk(i, p, Value::Null))
                .collect();
            events.push(text_chunk(i, "", json!("stop")));
            lanes.push(events);
            continue;
        }
        let mut events = Vec::new();
        let mut first = json!({"role": "assistant", "content": if m.get("content").is_some_and(Value::is_string) { json!("") } else { Value::Null }, "refusal": null});
        if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
            first["tool_calls"] = Value::Array(
                calls
                    .iter()
                    .enumerate()
                    .map(|(k, c)| json!({"index": k, "id": c["id"], "type": "function", "function": {"name": c["function"]["name"], "arguments": ""}}))
                    .collect(),
            );
        }
        events.push(chunk(i, first, Value::Null));
        for key in ["reasoning_content", "content", "refusal"] {
            if let Some(t) = m.get(key).and_then(Value::as_str) {
                for p in pieces(t, size) {
                    events.push(chunk(i, json!({ key: p }), Value::Null));
                }
            }
        }
        if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
            for (k, c) in calls.iter().enumerate() {
                let args = c["function"]["arguments"].as_str().unwrap_or("");
                for p in pieces(args, size) {
                    events.push(chunk(
                        i,
                        json!({"tool_calls": [{"index": k, "function": {"arguments": p}}]}),
                        Value::Null,
                    ));
                }
            }
        }
        events.push(chunk(i, json!({}), json!(finish_reason(m))));
        lanes.push(events);
    }
    // Interleave the choices.
    let mut all = Vec::new();
    let longest = lanes.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..longest {
        for lane in &lanes {
            if let Some(e) = lane.get(k) {
                all.push(e.clone());
            }
        }
    }
    if req.pointer("/stream_options/include_usage") == Some(&json!(true)) {
        all.push(json!({"id": "chatcmpl-script", "object": "chat.completion.chunk", "created": 1, "model": req["model"], "choices": [],
                        "usage": usage(s)}));
    }
    let mut log = StreamLog {
        total: all.len(),
        ..StreamLog::default()
    };
    if write!(
        conn,
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
    )
    .is_err()
    {
        log.aborted = true;
        return log;
    }
    let limit = s.truncate_after.unwrap_or(usize::MAX);
    for e in all.iter().take(limit) {
        if !s.delay.is_zero() {
            std::thread::sleep(s.delay);
        }
        if write!(conn, "data: {e}\n\n")
            .and_then(|_| conn.flush())
            .is_err()
        {
            log.aborted = true;
            return log;
        }
        log.written += 1;
        if let Some(gate) = s.gate.as_ref().filter(|g| g.after == log.written) {
            gate.pass(Duration::from_secs(240));
        }
    }
    if s.truncate_after.is_none() {
        let _ = write!(conn, "data: [DONE]\n\n").and_then(|_| conn.flush());
    }
    log
}

/// A streamed answer as a client assembles it.
#[derive(Debug, Default)]
pub struct Assembled {
    /// Per choice index, the message the deltas add up to.
    pub messages: std::collections::BTreeMap<u64, Value>,
    /// Per choice index, its finish reason.
    pub finish: std::collections::BTreeMap<u64, String>,
    /// An error event, if one came.
    pub error: Option<Value>,
    /// Whether the stream ended with `[DONE]`.
    pub done: bool,
    /// Every event's data, as it came.
    pub events: Vec<String>,
}

/// Assembles an event-stream body the way the `openai` Python SDK does
/// (`openai/lib/streaming/_deltas.py`: strings concatenate, `index` and
/// `type` are replaced, lists of objects merge by `index`), so a delta
/// that repeats an id or a name shows up as a doubled string.
pub fn assemble(body: &str) -> Assembled {
    let mut a = Assembled::default();
    for e in super::http::sse_events(body) {
        a.events.push(e.clone());
        if e == "[DONE]" {
            a.done = true;
            continue;
        }
        let v: Value = serde_json::from_str(&e).unwrap_or_else(|err| panic!("{err}: {e}"));
        if v.get("error").is_some() {
            a.error = Some(v);
            continue;
        }
        for c in v["choices"].as_array().into_iter().flatten() {
            let i = c["index"].as_u64().unwrap();
            let m = a.messages.entry(i).or_insert_with(|| json!({}));
            if let Some(d) = c.get("delta") {
                accumulate(m, d);
            }
            if let Some(t) = c.get("text").and_then(Value::as_str) {
                let prev = m["text"].as_str().unwrap_or("").to_string();
                m["text"] = json!(prev + t);
            }
            if let Some(f) = c["finish_reason"].as_str() {
                a.finish.insert(i, f.to_string());
            }
        }
    }
    a
}

fn accumulate(acc: &mut Value, delta: &Value) {
    let (Some(acc), Some(delta)) = (acc.as_object_mut(), delta.as_object()) else {
        return;
    };
    for (k, d) in delta {
        let slot = acc.entry(k.clone()).or_insert(Value::Null);
        if slot.is_null() {
            if d.is_array() {
                *slot = json!([]);
            } else {
                *slot = d.clone();
                continue;
            }
        }
        if k == "index" || k == "type" {
            *slot = d.clone();
            continue;
        }
        match (slot, d) {
            (Value::String(a), Value::String(b)) => a.push_str(b),
            (a @ Value::Object(_), b @ Value::Object(_)) => accumulate(a, b),
            (Value::Array(a), Value::Array(b)) => {
                for entry in b {
                    let idx = entry["index"]
                        .as_u64()
                        .expect("list delta entries carry an index");
                    match a.iter_mut().find(|x| x["index"].as_u64() == Some(idx)) {
                        Some(x) => accumulate(x, entry),
                        None => a.push(entry.clone()),
                    }
                }
            }
            (s, d) => *s = d.clone(),
        }
    }
}
