//! Streamed answers: the upstream's events go through the stream guard
//! (one lane per text of each choice, see [`relay`]) and what may go is
//! re-emitted to the client as it is released.
//!
//! How a stream ends, and what the client sees:
//!
//! | ending | client sees | recorded status |
//! |---|---|---|
//! | `[DONE]`, or every choice finished and the upstream closed | the rest of each text, finish reasons, usage, `[DONE]` | 200 |
//! | the final verdict blocks | an error event `response_blocked`, `[DONE]` | 400 |
//! | the upstream closed early (no `[DONE]`, a choice unfinished) | an error event `upstream_truncated`, no `[DONE]` | 502 |
//! | the upstream connection broke | an error event `upstream_stream_broken` | 502 |
//! | an event that is not JSON | an error event `upstream_invalid` | 502 |
//! | an error event from the upstream | an error event `upstream_error` with its code (its message is not passed on: unscanned upstream text) | 502 |
//! | more than 16 MiB | an error event `response_too_large` | 502 |
//! | the client went away | nothing (the upstream request is dropped at once) | 499 |
//!
//! In every ending the answer as far as it was seen is evaluated and
//! recorded, and the concurrency slots are freed before the record is
//! written. Text held back when a stream ends abnormally is not sent: the
//! answer is incomplete, and the error event says so.

pub(in crate::serve) mod envelope;
mod relay;
mod render;

pub use relay::Relay;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::Sender;

use super::call::Ended;
use super::sse::{EventReader, error_event, event};
use super::wire::chunk::Chunk;
use super::{Body, State};
use crate::audit::TokenCounts;
use crate::payload::{Payload, Stage};
use crate::pipeline::lanes::{LanesEnd, StreamLanes};
use crate::pipeline::{Evaluation, Pipeline};

/// Largest streamed answer read from the upstream.
const MAX_STREAM_BYTES: usize = 16 << 20;

/// Everything a streamed answer needs from the call that asked for it.
pub(super) struct StreamCall {
    pub state: Arc<State>,
    pub pipeline: Arc<Pipeline>,
    pub request_eval: Evaluation,
    pub payload: Payload,
    pub started: Instant,
    pub permits: (OwnedSemaphorePermit, Option<OwnedSemaphorePermit>),
    /// Chat (else completions).
    pub chat: bool,
    /// The `endpoint` attribute.
    pub endpoint: (String, String),
    /// The call's provenance so far (the stream adds the answering model).
    pub provenance: crate::audit::Provenance,
}

/// How the upstream's stream ended.
enum Ending {
    Complete,
    Truncated,
    Broken,
    Invalid,
    TooLarge,
    UpstreamError,
    ClientGone,
}

/// A `text/event-stream` response fed by `task`, which is handed the
/// sending end and runs in the call's scope (its trace, and the settling
/// of its token reservation when it ends), outliving the handler.
pub(in crate::serve) fn event_stream<F>(
    state: Arc<State>,
    task: impl FnOnce(Sender<Bytes>) -> F,
) -> Response<Body>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(32);
    tokio::spawn(super::call_scope::carried(state, task(tx)));
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

/// Answers with an event stream fed by a task that reads `upstream`, runs
/// it through the stream guard and re-emits what may go.
pub(super) fn answer<S, E>(call: StreamCall, upstream: S) -> Response<Body>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let state = call.state.clone();
    event_stream(state, |tx| relay_task(call, upstream, tx))
}

async fn relay_task<S, E>(call: StreamCall, upstream: S, tx: Sender<Bytes>)
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
        chat,
        endpoint,
        mut provenance,
    } = call;
    let mut template = payload.clone();
    template.stage = Stage::Response;
    template.attributes = vec![endpoint];
    let lanes = StreamLanes::new(pipeline.clone(), template, state.config.holdback_bytes);
    let relay = relay::Relay::new(lanes, chat);
    let verbatim = pipeline.policy().audit.capture == crate::policy::Capture::Verbatim;
    let mut seen = Seen {
        provenance: &mut provenance,
        sent: verbatim.then(String::new),
    };
    let (end, status, tokens) = pump(upstream, relay, &tx, &payload.request_id, &mut seen).await;
    let sent = seen.sent.take();
    provenance.response_body = sent;
    // The upstream request is over (dropped with the stream when the
    // client left): the slots go back before the record is written.
    drop(permits);
    // The answer is out: blocking judges cannot hold it any more, so
    // every judgement of a stream runs after it (rows say `streamed`).
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

/// What a stream tells the record besides its texts: the model that
/// answered and, under `capture = "verbatim"`, every byte sent to the
/// client.
pub(in crate::serve) struct Seen<'a> {
    pub(in crate::serve) provenance: &'a mut crate::audit::Provenance,
    pub(in crate::serve) sent: Option<String>,
}

