//! A deterministic LLM judge on 127.0.0.1: an OpenAI-compatible
//! `/v1/chat/completions` endpoint whose answer is chosen by a token in the
//! text it is asked to judge. Stops when dropped.
//!
//! - `JUDGE:block` → `{"verdict":"block","score":0.97,…}`;
//! - `JUDGE:flag` → a flag verdict;
//! - `JUDGE:fenced` → an allow verdict inside a Markdown code fence;
//! - `JUDGE:prose` → prose instead of JSON (a malformed verdict);
//! - `JUDGE:http500` → HTTP 500 with the body `judge exploded`;
//! - `JUDGE:slow=<ms>` → waits that long, then allows;
//! - anything else → allow, score 0.05.
//!
//! [`Judge::hold`] keeps every answer back until [`Judge::release`], so a
//! test can prove the caller was answered before the judge was.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// One request the judge received.
#[derive(Debug, Clone)]
pub struct Asked {
    pub body: Value,
    pub authorization: Option<String>,
    /// The W3C `traceparent` header, when one was sent.
    pub traceparent: Option<String>,
}

impl Asked {
    /// The user message: the rendered rubric with the payload.
    pub fn prompt(&self) -> String {
        self.body["messages"][1]["content"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

#[derive(Default)]
struct Shared {
    asked: Mutex<Vec<Asked>>,
    held: Mutex<bool>,
    released: Condvar,
}

pub struct Judge {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

impl Drop for Judge {
    fn drop(&mut self) {
        self.release();
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

impl Judge {
    pub fn start() -> Judge {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (sh, st) = (shared.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let sh = sh.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &sh);
                });
            }
        });
        Judge { addr, shared, stop }
    }

    /// Base URL as `[judges.NAME] base-url` takes it.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request received so far.
    pub fn asked(&self) -> Vec<Asked> {
        self.shared.asked.lock().unwrap().clone()
    }

    /// Holds every answer until [`Judge::release`] (at most 30 s).
    pub fn hold(&self) {
        *self.shared.held.lock().unwrap() = true;
    }

    pub fn release(&self) {
        *self.shared.held.lock().unwrap() = false;
        self.shared.released.notify_all();
    }
}

fn answer_for(prompt: &str) -> (u16, String) {
    let verdict = |v: Value| {
        json!({"id": "judge-1", "object": "chat.completion", "model": "judge-model",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": v.to_string()}, "finish_reason": "stop"}]})
        .to_string()
    };
    let content = |c: &str| {
        json!({"id": "judge-1", "object": "chat.completion",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": c}, "finish_reason": "stop"}]})
        .to_string()
    };
    if prompt.contains("JUDGE:block") {
        (
            200,
            verdict(
                json!({"verdict": "block", "score": 0.97, "categories": ["TEST_BLOCK"], "reasoning": "the text asked to be blocked"}),
            ),
        )
    } else if prompt.contains("JUDGE:flag") {
        (
            200,
            verdict(json!({"verdict": "flag", "score": 0.6, "categories": ["TEST_FLAG"]})),
        )
    } else if prompt.contains("JUDGE:fenced") {
        (
            200,
            content("```json\n{\"verdict\": \"allow\", \"score\": 0.2}\n```"),
        )
    } else if prompt.contains("JUDGE:prose") {
        (
            200,
            content("I think this is fine, nothing to worry about."),
        )
    } else if prompt.contains("JUDGE:http500") {
        (500, "judge exploded".to_string())
    } else {
        if let Some(ms) = prompt
            .split("JUDGE:slow=")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse::<u64>().ok())
        {
            std::thread::sleep(Duration::from_millis(ms));
        }
        (
            200,
            verdict(json!({"verdict": "allow", "score": 0.05, "reasoning": "nothing wrong"})),
        )
    }
}

fn serve(mut conn: TcpStream, shared: &Shared) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        let mut authorization = None;
        let mut traceparent = None;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                } else if k.eq_ignore_ascii_case("authorization") {
                    authorization = Some(v.trim().to_string());
                } else if k.eq_ignore_ascii_case("traceparent") {
                    traceparent = Some(v.trim().to_string());
                }
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        let asked = Asked {
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            authorization,
            traceparent,
        };
        let prompt = asked.prompt();
        shared.asked.lock().unwrap().push(asked);
        {
            let held = shared.held.lock().unwrap();
            let _ = shared
                .released
                .wait_timeout_while(held, Duration::from_secs(30), |h| *h)
                .unwrap();
        }
        let (status, b) = answer_for(&prompt);
        let reason = if status == 200 {
            "OK"
        } else {
            "Internal Server Error"
        };
        write!(
            conn,
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{b}",
            b.len()
        )?;
        conn.flush()?;
    }
}
