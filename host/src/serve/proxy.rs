//! The OpenAI-compatible proxy: request rails, the upstream call, response
//! rails (whole or streamed).

use bytes::Bytes;
use hyper::header;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use super::access::CallerId;
use super::call::{Call, Ended};
use super::openai_answer::OpenAiAnswer;
use super::openai_texts::OpenAiRequest;
use super::responses::Echo;
use super::stream::{self, StreamCall};
use super::upstream_error;
use super::wire::unstreamed;
use super::{ApiError, Body, State, json_bytes, json_response, sse};
use crate::audit::{CallInfo, TokenCounts};
use crate::evaluation::Evaluation;
use crate::payload::{Payload, Stage};
use crate::policy::NonText;
use crate::verdict::Action;

/// Which OpenAI endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/v1/chat/completions`
    Chat,
    /// `/v1/completions`
    Completions,
    /// `/v1/responses` (see `serve::responses`)
    Responses,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Chat => "/chat/completions",
            Kind::Completions => "/completions",
            Kind::Responses => "/responses",
        }
    }
}

pub(super) fn blocked(stage: Stage, e: &Evaluation) -> ApiError {
    if crate::judge::outcome::blocked_for_saturation(e) {
        // Nothing judged this request: the judge had no room for it.
        // A capacity refusal, retryable, with its own code.
        let mut err = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "judge_saturated",
            format!(
                "railyard refused the call: a blocking judge was over its budget and the route fails closed: {} (request id {})",
                e.reason, e.request_id
            ),
        );
        err.headers.push(("retry-after", "1".to_string()));
        return err;
    }
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

/// The route serving `model` in `api`'s format; 404 `model_not_found`
/// or `api_not_served` otherwise.
pub(super) fn route_for(
    state: &State,
    model: &str,
    api: super::config::Api,
) -> Result<super::config::Route, ApiError> {
    state
        .config
        .route_for(model, api)
        .cloned()
        .map_err(|(code, message)| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                code,
                message,
            )
        })
}

/// The API key sent to `upstream`, from the variable its config names.
pub(super) fn upstream_key(upstream: &super::config::Upstream) -> Option<String> {
    upstream
        .api_key_env
        .as_deref()
        .and_then(|v| std::env::var(v).ok())
        .filter(|k| !k.is_empty())
}

