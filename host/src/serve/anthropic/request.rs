//! Every text of an Anthropic Messages request, mapped into the same
//! payload as a chat request's (see `serve::request_texts`): one message
//! per text, with its field and origin, redactions written back in place.
//!
//! | where | role / origin |
//! |---|---|
//! | `system` (a string, or text blocks joined) | `system` / `system` |
//! | a message's text blocks (joined) or string content | its role / `user` or `assistant` |
//! | `tool_use` and `server_tool_use` blocks: `name`, every string of `input` | `assistant` / `tool-call` |
//! | `tool_result` content (a string or blocks: text, documents, search results, …) | `tool` / `tool` |
//! | `document` with a text source, its `title` and `context`; `search_result` blocks | `user` / `retrieved` |
//! | `thinking` blocks | `assistant` / `assistant` |
//! | `tools` (names, descriptions, schemas) | `tool-definition` |
//! | `tool_choice`, `metadata`, `stop_sequences`, unknown fields | `user` / `parameter` |
//!
//! Images and documents with binary sources are non-text parts (described
//! by type, size and SHA-256, as for chat). `redacted_thinking` is
//! encrypted and not read. Not text: `type`, ids, `cache_control`,
//! `thinking`, signatures, media types. A key a block (or its `source`, or
//! a settings object such as `cache_control`) does not define is walked,
//! or refused naming its path under `unknown-fields = "refuse"`.

use serde_json::{Map, Value};

use super::super::ApiError;
use super::super::request_texts::{RequestTexts, kind_of, unknown_field};
use super::super::texts::escape;
use super::super::wire::walk::setting;
use crate::policy::UnknownFields;

/// Top-level keys that carry no text.
const NOT_TEXT: &[&str] = &[
    "model",
    "max_tokens",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "thinking",
    "service_tier",
    "speed",
    "inference_geo",
    "cache_control",
    "container",
];

/// Top-level keys that hold text besides `messages` and `system`.
const KNOWN: &[&str] = &[
    "tools",
    "tool_choice",
    "metadata",
    "stop_sequences",
    "output_config",
    "mcp_servers",
    "context_management",
];

/// Keys inside blocks and tools that carry no text.
fn not_text(k: &str) -> bool {
    matches!(
        k,
        "type" | "id" | "tool_use_id" | "cache_control" | "signature" | "media_type"
    )
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("invalid_request", message)
}

/// The keys of a text block (`TextBlockParam`).
const TEXT_BLOCK: &[&str] = &["type", "text", "cache_control", "citations"];

/// Not text in a block's `source` or an image: media types, encoded data,
/// URLs, file ids, and `transformations` (settings).
fn media(k: &str) -> bool {
    not_text(k) || setting(k) || matches!(k, "source" | "transformations")
}

/// Collects the texts of a Messages request body.
pub fn collect(body: &Value, unknown: UnknownFields) -> Result<RequestTexts<'static>, ApiError> {
    let refuse = unknown == UnknownFields::Refuse;
    let mut out = RequestTexts::empty();
    let Some(top) = body.as_object() else {
        return Err(bad("the body must be a JSON object".into()));
    };
    match top.get("system") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => out.push_text("/system", "system", "system", "system", s),
        Some(Value::Array(blocks)) => {
            let mut parts = Vec::new();
            for (j, b) in blocks.iter().enumerate() {
                match (b.as_object(), b.get("text").and_then(Value::as_str)) {
                    (Some(block), Some(t)) => {
                        let at = (format!("/system/{j}"), format!("system[{j}]"));
                        parts.push((format!("{}/text", at.0), t));
                        text_rest(
                            block,
                            (&at.0, &at.1),
                            ("system", "system"),
                            refuse,
                            &mut out,
                        )?;
                    }
                    _ => {
                        return Err(bad(format!(
                            "`system[{j}]` must be a text block {{\"type\": \"text\", \"text\": …}}"
                        )));
                    }
                }
            }
            out.push_joined(&parts, "system", "system", "system");
        }
        Some(other) => {
            return Err(bad(format!(
                "`system` must be a string or an array of text blocks, not {}",
                kind_of(other)
            )));
        }
    }
    let Some(messages) = top.get("messages").and_then(Value::as_array) else {
        return Err(bad(
            "`messages` must be an array of {\"role\": \"user\" | \"assistant\", \"content\"}"
                .into(),
        ));
    };
    for (i, m) in messages.iter().enumerate() {
        message(i, m, refuse, &mut out)?;
    }
    for (k, v) in top {
        if k == "messages" || k == "system" {
            continue;
        }
        if NOT_TEXT.contains(&k.as_str()) {
            out.push_settings(v, (&format!("/{}", escape(k)), k), refuse)?;
            continue;
        }
        if refuse && !KNOWN.contains(&k.as_str()) {
            return Err(unknown_field(k));
        }
        let (role, origin) = if k == "tools" || k == "mcp_servers" {
            ("tool-definition", "tool-definition")
        } else {
            ("user", "parameter")
        };
        out.push_walked(v, &format!("/{}", escape(k)), k, role, origin, &not_text);
    }
    Ok(out)
}

