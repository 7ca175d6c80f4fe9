//! The texts of a chat or completions request, read from its typed body
//! ([`super::wire::chat`], [`super::wire::completions`]): which fields
//! are text, which role and origin each has, what is refused. See
//! [`super::request_texts`] for what the rails see and why.

use serde_json::Value;

use super::ApiError;
use super::proxy::Kind;
use super::request_texts::{RequestTexts, bad, kind_of, origin_of, unknown_field};
use super::wire::chat::{ChatRequest, Content, Entry, Part};
use super::wire::completions::{CompletionRequest, Prompt};
use super::wire::walk::{Found, Loose, Walk, walk_entries};
use crate::policy::UnknownFields;

/// Request keys that carry no text: numbers, switches, ids, and choices
/// among fixed values.
const NOT_TEXT: &[&str] = &[
    "model",
    "stream",
    "n",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
    "stream_options",
    "parallel_tool_calls",
    "modalities",
    "reasoning_effort",
    "service_tier",
    "store",
    "verbosity",
    "echo",
    "best_of",
    "prompt_cache_key",
    "safety_identifier",
];

/// Request keys the wire format defines besides [`NOT_TEXT`] (text, or
/// holding text): anything else is an unknown field.
const KNOWN: &[&str] = &[
    "messages",
    "prompt",
    "suffix",
    "tools",
    "functions",
    "tool_choice",
    "function_call",
    "user",
    "metadata",
    "prediction",
    "response_format",
    "stop",
    "audio",
    "web_search_options",
];

/// Keys a chat message may have.
const MESSAGE_KEYS: &[&str] = &[
    "role",
    "content",
    "name",
    "tool_calls",
    "tool_call_id",
    "function_call",
    "refusal",
    "audio",
];

/// Keys inside messages, tools and parts that carry no text.
fn not_text(k: &str) -> bool {
    matches!(k, "role" | "type" | "id" | "tool_call_id" | "strict")
}

/// A chat or completions request body, typed; a Responses body is not
/// (yet): it stays a `serde_json::Value`, read by pointers.
#[derive(Debug)]
pub enum OpenAiRequest {
    /// `/v1/chat/completions`.
    Chat(ChatRequest),
    /// `/v1/completions`.
    Completions(CompletionRequest),
    /// `/v1/responses`: the body stays where it was.
    Untyped,
}

impl OpenAiRequest {
    /// Takes a chat or completions `body` (a JSON object) into its typed
    /// model, leaving `null`; leaves a Responses body in place.
    pub fn take(kind: Kind, body: &mut Value) -> Result<OpenAiRequest, ApiError> {
        let typed = match kind {
            Kind::Responses => return Ok(OpenAiRequest::Untyped),
            Kind::Chat => serde_json::from_value(body.take()).map(OpenAiRequest::Chat),
            Kind::Completions => {
                serde_json::from_value(body.take()).map(OpenAiRequest::Completions)
            }
        };
        // The models read any JSON object: this is only a guard.
        typed.map_err(|e| bad(format!("the body could not be read: {e}")))
    }

    /// The body as JSON again: the typed body with its redactions, or
    /// `untyped` (the Responses body).
    pub fn into_value(self, untyped: Value) -> Value {
        let v = match self {
            OpenAiRequest::Chat(c) => serde_json::to_value(c),
            OpenAiRequest::Completions(c) => serde_json::to_value(c),
            OpenAiRequest::Untyped => return untyped,
        };
        // Serialising maps of strings and JSON values cannot fail.
        v.unwrap_or(untyped)
    }

    /// The texts of the body; a Responses body is read from `untyped`.
    /// With [`UnknownFields::Refuse`], a field railyard does not know is
    /// a 400 naming it.
    pub fn texts<'a>(
        &'a mut self,
        untyped: &Value,
        unknown: UnknownFields,
    ) -> Result<RequestTexts<'a>, ApiError> {
        let refuse = unknown == UnknownFields::Refuse;
        match self {
            OpenAiRequest::Chat(c) => chat(c, refuse),
            OpenAiRequest::Completions(c) => completions(c, refuse),
            OpenAiRequest::Untyped => {
                if !untyped.is_object() {
                    return Err(bad("the body must be a JSON object".into()));
                }
                Ok(super::responses::collect(untyped, unknown)?)
            }
        }
    }
}

fn chat(req: &mut ChatRequest, refuse: bool) -> Result<RequestTexts<'_>, ApiError> {
    let mut out = RequestTexts::empty();
    let (messages, others) = req.split();
    let Some(Loose::Typed(messages)) = messages else {
        return Err(bad(
            "`messages` must be an array of {\"role\", \"content\"}".into(),
        ));
    };
    for (i, m) in messages.iter_mut().enumerate() {
        match m {
            Loose::Typed(m) => chat_message(i, m, refuse, &mut out)?,
            Loose::Other(v) => {
                return Err(bad(format!(
                    "`messages[{i}]` must be an object with `role` and `content`, not {}",
                    kind_of(v)
                )));
            }
        }
    }
    parameters(others, refuse, &mut out)?;
    Ok(out)
}

