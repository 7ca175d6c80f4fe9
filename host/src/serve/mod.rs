//! `railyard serve`: the guard API and the OpenAI-compatible guarded proxy.
//!
//! Endpoints:
//!
//! | endpoint | what |
//! |---|---|
//! | `POST /v1/guard` | evaluate a payload; verdict, per-plugin decisions, redacted messages |
//! | `POST /v1/chat/completions`, `POST /v1/completions` | request rails, upstream call, response rails (streamed or not) |
//! | `POST /v1/responses` | the same for the OpenAI Responses API, streamed and not (see `responses`) |
//! | `POST /v1/messages` | the same for the Anthropic Messages API, to an `api = "anthropic"` upstream (see `anthropic`) |
//! | `GET /v1/models` | the upstream's model list |
//! | `GET /healthz`, `GET /readyz`, `GET /metrics` | liveness, readiness (plugins loaded, audit log writable), Prometheus text |
//! | `GET /admin/plugins`, `POST /admin/reload` | loaded plugins with version and digest; reload plugins and policies (admin key) |
//!
//! Errors are OpenAI-shaped (`{"error": {"message", "type", "param", "code"}}`)
//! with the status and code listed in the README. Every response carries
//! `x-railyard-request-id`, the id every decision of the request is
//! recorded under.

pub mod access;
pub mod anthropic;
pub mod audit_config;
pub mod config;
pub mod evidence;
pub mod metrics;
pub mod metrics_endpoint;
mod proxy;
pub mod quota;
mod request_texts;
pub mod responses;
mod sse;
pub mod stream;
mod texts;
mod upstream_error;
pub mod wire;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::audit::{AuditLog, CallInfo, RecordContext};
use crate::engine::{EngineSettings, RailyardEngine};
use crate::payload::{Message, Payload, Stage, new_request_id};
use crate::pipeline::Pipeline;
use crate::pipeline::live::{MetricsSnapshot, Reloader, Watcher};
use crate::plugin::PluginLoader;
use crate::policy::Policy;
use access::CallerId;

pub use config::ServeConfig;

/// A response body: whole or streamed.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// An error answered to the client, OpenAI-shaped.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// OpenAI error type (`invalid_request_error`, `authentication_error`, …).
    pub kind: &'static str,
    /// Machine-readable code (`request_blocked`, `body_too_large`, …).
    pub code: &'static str,
    /// What happened, for a human.
    pub message: String,
    /// Headers to send with it (a quota's `Retry-After` and
    /// `x-ratelimit-*`).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            kind,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            message,
        )
    }

    fn body(&self) -> Value {
        json!({"error": {"message": self.message, "type": self.kind, "param": null, "code": self.code}})
    }

    fn response(&self) -> Response<Body> {
        let mut r = json_response(self.status, &self.body());
        if self.status == StatusCode::SERVICE_UNAVAILABLE
            || self.status == StatusCode::TOO_MANY_REQUESTS
        {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        add_headers(&mut r, &self.headers);
        r
    }
}

fn add_headers(r: &mut Response<Body>, headers: &[(&'static str, String)]) {
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            r.headers_mut().insert(*name, v);
        }
    }
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    json_bytes(status, value.to_string())
}

/// A JSON body already serialised (an upstream's answer passed on).
fn json_bytes(status: StatusCode, bytes: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(full(bytes));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// One named policy, kept current by its reloader.
pub struct PolicySlot {
    /// The policy's name in the configuration.
    pub name: String,
    reloader: Arc<Reloader>,
    _watcher: Option<Watcher>,
}

impl PolicySlot {
    /// The pipeline serving now.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        self.reloader.live().current()
    }
}

/// Everything a request handler shares.
pub struct State {
    /// The configuration.
    pub config: ServeConfig,
    policies: HashMap<String, PolicySlot>,
    audit: Option<Arc<AuditLog>>,
    /// Operational events and policy versions (`audit::events`).
    pub events: Arc<crate::audit::events::Events>,
    judges: Arc<crate::judge::Dispatcher>,
    metrics: metrics::Metrics,
    concurrency: Arc<Semaphore>,
    per_caller: HashMap<String, Arc<Semaphore>>,
    quotas: quota::Quotas,
    client: reqwest::Client,
    started: Instant,
}