fn message(i: usize, m: &Value, refuse: bool, out: &mut RequestTexts) -> Result<(), ApiError> {
    let Some(map) = m.as_object() else {
        return Err(bad(format!(
            "`messages[{i}]` must be an object with `role` and `content`, not {}",
            kind_of(m)
        )));
    };
    let role = match map.get("role").and_then(Value::as_str) {
        Some(r @ ("user" | "assistant")) => r,
        Some(other) => {
            return Err(bad(format!(
                "`messages[{i}].role` must be \"user\" or \"assistant\", not `{other}` (the system prompt goes in `system`)"
            )));
        }
        None => {
            return Err(bad(format!(
                "`messages[{i}].role` is required (\"user\" or \"assistant\")"
            )));
        }
    };
    let origin: &'static str = if role == "user" { "user" } else { "assistant" };
    let pointer = format!("/messages/{i}/content");
    let field = format!("messages[{i}].content");
    match map.get("content") {
        Some(Value::String(s)) => out.push_text(&pointer, &field, role, origin, s),
        Some(Value::Array(blocks)) => {
            let mut texts = Vec::new();
            for (j, b) in blocks.iter().enumerate() {
                let p = format!("{pointer}/{j}");
                let f = format!("{field}[{j}]");
                let Some(block) = b.as_object() else {
                    return Err(bad(format!(
                        "`{f}` must be a content block object, not {}",
                        kind_of(b)
                    )));
                };
                let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
                if kind == "text" {
                    match block.get("text").and_then(Value::as_str) {
                        Some(t) => texts.push((format!("{p}/text"), t)),
                        None => return Err(bad(format!("`{f}.text` must be a string"))),
                    }
                    text_rest(block, (&p, &f), (role, origin), refuse, out)?;
                    continue;
                }
                block_texts(kind, block, &p, &f, role, refuse, out)?;
            }
            out.push_joined(&texts, &field, role, origin);
        }
        None => {
            return Err(bad(format!(
                "`messages[{i}].content` is required (a string or an array of content blocks)"
            )));
        }
        Some(other) => {
            return Err(bad(format!(
                "`messages[{i}].content` must be a string or an array of content blocks, not {}",
                kind_of(other)
            )));
        }
    }
    for k in map.keys() {
        if refuse && !matches!(k.as_str(), "role" | "content") {
            return Err(unknown_field(&format!("messages[{i}].{k}")));
        }
    }
    for (k, v) in map {
        if !matches!(k.as_str(), "role" | "content") {
            out.push_walked(
                v,
                &format!("/messages/{i}/{}", escape(k)),
                &format!("messages[{i}].{k}"),
                role,
                origin,
                &not_text,
            );
        }
    }
    Ok(())
}

