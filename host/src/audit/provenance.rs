//! Which model answered whom: the provenance columns of `inferences`.
//!
//! The serve layer fills a [`Provenance`] as a call goes through it (the
//! upstream it picked, the request's parameters and end user before the
//! call goes out, the model and `system_fingerprint` the upstream answered
//! with when the answer comes back) and hands it to the record with the
//! rest of the [`super::CallInfo`]. Every field is nullable: a guard call
//! has no upstream, an upstream that does not say which model answered
//! leaves `upstream_model` null, and rows written before these columns
//! existed read them as null.

use std::collections::BTreeMap;

use deltalake::kernel::{DataType, MapType, StructField};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The provenance columns of one `inferences` row (see
/// `docs/audit-schema.md`, "Provenance").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Provenance {
    /// The upstream's name in `serve.toml` the call was sent to.
    pub upstream: Option<String>,
    /// The model the upstream said answered (the answer's `model`).
    pub upstream_model: Option<String>,
    /// The answer's `system_fingerprint` (OpenAI), when it carried one.
    pub system_fingerprint: Option<String>,
    /// The request's sampling and tool parameters, a JSON object with only
    /// the keys the request set (see [`parameters_of`]).
    pub parameters: Option<String>,
    /// On whose behalf the caller made the call (see `docs/audit-schema.md`
    /// for where it comes from and which source wins).
    pub end_user: Option<String>,
    /// Business attributes: configured request headers
    /// (`[audit.attributes]` in `serve.toml`) or the guard API's
    /// `attributes`, by name.
    pub attributes: BTreeMap<String, String>,
    /// Under `capture = "verbatim"`: the request body exactly as it went
    /// upstream (request-stage redactions already written into it).
    pub request_body: Option<String>,
    /// Under `capture = "verbatim"`: the answer body exactly as the caller
    /// received it (response-stage redactions written into it).
    pub response_body: Option<String>,
}

/// Top-level request keys kept verbatim in `parameters` (OpenAI Chat
/// Completions, Completions and Responses, Anthropic Messages). Sampling
/// and length knobs, not content: no message text ever lands here.
const PARAMETER_KEYS: &[&str] = &[
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "n",
    "seed",
    "stop",
    "stop_sequences",
    "presence_penalty",
    "frequency_penalty",
    "stream",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
];

/// The `parameters` column of a request body: the keys of
/// [`PARAMETER_KEYS`] the request set, plus `tools`, the names of the
/// tools it offered (`tools[].function.name` in Chat Completions,
/// `tools[].name` in Responses and Anthropic Messages), never their
/// descriptions or schemas. `None` when the request set none of them.
pub fn parameters_of(body: &Value) -> Option<String> {
    let obj = body.as_object()?;
    let mut out = Map::new();
    for key in PARAMETER_KEYS {
        if let Some(v) = obj.get(*key).filter(|v| !v.is_null()) {
            out.insert((*key).to_string(), v.clone());
        }
    }
    if let Some(tools) = obj.get("tools").and_then(Value::as_array) {
        let names: Vec<Value> = tools
            .iter()
            .filter_map(|t| {
                t.pointer("/function/name")
                    .or_else(|| t.get("name"))
                    .and_then(Value::as_str)
                    .map(|n| Value::String(n.to_string()))
            })
            .collect();
        out.insert("tools".into(), Value::Array(names));
    }
    (!out.is_empty()).then(|| Value::Object(out).to_string())
}

/// The end user a request body names: OpenAI's `user` (or its successor
/// `safety_identifier`), Anthropic's `metadata.user_id`.
pub fn body_end_user(body: &Value) -> Option<String> {
    body.get("user")
        .or_else(|| body.get("safety_identifier"))
        .or_else(|| body.pointer("/metadata/user_id"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl Provenance {
    /// Takes what an upstream's (whole) answer says about who answered:
    /// its `model` and `system_fingerprint`.
    pub fn answered(&mut self, answer: &Value) {
        if let Some(m) = answer.get("model").and_then(Value::as_str) {
            self.upstream_model = Some(m.to_string());
        }
        if let Some(f) = answer.get("system_fingerprint").and_then(Value::as_str) {
            self.system_fingerprint = Some(f.to_string());
        }
    }

    /// Takes what one streamed event says about who answered (an OpenAI
    /// chunk's `model`/`system_fingerprint`, an Anthropic `message_start`'s
    /// `message.model`); the first value seen is kept.
    pub fn answered_chunk(&mut self, event: &Value) {
        let event = event.get("message").unwrap_or(event);
        let field = |k: &str| event.get(k).and_then(Value::as_str);
        self.first_seen(field("model"), field("system_fingerprint"));
    }

    /// Keeps the first model and fingerprint a stream names.
    pub fn first_seen(&mut self, model: Option<&str>, fingerprint: Option<&str>) {
        if self.upstream_model.is_none() {
            self.upstream_model = model.map(str::to_string);
        }
        if self.system_fingerprint.is_none() {
            self.system_fingerprint = fingerprint.map(str::to_string);
        }
    }
}

/// The provenance columns of `inferences` (`audit::provenance`), added
/// after tables were first written: all nullable, at the end.
pub(super) fn fields() -> Vec<StructField> {
    let so = |n: &str| StructField::new(n, DataType::STRING, true);
    vec![
        so("upstream"),
        so("upstream_model"),
        so("system_fingerprint"),
        so("parameters"),
        so("end_user"),
        StructField::new(
            "attributes",
            MapType::new(DataType::STRING, DataType::STRING, false),
            true,
        ),
        so("request_body"),
        so("response_body"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_keep_knobs_and_tool_names_but_no_text() {
        let body = json!({
            "model": "m", "temperature": 0.2, "max_tokens": 64,
            "messages": [{"role": "user", "content": "secret"}],
            "tools": [{"type": "function", "function": {"name": "lookup", "description": "secret too"}},
                      {"name": "search", "input_schema": {}}],
        });
        let p: Value = serde_json::from_str(&parameters_of(&body).unwrap()).unwrap();
        assert_eq!(
            p,
            json!({"temperature": 0.2, "max_tokens": 64, "tools": ["lookup", "search"]})
        );
        assert_eq!(parameters_of(&json!({"model": "m"})), None);
    }

    #[test]
    fn end_user_from_openai_user_or_anthropic_metadata() {
        assert_eq!(body_end_user(&json!({"user": "u1"})).as_deref(), Some("u1"));
        assert_eq!(
            body_end_user(&json!({"metadata": {"user_id": "u2"}})).as_deref(),
            Some("u2")
        );
        assert_eq!(body_end_user(&json!({"user": ""})), None);
    }

    #[test]
    fn first_streamed_model_is_kept() {
        let mut p = Provenance::default();
        p.answered_chunk(&json!({"type": "message_start", "message": {"model": "claude-x"}}));
        p.answered_chunk(&json!({"model": "other", "system_fingerprint": "fp_1"}));
        assert_eq!(p.upstream_model.as_deref(), Some("claude-x"));
        assert_eq!(p.system_fingerprint.as_deref(), Some("fp_1"));
    }
}
