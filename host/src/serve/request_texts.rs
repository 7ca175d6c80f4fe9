//! Every text of a chat or completion request, as the request rails see
//! it, and the redactions written back where each text came from.
//!
//! What is text: every string of the body except the keys listed in
//! [`NOT_TEXT`] (sampling parameters, ids, types, roles) and the data of
//! non-text content parts. That includes fields this version does not
//! know: a new wire-format field is scanned from the day it appears rather
//! than forwarded unscanned until someone adds it. That is the default
//! (`[payload] unknown-fields = "walk"`), so a client using a newer SDK
//! keeps working; `"refuse"` answers 400 naming the field instead.
//!
//! The text parts of one chat message are shown to the plugins joined
//! (with a space) as one message, so a value split across parts (`"4111
//! 1111"`, `"1111 1111"`) is still found; a redaction is mapped back into
//! the parts it covers (its replacement in the part where it starts).
//!
//! Each text is one message of the payload, with its field (a readable
//! JSON path), a role the plugins know (`system`, `developer`, `user`,
//! `assistant`, `tool` for tool results, `tool-definition` for tools'
//! descriptions and schemas) and the attributes `message.<i>.field` and
//! `message.<i>.origin` (see README, "What the rails see").
//!
//! Shapes the format does not allow and that cannot be read without
//! guessing (a message that is not an object, `content` that is neither a
//! string, an array nor null, a token-array prompt) are refused with a 400
//! naming the field; an array of strings as `content` is read as text
//! parts.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ApiError;
use super::proxy::Kind;
use super::texts::{Text, walk};
use crate::payload::Message;
use crate::pipeline::{Evaluation, redact};
use crate::policy::{RedactionPolicy, UnknownFields};
use crate::verdict::{Finding, Span};

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

/// One message the rails see: a text, or the joined text parts of one
/// chat message.
struct Group {
    message: Message,
    origin: &'static str,
    /// Where each part sits: its pointer, and its byte range in the
    /// joined text.
    parts: Vec<(String, usize, usize)>,
}

/// The texts of a request.
pub struct RequestTexts {
    groups: Vec<Group>,
    /// Non-text parts: (field, description).
    media: Vec<(String, String)>,
}

impl RequestTexts {
    /// The messages the rails see, in order.
    pub fn messages(&self) -> Vec<Message> {
        self.groups.iter().map(|g| g.message.clone()).collect()
    }

    /// The non-text parts: (field, `type=… bytes=… sha256=…`).
    pub fn media(&self) -> &[(String, String)] {
        &self.media
    }

    /// Attributes that say where each message came from, and what non-text
    /// parts the request has.
    pub fn attributes(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, g) in self.groups.iter().enumerate() {
            if let Some(f) = &g.message.field {
                out.push((format!("message.{i}.field"), f.clone()));
            }
            out.push((format!("message.{i}.origin"), g.origin.to_string()));
        }
        for (field, what) in &self.media {
            out.push((format!("media.{field}"), what.clone()));
        }
        out
    }

    /// Writes the evaluation's redactions back into `body`.
    pub fn write_back(&self, body: &mut Value, evaluation: &Evaluation, policy: &RedactionPolicy) {
        let Some(redacted) = &evaluation.redacted else {
            return;
        };
        for (i, (g, r)) in self.groups.iter().zip(redacted).enumerate() {
            if r.content == g.message.content {
                continue;
            }
            if let [(pointer, _, _)] = g.parts.as_slice() {
                if let Some(slot) = body.pointer_mut(pointer) {
                    *slot = Value::String(r.content.clone());
                }
                continue;
            }
            let findings: Vec<&Finding> = evaluation
                .redacting_findings()
                .filter(|f| f.span.is_some_and(|s| s.message as usize == i))
                .collect();
            for (pointer, start, end) in &g.parts {
                let text = &g.message.content[*start..*end];
                let new = redact_part(text, *start, *end, &findings, policy);
                if new != text
                    && let Some(slot) = body.pointer_mut(pointer)
                {
                    *slot = Value::String(new);
                }
            }
        }
    }
}

/// Building the texts of a request in another wire format (the
/// Anthropic Messages and OpenAI Responses mappings): the same groups,
/// origins and write-back as a chat request's.
impl RequestTexts {
    /// No texts yet.
    pub(super) fn empty() -> RequestTexts {
        RequestTexts {
            groups: Vec::new(),
            media: Vec::new(),
        }
    }

