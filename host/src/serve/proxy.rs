//! The OpenAI-compatible proxy: request rails, the upstream call, response
//! rails (whole or streamed).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::OwnedSemaphorePermit;

use super::access::CallerId;
use super::{ApiError, Body, State, json_bytes, json_response};
use crate::audit::{CallInfo, TokenCounts};
use crate::payload::{Message, Payload, Stage};
use crate::pipeline::stream::{StreamEnd, StreamGuard};
use crate::pipeline::{Evaluation, Pipeline};
use crate::verdict::Action;

/// Which OpenAI endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/v1/chat/completions`
    Chat,
    /// `/v1/completions`
    Completions,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Chat => "/chat/completions",
            Kind::Completions => "/completions",
        }
    }
}

/// Where a guarded text sits in the request JSON.
#[derive(Debug, Clone, Copy)]
enum Loc {
    /// `messages[i].content` (a string).
    Content(usize),
    /// `messages[i].content[j].text`.
    Part(usize, usize),
    /// `prompt` (a string).
    Prompt,
    /// `prompt[j]`.
    PromptItem(usize),
}

/// The texts of a request, with where each came from.
fn request_texts(kind: Kind, body: &Value) -> Result<Vec<(Loc, Message)>, ApiError> {
    let mut out = Vec::new();
    match kind {
        Kind::Chat => {
            let Some(messages) = body.get("messages").and_then(Value::as_array) else {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    "`messages` must be an array of {\"role\", \"content\"}",
                ));
            };
            for (i, m) in messages.iter().enumerate() {
                let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
                match m.get("content") {
                    Some(Value::String(s)) => {
                        out.push((Loc::Content(i), Message::new(role, s.clone())))
                    }
                    Some(Value::Array(parts)) => {
                        for (j, p) in parts.iter().enumerate() {
                            if let Some(t) = p.get("text").and_then(Value::as_str) {
                                out.push((Loc::Part(i, j), Message::new(role, t)));
                            }
                        }
                    }
                    None | Some(Value::Null) => {}
                    Some(_) => {
                        return Err(ApiError::bad_request(
                            "invalid_request",
                            format!(
                                "`messages[{i}].content` must be a string or an array of parts"
                            ),
                        ));
                    }
                }
            }
        }
        Kind::Completions => match body.get("prompt") {
            Some(Value::String(s)) => out.push((Loc::Prompt, Message::new("user", s.clone()))),
            Some(Value::Array(items)) => {
                for (j, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) => out.push((Loc::PromptItem(j), Message::new("user", s))),
                        None => {
                            return Err(ApiError::bad_request(
                                "invalid_request",
                                "`prompt` must be a string or an array of strings (token arrays cannot be guarded)",
                            ));
                        }
                    }
                }
            }
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    "`prompt` must be a string or an array of strings",
                ));
            }
        },
    }
    Ok(out)
}

fn write_back(body: &mut Value, locs: &[(Loc, Message)], redacted: &[Message]) {
    for ((loc, _), m) in locs.iter().zip(redacted) {
        let slot = match *loc {
            Loc::Content(i) => body.pointer_mut(&format!("/messages/{i}/content")),
            Loc::Part(i, j) => body.pointer_mut(&format!("/messages/{i}/content/{j}/text")),
            Loc::Prompt => body.pointer_mut("/prompt"),
            Loc::PromptItem(j) => body.pointer_mut(&format!("/prompt/{j}")),
        };
        if let Some(v) = slot {
            *v = Value::String(m.content.clone());
        }
    }
}

fn blocked(stage: Stage, e: &Evaluation) -> ApiError {
    let (code, what) = match stage {
        Stage::Request => ("request_blocked", "the request"),
        _ => ("response_blocked", "the model's answer"),
    };
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        code,
        format!(
            "railyard blocked {what}: {} (request id {})",
            if e.reason.is_empty() {
                "policy"
            } else {
                &e.reason
            },
            e.request_id
        ),
    )
}

/// The API key sent to `upstream`, from the variable its config names.
fn upstream_key(upstream: &super::config::Upstream) -> Option<String> {
    upstream
        .api_key_env
        .as_deref()
        .and_then(|v| std::env::var(v).ok())
        .filter(|k| !k.is_empty())
}

