//! An upstream's error body on its way to the client: its texts go
//! through the response rails like an answer's, because an error message
//! can quote the prompt (a card number in a validation error) or leak
//! anything else.

use bytes::Bytes;
use serde_json::{Value, json};

use super::texts;
use crate::payload::{Payload, Stage};
use crate::pipeline::{Evaluation, Pipeline};
use crate::verdict::Action;

/// An error body, guarded.
pub struct GuardedError {
    /// What goes to the client.
    pub body: Bytes,
    /// The response rails' evaluation of the body's texts.
    pub evaluation: Evaluation,
    /// The payload evaluated (one message per text, with its field).
    pub payload: Payload,
}

/// Runs the texts of an upstream error `body` through the response
/// stage: redactions are written back in place; a block replaces the body
/// with railyard's own error (code `upstream_error_withheld`). A body that
/// is not JSON is one text.
pub fn guard(
    pipeline: &Pipeline,
    request: &Payload,
    endpoint: &(String, String),
    body: Bytes,
) -> GuardedError {
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let found = match &parsed {
        Some(v) => {
            let mut out = Vec::new();
            let not_text = |k: &str| matches!(k, "type" | "param");
            texts::walk(v, "", "", "assistant", &not_text, &mut out);
            out
        }
        None => vec![texts::Text {
            pointer: String::new(),
            field: "body".into(),
            role: "assistant".into(),
            content: String::from_utf8_lossy(&body).into_owned(),
        }],
    };
    let payload = Payload {
        stage: Stage::Response,
        messages: found.iter().map(texts::Text::message).collect(),
        attributes: std::iter::once(endpoint.clone())
            .chain(texts::attributes(&found, "upstream-error"))
            .collect(),
        ..request.clone()
    };
    let mut evaluation = pipeline.evaluate(&payload);
    evaluation.arm = super::rollout::arm();
    let body = if evaluation.action == Action::Block {
        Bytes::from(
            json!({"error": {
                "message": format!(
                    "railyard withheld the upstream's error message: {} (request id {})",
                    evaluation.reason, evaluation.request_id
                ),
                "type": "upstream_error",
                "param": null,
                "code": "upstream_error_withheld",
            }})
            .to_string(),
        )
    } else {
        match (&evaluation.redacted, parsed) {
            (Some(redacted), Some(mut v)) => {
                texts::write_back(&mut v, &found, redacted);
                Bytes::from(v.to_string())
            }
            (Some(redacted), None) => Bytes::from(
                redacted
                    .first()
                    .map(|m| m.content.clone())
                    .unwrap_or_default(),
            ),
            (None, _) => body,
        }
    };
    GuardedError {
        body,
        evaluation,
        payload,
    }
}
