//! The texts of a chat or completions request, read from its typed body
//! ([`super::wire::chat`], [`super::wire::completions`]): which fields
//! are text, which role and origin each has, what is refused. See
//! [`super::request_texts`] for what the rails see and why.

use serde_json::Value;

use super::ApiError;
use super::proxy::Kind;
use super::request_texts::{RequestTexts, bad, kind_of, origin_of, unknown_field};
use super::wire::chat::{ChatRequest, Content, Entry, Part, RefusalPart, TextPart};
use super::wire::completions::{CompletionRequest, Prompt};
use super::wire::walk::{Found, Loose, Skip, Walk, join, setting, walk_entries};
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
    "prompt_cache_retention",
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
    "safety_identifier",
    "prompt_cache_key",
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
    matches!(
        k,
        "role" | "type" | "id" | "tool_call_id" | "strict" | "prompt_cache_breakpoint"
    )
}

/// Not text in an `image_url`, `input_audio` or `file` part: its URL,
/// detail, encoded data, format, file id and name.
fn media(k: &str) -> bool {
    not_text(k) || setting(k) || matches!(k, "image_url" | "input_audio" | "file")
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
        // the endpoint's, so unknown to it (an upstream may still read
        // them): walked, or refused under `refuse`.
        let other_endpoints = k == "messages" || k == "prompt";
        if NOT_TEXT.contains(&k) {
            let mut found = Vec::new();
            v.walk_settings(k, &mut found);
            push_settings(found, "user", "parameter", refuse, out)?;
            continue;
        }
        if refuse && (other_endpoints || !KNOWN.contains(&k)) {
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
            Part::Text(TextPart { text, extra })
            | Part::Refusal(RefusalPart {
                refusal: text,
                extra,
            }) => {
                texts.push(text);
                push_rest(extra, &field, (role, origin), &not_text, refuse, out)?;
            }
            Part::Object(o) => {
                let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
                if matches!(kind, "image_url" | "input_audio" | "file") {
                    let kind = kind.to_string();
                    out.push_media(field.clone(), &kind, &*o);
                    push_rest(o, &field, (role, origin), &media, refuse, out)?;
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

/// The keys of a content part besides its text (or its media, for a
/// non-text part: `skip` names them): a part defines no other, so each is
/// walked, or with `refuse` a 400 naming it. A settings object under a key
/// `skip` names (`image_url`, `prompt_cache_breakpoint`) is walked
/// ([`Walk::walk_settings`]), and refused for any text in it.
fn push_rest<'a>(
    part: &'a mut serde_json::Map<String, Value>,
    field: &str,
    (role, origin): (&str, &'static str),
    skip: Skip,
    refuse: bool,
    out: &mut RequestTexts<'a>,
) -> Result<(), ApiError> {
    let mut found = Vec::new();
    for (k, v) in part.iter_mut() {
        if skip(k) {
            v.walk_settings(&join(field, k), &mut found);
        } else if refuse {
            return Err(unknown_field(&join(field, k)));
        } else {
            v.walk(&join(field, k), skip, &mut found);
        }
    }
    push_settings(found, role, origin, refuse, out)
}

/// Texts found in settings objects: pushed, or with `refuse` a 400 naming
/// the first (a field the format does not define there).
fn push_settings<'a>(
    found: Vec<Found<'a>>,
    role: &str,
    origin: &'static str,
    refuse: bool,
    out: &mut RequestTexts<'a>,
) -> Result<(), ApiError> {
    if refuse && let Some(f) = found.first() {
        return Err(unknown_field(&f.field));
    }
    for f in found {
        out.push_found(f, role, origin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::Evaluation;
    use crate::payload::Stage;
    use crate::policy::{RedactionOperator, RedactionPolicy};
    use crate::verdict::Action;
    use serde_json::json;

    /// A chat body with a field the models do not name at every level.
    fn chat_body() -> Value {
        json!({"model": "m", "temperature": 0.25, "n": 1, "x_top": {"deep": ["k", 1.5, null]},
            "metadata": {"k": "v"}, "user": "u-1", "stream_options": {"include_usage": true},
            "tools": [{"type": "function", "x_tool": 1, "function": {"name": "f", "description": "d",
                "parameters": {"type": "object", "properties": {"a": {"type": "string", "description": "pa"}}},
                "strict": true, "x_fn": null}},
                {"type": "custom", "custom": {"name": "c", "description": "cd"}}],
            "messages": [
                {"role": "system", "content": "sys", "x_msg": {"a": "b"}},
                {"role": "user", "name": "bob", "content": [
                    {"type": "text", "text": "hello", "x_part": {"cache": "c"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA", "detail": "low"}},
                    "bare"]},
                {"role": "assistant", "content": null, "refusal": null, "audio": {"id": "a1"},
                    "tool_calls": [{"id": "c1", "type": "function", "x_call": [],
                        "function": {"name": "f", "arguments": "{\"a\": \"4111\"}", "x_args": 0}}],
                    "function_call": {"name": "g", "arguments": "{}"}},
                {"role": "tool", "tool_call_id": "c1", "content": "result"}]})
    }

    fn fields_and_origins(texts: &RequestTexts<'_>) -> Vec<(String, String)> {
        let a: Vec<_> = texts
            .attributes()
            .into_iter()
            .filter(|(k, _)| k.starts_with("message."))
            .collect();
        a.chunks(2)
            .map(|p| (p[0].1.clone(), p[1].1.clone()))
            .collect()
    }

    #[test]
    fn a_chat_body_with_unknown_fields_at_every_level_re_serialises_equal() {
        let body = chat_body();
        let mut untyped = body.clone();
        let typed = OpenAiRequest::take(Kind::Chat, &mut untyped).unwrap();
        assert!(untyped.is_null());
        assert_eq!(typed.into_value(untyped), body);
    }

    #[test]
    fn a_completions_body_with_unknown_fields_re_serialises_equal() {
        for body in [
            json!({"model": "m", "prompt": "p", "suffix": null, "echo": false, "x": {"y": [1]}}),
            json!({"model": "m", "prompt": ["a", "b"], "suffix": "s", "logit_bias": {"50256": -100}}),
        ] {
            let mut untyped = body.clone();
            let typed = OpenAiRequest::take(Kind::Completions, &mut untyped).unwrap();
            assert_eq!(typed.into_value(untyped), body);
        }
    }

    #[test]
    fn every_text_of_a_chat_body_has_its_field_path_and_origin() {
        let mut untyped = chat_body();
        let mut typed = OpenAiRequest::take(Kind::Chat, &mut untyped).unwrap();
        let texts = typed.texts(&untyped, UnknownFields::Walk).unwrap();
        let got = fields_and_origins(&texts);
        let want = [
            ("messages[0].content", "system"),
            ("messages[0].x_msg.a", "system"),
            // A key the format does not define on a text part.
            ("messages[1].content[0].x_part.cache", "user"),
            ("messages[1].content", "user"),
            ("messages[1].name", "user"),
            ("messages[2].function_call.arguments", "tool-call"),
            ("messages[2].function_call.name", "tool-call"),
            ("messages[2].tool_calls[0].function.arguments", "tool-call"),
            ("messages[2].tool_calls[0].function.name", "tool-call"),
            ("messages[3].content", "tool"),
            ("metadata.k", "parameter"),
            ("tools[0].function.description", "tool-definition"),
            ("tools[0].function.name", "tool-definition"),
            (
                "tools[0].function.parameters.properties.a.description",
                "tool-definition",
            ),
            ("tools[1].custom.description", "tool-definition"),
            ("tools[1].custom.name", "tool-definition"),
            ("user", "parameter"),
            ("x_top.deep[0]", "parameter"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(f, o)| (f.to_string(), o.to_string()))
            .collect();
        assert_eq!(got, want);
        // The text parts of messages[1] are joined; the image is media.
        assert_eq!(texts.messages()[3].content, "hello bare");
        assert_eq!(texts.media()[0].0, "messages[1].content[1]");
    }

    #[test]
    fn a_redaction_goes_back_into_its_typed_field_and_nothing_else_changes() {
        let body = chat_body();
        let mut untyped = body.clone();
        let mut typed = OpenAiRequest::take(Kind::Chat, &mut untyped).unwrap();
        let mut texts = typed.texts(&untyped, UnknownFields::Walk).unwrap();
        let mut redacted = texts.messages();
        for m in &mut redacted {
            m.content = m.content.replace("4111", "<CARD>").replace("pa", "<P>");
        }
        let evaluation = Evaluation {
            request_id: "r".into(),
            stage: Stage::Request,
            policy: "p".into(),
            policy_digest: String::new(),
            action: Action::Redact,
            reason: String::new(),
            decisions: Vec::new(),
            redacted: Some(redacted),
            judge_requests: Vec::new(),
            latency_us: 0,
            arm: None,
        };
        let policy = RedactionPolicy {
            operator: RedactionOperator::Tag,
            categories: Default::default(),
            mask_char: '*',
            hash_key: None,
        };
        texts.redact_in_place(&evaluation, &policy);
        drop(texts);
        let mut want = body;
        want["messages"][2]["tool_calls"][0]["function"]["arguments"] =
            json!("{\"a\": \"<CARD>\"}");
        want["tools"][0]["function"]["parameters"]["properties"]["a"]["description"] = json!("<P>");
        assert_eq!(typed.into_value(untyped), want);
    }

    #[test]
    fn the_other_endpoints_text_field_is_walked_as_an_unknown_field() {
        for (kind, body, field) in [
            (
                Kind::Chat,
                json!({"messages": [], "prompt": ["card 4111"]}),
                "prompt[0]",
            ),
            (
                Kind::Completions,
                json!({"prompt": "p", "messages": [{"role": "user", "content": "card 4111"}]}),
                "messages[0].content",
            ),
        ] {
            let mut untyped = body;
            let mut typed = OpenAiRequest::take(kind, &mut untyped).unwrap();
            let texts = typed.texts(&untyped, UnknownFields::Walk).unwrap();
            let seen: Vec<(Option<String>, String)> = texts
                .messages()
                .into_iter()
                .map(|m| (m.field, m.content))
                .collect();
            assert!(
                seen.contains(&(Some(field.to_string()), "card 4111".to_string())),
                "{seen:?}"
            );
            let e = typed.texts(&untyped, UnknownFields::Refuse).err().unwrap();
            assert_eq!(e.code, "unknown_field", "{}", e.message);
        }
    }

    #[test]
    fn unknown_fields_are_refused_by_path_when_the_policy_says_so() {
        for (body, field) in [
            (json!({"messages": [], "x_top": 1}), "`x_top`"),
            (
                json!({"messages": [{"role": "user", "content": "a", "x_msg": 1}]}),
                "`messages[0].x_msg`",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"type": "x_part"}]}]}),
                "`messages[0].content[0]`",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "a", "x": 1}]}]}),
                "`messages[0].content[0].x`",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"type": "image_url",
                    "image_url": {"url": "data:,", "detail": "low", "x": "y"}}]}]}),
                "`messages[0].content[0].image_url.x`",
            ),
            (
                json!({"messages": [], "stream_options": {"include_usage": true, "x": "y"}}),
                "`stream_options.x`",
            ),
            (json!({"messages": [], "prompt": "p"}), "`prompt`"),
        ] {
            let mut untyped = body;
            let mut typed = OpenAiRequest::take(Kind::Chat, &mut untyped).unwrap();
            let e = typed.texts(&untyped, UnknownFields::Refuse).err().unwrap();
            assert_eq!(e.code, "unknown_field");
            assert!(e.message.contains(field), "{}", e.message);
        }
    }
}