impl State {
    /// Loads every policy and its plugins, and opens the audit log.
    pub fn new(config: ServeConfig, audit: Option<AuditLog>) -> anyhow::Result<State> {
        let audit = audit.map(Arc::new);
        let events = Arc::new(crate::audit::events::Events::new(audit.clone()));
        let judges = Arc::new(crate::judge::Dispatcher::new(
            &config.judges,
            audit.clone(),
        )?);
        let engine = RailyardEngine::new(EngineSettings::default())?;
        let loader = PluginLoader::new(engine)?;
        let mut policies = HashMap::new();
        for (name, path) in &config.policies {
            let reloader = match path {
                Some(p) => Reloader::from_file(loader.clone(), p)?,
                None => Reloader::from_policy(loader.clone(), Policy::embedded_default())?,
            };
            let reloader = Arc::new(reloader);
            evidence::watch_policy(&events, name, &reloader);
            // Watches the policy file and its plugins folder, and reloads
            // on SIGHUP (which must never stop the server).
            let watcher = Some(reloader.watch()?);
            policies.insert(
                name.clone(),
                PolicySlot {
                    name: name.clone(),
                    reloader,
                    _watcher: watcher,
                },
            );
        }
        let per_caller = config
            .callers
            .iter()
            .filter_map(|c| {
                c.max_concurrency
                    .map(|n| (c.name.clone(), Arc::new(Semaphore::new(n))))
            })
            .collect();
        let quotas = quota::Quotas::new(
            config.limits.quota,
            config
                .callers
                .iter()
                .map(|c| (c.name.clone(), c.quota))
                .collect(),
        );
        let quotas = match &config.shared_quotas {
            Some(shared) => quotas.shared(shared)?,
            None => quotas,
        };
        let client = reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(90))
            .build()?;
        Ok(State {
            concurrency: Arc::new(Semaphore::new(config.limits.max_concurrency)),
            config,
            policies,
            audit,
            events,
            judges,
            metrics: metrics::Metrics::default(),
            per_caller,
            quotas,
            client,
            started: Instant::now(),
        })
    }

    fn policy(&self, name: &str) -> Result<&PolicySlot, ApiError> {
        self.policies.get(name).ok_or_else(|| {
            let mut names: Vec<_> = self.policies.keys().cloned().collect();
            names.sort();
            ApiError::bad_request(
                "unknown_policy",
                format!(
                    "no policy named `{name}` (this server has: {})",
                    names.join(", ")
                ),
            )
        })
    }

    /// Records an evaluation; an error means the decision is not
    /// acknowledged and the request must fail (503). Returns the decision
    /// ids, in plugin order (none without an audit log).
    fn record(
        &self,
        evaluation: &crate::pipeline::Evaluation,
        payload: &Payload,
        capture: crate::policy::Capture,
        call: Option<CallInfo<'_>>,
    ) -> Result<Vec<String>, ApiError> {
        let Some(audit) = &self.audit else {
            return Ok(Vec::new());
        };
        let ctx = RecordContext {
            payload,
            capture,
            call,
        };
        tokio::task::block_in_place(|| audit.record(evaluation, &ctx))
            .map(|ack| ack.decision_ids)
            .map_err(audit_error)
    }

    /// Runs the judges a stage's routers asked for: the blocking ones now,
    /// within the route's budget, folding their verdicts into
    /// `evaluation`. What comes back goes to [`State::settle`] once the
    /// evaluation is recorded.
    async fn judge(
        &self,
        evaluation: &mut crate::pipeline::Evaluation,
        payload: &Payload,
        capture: crate::policy::Capture,
        can_hold: bool,
    ) -> crate::judge::Judged {
        let policy = self.config.judging(&payload.route);
        self.judges
            .judge(evaluation, payload, policy, capture, can_hold)
            .await
    }

    /// Records the blocking judgements (now that their routers' decision
    /// ids are known) and starts the async ones.
    fn settle(
        &self,
        judged: crate::judge::Judged,
        decision_ids: &[String],
    ) -> Result<(), ApiError> {
        if judged.is_empty() {
            return Ok(());
        }
        tokio::task::block_in_place(|| self.judges.settle(judged, decision_ids))
            .map_err(audit_error)
    }

    /// Shutdown: lets async judgements end (or records them as cut short).
    pub async fn drain_judges(&self, grace: std::time::Duration) {
        self.judges.drain(grace).await;
    }

    /// Flushes the audit log (shutdown).
    pub fn flush_audit(&self, timeout: std::time::Duration) -> Result<(), String> {
        match &self.audit {
            Some(a) => a.flush(timeout).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    fn reload_metrics(&self) -> MetricsSnapshot {
        let mut total = MetricsSnapshot::default();
        for slot in self.policies.values() {
            let m = slot.reloader.metrics();
            total.reloads_total += m.reloads_total;
            total.swaps_total += m.swaps_total;
            total.plugins_live_total += m.plugins_live_total;
            total.policy_refused_total += m.policy_refused_total;
            for (step, n) in m.plugin_refused_total {
                *total.plugin_refused_total.entry(step).or_default() += n;
            }
        }
        total
    }
}

fn audit_error(e: crate::audit::AuditError) -> ApiError {
    tracing::error!(error = %e, "audit log refused a record: the request fails");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "server_error",
        "audit_unavailable",
        format!(
            "the decision could not be recorded in the audit log, so the request is refused: {e}"
        ),
    )
}

