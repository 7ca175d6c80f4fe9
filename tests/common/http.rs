//! A deterministic OpenAI-compatible upstream on 127.0.0.1, a raw HTTP
//! client, and a `railyard serve` child process, for the server tests.
//! Everything stays on loopback and stops when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// The fake model. It answers the last user message:
/// - `SAY: <text>` → answers exactly `<text>`;
/// - `SLEEP: <ms>` → waits that long, then answers `slept`;
/// - anything else → `echo: <message>`.
///
/// Streamed answers (`"stream": true`) come in chunks of `CHUNK` bytes
/// (or of the request's `"x_chunk"` bytes), on character boundaries.
pub struct Upstream {
    pub addr: SocketAddr,
    /// Every request body received on the completion endpoints.
    pub received: Arc<Mutex<Vec<Value>>>,
    /// The headers (lowercase names) of each of those requests, in order.
    pub headers: Arc<Mutex<Vec<Headers>>>,
    scripts: super::script::Scripts,
    streams: super::script::StreamLogs,
    stop: Arc<AtomicBool>,
}

/// One request's headers: (lowercase name, value).
pub type Headers = Vec<(String, String)>;

const CHUNK: usize = 5;

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

impl Upstream {
    pub fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let headers = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let scripts = super::script::Scripts::default();
        let streams = super::script::StreamLogs::default();
        let (r, s, h) = (received.clone(), stop.clone(), headers.clone());
        let (sc, sl) = (scripts.clone(), streams.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r, h) = (r.clone(), h.clone());
                let (sc, sl) = (sc.clone(), sl.clone());
                std::thread::spawn(move || {
                    let _ = serve_one(conn, &r, &h, &sc, &sl);
                });
            }
        });
        Upstream {
            addr,
            received,
            headers,
            scripts,
            streams,
            stop,
        }
    }

    /// Registers an answer the prompt `SCRIPT: <name>` gets.
    pub fn script(&self, name: &str, script: super::script::Script) {
        self.scripts
            .lock()
            .unwrap()
            .insert(name.to_string(), script);
    }

    /// What the upstream saw of each scripted stream that ended so far.
    pub fn stream_logs(&self) -> Vec<super::script::StreamLog> {
        self.streams.lock().unwrap().clone()
    }

    /// Base URL as railyard's `--upstream` takes it.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The prompts (last user message) received so far.
    pub fn prompts(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(last_user)
            .collect()
    }
}

fn last_user(body: &Value) -> String {
    if let Some(p) = body.get("prompt").and_then(Value::as_str) {
        return p.to_string();
    }
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string()
}

fn serve_one(
    mut conn: TcpStream,
    received: &Mutex<Vec<Value>>,
    headers: &Mutex<Vec<Headers>>,
    scripts: &super::script::Scripts,
    streams: &super::script::StreamLogs,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut length = 0usize;
        let mut seen = Vec::new();
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
                }
                seen.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        if method == "GET" && path == "/v1/models" {
            let b = json!({"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "tests"}]}).to_string();
            write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{b}",
                b.len()
            )?;
            continue;
        }
        let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        received.lock().unwrap().push(req.clone());
        headers.lock().unwrap().push(seen);
        let prompt = last_user(&req);
        if let Some(name) = prompt.strip_prefix("SCRIPT: ") {
            let script = scripts.lock().unwrap().get(name.trim()).cloned();
            let Some(script) = script else {
                panic!("no script named {name}");
            };
            if let Some((status, body)) = &script.error {
                let b = body.to_string();
                write!(
                    conn,
                    "HTTP/1.1 {status} Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{b}",
                    b.len()
                )?;
                continue;
            }
            let chat = path.ends_with("/chat/completions");
            if req["stream"] == true && !script.ignore_stream {
                let size = req["x_chunk"].as_u64().map_or(CHUNK, |c| c as usize);
                let log = super::script::stream(&mut conn, &req, &script, size, chat);
                streams.lock().unwrap().push(log);
                return Ok(());
            }
            if let Some(hold) = &script.hold {
                hold.pass(Duration::from_secs(240));
            }
            let b = super::script::unstreamed(&req, &script, chat).to_string();
            write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{b}",
                b.len()
            )?;
            continue;
        }
        let answer = if let Some(t) = prompt.strip_prefix("SAY: ") {
            t.to_string()
        } else if let Some(ms) = prompt.strip_prefix("SLEEP: ") {
            std::thread::sleep(Duration::from_millis(ms.trim().parse().unwrap_or(0)));
            "slept".to_string()
        } else {
            format!("echo: {prompt}")
        };
        let chat = path.ends_with("/chat/completions");
        // Provenance tests: `x_model` is the model the answer names (as a
        // provider answers with a dated snapshot), `x_fingerprint` its
        // `system_fingerprint`.
        let model = req.get("x_model").unwrap_or(&req["model"]).clone();
        let stamp = |mut v: Value| {
            v["model"] = model.clone();
            if let Some(fp) = req.get("x_fingerprint") {
                v["system_fingerprint"] = fp.clone();
            }
            v
        };
        if req["stream"] == true {
            let chunk = req["x_chunk"].as_u64().map_or(CHUNK, |c| c as usize);
            write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
            )?;
            let event = |delta: Value, finish: Value| {
                stamp(if chat {
                    json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": req["model"], "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
                } else {
                    json!({"id": "cmpl-test", "object": "text_completion", "model": req["model"], "choices": [{"index": 0, "text": delta.get("content").cloned().unwrap_or(json!("")), "finish_reason": finish}]})
                })
            };
            if chat {
                write!(
                    conn,
                    "data: {}\n\n",
                    event(json!({"role": "assistant", "content": ""}), Value::Null)
                )?;
            }
            let mut rest = answer.as_str();
            while !rest.is_empty() {
                let mut cut = chunk.min(rest.len());
                while !rest.is_char_boundary(cut) {
                    cut += 1;
                }
                let (piece, tail) = rest.split_at(cut);
                write!(
                    conn,
                    "data: {}\n\n",
                    event(json!({"content": piece}), Value::Null)
                )?;
                conn.flush()?;
                rest = tail;
            }
            write!(conn, "data: {}\n\n", event(json!({}), json!("stop")))?;
            write!(conn, "data: [DONE]\n\n")?;
            conn.flush()?;
            return Ok(());
        }
        let b = stamp(if chat {
            json!({"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": req["model"],
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}})
        } else {
            json!({"id": "cmpl-test", "object": "text_completion", "created": 0, "model": req["model"],
                   "choices": [{"index": 0, "text": answer, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}})
        })
        .to_string();
        write!(
            conn,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{b}",
            b.len()
        )?;
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `error.code` of an OpenAI-shaped error.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

