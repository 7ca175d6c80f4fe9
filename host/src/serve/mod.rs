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
//! | `POST /admin/reload-config` | reload `serve.toml` (also SIGHUP and a change of the file; see `server`) |
//!
//! Errors are OpenAI-shaped (`{"error": {"message", "type", "param", "code"}}`)
//! with the status and code listed in the README. Every response carries
//! `x-railyard-request-id`, the id every decision of the request is
//! recorded under.

mod admin;
mod admission;
mod body;
mod call;
mod call_scope;
mod connections;
mod error;
mod guard;
mod offload;
mod server;
mod state;

pub mod access;
pub mod anthropic;
pub mod audit_config;
pub mod config;
pub mod evidence;
pub mod metrics;
pub mod metrics_endpoint;
mod openai_answer;
mod openai_texts;
mod proxy;
pub mod quota;
mod records;
mod request_texts;
pub mod responses;
pub mod rollout;
mod sse;
pub mod stream;
mod texts;
mod upstream_error;
pub mod wire;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Method, Request, Response, StatusCode};

use error::{add_headers, audit_error, full, json_bytes, json_response};

pub use config::ServeConfig;
pub use error::ApiError;
pub use server::{ConfigReload, ConfigSource, ConfigWatcher, Overrides, Server, Trigger};
pub use state::{PolicySlot, State};