fn completions(req: &mut CompletionRequest, refuse: bool) -> Result<RequestTexts<'_>, ApiError> {
    let mut out = RequestTexts::empty();
    let (prompt, others) = req.split();
    match prompt {
        Some(Prompt::Text(s)) => out.push_found(found("prompt", s), "user", "user"),
        Some(Prompt::Batch(items)) => {
            for (j, item) in items.iter_mut().enumerate() {
                let Loose::Typed(s) = item else {
                    return Err(bad(format!(
                        "`prompt[{j}]` must be a string: `prompt` must be a string or an array of strings (token arrays cannot be guarded)"
                    )));
                };
                out.push_found(found(&format!("prompt[{j}]"), s), "user", "user");
            }
        }
        _ => {
            return Err(bad(
                "`prompt` must be a string or an array of strings".into()
            ));
        }
    }
    parameters(others, refuse, &mut out)?;
    Ok(out)
}

fn found<'a>(field: &str, text: &'a mut String) -> Found<'a> {
    Found {
        field: field.to_string(),
        text,
    }
}

/// The top-level fields besides `messages` / `prompt`: tools (as tool
/// definitions), `user`, `metadata`, `suffix`, and any field this version
/// does not know, every string of each.
fn parameters<'a>(
    others: Vec<Entry<'a>>,
    refuse: bool,
    out: &mut RequestTexts<'a>,
) -> Result<(), ApiError> {
    for (k, v) in others {
        // `messages` in a completions body, `prompt` in a chat body: not
        // the endpoint's, left as they are.
        if NOT_TEXT.contains(&k) || k == "messages" || k == "prompt" {
            continue;
        }
        if refuse && !KNOWN.contains(&k) {
            return Err(unknown_field(k));
        }
        let role = if matches!(k, "tools" | "functions") {
            "tool-definition"
        } else {
            "user"
        };
        let origin = if role == "user" { "parameter" } else { role };
        push_walked(v, k, role, origin, out);
    }
    Ok(())
}

/// Every string under `v`, one text each.
fn push_walked<'a>(
    v: &'a mut dyn Walk,
    field: &str,
    role: &str,
    origin: &'static str,
    out: &mut RequestTexts<'a>,
) {
    let mut found = Vec::new();
    v.walk(field, &not_text, &mut found);
    for f in found {
        out.push_found(f, role, origin);
    }
}

fn chat_message<'a>(
    i: usize,
    m: &'a mut super::wire::chat::RequestMessage,
    refuse: bool,
    out: &mut RequestTexts<'a>,
) -> Result<(), ApiError> {
    let (role, content, others) = m.split();
    let origin = origin_of(role);
    let seen_role = if origin == "tool" { "tool" } else { role };
    match content {
        Some(Content::Text(s)) => {
            let f = found(&format!("messages[{i}].content"), s);
            out.push_found(f, seen_role, origin_of(seen_role));
        }
        Some(Content::Parts(parts)) => content_parts(i, seen_role, origin, parts, refuse, out)?,
        None | Some(Content::Other(Value::Null)) => {}
        Some(Content::Other(other)) => {
            return Err(bad(format!(
                "`messages[{i}].content` must be a string, an array of parts or null, not {}",
                kind_of(other)
            )));
        }
    }
    // Everything else of the message: its name, tool calls (arguments as
    // the assistant wrote them), a deprecated function call, a refusal,
    // and any field this version does not know.
    for (k, v) in others {
        if k == "tool_call_id" {
            continue;
        }
        if refuse && !MESSAGE_KEYS.contains(&k) {
            return Err(unknown_field(&format!("messages[{i}].{k}")));
        }
        let (r, o) = match k {
            "tool_calls" | "function_call" => ("assistant", "tool-call"),
            _ => (seen_role, origin),
        };
        push_walked(v, &format!("messages[{i}].{k}"), r, o, out);
    }
    Ok(())
}

/// The parts of one message's content: text parts joined into one
/// message; non-text parts recorded; anything else walked.
fn content_parts<'a>(
    i: usize,
    role: &str,
    origin: &'static str,
    parts: &'a mut [Part],
    refuse: bool,
    out: &mut RequestTexts<'a>,
) -> Result<(), ApiError> {
    let mut texts = Vec::new();
    for (j, p) in parts.iter_mut().enumerate() {
        let field = format!("messages[{i}].content[{j}]");
        match p {
            Part::Bare(s) => texts.push(s),
            Part::Text(t) => texts.push(&mut t.text),
            Part::Refusal(r) => texts.push(&mut r.refusal),
            Part::Object(o) => {
                let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
                if matches!(kind, "image_url" | "input_audio" | "file") {
                    let kind = kind.to_string();
                    out.push_media(field, &kind, &*o);
                } else if refuse {
                    return Err(unknown_field(&field));
                } else {
                    let mut found = Vec::new();
                    walk_entries(Vec::new(), o, &field, &not_text, &mut found);
                    for f in found {
                        out.push_found(f, role, origin);
                    }
                }
            }
            Part::Other(other) => {
                return Err(bad(format!(
                    "`{field}` must be a content part object or a string, not {}",
                    kind_of(other)
                )));
            }
        }
    }
    out.push_joined_found(texts, format!("messages[{i}].content"), role, origin);
    Ok(())
}
