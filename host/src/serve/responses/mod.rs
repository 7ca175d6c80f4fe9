//! `POST /v1/responses` (the OpenAI Responses API), streamed and not: the
//! same payload mapping, policies, stream guard and audit rows as a chat
//! completion, proxied to an `api = "openai"` upstream's `/responses` (see
//! `proxy`). A streamed answer goes through [`relay`] (one lane per
//! output item's text) and [`stream`] (how it ends); [`wire`] types the
//! events.
//!
//! | where (request) | role / origin |
//! |---|---|
//! | `instructions` | `system` / `system` |
//! | `input` as a string | `user` / `user` |
//! | a message item's string content or text parts (`input_text`, `output_text`, `refusal`; joined) | its role (`system`, `developer`, `user`, `assistant`) |
//! | `function_call` and other `*_call` items (name, arguments, …) | `assistant` / `tool-call` |
//! | `function_call_output` and other `*_output` items | `tool` / `tool` |
//! | `reasoning` items' summaries and content | `assistant` / `assistant` |
//! | `tools` | `tool-definition` |
//! | `metadata`, `text`, `prompt`, `user`, `safety_identifier`, `prompt_cache_key`, `tool_choice`, unknown fields | `user` / `parameter` |
//!
//! `input_image` and `input_file` parts are non-text parts. Not text:
//! `type`, ids (`id`, `call_id`, `previous_response_id`, `conversation`),
//! `status`, `encrypted_content`, `include` and `reasoning` (fixed values;
//! a key they do not define is walked: see `wire::walk::setting`). Answers:
//! every string of each `output` item (`output_text` and its annotations,
//! `refusal`, a function call's name and arguments, reasoning summaries),
//! and `error`; and every string of the other fields (`instructions`,
//! `tools`, `metadata`, unknown ones) that the request as sent did not
//! hold ([`envelope`]).
//!
//! `previous_response_id` is passed on, shown to the plugins as the
//! attribute `previous_response_id` and recorded in the call's
//! `inferences` row; the earlier turns the upstream keeps for it are not
//! in the request, so railyard saw (and guarded) them only if they went
//! through railyard.

pub mod envelope;
pub mod relay;
pub(super) mod stream;
pub mod wire;

use serde_json::Value;

use super::ApiError;
use super::request_texts::{RequestTexts, kind_of, unknown_field};
use super::texts::{self, Text};
use super::wire::walk::setting;
use crate::policy::UnknownFields;
pub use envelope::Echo;

/// Top-level keys that carry no text.
const NOT_TEXT: &[&str] = &[
    "model",
    "stream",
    "stream_options",
    "background",
    "include",
    "max_output_tokens",
    "max_tool_calls",
    "parallel_tool_calls",
    "previous_response_id",
    "reasoning",
    "service_tier",
    "store",
    "temperature",
    "top_p",
    "top_logprobs",
    "truncation",
    "prompt_cache_retention",
    "conversation",
];

/// Top-level keys that hold text besides `input` and `instructions`.
const KNOWN: &[&str] = &[
    "tools",
    "tool_choice",
    "metadata",
    "text",
    "prompt",
    "user",
    "safety_identifier",
    "prompt_cache_key",
];

fn not_text(k: &str) -> bool {
    matches!(
        k,
        "type"
            | "id"
            | "call_id"
            | "status"
            | "encrypted_content"
            | "role"
            | "prompt_cache_breakpoint"
    )
}

/// Not text in an `input_image`, `input_file` or `input_audio` part: its
/// URL, file id or name, encoded data, detail and format.
fn media(k: &str) -> bool {
    not_text(k) || setting(k) || matches!(k, "image_url" | "input_audio")
}

/// Keys of an answer that hold no text: `logprobs` repeat a part's text as
/// tokens, so they are not walked (a stream never passes them on) and
/// are dropped where the text was redacted (see [`drop_logprobs`]).
pub(super) fn not_answer_text(k: &str) -> bool {
    not_text(k) || k == "logprobs"
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("invalid_request", message)
}

/// The texts of a Responses request body.
pub fn collect(body: &Value, unknown: UnknownFields) -> Result<RequestTexts<'static>, ApiError> {
    let refuse = unknown == UnknownFields::Refuse;
    let mut out = RequestTexts::empty();
    let Some(top) = body.as_object() else {
        return Err(bad("the body must be a JSON object".into()));
    };
    match top.get("instructions") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            out.push_text("/instructions", "instructions", "system", "system", s)
        }
        Some(other) => {
            return Err(bad(format!(
                "`instructions` must be a string, not {}",
                kind_of(other)
            )));
        }
    }
    match top.get("input") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => out.push_text("/input", "input", "user", "user", s),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                input_item(i, item, refuse, &mut out)?;
            }
        }
        Some(other) => {
            return Err(bad(format!(
                "`input` must be a string or an array of input items, not {}",
                kind_of(other)
            )));
        }
    }
    for (k, v) in top {
        if k == "input" || k == "instructions" {
            continue;
        }
        let pointer = format!("/{}", texts::escape(k));
        if NOT_TEXT.contains(&k.as_str()) {
            out.push_settings(v, (&pointer, k), refuse)?;
            continue;
        }
        if refuse && !KNOWN.contains(&k.as_str()) {
            return Err(unknown_field(k));
        }
        let (role, origin) = if k == "tools" {
            ("tool-definition", "tool-definition")
        } else {
            ("user", "parameter")
        };
        out.push_walked(v, &pointer, k, role, origin, &not_text);
    }
    Ok(out)
}