/// A response body: whole or streamed.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// Serves until SIGINT or SIGTERM, then drains requests in flight (up to
/// the shutdown grace) and flushes the audit log.
pub async fn serve(
    server: Arc<Server>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;

    let graceful = GracefulShutdown::new();
    {
        let state = server.current();
        state
            .events
            .started(evidence::start_detail(&state, listener.local_addr().ok()));
    }
    tokio::pin!(shutdown);
    // Connections past the limit wait in the listen queue (see
    // `connections`): a slot is taken before each accept and held for the
    // connection's life.
    let connections = server.current().connections.clone();
    loop {
        let slot = tokio::select! {
            slot = connections.slot() => slot,
            () = &mut shutdown => break,
        };
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
                let header_timeout = server.current().config.limits.header_timeout;
                let server = server.clone();
                let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(evidence::Peer(peer));
                    handle(server.clone(), req)
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
                    drop(slot);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let state = server.current();
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
    state
        .events
        .stopped(serde_json::json!({"pid": std::process::id()}));
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

/// Handles one request: limits, auth, routing, metrics.
pub async fn handle(
    server: Arc<Server>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    // The configuration this call runs on, to its end (a reload swaps in
    // the next one for the calls after it).
    let state = server.current();
    let request_id = body::request_id(&req);
    let endpoint = endpoint_name(req.method(), req.uri().path());
    let scope = call_scope::CallScope::begin(req.headers(), endpoint, &request_id);
    let work = dispatch(&server, &state, req, &request_id, endpoint, started);
    let outcome = scope.run(work).await;
    // Nothing of the answer goes out before the call's records are
    // durable (`fsync` durability): a 503 instead if they were lost.
    let mut response = match scope.settle(&state).await.and(outcome) {
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
    scope.end(&state, &mut response).await;
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
        (_, "/admin/reload-config") => "/admin/reload-config",
        _ => "other",
    }
}

/// The dispatch table: the operator's endpoints answer without a caller;
/// the model-facing ones authenticate the caller, take its concurrency
/// slots and pass its quotas, then run.
async fn dispatch(
    server: &Server,
    state: &Arc<State>,
    req: Request<Incoming>,
    request_id: &str,
    endpoint: &'static str,
    started: Instant,
) -> Result<Response<Body>, ApiError> {
    let method = req.method().clone();
    let peer = evidence::peer(&req);
    match endpoint {
        "/healthz" => {
            expect(&method, Method::GET, endpoint)?;
            return Ok(admin::health(state));
        }
        "/readyz" => {
            expect(&method, Method::GET, endpoint)?;
            return Ok(admin::readiness(state));
        }
        "/metrics" => {
            expect(&method, Method::GET, endpoint)?;
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
        "/admin/plugins" | "/admin/reload" | "/admin/reload-config" => {
            return admin::answer(server, state, &req, &method, endpoint, request_id, peer);
        }
        "other" => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "not_found",
                format!("no endpoint {} {}", method, req.uri().path()),
            ));
        }
        _ => {}
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
    let caller_name = caller.name.clone();
    let refused = |e: &ApiError| {
        let event = evidence::refusal(endpoint, peer, Some(request_id), e);
        state.events.record(event.caller(&caller_name))
    };
    let answer = serve_caller(state, req, request_id, endpoint, started, caller, &refused).await;
    // A policy or model the caller was not granted: refused in the
    // handler, once the route is known; the attempt is evidence too.
    if let Err(e) = &answer
        && matches!(e.code, "policy_not_allowed" | "model_not_allowed")
    {
        refused(e);
    }
    answer
}

/// The model-facing endpoints, for an authenticated `caller`: its
/// concurrency slots and quotas, then the endpoint.
async fn serve_caller(
    state: &Arc<State>,
    req: Request<Incoming>,
    request_id: &str,
    endpoint: &'static str,
    started: Instant,
    caller: access::CallerId,
    refused: &impl Fn(&ApiError),
) -> Result<Response<Body>, ApiError> {
    let method = req.method().clone();
    // The permits are held until the answer (or the stream) ends.
    let permits = admission::permits(state, &caller).inspect_err(refused)?;
    // What the record takes from the headers (end user, attributes).
    let tags = state.config.audit.tags(req.headers());
    match endpoint {
        "/v1/guard" => {
            expect(&method, Method::POST, endpoint)?;
            let body = body::read_json(state, req).await?;
            // A guard call asks no model for tokens: it counts as a request.
            let standing = admission::admit(state, &caller, quota::Cost::default())
                .await
                .inspect_err(refused)?;
            let mut r = guard::guard(state, body, request_id, &caller, started, &tags).await?;
            add_headers(&mut r, &standing.headers());
            Ok(r)
        }
        "/v1/models" => {
            expect(&method, Method::GET, endpoint)?;
            proxy::models(state, &caller).await
        }
        "/v1/messages" => {
            expect(&method, Method::POST, endpoint)?;
            let headers = anthropic::Headers::of(req.headers());
            let body = body::read_json(state, req).await?;
            let standing = admission::admit(state, &caller, quota::estimate(&body))
                .await
                .inspect_err(refused)?;
            let call = call::Call {
                state: state.clone(),
                request_id: request_id.to_string(),
                caller,
                started,
                permits,
                tags,
            };
            let answer = anthropic::call(call, body, headers).await;
            with_standing(answer, &standing)
        }
        _ => {
            expect(&method, Method::POST, endpoint)?;
            let body = body::read_json(state, req).await?;
            let standing = admission::admit(state, &caller, quota::estimate(&body))
                .await
                .inspect_err(refused)?;
            let kind = match endpoint {
                "/v1/chat/completions" => proxy::Kind::Chat,
                "/v1/responses" => proxy::Kind::Responses,
                _ => proxy::Kind::Completions,
            };
            let call = call::Call {
                state: state.clone(),
                request_id: request_id.to_string(),
                caller,
                started,
                permits,
                tags,
            };
            let answer = proxy::call(call, kind, body).await;
            with_standing(answer, &standing)
        }
    }
}

/// 405 unless the call uses the endpoint's method.
fn expect(method: &Method, want: Method, endpoint: &str) -> Result<(), ApiError> {
    if *method == want {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            "method_not_allowed",
            format!("{endpoint} takes {want}, not {method}"),
        ))
    }
}

/// The caller's quota standing (`x-ratelimit-*`) on the answer, whether it
/// succeeded or failed.
fn with_standing(
    answer: Result<Response<Body>, ApiError>,
    standing: &quota::Standing,
) -> Result<Response<Body>, ApiError> {
    answer
        .map(|mut r| {
            add_headers(&mut r, &standing.headers());
            r
        })
        .map_err(|mut e| {
            e.headers.extend(standing.headers());
            e
        })
}