/// Proxies one chat or completion call.
#[allow(clippy::too_many_arguments)]
pub async fn call(
    state: Arc<State>,
    kind: Kind,
    mut body: Value,
    request_id: String,
    caller: CallerId,
    started: Instant,
    permits: (OwnedSemaphorePermit, Option<OwnedSemaphorePermit>),
) -> Result<Response<Body>, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "the body must be a JSON object",
        ));
    }
    let Some(model) = body
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(ApiError::bad_request(
            "invalid_request",
            "`model` (a string) is required",
        ));
    };
    let streaming = body.get("stream").and_then(Value::as_bool) == Some(true);
    if streaming && body.get("n").and_then(Value::as_u64).is_some_and(|n| n > 1) {
        return Err(ApiError::bad_request(
            "unsupported",
            "railyard guards streamed answers with n = 1 only",
        ));
    }
    if state.config.upstreams.is_empty() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "no_upstream",
            "this server has no upstream model endpoint: start it with --upstream URL (or RAILYARD_UPSTREAM_URL), or configure [upstreams] and [[routes]]",
        ));
    }
    let Some(route) = state.config.route(&model).cloned() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            format!("no route serves model `{model}`"),
        ));
    };
    // The caller's grants, before any plugin or upstream sees the call.
    caller.check_model(&model)?;
    caller.check_policy(&route.policy)?;
    let upstream = state.config.upstreams[&route.upstream].clone();
    let slot = state.policy(&route.policy)?;
    let pipeline = slot.pipeline();
    let capture = pipeline.policy().audit.capture;

    // Request rails.
    let locs = request_texts(kind, &body)?;
    let payload = Payload {
        request_id: request_id.clone(),
        stage: Stage::Request,
        route: model.clone(),
        caller: caller.name.clone(),
        messages: locs.iter().map(|(_, m)| m.clone()).collect(),
        attributes: vec![("endpoint".into(), format!("/v1{}", kind.path()))],
    };
    let mut request_eval = tokio::task::block_in_place(|| pipeline.evaluate(&payload));
    // Blocking judges decide before anything goes upstream.
    let judged = state
        .judge(&mut request_eval, &payload, capture, true)
        .await;
    state.metrics.evaluation(&request_eval);
    if request_eval.action == Action::Block {
        let err = blocked(Stage::Request, &request_eval);
        let ids = state.record(
            &request_eval,
            &payload,
            capture,
            Some(CallInfo {
                status_code: Some(err.status.as_u16()),
                total_latency_us: Some(started.elapsed().as_micros() as u64),
                ..CallInfo::default()
            }),
        )?;
        state.settle(judged, &ids)?;
        return Err(err);
    }
    if let Some(redacted) = &request_eval.redacted {
        write_back(&mut body, &locs, redacted);
    }
    // The request's decisions are durable before anything goes upstream.
    let ids = state.record(&request_eval, &payload, capture, None)?;
    state.settle(judged, &ids)?;

    let url = format!("{}{}", upstream.base_url, kind.path());
    let mut req = state
        .client
        .post(&url)
        .timeout(upstream.timeout)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.to_string());
    if let Some(key) = upstream_key(&upstream) {
        req = req.bearer_auth(key);
    }
    let sent = req.send().await;
    let record_failure = |status: StatusCode| {
        state
            .record_call(
                &request_eval,
                &payload,
                None,
                capture,
                status,
                started,
                TokenCounts::default(),
            )
            .map(|_| ())
    };
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            let (status, code) = if e.is_timeout() {
                (StatusCode::GATEWAY_TIMEOUT, "upstream_timeout")
            } else {
                (StatusCode::BAD_GATEWAY, "upstream_unreachable")
            };
            record_failure(status)?;
            return Err(ApiError::new(
                status,
                "server_error",
                code,
                format!("upstream `{}` ({url}): {e}", upstream.name),
            ));
        }
    };
    let status = resp.status();
    if !status.is_success() {
        // An upstream error is passed on as it is (it carries no answer).
        let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let bytes = resp.bytes().await.unwrap_or_default();
        record_failure(status)?;
        return Ok(json_bytes(status, bytes));
    }
    if streaming {
        return Ok(stream_answer(
            state.clone(),
            pipeline,
            resp,
            request_eval,
            payload,
            started,
            permits,
        ));
    }
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            record_failure(StatusCode::BAD_GATEWAY)?;
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "server_error",
                "upstream_unreadable",
                format!("reading the answer of upstream `{}`: {e}", upstream.name),
            ));
        }
    };
    let mut answer: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            record_failure(StatusCode::BAD_GATEWAY)?;
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "server_error",
                "upstream_invalid",
                format!(
                    "upstream `{}` answered something that is not JSON: {e}",
                    upstream.name
                ),
            ));
        }
    };
    // Response rails over every choice's text.
    let pointers: Vec<String> = answer
        .get("choices")
        .and_then(Value::as_array)
        .map(|choices| {
            (0..choices.len())
                .map(|i| match kind {
                    Kind::Chat => format!("/choices/{i}/message/content"),
                    Kind::Completions => format!("/choices/{i}/text"),
                })
                .filter(|p| answer.pointer(p).is_some_and(Value::is_string))
                .collect()
        })
        .unwrap_or_default();
    let response_payload = Payload {
        request_id: request_id.clone(),
        stage: Stage::Response,
        route: model.clone(),
        caller: caller.name.clone(),
        messages: pointers
            .iter()
            .map(|p| {
                Message::new(
                    "assistant",
                    answer.pointer(p).and_then(Value::as_str).unwrap_or(""),
                )
            })
            .collect(),
        attributes: payload.attributes.clone(),
    };
    let mut response_eval = tokio::task::block_in_place(|| pipeline.evaluate(&response_payload));
    let judged = state
        .judge(&mut response_eval, &response_payload, capture, true)
        .await;
    state.metrics.evaluation(&response_eval);
    let tokens = tokens(&answer);
    if response_eval.action == Action::Block {
        let err = blocked(Stage::Response, &response_eval);
        let ids = state.record_call(
            &request_eval,
            &payload,
            Some((&response_eval, &response_payload)),
            capture,
            err.status,
            started,
            tokens,
        )?;
        state.settle(judged, &ids)?;
        return Err(err);
    }
    if let Some(redacted) = &response_eval.redacted {
        for (p, m) in pointers.iter().zip(redacted) {
            if let Some(v) = answer.pointer_mut(p) {
                *v = Value::String(m.content.clone());
            }
        }
    }
    let ids = state.record_call(
        &request_eval,
        &payload,
        Some((&response_eval, &response_payload)),
        capture,
        StatusCode::OK,
        started,
        tokens,
    )?;
    state.settle(judged, &ids)?;
    Ok(json_response(StatusCode::OK, &answer))
}

