//! What one call carries from its first byte to its last: its trace (see
//! [`crate::telemetry`]), its quota ticket (see [`super::quota::settle`])
//! and the audit records its answer waits for ([`owe`]).
//! The request handler opens the scope, a streamed answer's task carries
//! it on ([`carried`]), and whichever ends the call closes it: the call
//! span ends, the reservation is settled.

use std::sync::{Arc, Mutex};

use hyper::header::HeaderValue;
use hyper::{HeaderMap, Response, StatusCode};
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;

use super::error::ApiError;
use super::quota::settle::{self, Ticket};
use super::{Body, State};
use crate::audit::DurablePoint;
use crate::telemetry::{self, CallTrace, Child};

/// One call's scope, held by its request handler.
pub(super) struct CallScope {
    trace: Arc<CallTrace>,
    ticket: Arc<Ticket>,
    owed: Arc<Owed>,
}

/// Audit records a call appended whose fsync runs in the background
/// (`durability = "fsync"`): where in the WAL each ends. Nothing of the
/// call's answer goes out before each is durable ([`CallScope::settle`]).
#[derive(Default)]
pub(super) struct Owed(Mutex<Vec<DurablePoint>>);

impl Owed {
    fn take(&self) -> Vec<DurablePoint> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

tokio::task_local! {
    static OWED: Arc<Owed>;
}

/// Adds a record to what the current call's answer waits for; `false`
/// outside a call (the caller must then wait for it itself).
pub(super) fn owe(point: DurablePoint) -> bool {
    OWED.try_with(|o| o.0.lock().unwrap_or_else(|p| p.into_inner()).push(point))
        .is_ok()
}

/// Runs `record` (which appends audit records and [`owe`]s them) and
/// waits until what it owed is durable: for records made where no answer
/// is held back for them (a streamed answer's end).
pub(super) async fn recorded<T>(
    state: &State,
    record: impl FnOnce() -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let owed = Arc::new(Owed::default());
    let out = OWED.sync_scope(owed.clone(), record)?;
    durable(state, owed.take()).await?;
    Ok(out)
}

/// Waits until every point is durable. The last one's fsync covers the
/// ones before it (the WAL is written in order), so it is waited for
/// first; each is still checked, since a failed write can have lost an
/// earlier one and not a later one.
async fn durable(state: &State, points: Vec<DurablePoint>) -> Result<(), ApiError> {
    let Some(audit) = &state.audit else {
        return Ok(());
    };
    for point in points.into_iter().rev() {
        audit.durable(point).await.map_err(super::audit_error)?;
    }
    Ok(())
}

impl CallScope {
    /// Continues the caller's `traceparent` (a missing or invalid one
    /// starts a new trace) for the call to `endpoint`.
    pub(super) fn begin(headers: &HeaderMap, endpoint: &'static str, request_id: &str) -> Self {
        let caller = headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(telemetry::parse_traceparent);
        let trace = CallTrace::begin("railyard.call", caller, request_id);
        trace.set_attribute(KeyValue::new("http.route", endpoint));
        CallScope {
            trace: Arc::new(trace),
            ticket: Ticket::new(),
            owed: Arc::default(),
        }
    }

    /// Runs the handler's work inside the scope.
    pub(super) async fn run<F: Future>(&self, f: F) -> F::Output {
        let f = OWED.scope(self.owed.clone(), super::rollout::scope(f));
        self.trace.clone().scope(self.ticket.clone().scope(f)).await
    }

    /// Waits until every audit record the handler [`owe`]d is durable: the
    /// handler's answer (or error) goes out only after this, and an `Err`
    /// (the records were lost) replaces it with a 503.
    pub(super) async fn settle(&self, state: &State) -> Result<(), ApiError> {
        durable(state, self.owed.take()).await
    }

    /// The answer is ready: it names the call's span in `traceparent`,
    /// and (unless a streamed answer's task settles it later) the
    /// reservation is settled and the `x-ratelimit-*` headers say so.
    pub(super) async fn end(self, state: &State, response: &mut Response<Body>) {
        self.trace.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(response.status().as_u16()),
        ));
        if let Ok(v) = HeaderValue::from_str(&self.trace.traceparent()) {
            response.headers_mut().insert("traceparent", v);
        }
        if !self.ticket.carried()
            && let Some(standing) = self.ticket.settle(&state.quotas).await
        {
            settle::amend(response.headers_mut(), &standing);
        }
    }
}

/// `f` (a streamed answer's task, which outlives the handler) with the
/// current call's scope: it sees the call's trace, and settles the call's
/// reservation when it ends.
pub(super) fn carried<F>(state: Arc<State>, f: F) -> impl Future<Output = ()> + Send + 'static
where
    F: Future<Output = ()> + Send + 'static,
{
    let f = super::rollout::carried(f);
    let trace = telemetry::current();
    let ticket = settle::current();
    if let Some(t) = &ticket {
        t.carry();
    }
    async move {
        let settling = ticket.clone();
        let run = async move {
            f.await;
            if let Some(t) = settling {
                t.settle(&state.quotas).await;
            }
        };
        match (trace, ticket) {
            (Some(tr), Some(tk)) => tr.scope(tk.scope(run)).await,
            (Some(tr), None) => tr.scope(run).await,
            (None, Some(tk)) => tk.scope(run).await,
            (None, None) => run.await,
        }
    }
}

/// Sends an upstream request as a child span of the current call, with
/// its `traceparent`; the span lasts until the upstream's response
/// headers.
pub(super) async fn send(req: reqwest::RequestBuilder) -> reqwest::Result<reqwest::Response> {
    let Some(call) = telemetry::current() else {
        return req.send().await;
    };
    let child = Child::start(call.context(), "railyard.upstream", SpanKind::Client);
    let sent = req.header("traceparent", child.traceparent()).send().await;
    match &sent {
        Ok(r) => child.end(
            vec![KeyValue::new(
                "http.response.status_code",
                i64::from(r.status().as_u16()),
            )],
            (!r.status().is_success()).then(|| format!("upstream answered {}", r.status())),
        ),
        Err(e) => child.end(Vec::new(), Some(e.to_string())),
    }
    sent
}

/// Sends the upstream request of a proxied call. A transport failure is
/// recorded through `record_failure` and answered 504 `upstream_timeout`
/// or 502 `upstream_unreachable`. The request's record (`pending`) is
/// durable before the request is sent under `request-durability =
/// "before-upstream"`, and otherwise once the upstream answers, so
/// nothing of the answer goes out before it.
pub(super) async fn exchange(
    state: &State,
    req: reqwest::RequestBuilder,
    pending: Option<DurablePoint>,
    (upstream, url): (&str, &str),
    record_failure: impl Fn(StatusCode) -> Result<(), ApiError>,
) -> Result<reqwest::Response, ApiError> {
    let pending = state.before_upstream(pending).await?;
    let resp = match send(req).await {
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
                format!("upstream `{upstream}` ({url}): {e}"),
            ));
        }
    };
    state.request_durable(pending).await?;
    Ok(resp)
}

/// The current call's trace id, for its rows.
pub(super) fn trace_id() -> Option<String> {
    telemetry::current().map(|t| t.trace_id())
}