/// Reads a JSON request body within the size and time limits.
async fn read_json(state: &State, req: Request<Incoming>) -> Result<Value, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            "unsupported_media_type",
            format!(
                "the body must be JSON with `Content-Type: application/json` (got `{}`)",
                if content_type.is_empty() {
                    "none"
                } else {
                    content_type
                }
            ),
        ));
    }
    let limit = state.config.limits.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "body_too_large",
            format!(
                "the request body is larger than this server's limit of {limit} bytes ([limits] max-body-kib)"
            ),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), limit);
    let collected = tokio::time::timeout(state.config.limits.body_timeout, body.collect()).await;
    let bytes = match collected {
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "invalid_request_error",
                "body_timeout",
                format!(
                    "the request body did not arrive within {} ms",
                    state.config.limits.body_timeout.as_millis()
                ),
            ));
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Ok(Err(e)) => {
            return Err(ApiError::bad_request(
                "body_unreadable",
                format!("the request body could not be read: {e}"),
            ));
        }
        Ok(Ok(c)) => c.to_bytes(),
    };
    if let Err(e) = std::str::from_utf8(&bytes) {
        return Err(ApiError::bad_request(
            "invalid_utf8",
            format!(
                "the request body is not valid UTF-8 (first bad byte at offset {})",
                e.valid_up_to()
            ),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("the request body is not valid JSON: {e}"),
        )
    })
}

/// The request id: the caller's `x-request-id` when it is sane, else new.
fn request_id(req: &Request<Incoming>) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(new_request_id)
}

/// Handles one request: limits, auth, routing, metrics.
pub async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let request_id = request_id(&req);
    let endpoint = endpoint_name(req.method(), req.uri().path());
    let mut response = match dispatch(&state, req, &request_id, endpoint, started).await {
        Ok(r) => r,
        Err(e) => {
            if e.status.is_client_error() || e.status.is_server_error() {
                tracing::info!(request_id = %request_id, endpoint, status = e.status.as_u16(), code = e.code, "{}", e.message);
            }
            if endpoint == "/v1/messages" {
                anthropic::error_response(&e)
            } else {
                e.response()
            }
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-railyard-request-id", v);
    }
    state.metrics.request(
        endpoint,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    Ok(response)
}

fn endpoint_name(method: &Method, path: &str) -> &'static str {
    match (method.as_str(), path) {
        (_, "/v1/guard") => "/v1/guard",
        (_, "/v1/chat/completions") => "/v1/chat/completions",
        (_, "/v1/completions") => "/v1/completions",
        (_, "/v1/messages") => "/v1/messages",
        (_, "/v1/responses") => "/v1/responses",
        (_, "/v1/models") => "/v1/models",
        (_, "/healthz") => "/healthz",
        (_, "/readyz") => "/readyz",
        (_, "/metrics") => "/metrics",
        (_, "/admin/plugins") => "/admin/plugins",
        (_, "/admin/reload") => "/admin/reload",
        _ => "other",
    }
}