    /// One text at `pointer` (JSON pointer) / `field` (readable path).
    pub(super) fn push_text(
        &mut self,
        pointer: &str,
        field: &str,
        role: &str,
        origin: &'static str,
        text: &str,
    ) {
        self.groups.push(Group {
            message: Message::new(role, text).with_field(field),
            origin,
            parts: vec![(pointer.to_string(), 0, text.len())],
        });
    }

    /// Every string under `v`, one text each, except under keys `skip`
    /// says are not text.
    pub(super) fn push_walked(
        &mut self,
        v: &Value,
        pointer: &str,
        field: &str,
        role: &str,
        origin: &'static str,
        skip: &dyn Fn(&str) -> bool,
    ) {
        let mut found = Vec::new();
        walk(v, pointer, field, role, skip, &mut found);
        push_texts(self, found, origin);
    }

    /// Texts shown to the plugins joined (with a space) as one message at
    /// `field`; redactions go back into each part (see the module docs).
    pub(super) fn push_joined(
        &mut self,
        parts: &[(String, &str)],
        field: &str,
        role: &str,
        origin: &'static str,
    ) {
        let mut joined = String::new();
        let mut spans = Vec::new();
        for (pointer, text) in parts {
            if !spans.is_empty() {
                joined.push(' ');
            }
            let start = joined.len();
            joined.push_str(text);
            spans.push((pointer.clone(), start, joined.len()));
        }
        if !spans.is_empty() {
            self.groups.push(Group {
                message: Message::new(role, joined).with_field(field),
                origin,
                parts: spans,
            });
        }
    }

    /// A non-text part (image, document, audio) at `field`.
    pub(super) fn push_media(&mut self, field: String, kind: &str, part: &Value) {
        self.media.push((field, describe(kind, part)));
    }
}

/// Part `[start, end)` of a joined text, with the findings over the joined
/// text applied: a finding's replacement goes where it starts; the rest of
/// it, in later parts, is cut.
fn redact_part(
    text: &str,
    start: usize,
    end: usize,
    findings: &[&Finding],
    policy: &RedactionPolicy,
) -> String {
    // Cut what findings that began in an earlier part cover here.
    let cut = findings
        .iter()
        .filter_map(|f| f.span)
        .filter(|s| (s.start as usize) < start && (s.end as usize) > start)
        .map(|s| (s.end as usize).min(end) - start)
        .max()
        .unwrap_or(0);
    let cut = (cut..=text.len())
        .find(|&c| text.is_char_boundary(c))
        .unwrap_or(text.len());
    let rest = &text[cut..];
    let from = start + cut;
    let local: Vec<Finding> = findings
        .iter()
        .filter_map(|f| {
            let s = f.span?;
            let (s0, s1) = (s.start as usize, (s.end as usize).min(end));
            (s0 >= from && s0 < end).then(|| Finding {
                span: Some(Span {
                    message: 0,
                    start: (s0 - from) as u32,
                    end: (s1 - from) as u32,
                }),
                ..(*f).clone()
            })
        })
        .collect();
    let piece = [Message::new("user", rest)];
    match redact(&piece, local.iter(), policy) {
        Some(mut m) => m.remove(0).content,
        None => rest.to_string(),
    }
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("invalid_request", message)
}

/// The role the plugins see for a chat message's role.
fn origin_of(role: &str) -> &'static str {
    match role {
        "system" => "system",
        "developer" => "developer",
        "assistant" => "assistant",
        "tool" | "function" => "tool",
        _ => "user",
    }
}

pub(super) fn unknown_field(field: &str) -> ApiError {
    ApiError::bad_request(
        "unknown_field",
        format!(
            "`{field}` is not a field railyard knows, and this policy refuses unknown fields (payload.unknown-fields = \"refuse\")"
        ),
    )
}