/// A block other than text.
fn block_texts(
    kind: &str,
    block: &Map<String, Value>,
    p: &str,
    f: &str,
    role: &str,
    refuse: bool,
    out: &mut RequestTexts,
) -> Result<(), ApiError> {
    let whole = Value::Object(block.clone());
    match kind {
        "image" => image(block, p, f, (role, origin_of(role)), refuse, out)?,
        "document" => document(block, p, f, ("user", "retrieved"), refuse, out)?,
        "search_result" => out.push_walked(&whole, p, f, "user", "retrieved", &not_text),
        "tool_use" | "server_tool_use" => {
            out.push_walked(&whole, p, f, "assistant", "tool-call", &not_text);
        }
        "tool_result" => match block.get("content") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                out.push_text(
                    &format!("{p}/content"),
                    &format!("{f}.content"),
                    "tool",
                    "tool",
                    s,
                );
            }
            Some(Value::Array(_)) => {
                let c = &block["content"];
                nested(
                    c,
                    &format!("{p}/content"),
                    &format!("{f}.content"),
                    ("tool", "tool"),
                    refuse,
                    out,
                )?;
            }
            Some(other) => {
                return Err(bad(format!(
                    "`{f}.content` must be a string or an array of content blocks, not {}",
                    kind_of(other)
                )));
            }
        },
        "thinking" => {
            if let Some(t) = block.get("thinking").and_then(Value::as_str) {
                out.push_text(
                    &format!("{p}/thinking"),
                    &format!("{f}.thinking"),
                    "assistant",
                    "assistant",
                    t,
                );
            }
        }
        // Encrypted by the upstream: nothing readable in `data`.
        "redacted_thinking" => {}
        _ if refuse => return Err(unknown_field(f)),
        _ => out.push_walked(&whole, p, f, role, origin_of(role), &not_text),
    }
    // The keys of a block read above that it did not read.
    let (handled, known): (&[&str], &[&str]) = match kind {
        "tool_result" => (
            &["content"],
            &[
                "type",
                "tool_use_id",
                "cache_control",
                "is_error",
                "toolset_name",
            ],
        ),
        "thinking" => (&["thinking"], &["type", "signature"]),
        "redacted_thinking" => (&["data"], &["type"]),
        _ => return Ok(()),
    };
    let (r, o) = match kind {
        "tool_result" => ("tool", "tool"),
        _ => ("assistant", "assistant"),
    };
    out.push_rest(block, handled, known, (p, f), (r, o), &not_text, refuse)
}

fn origin_of(role: &str) -> &'static str {
    if role == "user" { "user" } else { "assistant" }
}