async fn dispatch(
    state: &Arc<State>,
    req: Request<Incoming>,
    request_id: &str,
    endpoint: &'static str,
    started: Instant,
) -> Result<Response<Body>, ApiError> {
    let method = req.method().clone();
    let peer = evidence::peer(&req);
    let expect = |m: Method| {
        if method == m {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request_error",
                "method_not_allowed",
                format!("{endpoint} takes {m}, not {method}"),
            ))
        }
    };
    match endpoint {
        "/healthz" => {
            expect(Method::GET)?;
            return Ok(json_response(
                StatusCode::OK,
                &json!({"status": "ok", "uptime_s": state.started.elapsed().as_secs()}),
            ));
        }
        "/readyz" => {
            expect(Method::GET)?;
            return Ok(readiness(state));
        }
        "/metrics" => {
            expect(Method::GET)?;
            if let Some(addr) = state.config.metrics_listen {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "invalid_request_error",
                    "not_found",
                    format!("/metrics is served on its own address, {addr}"),
                ));
            }
            return metrics_endpoint::answer(state, req.headers());
        }
        _ => {}
    }
    if endpoint.starts_with("/admin/") {
        let admin = access::authenticate_admin(&state.config, req.headers()).inspect_err(|e| {
            state.events.record(
                evidence::refusal(endpoint, peer, Some(request_id), e)
                    .credential(evidence::presented_key(req.headers())),
            )
        })?;
        return match endpoint {
            "/admin/plugins" => {
                expect(Method::GET)?;
                let listed = json!({"request_id": request_id});
                state.events.record(evidence::admin_call(
                    &admin,
                    endpoint,
                    peer,
                    "listed plugins",
                    listed,
                ));
                Ok(json_response(StatusCode::OK, &plugins_json(state)))
            }
            _ => {
                expect(Method::POST)?;
                let report = reload(state);
                state.events.record(evidence::admin_call(
                    &admin,
                    endpoint,
                    peer,
                    "reloaded plugins and policies",
                    report.clone(),
                ));
                Ok(json_response(StatusCode::OK, &report))
            }
        };
    }
    if endpoint == "other" {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "not_found",
            format!("no endpoint {} {}", method, req.uri().path()),
        ));
    }
    // Model-facing endpoints: auth, then the concurrency limits.
    let caller = access::authenticate(&state.config, &state.client, req.headers())
        .await
        .inspect_err(|e| {
            state.metrics.refused("auth");
            let event = evidence::refusal(endpoint, peer, Some(request_id), e);
            state
                .events
                .record(event.credential(evidence::presented_key(req.headers())));
        })?;
    // Every refusal from here on is an `events` row naming the caller.
    let refused = |e: &ApiError| {
        let event = evidence::refusal(endpoint, peer, Some(request_id), e);
        state.events.record(event.caller(&caller.name))
    };
    let _permit = state
        .concurrency
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            state.metrics.refused("overloaded");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "overloaded",
                format!(
                    "the server is handling its limit of {} requests; retry shortly",
                    state.config.limits.max_concurrency
                ),
            )
        })
        .inspect_err(&refused)?;
    let _caller_permit = match state.per_caller.get(&caller.name) {
        Some(s) => Some(
            s.clone()
                .try_acquire_owned()
                .map_err(|_| {
                    state.metrics.refused("caller_concurrency");
                    ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "rate_limit_error",
                        "too_many_requests",
                        format!("caller `{}` has too many requests in flight", caller.name),
                    )
                })
                .inspect_err(&refused)?,
        ),
        None => None,
    };
    // What the record takes from the headers (end user, attributes).
    let tags = state.config.audit.tags(req.headers());
    match endpoint {
        "/v1/guard" => {
            expect(Method::POST)?;
            let body = read_json(state, req).await?;
            // A guard call asks no model for tokens: it counts as a request.
            let standing = admit(state, &caller, quota::Cost { tokens: 0 })
                .await
                .inspect_err(&refused)?;
            let mut r = guard(state, body, request_id, &caller, started, &tags).await?;
            add_headers(&mut r, &standing.headers());
            Ok(r)
        }
        "/v1/models" => {
            expect(Method::GET)?;
            proxy::models(state).await
        }
        "/v1/messages" => {
            expect(Method::POST)?;
            let headers = anthropic::Headers::of(req.headers());
            let body = read_json(state, req).await?;
            let standing = admit(state, &caller, quota::estimate(&body))
                .await
                .inspect_err(&refused)?;
            anthropic::call(
                state.clone(),
                body,
                headers,
                tags,
                request_id.to_string(),
                caller,
                started,
                (_permit, _caller_permit),
            )
            .await
            .map(|mut r| {
                add_headers(&mut r, &standing.headers());
                r
            })
            .map_err(|mut e| {
                e.headers.extend(standing.headers());
                e
            })
        }
        _ => {
            expect(Method::POST)?;
            let body = read_json(state, req).await?;
            let standing = admit(state, &caller, quota::estimate(&body))
                .await
                .inspect_err(&refused)?;
            let kind = match endpoint {
                "/v1/chat/completions" => proxy::Kind::Chat,
                "/v1/responses" => proxy::Kind::Responses,
                _ => proxy::Kind::Completions,
            };
            // The permits are held until the answer (or the stream) ends.
            proxy::call(
                state.clone(),
                kind,
                body,
                tags,
                request_id.to_string(),
                caller,
                started,
                (_permit, _caller_permit),
            )
            .await
            .map(|mut r| {
                add_headers(&mut r, &standing.headers());
                r
            })
            .map_err(|mut e| {
                e.headers.extend(standing.headers());
                e
            })
        }
    }
}