/// Sends raw bytes, reads the whole answer (the request must ask for
/// `Connection: close` or the server must close).
pub fn raw(addr: SocketAddr, request: &[u8]) -> Answer {
    let out = exchange(addr, request).unwrap();
    parse_answer(&out)
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(&out)))
}

/// [`raw`] for a server that may die mid-call: `None` when it could not
/// be reached or its answer is cut short (a body shorter than its
/// `content-length`).
pub fn try_raw(addr: SocketAddr, request: &[u8]) -> Option<Answer> {
    let answer = parse_answer(&exchange(addr, request).ok()?)?;
    let declared = answer
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok());
    (declared.is_none_or(|n| n == answer.body.len())).then_some(answer)
}

fn exchange(addr: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    s.write_all(request)?;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    Ok(out)
}

fn parse_answer(out: &[u8]) -> Option<Answer> {
    let split = out.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = out[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Some(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..nl]).unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + size]);
        b = &b[nl + 2 + size + 2..];
    }
    out
}

/// A request with a JSON body.
pub fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    raw(addr, &post_request(addr, path, headers, body))
}

/// The bytes of a `POST` with a JSON body.
pub fn post_request(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

pub fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    raw(addr, req.as_bytes())
}

/// The `data:` payloads of an event-stream body.
pub fn sse_events(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

/// The text a streamed chat answer delivered, and its final error, if any.
pub fn streamed_text(body: &str) -> (String, Option<Value>) {
    let mut text = String::new();
    let mut error = None;
    for e in sse_events(body) {
        if e == "[DONE]" {
            continue;
        }
        let v: Value = serde_json::from_str(&e).unwrap();
        if v.get("error").is_some() {
            error = Some(v);
            continue;
        }
        if let Some(c) = v
            .pointer("/choices/0/delta/content")
            .or_else(|| v.pointer("/choices/0/text"))
            .and_then(Value::as_str)
        {
            text.push_str(c);
        }
    }
    (text, error)
}

/// A `railyard serve` child process on a free loopback port.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub stderr: Arc<Mutex<String>>,
    /// What it printed to stdout before its listening line.
    pub stdout_head: String,
}

impl Server {
    /// Starts `railyard serve ARGS --listen 127.0.0.1:0` with `envs`.
    pub fn start(args: &[&str], envs: &[(&str, &Path)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_railyard"));
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start railyard serve");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        let mut stdout_head = String::new();
        let addr = loop {
            stdout_head.push_str(&line);
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.wait();
                panic!(
                    "railyard serve exited before listening: {}",
                    log.lock().unwrap()
                );
            }
            if let Some(a) = line.trim().strip_prefix("railyard: listening on http://") {
                break a.parse().unwrap();
            }
        };
        std::thread::spawn(move || {
            let mut sink = String::new();
            while r.read_line(&mut sink).unwrap_or(0) > 0 {
                sink.clear();
            }
        });
        Server {
            child,
            addr,
            stderr: log,
            stdout_head,
        }
    }

    /// The metrics-only address (`[metrics] listen`), from the line the
    /// server printed before it listened.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.stdout_head
            .lines()
            .find_map(|l| l.strip_prefix("railyard: metrics on http://"))
            .and_then(|l| l.strip_suffix("/metrics"))
            .unwrap_or_else(|| panic!("no metrics line in {:?}", self.stdout_head))
            .parse()
            .unwrap()
    }

    /// SIGTERM, then waits; returns whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        // SAFETY-free: `kill -TERM` through the shell tool keeps the test
        // free of libc.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of the unlabelled metric `name` in Prometheus text.
pub fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}
