//! Streamed Responses answers: the upstream's events go through the
//! stream guard (see [`super::relay`]) and what may go is re-emitted as
//! Responses events with railyard's own sequence numbers.
//!
//! How a stream ends, and what the client sees (railyard's errors are
//! `error` events that also carry `error: {code, message}`, which the
//! `openai` clients raise as `APIError`):
//!
//! | ending | client sees | recorded status |
//! |---|---|---|
//! | `response.completed` / `response.incomplete` | the rest of each item, every `done`, then that event with `output` as released | 200 |
//! | the final verdict blocks | an `error` event `response_blocked` | 400 |
//! | the upstream closed before `response.completed` | an `error` event `upstream_truncated` | 502 |
//! | the upstream connection broke | an `error` event `upstream_stream_broken` | 502 |
//! | an event that is not a Responses event (or before `response.created`) | an `error` event `upstream_invalid` | 502 |
//! | `response.failed` or an `error` event from the upstream | an `error` event `upstream_error` with its code (its message is not passed on: unscanned upstream text) | 502 |
//! | more than 16 MiB | an `error` event `response_too_large` | 502 |
//! | the client went away | nothing (the upstream request is dropped at once) | 499 |
//!
//! In every ending the answer as far as it was seen is evaluated and
//! recorded, and the concurrency slots are freed before the record is
//! written.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use hyper::{Response, StatusCode};
use serde_json::Value;
use tokio::sync::mpsc::Sender;

use super::Echo;
use super::relay::{Relay, Step};
use super::wire::{error_event, sse};
use crate::audit::TokenCounts;
use crate::payload::Stage;
use crate::pipeline::lanes::{LanesEnd, StreamLanes};
use crate::serve::Body;
use crate::serve::call::Ended;
use crate::serve::sse::EventReader;
use crate::serve::stream::{Seen, StreamCall};

/// Largest streamed answer read from the upstream.
const MAX_STREAM_BYTES: usize = 16 << 20;

enum Ending {
    Complete,
    Truncated,
    Broken(String),
    Invalid(String),
    TooLarge,
    UpstreamError(String),
    ClientGone,
}

/// Answers with an event stream fed by a task that reads `upstream`, runs
/// it through the stream guard and re-emits what may go.
/// `echo` is the request as sent (see [`super::envelope`]).
pub(in crate::serve) fn answer<S, E>(call: StreamCall, echo: Echo, upstream: S) -> Response<Body>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let state = call.state.clone();
    crate::serve::stream::event_stream(state, |tx| task(call, echo, upstream, tx))
}

async fn task<S, E>(call: StreamCall, echo: Echo, upstream: S, tx: Sender<Bytes>)
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let StreamCall {
        state,
        pipeline,
        request_eval,
        payload,
        started,
        permits,
        endpoint,
        mut provenance,
        ..
    } = call;
    let mut template = payload.clone();
    template.stage = Stage::Response;
    template.attributes = vec![endpoint];
    let lanes = StreamLanes::new(pipeline.clone(), template, state.config.holdback_bytes);
    let verbatim = pipeline.policy().audit.capture == crate::policy::Capture::Verbatim;
    let mut seen = Seen {
        provenance: &mut provenance,
        sent: verbatim.then(String::new),
    };
    let (end, status, tokens) = pump(
        upstream,
        Relay::new(lanes, echo),
        &tx,
        &payload.request_id,
        &mut seen,
    )
    .await;
    provenance.response_body = seen.sent.take();
    // The upstream request is over: the slots go back before the record.
    drop(permits);
    // The answer is out: every judgement of a stream runs after it.
    state
        .conclude_stream(
            (&request_eval, &payload),
            end,
            Ended {
                capture: pipeline.policy().audit.capture,
                status,
                started,
                tokens,
                provenance,
            },
        )
        .await;
}

fn usage(response: Option<&Value>, tokens: &mut TokenCounts) {
    if let Some(u) = response.and_then(|r| r.get("usage")) {
        tokens.prompt = u.get("input_tokens").and_then(Value::as_u64);
        tokens.completion = u.get("output_tokens").and_then(Value::as_u64);
    }
}