/// Proxies one chat or completion call.
pub(super) async fn call(
    call: Call,
    kind: Kind,
    mut body: Value,
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
    let streaming = body.get("stream").and_then(Value::as_bool) == Some(true);
    if state.config.upstreams.is_empty() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "no_upstream",
            "this server has no upstream model endpoint: start it with --upstream URL (or RAILYARD_UPSTREAM_URL), or configure [upstreams] and [[routes]]",
        ));
    }
    let route = route_for(&state, &model, super::config::Api::OpenAi)?;
    // The caller's grants, before any plugin or upstream sees the call.
    caller.check_model(&model)?;
    caller.check_policy(&route.policy)?;
    let upstream = state.config.upstreams[&route.upstream].clone();
    let slot = super::rollout::serving(&state, &route, &caller.name, &request_id)?;
    let pipeline = slot.pipeline();
    let capture = pipeline.policy().audit.capture;
    let verbatim = capture == crate::policy::Capture::Verbatim;

    // Request rails, over every text of the body: a chat or completions
    // body is read into its typed model (`body` is left null), a
    // Responses body stays in `body`.
    let payload_policy = pipeline.policy().payload;
    let previous_response_id = super::responses::previous_response_id(&body).map(str::to_string);
    let mut typed = OpenAiRequest::take(kind, &mut body)?;
    let mut texts = typed.texts(&body, payload_policy.unknown_fields)?;
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
    let endpoint = ("endpoint".to_string(), format!("/v1{}", kind.path()));
    let mut attributes = vec![endpoint.clone()];
    if let Some(id) = &previous_response_id {
        // Earlier turns the upstream keeps for this id are not in the
        // request: the plugins (and the record) see that it continues one.
        attributes.push(("previous_response_id".into(), id.clone()));
    }
    attributes.extend(texts.attributes());
    let payload = Payload {
        request_id: request_id.clone(),
        stage: Stage::Request,
        route: model.clone(),
        caller: caller.name.clone(),
        messages: texts.messages(),
        attributes,
    };
    // Blocking judges decide before anything goes upstream.
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
        // (Blocked: the body goes nowhere, so the redactions are written
        // into it.)
        texts.write_back(&mut body, &decided.evaluation, &pipeline.policy().redaction);
        drop(texts);
        let seen_body = typed.into_value(body);
        let prov = tags.provenance(&upstream.name, &seen_body);
        decided.record(&state, |e| {
            state.record(
                e,
                &payload,
                capture,
                Some(CallInfo {
                    status_code: Some(err.status.as_u16()),
                    total_latency_us: Some(started.elapsed().as_micros() as u64),
                    api: Some(super::config::Api::OpenAi.as_str()),
                    previous_response_id: previous_response_id.as_deref(),
                    provenance: Some(&prov),
                    ..CallInfo::default()
                }),
            )
        })?;
        return Err(err);
    }
    texts.write_back(&mut body, &decided.evaluation, &pipeline.policy().redaction);
    drop(texts);
    let body = typed.into_value(body);
    // A Responses answer echoes request fields: what was sent is not
    // judged again (`responses::envelope`).
    let echo = if kind == Kind::Responses {
        Echo::of(&body)
    } else {
        Echo::none()
    };
    let mut prov = tags.provenance(&upstream.name, &body);
    // The request's decisions are recorded before anything goes upstream;
    // with the default durability their fsync overlaps the upstream call
    // and the answer waits for it (see `call_scope::exchange`).
    let mut pending = None;
    let request_eval = decided.record(&state, |e| {
        state.record_request(e, &payload, capture, &mut pending)
    })?;

    let url = format!("{}{}", upstream.base_url, kind.path());
    let sent_body = body.to_string();
    if verbatim {
        prov.request_body = Some(sent_body.clone());
    }
    let mut req = state
        .client
        .post(&url)
        .timeout(upstream.timeout)
        .header(header::CONTENT_TYPE, "application/json")
        .body(sent_body);
    if let Some(key) = upstream_key(&upstream) {
        req = req.bearer_auth(key);
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
        // An upstream error is passed on with its status, its texts
        // guarded like an answer's.
        let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let bytes = resp.bytes().await.unwrap_or_default();
        let guarded = tokio::task::block_in_place(|| {
            upstream_error::guard(&pipeline, &payload, &endpoint, bytes)
        });
        state.metrics.evaluation(&guarded.evaluation);
        let mut prov = prov.clone();
        if verbatim {
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
        chat: kind == Kind::Chat,
    };
    if streaming && is_event_stream {
        let call = stream_call(request_eval, payload, prov);
        return Ok(match kind {
            Kind::Responses => super::responses::stream::answer(call, echo, resp.bytes_stream()),
            _ => stream::answer(call, resp.bytes_stream()),
        });
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
    let mut answer = match super::wire::answer_object(&bytes, &upstream.name) {
        Ok(v) => v,
        Err(message) => {
            record_failure(StatusCode::BAD_GATEWAY)?;
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "server_error",
                "upstream_invalid",
                message,
            ));
        }
    };
    if streaming && kind == Kind::Responses {
        // Answered whole: guarded as the stream it would have been.
        let Some(events) = super::responses::wire::as_events(&answer) else {
            record_failure(StatusCode::BAD_GATEWAY)?;
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "server_error",
                "upstream_not_streamed",
                format!(
                    "upstream `{}` answered a streamed request with JSON that is not a response",
                    upstream.name
                ),
            ));
        };
        let mut out = Vec::new();
        for e in &events {
            out.extend_from_slice(&super::responses::wire::sse(e));
        }
        let body =
            futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(out))]);
        prov.answered(&answer);
        return Ok(super::responses::stream::answer(
            stream_call(request_eval, payload, prov),
            echo,
            body,
        ));
    }
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
        prov.answered(&answer);
        return Ok(stream::answer(
            stream_call(request_eval, payload, prov),
            body,
        ));
    }
    let tokens = tokens(&answer);
    prov.answered(&answer);
    // Response rails over every text of the answer: a chat or completion
    // answer is read into its typed model (`answer` is left null).
    let mut typed = OpenAiAnswer::take(kind, &mut answer);
    let texts = typed.texts(&answer, &echo);
    let response_payload = Payload {
        request_id: request_id.clone(),
        stage: Stage::Response,
        route: model.clone(),
        caller: caller.name.clone(),
        messages: texts.messages(),
        attributes: std::iter::once(endpoint.clone())
            .chain(texts.attributes())
            .collect(),
    };
    let decided = state
        .decide(&pipeline, &response_payload, true, |_| {})
        .await;
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
        texts.write_back(&mut answer, redacted);
    } else {
        drop(texts);
    }
    let answer = typed.into_value(answer);
    if verbatim {
        prov.response_body = Some(answer.to_string());
    }
    decided.record(&state, |e| record(StatusCode::OK, e, prov))?;
    Ok(json_response(StatusCode::OK, &answer))
}

