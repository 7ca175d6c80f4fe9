//! The OpenAI-compatible proxy: request rails, the upstream call, response
//! rails (whole or streamed).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hyper::header;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::OwnedSemaphorePermit;

use super::stream::{self, StreamCall};
use super::wire::unstreamed;
use super::{ApiError, Body, CallerId, State, json_bytes, json_response, sse};
use crate::audit::{CallInfo, TokenCounts};
use crate::payload::{Message, Payload, Stage};
use crate::pipeline::Evaluation;
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
    let upstream = state.config.upstreams[&route.upstream].clone();
    let slot = state.policy(&route.policy)?;
    let pipeline = slot.pipeline();
    let capture = pipeline.policy().audit.capture;

    // Request rails.
    let locs = request_texts(kind, &body)?;
    let endpoint = ("endpoint".to_string(), format!("/v1{}", kind.path()));
    let payload = Payload {
        request_id: request_id.clone(),
        stage: Stage::Request,
        route: model.clone(),
        caller: caller.name.clone(),
        messages: locs.iter().map(|(_, m)| m.clone()).collect(),
        attributes: vec![endpoint.clone()],
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
    let is_event_stream = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let stream_call = |request_eval, payload| StreamCall {
        endpoint: endpoint.clone(),
        state: state.clone(),
        pipeline: pipeline.clone(),
        request_eval,
        payload,
        started,
        permits,
        chat: kind == Kind::Chat,
    };
    if streaming && is_event_stream {
        return Ok(stream::answer(
            stream_call(request_eval, payload),
            resp.bytes_stream(),
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
    if streaming {
        // The upstream ignored `stream: true` and answered whole: the
        // answer is turned into the chunks it would have streamed as and
        // guarded as a stream, so the client gets the stream it asked for.
        let Some(chunks) = unstreamed::as_chunks(&answer, kind == Kind::Chat) else {
            record_failure(StatusCode::BAD_GATEWAY)?;
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "server_error",
                "upstream_not_streamed",
                format!(
                    "upstream `{}` answered a streamed request with JSON that is not a completion",
                    upstream.name
                ),
            ));
        };
        let mut events = Vec::new();
        for c in &chunks {
            events.extend_from_slice(&sse::event(&c.to_string()));
        }
        events.extend_from_slice(&sse::event("[DONE]"));
        let body =
            futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(events))]);
        return Ok(stream::answer(stream_call(request_eval, payload), body));
    }
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
    pub(super) fn record_call(
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
