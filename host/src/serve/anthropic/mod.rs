//! `POST /v1/messages`: the Anthropic Messages API, guarded like a chat
//! completion (the same payload mapping, policies, stream guard and audit
//! rows) and proxied to an upstream with `api = "anthropic"`.
//!
//! - Callers authenticate to railyard as on every endpoint (`x-api-key`,
//!   which the `anthropic` clients send, or a bearer key); railyard
//!   authenticates upstream with its own key (`x-api-key`, from the
//!   upstream's `api-key-env`). The caller's `anthropic-version` (default
//!   `2023-06-01`) and `anthropic-beta` headers are passed on.
//! - Every error is Anthropic-shaped
//!   (`{"type": "error", "error": {"type", "message"}}`) with railyard's
//!   code in `error.code`, so the clients raise their usual exceptions
//!   (`BadRequestError`, `AuthenticationError`, `NotFoundError`, …).
//! - Texts: [`request`] for the request, [`answer_texts`] for an answer,
//!   [`relay`] for a stream.

pub mod relay;
pub mod request;
mod stream;
pub mod wire;

use bytes::Bytes;
use hyper::header::{self, HeaderMap};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use super::call::{Call, Ended};
use super::config::Api;
use super::proxy::{blocked, flag_non_text, route_for, upstream_key};
use super::stream::StreamCall;
use super::texts::{self, Text};
use super::{ApiError, Body, json_bytes, json_response, upstream_error};
use crate::audit::{CallInfo, TokenCounts};
use crate::evaluation::Evaluation;
use crate::payload::{Payload, Stage};
use crate::policy::NonText;
use crate::verdict::Action;

/// The version sent upstream when the caller sends none.
const DEFAULT_VERSION: &str = "2023-06-01";

/// The Anthropic headers a caller sent, passed on upstream.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    version: Option<String>,
    beta: Option<String>,
}

impl Headers {
    /// `anthropic-version` and `anthropic-beta` of a request.
    pub fn of(h: &HeaderMap) -> Headers {
        let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        Headers {
            version: get("anthropic-version"),
            beta: get("anthropic-beta"),
        }
    }
}

/// The Anthropic error type for a status.
fn error_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// An error as the Anthropic API shapes it (status, `Retry-After` and
/// quota headers as on the OpenAI endpoints).
pub fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = e.response();
    let body = json!({"type": "error", "error": {
        "type": error_type(e.status), "message": e.message, "code": e.code}});
    *r.body_mut() = super::full(body.to_string());
    r
}

/// The texts of an unstreamed Messages answer: every string of each
/// content block (text, citations, thinking, a tool call's name and every
/// string of its input, server tool results) and of any field this
/// version does not know. Not text: ids, types, signatures, encrypted
/// thinking, the stop reason and usage.
pub fn answer_texts(answer: &Value) -> Vec<Text> {
    let mut out = Vec::new();
    if let Some(map) = answer.as_object() {
        for (k, v) in map {
            if message_metadata(k) {
                continue;
            }
            texts::walk(v, &format!("/{k}"), k, "assistant", &not_text, &mut out);
        }
    }
    out
}

/// Keys inside an answer's content that carry no text.
pub(super) fn not_text(k: &str) -> bool {
    matches!(
        k,
        "id" | "type" | "signature" | "data" | "tool_use_id" | "media_type"
    )
}

/// Top-level keys of a message that carry no model text (and `content`'s
/// blocks are walked as blocks where it is not in this list).
pub(super) fn message_metadata(k: &str) -> bool {
    matches!(
        k,
        "id" | "type" | "role" | "model" | "stop_reason" | "stop_sequence" | "usage" | "container"
    )
}

fn tokens(answer: &Value) -> TokenCounts {
    TokenCounts {
        prompt: answer
            .pointer("/usage/input_tokens")
            .and_then(Value::as_u64),
        completion: answer
            .pointer("/usage/output_tokens")
            .and_then(Value::as_u64),
    }
}

fn gateway(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_GATEWAY, "server_error", code, message)
}

