//! The operator's endpoints: readiness, the loaded plugins, and reloading
//! plugins and policies.

use std::net::SocketAddr;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use super::server::{Server, Trigger};
use super::{ApiError, Body, State, access, evidence, expect, json_response};

/// `/admin/*`: the admin key first, then the endpoint. Every admin call,
/// and every refused one, is an `events` row naming the admin.
pub(super) fn answer(
    server: &Server,
    state: &State,
    req: &Request<Incoming>,
    method: &Method,
    endpoint: &'static str,
    request_id: &str,
    peer: Option<SocketAddr>,
) -> Result<Response<Body>, ApiError> {
    let admin = access::authenticate_admin(&state.config, req.headers()).inspect_err(|e| {
        state.events.record(
            evidence::refusal(endpoint, peer, Some(request_id), e)
                .credential(evidence::presented_key(req.headers())),
        )
    })?;
    let (what, report) = match endpoint {
        "/admin/plugins" => {
            expect(method, Method::GET, endpoint)?;
            let listed = json!({"request_id": request_id});
            state.events.record(evidence::admin_call(
                &admin,
                endpoint,
                peer,
                "listed plugins",
                listed,
            ));
            return Ok(json_response(StatusCode::OK, &plugins_json(state)));
        }
        "/admin/reload-config" => {
            expect(method, Method::POST, endpoint)?;
            let (status, report) = reload_config(server);
            state.events.record(evidence::admin_call(
                &admin,
                endpoint,
                peer,
                "reloaded serve.toml",
                report.clone(),
            ));
            return Ok(json_response(status, &report));
        }
        _ => {
            expect(method, Method::POST, endpoint)?;
            ("reloaded plugins and policies", reload(state))
        }
    };
    state.events.record(evidence::admin_call(
        &admin,
        endpoint,
        peer,
        what,
        report.clone(),
    ));
    Ok(json_response(StatusCode::OK, &report))
}

/// `GET /healthz`: the process answers.
pub(super) fn health(state: &State) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &json!({"status": "ok", "uptime_s": state.started.elapsed().as_secs()}),
    )
}

pub(super) fn readiness(state: &State) -> Response<Body> {
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

/// `POST /admin/reload-config`: 200 when the file was applied, 400 with
/// the error when it was refused whole (the running configuration stays).
fn reload_config(server: &Server) -> (StatusCode, Value) {
    let r = tokio::task::block_in_place(|| server.reload_config(Trigger::Admin));
    let (applied, refused) = server.current().config_reloads();
    (
        if r.applied {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
        json!({
            "applied": r.applied,
            "error": r.error,
            "needs_restart": r.needs_restart,
            "config_reloads_total": {"applied": applied, "refused": refused},
        }),
    )
}