/// A text block's citations (they quote documents: retrieved text) and
/// any key the format does not define on it.
fn text_rest(
    block: &Map<String, Value>,
    (p, f): (&str, &str),
    at: (&str, &'static str),
    refuse: bool,
    out: &mut RequestTexts,
) -> Result<(), ApiError> {
    if let Some(c) = block.get("citations") {
        out.push_walked(
            c,
            &format!("{p}/citations"),
            &format!("{f}.citations"),
            "user",
            "retrieved",
            &not_text,
        );
    }
    out.push_rest(
        block,
        &["text", "citations"],
        TEXT_BLOCK,
        (p, f),
        at,
        &not_text,
        refuse,
    )
}

/// An image: a non-text part; any key the format does not define on it
/// (or in its `source`) is walked.
fn image(
    block: &Map<String, Value>,
    p: &str,
    f: &str,
    at: (&str, &'static str),
    refuse: bool,
    out: &mut RequestTexts,
) -> Result<(), ApiError> {
    out.push_media(f.to_string(), "image", &Value::Object(block.clone()));
    let known = ["type", "source", "cache_control", "transformations"];
    out.push_rest(block, &[], &known, (p, f), at, &media, refuse)
}

/// A document: its text source (`source.data`, or a `content` source's
/// blocks), `title` and `context` as `at` (`user` / `retrieved` in a
/// message, `tool` / `tool` in a tool result); a binary source is a
/// non-text part. Any key the format does not define on it, or in its
/// source, is walked.
fn document(
    block: &Map<String, Value>,
    p: &str,
    f: &str,
    at: (&str, &'static str),
    refuse: bool,
    out: &mut RequestTexts,
) -> Result<(), ApiError> {
    let (role, origin) = at;
    let source = block.get("source");
    let (sp, sf) = (format!("{p}/source"), format!("{f}.source"));
    let read: &[&str] = match source.and_then(|s| s.get("type")).and_then(Value::as_str) {
        Some("text") => {
            if let Some(d) = source.and_then(|s| s.get("data")).and_then(Value::as_str) {
                out.push_text(
                    &format!("{sp}/data"),
                    &format!("{sf}.data"),
                    role,
                    origin,
                    d,
                );
            }
            &["data"]
        }
        Some("content") => {
            match source.and_then(|s| s.get("content")) {
                Some(Value::String(s)) => out.push_text(
                    &format!("{sp}/content"),
                    &format!("{sf}.content"),
                    role,
                    origin,
                    s,
                ),
                Some(c) => nested(
                    c,
                    &format!("{sp}/content"),
                    &format!("{sf}.content"),
                    at,
                    refuse,
                    out,
                )?,
                None => {}
            }
            &["content"]
        }
        _ => {
            out.push_media(f.to_string(), "document", &Value::Object(block.clone()));
            &[]
        }
    };
    if let Some(Value::Object(s)) = source {
        let known = ["type", "media_type", "data", "content", "url", "file_id"];
        out.push_rest(s, read, &known, (&sp, &sf), at, &media, refuse)?;
    }
    for k in ["title", "context"] {
        if let Some(v) = block.get(k) {
            out.push_walked(
                v,
                &format!("{p}/{k}"),
                &format!("{f}.{k}"),
                role,
                origin,
                &not_text,
            );
        }
    }
    let known = ["type", "cache_control", "citations"];
    out.push_rest(
        block,
        &["source", "title", "context"],
        &known,
        (p, f),
        at,
        &not_text,
        refuse,
    )
}

/// Blocks nested in a tool result or a document's `content` source (the
/// `anthropic` SDK's `ToolResultBlockParam.Content`: text, image,
/// `search_result`, `document`, `tool_reference`, `browser_state`), all
/// as `at`: text joined, images described, documents read as documents,
/// anything else walked.
fn nested(
    c: &Value,
    p: &str,
    f: &str,
    at: (&str, &'static str),
    refuse: bool,
    out: &mut RequestTexts,
) -> Result<(), ApiError> {
    let (role, origin) = at;
    let Some(blocks) = c.as_array() else {
        out.push_walked(c, p, f, role, origin, &not_text);
        return Ok(());
    };
    let mut texts = Vec::new();
    for (j, b) in blocks.iter().enumerate() {
        let (bp, bf) = (format!("{p}/{j}"), format!("{f}[{j}]"));
        let kind = b.get("type").and_then(Value::as_str).unwrap_or("");
        match (kind, b.as_object(), b.get("text").and_then(Value::as_str)) {
            ("text", Some(block), Some(t)) => {
                texts.push((format!("{bp}/text"), t));
                text_rest(block, (&bp, &bf), at, refuse, out)?;
            }
            ("image", Some(block), _) => image(block, &bp, &bf, at, refuse, out)?,
            ("document", Some(block), _) => document(block, &bp, &bf, at, refuse, out)?,
            ("search_result" | "tool_reference" | "browser_state", _, _) => {
                out.push_walked(b, &bp, &bf, role, origin, &not_text)
            }
            _ if refuse => return Err(unknown_field(&bf)),
            _ => out.push_walked(b, &bp, &bf, role, origin, &not_text),
        }
    }
    out.push_joined(&texts, f, role, origin);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_text_of_a_messages_request_is_found_with_its_field_and_origin() {
        let body = json!({"model": "claude", "max_tokens": 10,
            "system": [{"type": "text", "text": "be brief"}],
            "tools": [{"name": "refund", "description": "refunds", "input_schema": {"type": "object"}}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc"}, "title": "t"}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "tu_1", "name": "refund", "input": {"card": "c"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": [{"type": "text", "text": "done"}]}]}]});
        let t = collect(&body, UnknownFields::Walk).unwrap();
        let seen: Vec<(String, String)> = t
            .messages()
            .into_iter()
            .map(|m| (m.field.unwrap_or_default(), m.content))
            .collect();
        for (field, text) in [
            ("system", "be brief"),
            ("messages[0].content", "a b"),
            ("messages[0].content[3].source.data", "doc"),
            ("messages[0].content[3].title", "t"),
            ("messages[1].content[0].name", "refund"),
            ("messages[1].content[0].input.card", "c"),
            ("messages[2].content[0].content", "done"),
            ("tools[0].description", "refunds"),
        ] {
            assert!(
                seen.contains(&(field.into(), text.into())),
                "{field} in {seen:?}"
            );
        }
        assert_eq!(t.media().len(), 1);
        let attrs = t.attributes();
        assert!(attrs.iter().any(|(_, v)| v == "retrieved"));
        assert!(attrs.iter().any(|(_, v)| v == "tool-call"));
    }

    #[test]
    fn bad_shapes_name_the_field() {
        for (body, field) in [
            (
                json!({"messages": [{"role": "system", "content": "x"}]}),
                "messages[0].role",
            ),
            (
                json!({"messages": [{"role": "user", "content": 3}]}),
                "messages[0].content",
            ),
            (
                json!({"messages": [{"role": "user", "content": [1]}]}),
                "messages[0].content[0]",
            ),
            (json!({"system": 1, "messages": []}), "system"),
            (json!({"model": "m"}), "messages"),
        ] {
            let e = collect(&body, UnknownFields::Walk).err().unwrap();
            assert!(e.message.contains(&format!("`{field}")), "{}", e.message);
        }
    }
}