impl Seen<'_> {
    /// Keeps `b` when the stream's bytes are kept (`capture = "verbatim"`).
    pub(in crate::serve) fn sent(&mut self, b: &Bytes) {
        if let Some(s) = &mut self.sent {
            s.push_str(&String::from_utf8_lossy(b));
        }
    }
}

/// Reads upstream events until the answer ends or the client leaves;
/// returns the lanes' end, the status to record and the token counts.
async fn pump<S, E>(
    mut upstream: S,
    mut relay: relay::Relay,
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
    let mut broken = String::new();
    let ending = 'read: loop {
        // A client that leaves ends the upstream request now, not when
        // the upstream is done talking.
        let next = tokio::select! {
            biased;
            _ = tx.closed() => break 'read Ending::ClientGone,
            next = upstream.next() => next,
        };
        let chunk = match next {
            None => break 'read Ending::Truncated,
            Some(Err(e)) => {
                broken = e.to_string();
                break 'read Ending::Broken;
            }
            Some(Ok(c)) => c,
        };
        total += chunk.len();
        if total > MAX_STREAM_BYTES {
            break 'read Ending::TooLarge;
        }
        reader.push(&chunk);
        while let Some(data) = reader.next_data() {
            if data.trim() == "[DONE]" {
                break 'read Ending::Complete;
            }
            let Ok(chunk) = serde_json::from_str::<Chunk>(&data) else {
                break 'read Ending::Invalid;
            };
            if let Some(e) = chunk.rest.get("error") {
                // Its message is upstream text the rails have not seen:
                // only its code is passed on.
                broken = e
                    .get("code")
                    .or_else(|| e.get("type"))
                    .and_then(|c| c.as_str())
                    .unwrap_or("unknown")
                    .to_string();
                break 'read Ending::UpstreamError;
            }
            let field = |k: &str| chunk.rest.get(k).and_then(|v| v.as_str());
            seen.provenance
                .first_seen(field("model"), field("system_fingerprint"));
            if let Some(u) = &chunk.usage {
                tokens.prompt = u.get("prompt_tokens").and_then(|t| t.as_u64());
                tokens.completion = u.get("completion_tokens").and_then(|t| t.as_u64());
            }
            let out = super::offload::run(total, || relay.chunk(chunk));
            if let Some(out) = out {
                let b = event(&out.to_string());
                seen.sent(&b);
                if tx.send(b).await.is_err() {
                    break 'read Ending::ClientGone;
                }
            }
        }
    };
    // Some upstreams close without `[DONE]` once every choice finished.
    let ending = match ending {
        Ending::Truncated if relay.all_finished() && reader.pending() == 0 => Ending::Complete,
        e => e,
    };
    if !relay.dropped().is_empty() {
        tracing::warn!(request_id, fields = ?relay.dropped(), "streamed delta fields railyard does not guard were dropped");
    }
    drop(upstream);
    let complete = matches!(ending, Ending::Complete);
    let (end, closing) = tokio::task::block_in_place(|| relay.finish(complete));
    let mut out: Vec<Bytes> = Vec::new();
    let status = match (&ending, closing) {
        (Ending::ClientGone, _) => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        (Ending::Complete, None) => {
            let reason = &end.evaluation.reason;
            out.push(error_event(
                "response_blocked",
                &format!(
                    "railyard blocked the model's answer: {} (request id {})",
                    if reason.is_empty() { "policy" } else { reason },
                    end.evaluation.request_id
                ),
            ));
            out.push(event("[DONE]"));
            StatusCode::BAD_REQUEST
        }
        (Ending::Complete, Some(chunks)) => {
            out.extend(chunks.iter().map(|c| event(&c.to_string())));
            out.push(event("[DONE]"));
            StatusCode::OK
        }
        (Ending::Truncated, _) => {
            out.push(error_event(
                "upstream_truncated",
                "the upstream stream ended before the answer was complete (no finish reason and no [DONE]); the answer is incomplete",
            ));
            StatusCode::BAD_GATEWAY
        }
        (Ending::Broken, _) => {
            out.push(error_event(
                "upstream_stream_broken",
                &format!("the upstream stream broke off: {broken}"),
            ));
            StatusCode::BAD_GATEWAY
        }
        (Ending::Invalid, _) => {
            out.push(error_event(
                "upstream_invalid",
                "the upstream sent an event that is not a completion chunk; the stream is ended so no unchecked text passes",
            ));
            StatusCode::BAD_GATEWAY
        }
        (Ending::UpstreamError, _) => {
            out.push(error_event(
                "upstream_error",
                &format!("the upstream reported an error mid-stream (code `{broken}`)"),
            ));
            StatusCode::BAD_GATEWAY
        }
        (Ending::TooLarge, _) => {
            out.push(error_event(
                "response_too_large",
                &format!("the streamed answer exceeded {MAX_STREAM_BYTES} bytes"),
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