fn tokens(answer: &Value) -> TokenCounts {
    TokenCounts {
        prompt: answer
            .pointer("/usage/prompt_tokens")
            .and_then(Value::as_u64),
        completion: answer
            .pointer("/usage/completion_tokens")
            .and_then(Value::as_u64),
    }
}

impl State {
    /// Records a whole proxied call (see [`crate::audit::AuditLog::record_call`]);
    /// returns the response stage's decision ids.
    #[allow(clippy::too_many_arguments)]
    fn record_call(
        &self,
        request: &Evaluation,
        request_payload: &Payload,
        response: Option<(&Evaluation, &Payload)>,
        capture: crate::policy::Capture,
        status: StatusCode,
        started: Instant,
        tokens: TokenCounts,
    ) -> Result<Vec<String>, ApiError> {
        let Some(audit) = &self.audit else {
            return Ok(Vec::new());
        };
        let call = CallInfo {
            response: None,
            status_code: Some(status.as_u16()),
            tokens,
            total_latency_us: Some(started.elapsed().as_micros() as u64),
        };
        tokio::task::block_in_place(|| {
            audit.record_call((request, request_payload), response, capture, call)
        })
        .map(|ack| ack.decision_ids)
        .map_err(super::audit_error)
    }
}

/// `GET /v1/models`: the first route's upstream's list.
pub async fn models(state: &State) -> Result<Response<Body>, ApiError> {
    let Some(upstream) = state
        .config
        .routes
        .first()
        .and_then(|r| state.config.upstreams.get(&r.upstream))
    else {
        return Ok(json_response(
            StatusCode::OK,
            &json!({"object": "list", "data": []}),
        ));
    };
    let mut req = state
        .client
        .get(format!("{}/models", upstream.base_url))
        .timeout(upstream.timeout);
    if let Some(key) = upstream_key(upstream) {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "server_error",
            "upstream_unreachable",
            format!("upstream `{}`: {e}", upstream.name),
        )
    })?;
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let bytes = resp.bytes().await.unwrap_or_default();
    Ok(json_bytes(status, bytes))
}

/// Largest streamed answer buffered for the rails.
const MAX_STREAM_BYTES: usize = 16 << 20;

fn sse(data: &str) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