/// The call's quotas (see `quota`): admitted with its standing, or 429
/// with `Retry-After` and the `x-ratelimit-*` headers.
async fn admit(
    state: &State,
    caller: &CallerId,
    cost: quota::Cost,
) -> Result<quota::Standing, ApiError> {
    if !state.quotas.applies(&caller.name) {
        state.metrics.admitted(&caller.name, cost.tokens);
        return Ok(quota::Standing::default());
    }
    state
        .quotas
        .check(&caller.name, cost)
        .await
        .inspect(|_| state.metrics.admitted(&caller.name, cost.tokens))
        .map_err(|d| {
            let r = match d {
                quota::Denial::Over(r) => r,
                quota::Denial::Unavailable(why) => {
                    state.metrics.refused("quota_backend_unavailable");
                    return ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "server_error",
                        "quota_backend_unavailable",
                        format!("the quota backend cannot be reached ({why}); retry shortly"),
                    );
                }
            };
            state.metrics.refused(if r.what == "tokens" {
                "tokens_per_minute"
            } else {
                "requests_per_minute"
            });
            let whose = match r.scope {
                "caller" => format!("caller `{}`", caller.name),
                _ => "this server".to_string(),
            };
            let (message, retry) = match r.retry_after {
                Some(wait) => (
                    format!(
                        "{whose} is over its quota of {} {} per minute; retry in {:.1} s",
                        r.limit,
                        r.what,
                        wait.as_secs_f64()
                    ),
                    wait.as_secs_f64().ceil().max(1.0) as u64,
                ),
                None => (
                    format!(
                        "this call needs more {} than {whose}'s whole per-minute quota of {} (lower max_tokens or split the prompt)",
                        r.what, r.limit
                    ),
                    60,
                ),
            };
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                if r.what == "tokens" {
                    "tokens_per_minute_exceeded"
                } else {
                    "requests_per_minute_exceeded"
                },
                message,
            );
            e.headers = r.standing.headers();
            e.headers.push(("retry-after", retry.to_string()));
            e
        })
}

fn readiness(state: &State) -> Response<Body> {
    let mut problems = Vec::new();
    for slot in state.policies.values() {
        if slot.pipeline().plugins().next().is_none() {
            problems.push(format!("policy `{}` has no plugins loaded", slot.name));
        }
    }
    if let Some(a) = &state.audit
        && let Err(e) = a.ready()
    {
        problems.push(e);
    }
    if problems.is_empty() {
        json_response(StatusCode::OK, &json!({"status": "ready"}))
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "not ready", "problems": problems}),
        )
    }
}

fn plugins_json(state: &State) -> Value {
    let mut names: Vec<_> = state.policies.keys().collect();
    names.sort();
    let policies: Vec<Value> = names
        .into_iter()
        .map(|name| {
            let pipeline = state.policies[name].pipeline();
            let plugins: Vec<Value> = pipeline
                .plugins()
                .map(|(n, p)| {
                    json!({
                        "plugin": n,
                        "name": p.info.name,
                        "version": p.info.version,
                        "kind": p.kind,
                        "stages": p.info.stages,
                        "digest": p.digest.to_string(),
                    })
                })
                .collect();
            json!({
                "policy": name,
                "policy_name": pipeline.policy().name,
                "policy_digest": pipeline.policy().digest,
                "plugins": plugins,
            })
        })
        .collect();
    json!({ "policies": policies })
}