/// Collects the texts of a request body; with [`UnknownFields::Refuse`],
/// a field railyard does not know is a 400 naming it.
pub fn collect(kind: Kind, body: &Value, unknown: UnknownFields) -> Result<RequestTexts, ApiError> {
    let refuse = unknown == UnknownFields::Refuse;
    let mut out = RequestTexts {
        groups: Vec::new(),
        media: Vec::new(),
    };
    let Some(top) = body.as_object() else {
        return Err(bad("the body must be a JSON object".into()));
    };
    match kind {
        Kind::Responses => return super::responses::collect(body, unknown),
        Kind::Chat => {
            let Some(messages) = top.get("messages").and_then(Value::as_array) else {
                return Err(bad(
                    "`messages` must be an array of {\"role\", \"content\"}".into(),
                ));
            };
            for (i, m) in messages.iter().enumerate() {
                chat_message(i, m, refuse, &mut out)?;
            }
        }
        Kind::Completions => match top.get("prompt") {
            Some(Value::String(s)) => single(&mut out, "/prompt", "prompt", "user", s),
            Some(Value::Array(items)) => {
                for (j, item) in items.iter().enumerate() {
                    let Some(s) = item.as_str() else {
                        return Err(bad(format!(
                            "`prompt[{j}]` must be a string: `prompt` must be a string or an array of strings (token arrays cannot be guarded)"
                        )));
                    };
                    single(
                        &mut out,
                        &format!("/prompt/{j}"),
                        &format!("prompt[{j}]"),
                        "user",
                        s,
                    );
                }
            }
            _ => {
                return Err(bad(
                    "`prompt` must be a string or an array of strings".into()
                ));
            }
        },
    }
    for (k, v) in top {
        if NOT_TEXT.contains(&k.as_str()) || k == "messages" || k == "prompt" {
            continue;
        }
        if refuse && !KNOWN.contains(&k.as_str()) {
            return Err(unknown_field(k));
        }
        let role = if matches!(k.as_str(), "tools" | "functions") {
            "tool-definition"
        } else {
            "user"
        };
        let origin = if role == "user" { "parameter" } else { role };
        let mut found = Vec::new();
        let escaped = k.replace('~', "~0").replace('/', "~1");
        walk(v, &format!("/{escaped}"), k, role, &not_text, &mut found);
        push_texts(&mut out, found, origin);
    }
    Ok(out)
}

fn single(out: &mut RequestTexts, pointer: &str, field: &str, role: &str, text: &str) {
    out.groups.push(Group {
        message: Message::new(role, text).with_field(field),
        origin: origin_of(role),
        parts: vec![(pointer.to_string(), 0, text.len())],
    });
}

fn push_texts(out: &mut RequestTexts, texts: Vec<Text>, origin: &'static str) {
    for t in texts {
        let len = t.content.len();
        out.groups.push(Group {
            message: t.message(),
            origin,
            parts: vec![(t.pointer, 0, len)],
        });
    }
}

fn chat_message(i: usize, m: &Value, refuse: bool, out: &mut RequestTexts) -> Result<(), ApiError> {
    let Some(map) = m.as_object() else {
        return Err(bad(format!(
            "`messages[{i}]` must be an object with `role` and `content`, not {}",
            kind_of(m)
        )));
    };
    let role = map.get("role").and_then(Value::as_str).unwrap_or("user");
    let origin = origin_of(role);
    let seen_role = if origin == "tool" { "tool" } else { role };
    match map.get("content") {
        Some(Value::String(s)) => single(
            out,
            &format!("/messages/{i}/content"),
            &format!("messages[{i}].content"),
            seen_role,
            s,
        ),
        Some(Value::Array(parts)) => content_parts(i, seen_role, origin, parts, refuse, out)?,
        None | Some(Value::Null) => {}
        Some(other) => {
            return Err(bad(format!(
                "`messages[{i}].content` must be a string, an array of parts or null, not {}",
                kind_of(other)
            )));
        }
    }
    // Everything else of the message: its name, tool calls (arguments as
    // the assistant wrote them), a deprecated function call, a refusal,
    // and any field this version does not know.
    for (k, v) in map {
        if matches!(k.as_str(), "role" | "content" | "tool_call_id") {
            continue;
        }
        if refuse && !MESSAGE_KEYS.contains(&k.as_str()) {
            return Err(unknown_field(&format!("messages[{i}].{k}")));
        }
        let (r, o) = match k.as_str() {
            "tool_calls" | "function_call" => ("assistant", "tool-call"),
            _ => (seen_role, origin),
        };
        let mut found = Vec::new();
        walk(
            v,
            &format!("/messages/{i}/{}", k.replace('~', "~0").replace('/', "~1")),
            &format!("messages[{i}].{k}"),
            r,
            &not_text,
            &mut found,
        );
        push_texts(out, found, o);
    }
    Ok(())
}

