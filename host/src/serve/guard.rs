//! `POST /v1/guard`: evaluate a payload the caller sends, without any
//! model; answers the verdict, the per-plugin decisions and the redacted
//! messages.

use std::time::Instant;

use hyper::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::CallerId;
use super::{ApiError, Body, State, json_response};
use crate::audit::CallInfo;
use crate::payload::{Message, Payload, Stage};

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

pub(super) async fn guard(
    state: &State,
    body: Value,
    request_id: &str,
    caller: &CallerId,
    started: Instant,
    tags: &super::audit_config::RequestTags,
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
    let route = g.route.unwrap_or_default();
    // A guard call naming a route that runs this policy takes the route's
    // rollout (its canary and shadow), as a proxied call would; one naming
    // no route takes none (a catch-all `*` would otherwise claim it).
    let named = (!route.is_empty())
        .then(|| state.config.route(&route))
        .flatten();
    let slot = match named.filter(|r| r.policy == policy) {
        Some(r) => super::rollout::serving(state, r, &caller.name, request_id)?,
        None => state.policy(policy)?,
    };
    let pipeline = slot.pipeline();
    let payload = Payload {
        request_id: request_id.to_string(),
        stage,
        route,
        caller: caller.name.clone(),
        messages,
        attributes: g.attributes.unwrap_or_default().into_iter().collect(),
    };
    let capture = pipeline.policy().audit.capture;
    let decided = state.decide(&pipeline, &payload, true, |_| {}).await;
    let provenance = tags.guard_provenance(&payload.attributes);
    let evaluation = decided.record(state, |evaluation| {
        state.record(
            evaluation,
            &payload,
            capture,
            Some(CallInfo {
                status_code: Some(200),
                total_latency_us: Some(started.elapsed().as_micros() as u64),
                provenance: Some(&provenance),
                ..CallInfo::default()
            }),
        )
    })?;
    let mut value = serde_json::to_value(&evaluation).expect("an evaluation serialises");
    if let Value::Object(map) = &mut value {
        let out = evaluation.redacted.as_ref().unwrap_or(&payload.messages);
        map.insert("messages".into(), json!(out));
        map.insert("policy_name".into(), json!(slot.name));
    }
    Ok(json_response(StatusCode::OK, &value))
}