fn reload(state: &State) -> Value {
    let mut reports = Vec::new();
    let mut refused = false;
    for slot in state.policies.values() {
        let r = tokio::task::block_in_place(|| slot.reloader.reload());
        refused |= r.policy_refused.is_some() || !r.refused.is_empty();
        reports.push(json!({
            "policy": slot.name,
            "swapped": r.swapped,
            "policy_replaced": r.policy_replaced,
            "policy_refused": r.policy_refused,
            "went_live": r.went_live.iter().map(|(n, d)| json!({"plugin": n, "digest": d.to_string()})).collect::<Vec<_>>(),
            "removed": r.removed,
            "refused": r.refused.iter().map(|(m, step, e)| json!({"manifest": m.display().to_string(), "step": step, "error": e})).collect::<Vec<_>>(),
        }));
    }
    json!({"reloaded": reports, "anything_refused": refused})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardRequest {
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    route: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Message>>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    attributes: Option<std::collections::BTreeMap<String, String>>,
}

async fn guard(
    state: &State,
    body: Value,
    request_id: &str,
    caller: &CallerId,
    started: Instant,
    tags: &audit_config::RequestTags,
) -> Result<Response<Body>, ApiError> {
    let g: GuardRequest = serde_json::from_value(body).map_err(|e| {
        ApiError::bad_request(
            "invalid_guard_request",
            format!("{e} (expected {{\"stage\": \"request\"|\"response\", \"messages\": [{{\"role\", \"content\"}}] or \"text\", \"policy\", \"route\", \"attributes\"}})"),
        )
    })?;
    let stage = match g.stage.as_deref() {
        None => Stage::Request,
        Some(s) => match Stage::parse(s) {
            Some(Stage::StreamChunk) | None => {
                return Err(ApiError::bad_request(
                    "invalid_stage",
                    format!("`stage` must be \"request\" or \"response\", not `{s}`"),
                ));
            }
            Some(s) => s,
        },
    };
    let messages = match (g.messages, g.text) {
        (Some(m), None) if !m.is_empty() => m,
        (None, Some(t)) => vec![Message::new(
            if stage == Stage::Request {
                "user"
            } else {
                "assistant"
            },
            t,
        )],
        _ => {
            return Err(ApiError::bad_request(
                "invalid_guard_request",
                "give exactly one of `messages` (non-empty) or `text`",
            ));
        }
    };
    let policy = g.policy.as_deref().unwrap_or(caller.own_policy());
    caller.check_policy(policy)?;
    let slot = state.policy(policy)?;
    let pipeline = slot.pipeline();
    let payload = Payload {
        request_id: request_id.to_string(),
        stage,
        route: g.route.unwrap_or_default(),
        caller: caller.name.clone(),
        messages,
        attributes: g.attributes.unwrap_or_default().into_iter().collect(),
    };
    let mut evaluation = tokio::task::block_in_place(|| pipeline.evaluate(&payload));
    let capture = pipeline.policy().audit.capture;
    let judged = state.judge(&mut evaluation, &payload, capture, true).await;
    state.metrics.evaluation(&evaluation);
    let provenance = tags.guard_provenance(&payload.attributes);
    let ids = state.record(
        &evaluation,
        &payload,
        capture,
        Some(CallInfo {
            status_code: Some(200),
            total_latency_us: Some(started.elapsed().as_micros() as u64),
            provenance: Some(&provenance),
            ..CallInfo::default()
        }),
    )?;
    state.settle(judged, &ids)?;
    let mut value = serde_json::to_value(&evaluation).expect("an evaluation serialises");
    if let Value::Object(map) = &mut value {
        let out = evaluation.redacted.as_ref().unwrap_or(&payload.messages);
        map.insert("messages".into(), json!(out));
        map.insert("policy_name".into(), json!(slot.name));
    }
    Ok(json_response(StatusCode::OK, &value))
}

/// Serves until SIGINT or SIGTERM, then drains requests in flight (up to
/// the shutdown grace) and flushes the audit log.
pub async fn serve(
    state: Arc<State>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;

    let graceful = GracefulShutdown::new();
    state
        .events
        .started(evidence::start_detail(&state, listener.local_addr().ok()));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let header_timeout = state.config.limits.header_timeout;
                let state = state.clone();
                let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(evidence::Peer(peer));
                    handle(state.clone(), req)
                });
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let grace = state.config.limits.shutdown_grace;
    eprintln!(
        "railyard: shutting down: draining requests in flight (up to {} s)",
        grace.as_secs()
    );
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("railyard: requests still in flight after the grace period were cut");
    }
    if state.judges.pending() > 0 {
        eprintln!(
            "railyard: waiting for {} async judgement(s) to be recorded",
            state.judges.pending()
        );
    }
    state.drain_judges(grace).await;
    state.events.stopped(json!({"pid": std::process::id()}));
    let flushed = tokio::task::block_in_place(|| state.flush_audit(grace));
    match flushed {
        Ok(()) => eprintln!("railyard: audit log flushed"),
        Err(e) => eprintln!("railyard: warning: {e}"),
    }
    Ok(())
}

/// Binds `addr` (port 0 picks a free one).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}