/// The parts of one message's content: text parts joined into one
/// message; non-text parts recorded; anything else walked.
fn content_parts(
    i: usize,
    role: &str,
    origin: &'static str,
    parts: &[Value],
    refuse: bool,
    out: &mut RequestTexts,
) -> Result<(), ApiError> {
    let mut joined = String::new();
    let mut spans = Vec::new();
    let mut add = |pointer: String, text: &str| {
        if !spans.is_empty() {
            joined.push(' ');
        }
        let start = joined.len();
        joined.push_str(text);
        spans.push((pointer, start, joined.len()));
    };
    for (j, p) in parts.iter().enumerate() {
        let pointer = format!("/messages/{i}/content/{j}");
        let field = format!("messages[{i}].content[{j}]");
        match p {
            Value::String(s) => add(pointer, s),
            Value::Object(o) => {
                let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
                if let Some(t) = o.get("text").and_then(Value::as_str) {
                    add(format!("{pointer}/text"), t);
                } else if let Some(t) = o.get("refusal").and_then(Value::as_str) {
                    add(format!("{pointer}/refusal"), t);
                } else if matches!(kind, "image_url" | "input_audio" | "file") {
                    out.media.push((field, describe(kind, p)));
                } else if refuse {
                    return Err(unknown_field(&field));
                } else {
                    let mut found = Vec::new();
                    walk(p, &pointer, &field, role, &not_text, &mut found);
                    push_texts(out, found, origin);
                }
            }
            other => {
                return Err(bad(format!(
                    "`{field}` must be a content part object or a string, not {}",
                    kind_of(other)
                )));
            }
        }
    }
    if !spans.is_empty() {
        out.groups.push(Group {
            message: Message::new(role, joined).with_field(format!("messages[{i}].content")),
            origin,
            parts: spans,
        });
    }
    Ok(())
}

/// A non-text part, as the record keeps it: its type, the size of its
/// JSON, and the SHA-256 of that JSON.
fn describe(kind: &str, part: &Value) -> String {
    let bytes = part.to_string();
    let digest = Sha256::digest(bytes.as_bytes());
    let mut hex = String::with_capacity(64);
    crate::audit::record::hex_into(&digest, &mut hex);
    format!("type={kind} bytes={} sha256={hex}", bytes.len())
}

pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::RedactionOperator;
    use serde_json::json;

    fn policy(operator: RedactionOperator) -> RedactionPolicy {
        RedactionPolicy {
            operator,
            categories: Default::default(),
            mask_char: '*',
            hash_key: None,
        }
    }

    fn card(start: usize, end: usize) -> Finding {
        Finding {
            rule_id: "pii.card".into(),
            category: "CREDIT_CARD".into(),
            score: 1.0,
            span: Some(Span {
                message: 0,
                start: start as u32,
                end: end as u32,
            }),
            replacement: None,
        }
    }

    #[test]
    fn text_parts_are_joined_and_a_redaction_across_them_goes_back_into_each() {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "card 4111 1111"}, "1111 1111 ok"]}]});
        let texts = collect(Kind::Chat, &body, UnknownFields::Walk).unwrap();
        let m = texts.messages();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].content, "card 4111 1111 1111 1111 ok");
        assert_eq!(m[0].field.as_deref(), Some("messages[0].content"));
        // The card spans bytes 5..24 of the joined text: the tag goes in
        // the first part, the second part loses what the card covered.
        let f = card(5, 24);
        let parts: Vec<String> = texts.groups[0]
            .parts
            .iter()
            .map(|(_, s, e)| {
                redact_part(
                    &m[0].content[*s..*e],
                    *s,
                    *e,
                    &[&f],
                    &policy(RedactionOperator::Tag),
                )
            })
            .collect();
        assert_eq!(parts, ["card <CREDIT_CARD>", " ok"]);
        let masked: Vec<String> = texts.groups[0]
            .parts
            .iter()
            .map(|(_, s, e)| {
                redact_part(
                    &m[0].content[*s..*e],
                    *s,
                    *e,
                    &[&f],
                    &policy(RedactionOperator::Mask),
                )
            })
            .collect();
        assert_eq!(masked, ["card *********", " ok"]);
    }

    #[test]
    fn shapes_that_cannot_be_read_are_refused_naming_the_field() {
        for (body, field) in [
            (json!({"messages": ["hi"]}), "`messages[0]`"),
            (
                json!({"messages": [{"role": "user", "content": 1}]}),
                "`messages[0].content`",
            ),
            (
                json!({"messages": [{"role": "user", "content": [true]}]}),
                "`messages[0].content[0]`",
            ),
        ] {
            let e = collect(Kind::Chat, &body, UnknownFields::Walk)
                .err()
                .unwrap();
            assert!(e.message.contains(field), "{}", e.message);
        }
        let e = collect(
            Kind::Chat,
            &json!({"messages": [], "x": 1}),
            UnknownFields::Refuse,
        )
        .err()
        .unwrap();
        assert_eq!(e.code, "unknown_field");
    }
}