fn origin_of(role: &str) -> Option<&'static str> {
    match role {
        "system" => Some("system"),
        "developer" => Some("developer"),
        "user" => Some("user"),
        "assistant" => Some("assistant"),
        _ => None,
    }
}

fn input_item(
    i: usize,
    item: &Value,
    refuse: bool,
    out: &mut RequestTexts,
) -> Result<(), ApiError> {
    let p = format!("/input/{i}");
    let f = format!("input[{i}]");
    let Some(map) = item.as_object() else {
        return Err(bad(format!(
            "`{f}` must be an input item object, not {}",
            kind_of(item)
        )));
    };
    let kind = map.get("type").and_then(Value::as_str);
    match kind {
        None | Some("message") => {
            let role = map.get("role").and_then(Value::as_str).unwrap_or("");
            let Some(origin) = origin_of(role) else {
                return Err(bad(format!(
                    "`{f}.role` must be \"user\", \"assistant\", \"system\" or \"developer\" (a message item), not {}",
                    map.get("role")
                        .map_or("missing".to_string(), |r| r.to_string())
                )));
            };
            match map.get("content") {
                Some(Value::String(s)) => out.push_text(
                    &format!("{p}/content"),
                    &format!("{f}.content"),
                    role,
                    origin,
                    s,
                ),
                Some(Value::Array(parts)) => {
                    let mut texts = Vec::new();
                    for (j, part) in parts.iter().enumerate() {
                        let pf = format!("{f}.content[{j}]");
                        let pp = format!("{p}/content/{j}");
                        let t = part.get("type").and_then(Value::as_str).unwrap_or("");
                        let at = (pp.as_str(), pf.as_str());
                        let Some(obj) = part.as_object() else {
                            return Err(bad(format!(
                                "`{pf}` must be a content part object, not {}",
                                kind_of(part)
                            )));
                        };
                        // A text part (`input_text`, `output_text`) or a
                        // refusal, and the keys each defines.
                        let read: [(&str, &[&str]); 2] = [
                            ("text", &["type", "text", "annotations", "logprobs"]),
                            ("refusal", &["type", "refusal"]),
                        ];
                        let text = read
                            .iter()
                            .find_map(|&(key, known)| Some((key, part.get(key)?.as_str()?, known)));
                        if let Some((key, s, known)) = text {
                            texts.push((format!("{pp}/{key}"), s));
                            out.push_rest(
                                obj,
                                &[key],
                                known,
                                at,
                                (role, origin),
                                &not_text,
                                refuse,
                            )?;
                        } else if matches!(t, "input_image" | "input_file" | "input_audio") {
                            out.push_media(pf.clone(), t, part);
                            out.push_rest(obj, &[], &[], at, (role, origin), &media, refuse)?;
                        } else if refuse {
                            return Err(unknown_field(&pf));
                        } else {
                            out.push_walked(part, &pp, &pf, role, origin, &not_text);
                        }
                    }
                    out.push_joined(&texts, &format!("{f}.content"), role, origin);
                }
                other => {
                    return Err(bad(format!(
                        "`{f}.content` must be a string or an array of content parts, not {}",
                        other.map_or("missing", kind_of)
                    )));
                }
            }
            let known = ["type", "role", "content", "id", "status"];
            out.push_rest(
                map,
                &["content"],
                &known,
                (&p, &f),
                (role, origin),
                &not_text,
                refuse,
            )?;
        }
        Some("item_reference") => {
            out.push_rest(map, &[], &[], (&p, &f), ("user", "user"), &not_text, refuse)?;
        }
        Some("reasoning") => {
            for k in ["summary", "content"] {
                if let Some(v) = map.get(k) {
                    out.push_walked(
                        v,
                        &format!("{p}/{k}"),
                        &format!("{f}.{k}"),
                        "assistant",
                        "assistant",
                        &not_text,
                    );
                }
            }
            let at = ("assistant", "assistant");
            out.push_rest(
                map,
                &["summary", "content"],
                &[],
                (&p, &f),
                at,
                &not_text,
                refuse,
            )?;
        }
        Some(t) if t.ends_with("_output") => {
            out.push_walked(item, &p, &f, "tool", "tool", &not_text);
        }
        Some(t) if t.ends_with("_call") => {
            out.push_walked(item, &p, &f, "assistant", "tool-call", &not_text);
        }
        Some(_) if refuse => return Err(unknown_field(&f)),
        Some(_) => out.push_walked(item, &p, &f, "user", "user", &not_text),
    }
    Ok(())
}

