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
use crate::audit::events::{Event, EventKind, Events, PolicyRow};
use crate::live::Reloader;
use crate::pipeline::Pipeline;

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
/// authentication failures (admin or caller by endpoint), 403s for a
/// policy or model not granted are access denials, quota codes are quota
/// refusals, the rest (503 `overloaded`, 429 caller concurrency)
/// overload.
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
        "policy_not_allowed" | "model_not_allowed" => EventKind::AccessDenied,
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
    events.policy_loaded(policy_row(&reloader.live().current(), events.host_id()));
    let (events, slot) = (events.clone(), slot.to_string());
    reloader.on_reload(Box::new(move |report, before, after| {
        reloaded(&events, &slot, report, before, after)
    }));
}

/// A reload of policy `slot` (its name in the serve configuration):
/// records what changed, and the new policy version.
fn reloaded(
    events: &Events,
    slot: &str,
    report: &crate::live::ReloadReport,
    before: &Pipeline,
    after: &Pipeline,
) {
    let (b, a) = (&before.policy().digest, &after.policy().digest);
    if report.swapped {
        events.policy_loaded(policy_row(after, events.host_id()));
        // Which plugin inventory ran before and runs now: each resolves
        // in `policies` (a plugins-only reload keeps the policy digest).
        let inventories = (
            policy_row(before, events.host_id()).inventory_digest,
            policy_row(after, events.host_id()).inventory_digest,
        );
        let what = if report.policy_replaced {
            "policy replaced"
        } else {
            "plugins reloaded"
        };
        events.record(
            Event::new(
                EventKind::PolicyReload,
                format!("policy `{slot}`: {what}"),
            )
            .policy(slot, Some(b), Some(a))
            .detail(serde_json::json!({
                "policy_replaced": report.policy_replaced,
                "inventory_before": inventories.0,
                "inventory_after": inventories.1,
                "went_live": report.went_live.iter().map(|(n, d)| serde_json::json!({"plugin": n, "digest": d.to_string()})).collect::<Vec<_>>(),
                "removed": report.removed,
            })),
        );
    }
    if report.policy_refused.is_some() || !report.refused.is_empty() {
        events.record(
            Event::new(
                EventKind::ReloadRefused,
                format!("policy `{slot}`: a reload was refused; the running version stays"),
            )
            .policy(slot, Some(b), Some(a))
            .detail(serde_json::json!({
                "policy_refused": report.policy_refused,
                "refused": report.refused.iter().map(|(m, step, e)| serde_json::json!({"manifest": m.display().to_string(), "step": step, "error": e})).collect::<Vec<_>>(),
            })),
        );
    }
}

/// The `policies` row of the policy `pipeline` runs: its text and the
/// plugins it loaded (also what `railyard check` records).
pub fn policy_row(pipeline: &Pipeline, host_id: &str) -> PolicyRow {
    let policy = pipeline.policy();
    let plugins: Vec<serde_json::Value> = pipeline
        .plugins()
        .map(|(n, p)| {
            serde_json::json!({
                "plugin": n,
                "name": p.info.name,
                "version": p.info.version,
                "kind": p.kind.as_str(),
                "stages": p.info.stages.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "digest": p.digest.to_string(),
            })
        })
        .collect();
    let plugins = serde_json::Value::Array(plugins).to_string();
    let mut hex = String::from("sha256:");
    hex.push_str(&crate::audit::chain::sha256_hex(plugins.as_bytes()));
    PolicyRow {
        policy_digest: policy.digest.clone(),
        timestamp_us: crate::audit::now_us(),
        host_id: host_id.to_string(),
        policy_name: policy.name.clone(),
        origin: policy.origin.clone(),
        text: policy.text.to_string(),
        plugins,
        inventory_digest: hex,
        wal_segment: 0,
        wal_offset: 0,
    }
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