/// Proxies one Messages call.
pub(in crate::serve) async fn call(
    call: Call,
    mut body: Value,
    headers: Headers,
) -> Result<Response<Body>, ApiError> {
    let Call {
        state,
        request_id,
        caller,
        started,
        permits,
        tags,
    } = call;
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
    if !body.get("max_tokens").is_some_and(Value::is_u64) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "`max_tokens` (a positive integer) is required",
        ));
    }
    let streaming = body.get("stream").and_then(Value::as_bool) == Some(true);
    let route = route_for(&state, &model, Api::Anthropic)?;
    caller.check_model(&model)?;
    caller.check_policy(&route.policy)?;
    let upstream = state.config.upstreams[&route.upstream].clone();
    let slot = super::rollout::serving(&state, &route, &caller.name, &request_id)?;
    let pipeline = slot.pipeline();
    let capture = pipeline.policy().audit.capture;
    let verbatim = capture == crate::policy::Capture::Verbatim;

    let payload_policy = pipeline.policy().payload;
    let mut texts = request::collect(&body, payload_policy.unknown_fields)?;
    if payload_policy.non_text == NonText::Block
        && let Some((field, what)) = texts.media().first()
    {
        return Err(ApiError::bad_request(
            "request_blocked",
            format!(
                "railyard blocked the request: `{field}` is a non-text part ({what}) and this policy blocks them (payload.non-text = \"block\") (request id {request_id})"
            ),
        ));
    }
    let endpoint = ("endpoint".to_string(), "/v1/messages".to_string());
    let mut attributes = vec![
        endpoint.clone(),
        ("api".into(), Api::Anthropic.as_str().into()),
    ];
    attributes.extend(texts.attributes());
    let payload = Payload {
        request_id: request_id.clone(),
        stage: Stage::Request,
        route: model.clone(),
        caller: caller.name.clone(),
        messages: texts.messages(),
        attributes,
    };
    let decided = state
        .decide(&pipeline, &payload, true, |e| {
            flag_non_text(e, payload_policy.non_text, texts.media())
        })
        .await;
    if decided.evaluation.action == Action::Block {
        let err = blocked(Stage::Request, &decided.evaluation);
        // Provenance is read from the body as the rails left it: `user`,
        // `metadata` and the parameters are texts the rails saw, so what
        // they redacted is not kept verbatim in the row either.
        let mut seen_body = body.clone();
        texts.write_back(
            &mut seen_body,
            &decided.evaluation,
            &pipeline.policy().redaction,
        );
        let prov = tags.provenance(&upstream.name, &seen_body);
        decided.record(&state, |e| {
            state.record(
                e,
                &payload,
                capture,
                Some(CallInfo {
                    status_code: Some(err.status.as_u16()),
                    total_latency_us: Some(started.elapsed().as_micros() as u64),
                    api: Some(Api::Anthropic.as_str()),
                    provenance: Some(&prov),
                    ..CallInfo::default()
                }),
            )
        })?;
        return Err(err);
    }
    texts.write_back(&mut body, &decided.evaluation, &pipeline.policy().redaction);
    let mut prov = tags.provenance(&upstream.name, &body);
    // The request's decisions are recorded before anything goes upstream;
    // with the default durability their fsync overlaps the upstream call
    // and the answer waits for it (see `call_scope::exchange`).
    let mut pending = None;
    let request_eval = decided.record(&state, |e| {
        state.record_request(e, &payload, capture, &mut pending)
    })?;

    let url = format!("{}/messages", upstream.base_url);
    let sent_body = body.to_string();
    if verbatim {
        prov.request_body = Some(sent_body.clone());
    }
    let mut req = state
        .client
        .post(&url)
        .timeout(upstream.timeout)
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            "anthropic-version",
            headers.version.as_deref().unwrap_or(DEFAULT_VERSION),
        )
        .body(sent_body);
    if let Some(beta) = &headers.beta {
        req = req.header("anthropic-beta", beta);
    }
    if let Some(key) = upstream_key(&upstream) {
        req = req.header("x-api-key", key);
    }
    let record_failure = |status: StatusCode| {
        state
            .record_call(
                (&request_eval, &payload),
                None,
                Ended::failed(capture, status, started, prov.clone()),
            )
            .map(|_| ())
    };
    let resp = super::call_scope::exchange(
        &state,
        req,
        pending,
        (&upstream.name, &url),
        &record_failure,
    )
    .await?;
    let status = resp.status();
    if !status.is_success() {
        let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let bytes = resp.bytes().await.unwrap_or_default();
        let guarded = tokio::task::block_in_place(|| {
            upstream_error::guard(&pipeline, &payload, &endpoint, bytes)
        });
        state.metrics.evaluation(&guarded.evaluation);
        let mut prov = prov.clone();
        if verbatim && guarded.evaluation.action != Action::Block {
            prov.response_body = Some(String::from_utf8_lossy(&guarded.body).into_owned());
        }
        state.record_call(
            (&request_eval, &payload),
            Some((&guarded.evaluation, &guarded.payload)),
            Ended {
                capture,
                status,
                started,
                tokens: TokenCounts::default(),
                provenance: prov,
            },
        )?;
        if guarded.evaluation.action == Action::Block {
            // railyard's own error replaces the upstream's: in this API's
            // shape.
            let e = ApiError::new(
                status,
                "upstream_error",
                "upstream_error_withheld",
                format!(
                    "railyard withheld the upstream's error message: {} (request id {})",
                    guarded.evaluation.reason, request_id
                ),
            );
            return Ok(error_response(&e));
        }
        return Ok(json_bytes(status, guarded.body));
    }
    let is_event_stream = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let stream_call = |request_eval, payload, provenance| StreamCall {
        provenance,
        endpoint: endpoint.clone(),
        state: state.clone(),
        pipeline: pipeline.clone(),
        request_eval,
        payload,
        started,
        permits,
        chat: false,
    };
    if streaming && is_event_stream {
        return Ok(stream::answer(
            stream_call(request_eval, payload, prov),
            resp.bytes_stream(),
        ));
    }
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            record_failure(StatusCode::BAD_GATEWAY)?;
            return Err(gateway(
                "upstream_unreadable",
                format!("reading the answer of upstream `{}`: {e}", upstream.name),
            ));
        }
    };
    let mut answer = match super::wire::answer_object(&bytes, &upstream.name) {
        Ok(v) => v,
        Err(message) => {
            record_failure(StatusCode::BAD_GATEWAY)?;
            return Err(gateway("upstream_invalid", message));
        }
    };
    if streaming {
        // The upstream answered a streamed request whole: guarded as the
        // stream it would have been.
        let Some(events) = wire::as_events(&answer) else {
            record_failure(StatusCode::BAD_GATEWAY)?;
            return Err(gateway(
                "upstream_not_streamed",
                format!(
                    "upstream `{}` answered a streamed request with JSON that is not a message",
                    upstream.name
                ),
            ));
        };
        let mut out = Vec::new();
        for e in &events {
            out.extend_from_slice(&wire::sse(e));
        }
        let body =
            futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(out))]);
        prov.answered(&answer);
        return Ok(stream::answer(
            stream_call(request_eval, payload, prov),
            body,
        ));
    }
    let texts = answer_texts(&answer);
    let response_payload = Payload {
        request_id: request_id.clone(),
        stage: Stage::Response,
        route: model.clone(),
        caller: caller.name.clone(),
        messages: texts.iter().map(Text::message).collect(),
        attributes: [
            endpoint.clone(),
            ("api".into(), Api::Anthropic.as_str().into()),
        ]
        .into_iter()
        .chain(texts::attributes(&texts, "assistant"))
        .collect(),
    };
    let decided = state
        .decide(&pipeline, &response_payload, true, |_| {})
        .await;
    let tokens = tokens(&answer);
    prov.answered(&answer);
    let record = |status: StatusCode, response_eval: &Evaluation, provenance| {
        state.record_call(
            (&request_eval, &payload),
            Some((response_eval, &response_payload)),
            Ended {
                capture,
                status,
                started,
                tokens,
                provenance,
            },
        )
    };
    if decided.evaluation.action == Action::Block {
        let err = blocked(Stage::Response, &decided.evaluation);
        decided.record(&state, |e| record(err.status, e, prov))?;
        return Err(err);
    }
    if let Some(redacted) = &decided.evaluation.redacted {
        texts::write_back(&mut answer, &texts, redacted);
    }
    if verbatim {
        prov.response_body = Some(answer.to_string());
    }
    decided.record(&state, |e| record(StatusCode::OK, e, prov))?;
    Ok(json_response(StatusCode::OK, &answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_of_an_answer_is_found_and_metadata_is_not() {
        let a = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": "hi", "citations": [{"type": "char_location", "cited_text": "quote"}]},
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "redacted_thinking", "data": "enc"},
                {"type": "tool_use", "id": "tu_1", "name": "refund", "input": {"card": "4111", "n": 2}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 1, "output_tokens": 2}});
        let mut fields: Vec<String> = answer_texts(&a).into_iter().map(|t| t.field).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "content[0].citations[0].cited_text",
                "content[0].text",
                "content[1].thinking",
                "content[3].input.card",
                "content[3].name"
            ]
        );
    }

    #[test]
    fn errors_take_the_anthropic_type_for_their_status() {
        assert_eq!(error_type(StatusCode::UNAUTHORIZED), "authentication_error");
        assert_eq!(error_type(StatusCode::BAD_REQUEST), "invalid_request_error");
        assert_eq!(error_type(StatusCode::NOT_FOUND), "not_found_error");
        assert_eq!(error_type(StatusCode::BAD_GATEWAY), "api_error");
    }
}