/// Answers with an event stream fed by a task that reads the upstream's
/// events, runs them through the stream guard and re-emits what may go.
fn stream_answer(
    state: Arc<State>,
    pipeline: Arc<Pipeline>,
    resp: reqwest::Response,
    request_eval: Evaluation,
    payload: Payload,
    started: Instant,
    permits: (OwnedSemaphorePermit, Option<OwnedSemaphorePermit>),
) -> Response<Body> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(32);
    let holdback = state.config.holdback_bytes;
    tokio::spawn(async move {
        let _permits = permits;
        let mut template = payload.clone();
        template.stage = Stage::Response;
        let guard = StreamGuard::new(pipeline.clone(), template, holdback);
        let outcome = pump(resp, guard, &tx).await;
        let (end, status, tokens) = outcome;
        let capture = pipeline.policy().audit.capture;
        let mut evaluation = end.evaluation;
        state.metrics.evaluation(&evaluation);
        // The answer is out: blocking judges cannot hold it any more, so
        // every judgement of a stream runs after it (rows say `streamed`).
        let judged = state
            .judge(&mut evaluation, &end.payload, capture, false)
            .await;
        let ids = state
            .record_call(
                &request_eval,
                &payload,
                Some((&evaluation, &end.payload)),
                capture,
                status,
                started,
                tokens,
            )
            .unwrap_or_else(|e| {
                tracing::error!(request_id = %payload.request_id, error = %e.message, "a streamed answer's decisions could not be recorded");
                Vec::new()
            });
        // Judgements are recorded (or logged as unrecorded) either way.
        if let Err(e) = state.settle(judged, &ids) {
            tracing::error!(request_id = %payload.request_id, error = %e.message, "a streamed answer's judgements could not be recorded");
        }
    });
    let body = StreamBody::new(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::io::Error>(Frame::data(b)), rx))
    }));
    let mut r = Response::new(BodyExt::boxed(body));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// Reads upstream events until the answer ends; returns the guard's end,