async fn pump<S, E>(
    mut upstream: S,
    mut relay: Relay,
    tx: &Sender<Bytes>,
    request_id: &str,
    seen: &mut Seen<'_>,
) -> (LanesEnd, StatusCode, TokenCounts)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut reader = EventReader::default();
    let mut total = 0usize;
    let mut tokens = TokenCounts::default();
    let ending = 'read: loop {
        // A client that leaves ends the upstream request now.
        let next = tokio::select! {
            biased;
            _ = tx.closed() => break 'read Ending::ClientGone,
            next = upstream.next() => next,
        };
        let bytes = match next {
            None => break 'read Ending::Truncated,
            Some(Err(e)) => break 'read Ending::Broken(e.to_string()),
            Some(Ok(c)) => c,
        };
        total += bytes.len();
        if total > MAX_STREAM_BYTES {
            break 'read Ending::TooLarge;
        }
        reader.push(&bytes);
        while let Some(data) = reader.next_data() {
            if data.trim() == "[DONE]" {
                continue;
            }
            let Ok(value) = serde_json::from_str::<Value>(&data) else {
                break 'read Ending::Invalid("an event that is not JSON".into());
            };
            if let Some(r) = value.get("response") {
                let field = |k: &str| r.get(k).and_then(Value::as_str);
                seen.provenance.first_seen(field("model"), None);
            }
            if matches!(
                value.get("type").and_then(Value::as_str),
                Some("response.completed" | "response.incomplete")
            ) {
                usage(value.get("response"), &mut tokens);
            }
            match crate::serve::offload::run(total, || relay.event(value)) {
                Step::Complete => break 'read Ending::Complete,
                Step::UpstreamError(code) => break 'read Ending::UpstreamError(code),
                Step::Invalid(why) => break 'read Ending::Invalid(why),
                Step::Send(events) => {
                    for e in events {
                        let b = sse(&e);
                        seen.sent(&b);
                        if tx.send(b).await.is_err() {
                            break 'read Ending::ClientGone;
                        }
                    }
                }
            }
        }
    };
    if !relay.dropped().is_empty() {
        tracing::warn!(request_id, dropped = ?relay.dropped(), "streamed events railyard does not guard were dropped");
    }
    drop(upstream);
    let complete = matches!(ending, Ending::Complete);
    let (end, closing, seq) = tokio::task::block_in_place(|| relay.finish(complete));
    let mut out: Vec<Bytes> = Vec::new();
    let error = |out: &mut Vec<Bytes>, code: &str, message: String, status: StatusCode| {
        out.push(error_event(code, &message, seq));
        status
    };
    let status = match (ending, closing) {
        (Ending::ClientGone, _) => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        (Ending::Complete, None) => {
            let reason = &end.evaluation.reason;
            error(
                &mut out,
                "response_blocked",
                format!(
                    "railyard blocked the model's answer: {} (request id {})",
                    if reason.is_empty() { "policy" } else { reason },
                    end.evaluation.request_id
                ),
                StatusCode::BAD_REQUEST,
            )
        }
        (Ending::Complete, Some(events)) => {
            out.extend(events.iter().map(sse));
            StatusCode::OK
        }
        (Ending::Truncated, _) => error(
            &mut out,
            "upstream_truncated",
            "the upstream stream ended before the response was complete (no response.completed); the answer is incomplete".into(),
            StatusCode::BAD_GATEWAY,
        ),
        (Ending::Broken(why), _) => error(
            &mut out,
            "upstream_stream_broken",
            format!("the upstream stream broke off: {why}"),
            StatusCode::BAD_GATEWAY,
        ),
        (Ending::Invalid(why), _) => error(
            &mut out,
            "upstream_invalid",
            format!(
                "the upstream sent something that is not a Responses stream event ({why}); the stream is ended so no unchecked text passes"
            ),
            StatusCode::BAD_GATEWAY,
        ),
        (Ending::TooLarge, _) => error(
            &mut out,
            "response_too_large",
            format!("the streamed answer exceeded {MAX_STREAM_BYTES} bytes"),
            StatusCode::BAD_GATEWAY,
        ),
        (Ending::UpstreamError(code), _) => error(
            &mut out,
            "upstream_error",
            format!("the upstream reported an error mid-stream (code `{code}`); its message is not passed on"),
            StatusCode::BAD_GATEWAY,
        ),
    };
    for b in out {
        seen.sent(&b);
        if tx.send(b).await.is_err() {
            return (
                end,
                StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
                tokens,
            );
        }
    }
    (end, status, tokens)
}