/// The policy's verdict on non-text parts when it flags them: not a
/// plugin's decision, so the call's recorded action and reason say it (the
/// inferences row) and the decisions rows stay the plugins'.
pub(super) fn flag_non_text(
    evaluation: &mut Evaluation,
    non_text: NonText,
    media: &[(String, String)],
) {
    if non_text == NonText::Flag && !media.is_empty() && evaluation.action < Action::Flag {
        let fields: Vec<&str> = media.iter().map(|(f, _)| f.as_str()).collect();
        evaluation.action = Action::Flag;
        evaluation.reason = format!(
            "payload.non-text = flag: non-text parts at {}",
            fields.join(", ")
        );
    }
}

/// The answer's token counts. Read by pointer on the JSON: it serves the
/// chat and completions answers (`prompt_tokens`) and the Responses answer
/// (`input_tokens`), which is not typed, and reads only numbers.
fn tokens(answer: &Value) -> TokenCounts {
    TokenCounts {
        prompt: answer
            .pointer("/usage/prompt_tokens")
            .or_else(|| answer.pointer("/usage/input_tokens"))
            .and_then(Value::as_u64),
        completion: answer
            .pointer("/usage/completion_tokens")
            .or_else(|| answer.pointer("/usage/output_tokens"))
            .and_then(Value::as_u64),
    }
}

impl State {
    /// Records a whole proxied call (see [`crate::audit::AuditLog::record_call`]);
    /// returns the response stage's decision ids.
    pub(super) fn record_call(
        &self,
        (request, request_payload): (&Evaluation, &Payload),
        response: Option<(&Evaluation, &Payload)>,
        ended: Ended,
    ) -> Result<Vec<String>, ApiError> {
        let Ended {
            capture,
            status,
            started,
            tokens,
            provenance,
        } = ended;
        // What the call used settles its token reservation, audited or not.
        super::quota::settle::answered(&tokens, response.map(|(_, p)| p));
        let Some(audit) = &self.audit else {
            return Ok(Vec::new());
        };
        let trace_id = super::call_scope::trace_id();
        let call = CallInfo {
            response: None,
            status_code: Some(status.as_u16()),
            tokens,
            total_latency_us: Some(started.elapsed().as_micros() as u64),
            api: api_of(request_payload),
            previous_response_id: request_payload
                .attributes
                .iter()
                .find(|(k, _)| k == "previous_response_id")
                .map(|(_, v)| v.as_str()),
            provenance: Some(&provenance),
            trace_id: trace_id.as_deref(),
        };
        let (ack, deferred) = audit
            .record_call_deferred((request, request_payload), response, capture, call)
            .map_err(super::audit_error)?;
        if let Some(d) = deferred {
            self.owe(audit, d)?;
        }
        Ok(ack.decision_ids)
    }
}

/// The wire format of a proxied call, from the `endpoint` attribute the
/// proxy set on its request payload.
fn api_of(payload: &Payload) -> Option<&'static str> {
    use super::config::Api;
    let endpoint = payload
        .attributes
        .iter()
        .find(|(k, _)| k == "endpoint")
        .map(|(_, v)| v.as_str())?;
    match endpoint {
        "/v1/messages" => Some(Api::Anthropic.as_str()),
        "/v1/chat/completions" | "/v1/completions" | "/v1/responses" => Some(Api::OpenAi.as_str()),
        _ => None,
    }
}

/// `GET /v1/models`: the first route's upstream's list.
/// `GET /v1/models`: the first route's upstream's list, without the
/// models `caller` may not call (a caller granted some models sees only
/// those).
pub async fn models(state: &State, caller: &CallerId) -> Result<Response<Body>, ApiError> {
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
    if status.is_success()
        && let Ok(mut list) = serde_json::from_slice::<Value>(&bytes)
        && let Some(data) = list.get_mut("data").and_then(Value::as_array_mut)
    {
        data.retain(|m| {
            m.get("id")
                .and_then(Value::as_str)
                .is_none_or(|id| caller.check_model(id).is_ok())
        });
        return Ok(json_response(status, &list));
    }
    Ok(json_bytes(status, bytes))
}
