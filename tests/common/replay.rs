//! An upstream on 127.0.0.1 that answers with bodies a test wrote out
//! exactly: the request names its answer with `REPLAY:<name>` anywhere in
//! its body (a prompt), and gets that answer's event stream when it asked
//! for a stream, else its JSON. For answers of shapes the scripted
//! upstreams do not make (envelope fields, split names, server tools).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// One answer: its event stream (the SSE bytes) and its JSON.
#[derive(Clone, Default)]
pub struct Answer {
    pub sse: String,
    pub json: Option<Value>,
}

type Answers = Arc<Mutex<HashMap<String, Answer>>>;

/// The upstream; it stops with the test binary.
pub struct Replay {
    pub addr: SocketAddr,
    answers: Answers,
}

impl Replay {
    pub fn start() -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let answers = Answers::default();
        let a = answers.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let a = a.clone();
                std::thread::spawn(move || {
                    let _ = serve_one(conn, &a);
                });
            }
        });
        Replay { addr, answers }
    }

    /// Registers the answer `REPLAY:<name>` gets.
    pub fn set(&self, name: &str, answer: Answer) {
        self.answers
            .lock()
            .unwrap()
            .insert(name.to_string(), answer);
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Chat chunks as an OpenAI event stream, ended with `[DONE]`.
pub fn chat_sse(chunks: &[Value]) -> String {
    let mut s: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    s.push_str("data: [DONE]\n\n");
    s
}

/// Events with an `event:` line naming each (Anthropic, Responses).
pub fn named_sse(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect()
}

fn serve_one(mut conn: TcpStream, answers: &Answers) -> std::io::Result<()> {
    let mut r = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut length = 0usize;
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body)?;
    let text = String::from_utf8_lossy(&body);
    let name: String = text
        .split_once("REPLAY:")
        .map(|(_, rest)| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .unwrap_or_default();
    let answer = answers.lock().unwrap().get(&name).cloned();
    let stream = serde_json::from_slice::<Value>(&body).is_ok_and(|b| b["stream"] == true);
    let (ctype, out) = match answer {
        Some(a) if stream => ("text/event-stream", a.sse),
        Some(Answer { json: Some(j), .. }) => ("application/json", j.to_string()),
        _ => {
            let e = format!("{{\"error\":{{\"message\":\"no answer `{name}`\"}}}}");
            write!(
                conn,
                "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{e}",
                e.len()
            )?;
            return Ok(());
        }
    };
    write!(
        conn,
        "HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{out}",
        out.len()
    )?;
    conn.flush()
}
