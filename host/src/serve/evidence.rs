//! The serve layer's side of the `events` and `policies` tables (see
//! `audit::events`): turning a refusal, an admin call or a reload into an
//! event, and the peer address each request carries.
//!
//! Each hook in the serve layer is one `state.events.record(…)` line built
//! by the functions here, so the request path stays readable and the
//! event logic stays in one place.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::HeaderMap;
use hyper::header;

use super::ApiError;
use crate::audit::events::{Event, EventKind, Events};
use crate::pipeline::live::Reloader;

/// The peer of a connection, put into each request's extensions by the
/// accept loop.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The peer address of a request, when the accept loop recorded it.
pub fn peer<B>(req: &hyper::Request<B>) -> Option<SocketAddr> {
    req.extensions().get::<Peer>().map(|p| p.0)
}

/// The credential a request presents, wherever it is (`x-admin-key`,
/// `Authorization: Bearer`, `x-api-key`): only its hash prefix is kept.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    value("x-admin-key")
        .or_else(|| {
            value(header::AUTHORIZATION.as_str()).map(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
                    .unwrap_or(v)
                    .trim()
            })
        })
        .or_else(|| value("x-api-key"))
}

/// The event of a refused request, its kind read from the error: 401s are
/// authentication failures (admin or caller by endpoint), quota codes
/// are quota refusals, the rest (503 `overloaded`, 429 caller
/// concurrency) overload.
pub fn refusal(
    endpoint: &str,
    peer: Option<SocketAddr>,
    request_id: Option<&str>,
    e: &ApiError,
) -> Event {
    let kind = match e.code {
        "tokens_per_minute_exceeded" | "requests_per_minute_exceeded" => EventKind::QuotaRefused,
        "quota_backend_unavailable" => EventKind::QuotaUnavailable,
        "overloaded" | "too_many_requests" => EventKind::Overloaded,
        _ if endpoint.starts_with("/admin/") => EventKind::AdminAuthFailure,
        _ if endpoint == "/metrics" => EventKind::MetricsAuthFailure,
        _ => EventKind::AuthFailure,
    };
    let mut event = Event::new(kind, e.message.clone())
        .endpoint(endpoint)
        .remote(peer)
        .answered(e.status.as_u16(), e.code);
    if let Some(id) = request_id {
        event = event.request_id(id);
    }
    event
}

/// The event of an admin call: who, which endpoint, and what it did.
pub fn admin_call(
    admin: &str,
    endpoint: &str,
    peer: Option<SocketAddr>,
    what: &str,
    detail: serde_json::Value,
) -> Event {
    Event::new(EventKind::AdminCall, format!("admin `{admin}`: {what}"))
        .admin(admin)
        .endpoint(endpoint)
        .remote(peer)
        .detail(detail)
}

/// Records the policy `slot` serves now (its text and plugins), and every
/// later reload of it, whatever starts the reload.
pub fn watch_policy(events: &Arc<Events>, slot: &str, reloader: &Reloader) {
    events.policy_loaded(&reloader.live().current());
    let (events, slot) = (events.clone(), slot.to_string());
    reloader.on_reload(Box::new(move |report, before, after| {
        events.reloaded(&slot, report, before, after)
    }));
}

/// What a start event says: where the server listens and the policies
/// it serves, by digest.
pub fn start_detail(state: &super::State, listen: Option<SocketAddr>) -> serde_json::Value {
    let mut policies: Vec<_> = state
        .policies
        .iter()
        .map(|(name, slot)| {
            serde_json::json!({"policy": name, "digest": slot.pipeline().policy().digest})
        })
        .collect();
    policies.sort_by(|a, b| a["policy"].as_str().cmp(&b["policy"].as_str()));
    serde_json::json!({
        "listen": listen.map(|a| a.to_string()),
        "pid": std::process::id(),
        "version": env!("CARGO_PKG_VERSION"),
        "policies": policies,
        "callers": state.config.callers.len(),
        "admins": state.config.admins.len(),
    })
}