/// The texts of an unstreamed Responses answer: every string of each
/// `output` item (not ids, types, statuses, encrypted reasoning); then
/// those of the other fields (`error`, `incomplete_details`,
/// `instructions`, …) that the request did not send ([`envelope`]).
pub fn answer_texts(answer: &Value, echo: &Echo) -> Vec<Text> {
    let mut out = Vec::new();
    if let Some(v) = answer.get("output") {
        texts::walk(
            v,
            "/output",
            "output",
            "assistant",
            &not_answer_text,
            &mut out,
        );
    }
    if let Some(map) = answer.as_object() {
        out.extend(envelope::texts(map, echo));
    }
    out
}

/// Removes `logprobs` from every output part whose text was redacted: the
/// tokens would spell out what was redacted.
pub fn drop_logprobs(answer: &mut Value, texts: &[Text], redacted: &[crate::payload::Message]) {
    for (t, m) in texts.iter().zip(redacted) {
        if t.content == m.content || !t.pointer.starts_with("/output/") {
            continue;
        }
        if let Some(part) = t.pointer.strip_suffix("/text")
            && let Some(Value::Object(part)) = answer.pointer_mut(part)
        {
            part.remove("logprobs");
        }
    }
}

/// `previous_response_id`, when the request continues a stored response.
pub fn previous_response_id(body: &Value) -> Option<&str> {
    body.get("previous_response_id").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_text_of_a_responses_request_and_answer_is_found() {
        let body = json!({"model": "m", "instructions": "be brief", "previous_response_id": "resp_1",
            "tools": [{"type": "function", "name": "refund", "description": "refunds", "parameters": {}}],
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "a"}, {"type": "input_image", "image_url": "data:x"}]},
                {"type": "function_call", "call_id": "c1", "name": "refund", "arguments": "{\"card\": \"x\"}"},
                {"type": "function_call_output", "call_id": "c1", "output": "done"},
                {"type": "reasoning", "id": "r1", "summary": [{"type": "summary_text", "text": "think"}], "encrypted_content": "enc"}]});
        let t = collect(&body, UnknownFields::Walk).unwrap();
        let seen: Vec<(String, String)> = t
            .messages()
            .into_iter()
            .map(|m| (m.field.unwrap_or_default(), m.content))
            .collect();
        for (field, text) in [
            ("instructions", "be brief"),
            ("input[0].content", "a"),
            ("input[1].arguments", "{\"card\": \"x\"}"),
            ("input[1].name", "refund"),
            ("input[2].output", "done"),
            ("input[3].summary[0].text", "think"),
            ("tools[0].description", "refunds"),
        ] {
            assert!(
                seen.contains(&(field.into(), text.into())),
                "{field} in {seen:?}"
            );
        }
        assert_eq!(seen.len(), 8, "{seen:?}");
        assert_eq!(t.media().len(), 1);
        let a = json!({"id": "resp_2", "object": "response", "instructions": "be brief", "output": [
            {"type": "message", "id": "m1", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "hi", "annotations": []}]},
            {"type": "function_call", "id": "f1", "call_id": "c2", "name": "refund", "arguments": "{}"}]});
        let fields: Vec<String> = answer_texts(&a, &Echo::of(&body))
            .into_iter()
            .map(|t| t.field)
            .collect();
        assert_eq!(
            fields,
            [
                "output[0].content[0].text",
                "output[1].arguments",
                "output[1].name"
            ]
        );
    }

    #[test]
    fn logprobs_are_not_text_and_go_where_their_part_was_redacted() {
        let mut a = json!({"output": [{"type": "message", "id": "m1", "role": "assistant", "content": [
            {"type": "output_text", "text": "card 4111", "annotations": [], "logprobs": [{"token": "4111", "logprob": 0.0}]},
            {"type": "output_text", "text": "fine", "annotations": [], "logprobs": [{"token": "fine", "logprob": 0.0}]}]}]});
        let texts = answer_texts(&a, &Echo::none());
        assert_eq!(texts.len(), 2, "{texts:?}");
        let redacted: Vec<crate::payload::Message> = texts
            .iter()
            .map(|t| crate::payload::Message::new("assistant", t.content.replace("4111", "<CARD>")))
            .collect();
        texts::write_back(&mut a, &texts, &redacted);
        drop_logprobs(&mut a, &texts, &redacted);
        let parts = &a["output"][0]["content"];
        assert_eq!(parts[0]["text"], "card <CARD>");
        assert!(parts[0].get("logprobs").is_none(), "{parts}");
        assert!(parts[1].get("logprobs").is_some(), "{parts}");
    }

    #[test]
    fn bad_shapes_name_the_field() {
        for (body, field) in [
            (json!({"input": 3}), "`input`"),
            (json!({"input": [1]}), "`input[0]`"),
            (
                json!({"input": [{"role": "robot", "content": "x"}]}),
                "`input[0].role`",
            ),
            (
                json!({"input": [{"role": "user", "content": 5}]}),
                "`input[0].content`",
            ),
            (json!({"instructions": []}), "`instructions`"),
        ] {
            let e = collect(&body, UnknownFields::Walk).err().unwrap();
            assert!(e.message.contains(field), "{}", e.message);
        }
    }
}
