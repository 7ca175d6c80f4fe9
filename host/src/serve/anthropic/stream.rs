//! Streamed Messages answers: the upstream's events go through the stream
//! guard (see [`super::relay`]) and what may go is re-emitted with
//! Anthropic's event names.
//!
//! How a stream ends, and what the client sees (errors are Anthropic
//! `error` events, which the `anthropic` clients raise):
//!
//! | ending | client sees | recorded status |
//! |---|---|---|
//! | `message_stop` (or every block stopped, the stop reason came and the upstream closed) | the rest of each block, `message_delta`, `message_stop` | 200 |
//! | the final verdict blocks | an `error` event (`invalid_request_error`, "railyard blocked the model's answer …") | 400 |
//! | the upstream closed early | an `error` event (`api_error`, `upstream_truncated`) | 502 |
//! | the upstream connection broke, an event that is not JSON, more than 16 MiB | an `error` event (`api_error`) | 502 |
//! | an `error` event from the upstream | an `error` event with its type (its message is not passed on: unscanned upstream text) | 502 |
//! | the client went away | nothing (the upstream request is dropped at once) | 499 |

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use hyper::{Response, StatusCode};
use tokio::sync::mpsc::Sender;

use super::super::call::Ended;
use super::relay::{Relay, Step};
use super::wire::{Event, error_event, sse};
use crate::audit::TokenCounts;
use crate::payload::Stage;
use crate::pipeline::lanes::{LanesEnd, StreamLanes};
use crate::serve::Body;
use crate::serve::sse::EventReader;
use crate::serve::stream::StreamCall;

/// Largest streamed answer read from the upstream.
const MAX_STREAM_BYTES: usize = 16 << 20;

enum Ending {
    Complete,
    Truncated,
    Broken(String),
    Invalid,
    TooLarge,
    UpstreamError(String),
    ClientGone,
}

/// Answers with an event stream fed by a task that reads `upstream`, runs
/// it through the stream guard and re-emits what may go.
pub(in crate::serve) fn answer<S, E>(call: StreamCall, upstream: S) -> Response<Body>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let state = call.state.clone();
    crate::serve::stream::event_stream(state, |tx| task(call, upstream, tx))
}

async fn task<S, E>(call: StreamCall, upstream: S, tx: Sender<Bytes>)
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
    let mut seen = crate::serve::stream::Seen {
        provenance: &mut provenance,
        sent: verbatim.then(String::new),
    };
    let (end, status, tokens) = pump(
        upstream,
        Relay::new(lanes),
        &tx,
        &payload.request_id,
        &mut seen,
    )
    .await;
    let sent = seen.sent.take();
    provenance.response_body = sent;
    drop(permits);
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

async fn pump<S, E>(
    mut upstream: S,
    mut relay: Relay,
    tx: &Sender<Bytes>,
    request_id: &str,
    seen: &mut crate::serve::stream::Seen<'_>,
) -> (LanesEnd, StatusCode, TokenCounts)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut reader = EventReader::default();
    let mut total = 0usize;
    let mut tokens = TokenCounts::default();
    let ending = 'read: loop {
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
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&data) else {
                break 'read Ending::Invalid;
            };
            if value.get("type").and_then(|t| t.as_str()) == Some("message_start") {
                seen.provenance.answered_chunk(&value);
            }
            if let Some(t) = value.pointer("/message/usage/input_tokens") {
                tokens.prompt = t.as_u64();
            }
            if let Some(t) = value.pointer("/usage/output_tokens") {
                tokens.completion = t.as_u64();
            }
            let Ok(event) = serde_json::from_value::<Event>(value) else {
                break 'read Ending::Invalid;
            };
            match crate::serve::offload::run(total, || relay.event(event)) {
                Step::Complete => break 'read Ending::Complete,
                Step::UpstreamError(kind) => {
                    // A type name, not text: anything else is `api_error`.
                    let known = kind.len() <= 40
                        && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                    break 'read Ending::UpstreamError(if known {
                        kind
                    } else {
                        "api_error".into()
                    });
                }
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
    let ending = match ending {
        Ending::Truncated if relay.all_finished() && reader.pending() == 0 => Ending::Complete,
        e => e,
    };
    if !relay.dropped().is_empty() {
        tracing::warn!(request_id, dropped = ?relay.dropped(), "streamed events railyard does not guard were dropped");
    }
    drop(upstream);
    let complete = matches!(ending, Ending::Complete);
    let started = relay.started();
    let (end, closing) = tokio::task::block_in_place(|| relay.finish(complete));
    let mut out: Vec<Bytes> = Vec::new();
    let gateway = |out: &mut Vec<Bytes>, message: String| {
        out.push(error_event("api_error", &message));
        StatusCode::BAD_GATEWAY
    };
    let status = match (ending, closing) {
        (Ending::ClientGone, _) => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        (Ending::Complete, None) => {
            let reason = &end.evaluation.reason;
            out.push(error_event(
                "invalid_request_error",
                &format!(
                    "railyard blocked the model's answer: {} (request id {})",
                    if reason.is_empty() { "policy" } else { reason },
                    end.evaluation.request_id
                ),
            ));
            StatusCode::BAD_REQUEST
        }
        (Ending::Complete, Some(events)) if started => {
            out.extend(events.iter().map(sse));
            StatusCode::OK
        }
        (Ending::Complete, Some(_)) => gateway(
            &mut out,
            "upstream_invalid: the upstream ended the stream without a message_start".into(),
        ),
        (Ending::Truncated, _) => gateway(
            &mut out,
            "upstream_truncated: the upstream stream ended before the message was complete (no message_stop); the answer is incomplete".into(),
        ),
        (Ending::Broken(why), _) => gateway(
            &mut out,
            format!("upstream_stream_broken: the upstream stream broke off: {why}"),
        ),
        (Ending::Invalid, _) => gateway(
            &mut out,
            "upstream_invalid: the upstream sent an event that is not a Messages stream event; the stream is ended so no unchecked text passes".into(),
        ),
        (Ending::TooLarge, _) => gateway(
            &mut out,
            format!("response_too_large: the streamed answer exceeded {MAX_STREAM_BYTES} bytes"),
        ),
        (Ending::UpstreamError(kind), _) => {
            out.push(error_event(
                &kind,
                &format!("upstream_error: the upstream reported an error mid-stream (type `{kind}`)"),
            ));
            StatusCode::BAD_GATEWAY
        }
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
