//! `GET /metrics`: on the model-facing address by default, or only on its
//! own (`[metrics] listen`), so scrapes can stay on an internal network
//! while callers reach the proxy.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};

use super::{ApiError, Body, Server, State, access, full};

/// The Prometheus text of every counter, or 401 without the metrics key.
pub(crate) fn answer(state: &State, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    access::authenticate_metrics(&state.config, headers).inspect_err(|e| {
        let event = super::evidence::refusal("/metrics", None, None, e);
        state
            .events
            .record(event.credential(super::evidence::presented_key(headers)))
    })?;
    let mut registry = prometheus_client::registry::Registry::default();
    state.metrics.register(&mut registry);
    state.reload_metrics().register(&mut registry);
    state.config_reloads.register(&mut registry);
    state.judges.register_metrics(&mut registry);
    state.quotas.register_metrics(&mut registry);
    state.rollouts.register(&mut registry);
    if let Some(a) = &state.audit {
        register_audit(a, &mut registry);
    }
    register_pool(&state.engine, &mut registry);
    register_connections(&state.connections, &mut registry);
    register_heap(&mut registry);
    let out = super::metrics::encode(&registry);
    let mut r = Response::new(full(out));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    Ok(r)
}

/// The audit log's backlog and health.
fn register_audit(a: &crate::audit::AuditLog, r: &mut prometheus_client::registry::Registry) {
    use prometheus_client::metrics::counter::ConstCounter;
    let s = a.stats();
    r.register(
        "railyard_audit_backlog_bytes",
        "WAL bytes not yet committed to the audit tables",
        gauge(s.backlog_bytes),
    );
    r.register(
        "railyard_audit_over_limit_records",
        "Records accepted past the backlog bound (on-full = alarm)",
        ConstCounter::new(s.over_limit_records),
    );
    r.register(
        "railyard_audit_corrupt_regions",
        "Damaged WAL regions found during recovery",
        ConstCounter::new(s.corrupt_regions),
    );
    r.register(
        "railyard_audit_commit_failing",
        "1 while the last commit to the audit tables failed",
        gauge(u64::from(a.last_error().is_some())),
    );
}

/// A gauge of a count, saturating at `i64::MAX`.
fn gauge(v: u64) -> prometheus_client::metrics::gauge::ConstGauge {
    prometheus_client::metrics::gauge::ConstGauge::new(i64::try_from(v).unwrap_or(i64::MAX))
}

/// Client connections against `[limits] max-connections`.
fn register_connections(
    c: &super::connections::Connections,
    r: &mut prometheus_client::registry::Registry,
) {
    r.register(
        "railyard_connections_open",
        "Client connections open now (this scrape's included)",
        gauge(c.open() as u64),
    );
    r.register(
        "railyard_connections_limit",
        "Client connections open at most ([limits] max-connections); more wait in the listen queue",
        gauge(c.limit() as u64),
    );
}

/// The engine's instance pool: how full it is, and the memory it keeps
/// resident in slots no instance uses (the pool resets a slot's dirtied
/// pages in place and keeps them for the next instance, so resident memory
/// follows the most instances ever alive at once).
fn register_pool(
    engine: &crate::engine::RailyardEngine,
    r: &mut prometheus_client::registry::Registry,
) {
    let Some(m) = engine.wasmtime().pooling_allocator_metrics() else {
        return;
    };
    r.register(
        "railyard_pool_instances_capacity",
        "Component instances the pool holds at most (RAILYARD_POOL_INSTANCES)",
        gauge(u64::from(engine.pool_instances())),
    );
    r.register(
        "railyard_pool_instances_in_use",
        "Component instances alive now (plugin calls running, stream scanners held)",
        gauge(m.component_instances()),
    );
    r.register(
        "railyard_pool_warm_memory_slots",
        "Linear-memory slots not in use that an instance used before",
        gauge(u64::from(m.unused_warm_memories())),
    );
    r.register(
        "railyard_pool_warm_memory_resident_bytes",
        "Bytes kept resident in linear-memory slots not in use (RAILYARD_POOL_KEEP_RESIDENT_KIB per slot at most)",
        gauge(m.unused_memory_bytes_resident() as u64),
    );
}

/// The process heap (glibc only): live bytes against what the allocator
/// keeps free, so a resident size that grows can be told apart as data
/// held or as pages the allocator has not returned.
fn register_heap(r: &mut prometheus_client::registry::Registry) {
    let Some(h) = crate::heap::usage() else {
        return;
    };
    r.register(
        "railyard_heap_in_use_bytes",
        "Bytes in live heap allocations, every malloc arena (glibc mallinfo2)",
        gauge(h.in_use),
    );
    r.register(
        "railyard_heap_free_bytes",
        "Bytes in free chunks of the malloc arenas (glibc mallinfo2); pages inside them may already be returned to the system, so compare with the resident size",
        gauge(h.free),
    );
}

/// The metrics-only listener: `GET /metrics` and nothing else.
async fn handle(server: Arc<Server>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let state = server.current();
    let answered = if req.uri().path() != "/metrics" {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "not_found",
            "this address serves only GET /metrics",
        ))
    } else if req.method() != Method::GET {
        Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            "method_not_allowed",
            "GET /metrics",
        ))
    } else {
        answer(&state, req.headers())
    };
    Ok(answered.unwrap_or_else(|e| e.response()))
}

/// Serves `/metrics` on `listener` until the process ends.
pub async fn serve(server: Arc<Server>, listener: tokio::net::TcpListener) {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "metrics listener: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let server = server.clone();
        let header_timeout = server.current().config.limits.header_timeout;
        let service = hyper::service::service_fn(move |req| handle(server.clone(), req));
        tokio::spawn(
            http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service),
        );
    }
}