/// the status to record and the token counts seen.
async fn pump(
    resp: reqwest::Response,
    mut guard: StreamGuard,
    tx: &tokio::sync::mpsc::Sender<Bytes>,
) -> (StreamEnd, StatusCode, TokenCounts) {
    let mut upstream = resp.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut total = 0usize;
    let mut last_chunk: Option<Value> = None;
    let mut tokens = TokenCounts::default();
    let mut client_gone = false;
    let send = |b: Bytes, gone: &mut bool| {
        let tx = tx.clone();
        let already = *gone;
        async move {
            if already {
                return false;
            }
            tx.send(b).await.is_ok()
        }
    };
    let error_event = |code: &str, message: String| {
        json!({"error": {"message": message, "type": "railyard_guardrail", "param": null, "code": code}})
            .to_string()
    };
    'read: loop {
        let next = upstream.next().await;
        let Some(chunk) = next else { break };
        let Ok(chunk) = chunk else {
            let end = tokio::task::block_in_place(|| guard.finish());
            let _ = send(
                sse(&error_event(
                    "upstream_stream_broken",
                    "the upstream stream broke off".into(),
                )),
                &mut client_gone,
            )
            .await;
            return (end, StatusCode::BAD_GATEWAY, tokens);
        };
        total += chunk.len();
        buf.extend_from_slice(&chunk);
        while let Some((event, rest)) = split_event(&buf) {
            let data = event_data(&event);
            buf = rest;
            let Some(data) = data else { continue };
            if data.trim() == "[DONE]" {
                break 'read;
            }
            let Ok(mut v) = serde_json::from_str::<Value>(&data) else {
                let end = tokio::task::block_in_place(|| guard.finish());
                let _ = send(
                    sse(&error_event(
                        "upstream_invalid",
                        "the upstream sent an event that is not JSON; the stream is ended so no unchecked text passes".into(),
                    )),
                    &mut client_gone,
                )
                .await;
                return (end, StatusCode::BAD_GATEWAY, tokens);
            };
            if let Some(t) = v.pointer("/usage/prompt_tokens").and_then(Value::as_u64) {
                tokens.prompt = Some(t);
            }
            if let Some(t) = v
                .pointer("/usage/completion_tokens")
                .and_then(Value::as_u64)
            {
                tokens.completion = Some(t);
            }
            let has_choice = v.pointer("/choices/0").is_some();
            if !has_choice {
                if !send(sse(&data), &mut client_gone).await {
                    client_gone = true;
                }
                continue;
            }
            let content = v
                .pointer("/choices/0/delta/content")
                .or_else(|| v.pointer("/choices/0/text"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let finish_reason = v
                .pointer("/choices/0/finish_reason")
                .filter(|f| !f.is_null())
                .cloned();
            let released = if content.is_empty() {
                String::new()
            } else {
                tokio::task::block_in_place(|| guard.push(&content))
            };
            let has_role = v.pointer("/choices/0/delta/role").is_some();
            if !released.is_empty() || has_role {
                let mut out = v.clone();
                set_content(&mut out, &released);
                if let Some(f) = out.pointer_mut("/choices/0/finish_reason") {
                    *f = Value::Null;
                }
                if !send(sse(&out.to_string()), &mut client_gone).await {
                    client_gone = true;
                }
            }
            if finish_reason.is_some() {
                set_content(&mut v, "");
                if let Some(d) = v.pointer_mut("/choices/0/delta")
                    && let Some(o) = d.as_object_mut()
                {
                    o.remove("role");
                }
                last_chunk = Some(v);
                break 'read;
            }
            last_chunk.get_or_insert_with(|| {
                let mut t = v.clone();
                if let Some(d) = t.pointer_mut("/choices/0/delta")
                    && let Some(o) = d.as_object_mut()
                {
                    o.remove("role");
                }
                t
            });
            if total > MAX_STREAM_BYTES {
                let end = tokio::task::block_in_place(|| guard.finish());
                let _ = send(
                    sse(&error_event(
                        "response_too_large",
                        format!("the streamed answer exceeded {MAX_STREAM_BYTES} bytes"),
                    )),
                    &mut client_gone,
                )
                .await;
                return (end, StatusCode::BAD_GATEWAY, tokens);
            }
        }
    }
    // The answer is complete: the verdict on the whole text decides.
    let end = tokio::task::block_in_place(|| guard.finish());
    let status = match &end.tail {
        None => {
            let reason = &end.evaluation.reason;
            let _ = send(
                sse(&error_event(
                    "response_blocked",
                    format!(
                        "railyard blocked the model's answer: {} (request id {})",
                        if reason.is_empty() { "policy" } else { reason },
                        end.evaluation.request_id
                    ),
                )),
                &mut client_gone,
            )
            .await;
            let _ = send(sse("[DONE]"), &mut client_gone).await;
            StatusCode::BAD_REQUEST
        }
        Some(tail) => {
            let mut template = last_chunk.clone().unwrap_or_else(|| {
                json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": null}]})
            });
            if !tail.is_empty() {
                let mut t = template.clone();
                set_content(&mut t, tail);
                if let Some(f) = t.pointer_mut("/choices/0/finish_reason") {
                    *f = Value::Null;
                }
                let _ = send(sse(&t.to_string()), &mut client_gone).await;
            }
            if last_chunk.as_ref().is_some_and(|c| {
                c.pointer("/choices/0/finish_reason")
                    .is_some_and(|f| !f.is_null())
            }) {
                set_content(&mut template, "");
                let _ = send(sse(&template.to_string()), &mut client_gone).await;
            }
            let _ = send(sse("[DONE]"), &mut client_gone).await;
            if client_gone {
                StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST)
            } else {
                StatusCode::OK
            }
        }
    };
    (end, status, tokens)
}

fn set_content(v: &mut Value, text: &str) {
    if let Some(d) = v.pointer_mut("/choices/0/delta")
        && let Some(o) = d.as_object_mut()
    {
        o.insert("content".into(), Value::String(text.to_string()));
        return;
    }
    if let Some(t) = v.pointer_mut("/choices/0/text") {
        *t = Value::String(text.to_string());
    }
}

/// Splits the first complete event (ended by a blank line) off `buf`.
fn split_event(buf: &[u8]) -> Option<(String, Vec<u8>)> {
    let mut i = 0;
    while i + 1 < buf.len() {
        if buf[i] == b'\n' && buf[i + 1] == b'\n' {
            return Some((
                String::from_utf8_lossy(&buf[..i]).into_owned(),
                buf[i + 2..].to_vec(),
            ));
        }
        if i + 3 < buf.len() && &buf[i..i + 4] == b"\r\n\r\n" {
            return Some((
                String::from_utf8_lossy(&buf[..i]).into_owned(),
                buf[i + 4..].to_vec(),
            ));
        }
        i += 1;
    }
    None
}

/// The `data:` lines of an event, joined; `None` for comments and events
/// without data.
fn event_data(event: &str) -> Option<String> {
    let lines: Vec<&str> = event
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}
