//! Every text of a JSON body, with where it sits: found by walking the
//! body, shown to the rails as one message each (with its field), and
//! written back in place when redacted.
//!
//! Paths are written the way an auditor reads them
//! (`choices[0].message.tool_calls[1].function.arguments`); the JSON
//! pointer kept beside each text is only for writing it back.

use serde_json::Value;

use crate::payload::Message;

/// One text of a body.
#[derive(Debug, Clone)]
pub struct Text {
    /// JSON pointer, for writing back.
    pub pointer: String,
    /// The readable path, recorded with the text.
    pub field: String,
    /// The role the plugins see.
    pub role: String,
    /// The text.
    pub content: String,
}

impl Text {
    /// The message the rails see.
    pub fn message(&self) -> Message {
        Message::new(self.role.clone(), self.content.clone()).with_field(self.field.clone())
    }
}

/// Collects every string under `v` (at `pointer` / `field`) into `out`,
/// as `role`, except under keys `skip` says are not text (ids, types,
/// encoded media).
pub fn walk(
    v: &Value,
    pointer: &str,
    field: &str,
    role: &str,
    skip: &dyn Fn(&str) -> bool,
    out: &mut Vec<Text>,
) {
    match v {
        Value::String(s) => out.push(Text {
            pointer: pointer.to_string(),
            field: field.to_string(),
            role: role.to_string(),
            content: s.clone(),
        }),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(
                    item,
                    &format!("{pointer}/{i}"),
                    &format!("{field}[{i}]"),
                    role,
                    skip,
                    out,
                );
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                if skip(k) {
                    continue;
                }
                let escaped = k.replace('~', "~0").replace('/', "~1");
                let f = if field.is_empty() {
                    k.clone()
                } else {
                    format!("{field}.{k}")
                };
                walk(item, &format!("{pointer}/{escaped}"), &f, role, skip, out);
            }
        }
        _ => {}
    }
}

/// The attributes that tell the plugins where each text came from:
/// `message.<i>.field` and `message.<i>.origin`.
pub fn attributes(texts: &[Text], origin: &str) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(texts.len() * 2);
    for (i, t) in texts.iter().enumerate() {
        out.push((format!("message.{i}.field"), t.field.clone()));
        out.push((format!("message.{i}.origin"), origin.to_string()));
    }
    out
}

/// Writes each redacted message back where its text came from.
pub fn write_back(body: &mut Value, texts: &[Text], redacted: &[Message]) {
    for (t, m) in texts.iter().zip(redacted) {
        if m.content != t.content
            && let Some(slot) = body.pointer_mut(&t.pointer)
        {
            *slot = Value::String(m.content.clone());
        }
    }
}

/// The texts of an unstreamed chat or completion answer: every string of
/// each choice's message (content, content parts, refusal, reasoning,
/// name, tool calls' names and arguments, the deprecated function call,
/// an audio transcript, and any field this version does not know) or text,
/// and any unknown top-level field. Not text: ids, `type`s, roles, audio
/// data, and the answer's metadata. Log-probabilities are not walked:
/// [`drop_logprobs`] removes them where their choice was redacted.
pub fn answer_texts(answer: &Value) -> Vec<Text> {
    let mut out = Vec::new();
    let not_text = |k: &str| matches!(k, "role" | "id" | "type" | "data" | "expires_at");
    if let Some(choices) = answer.get("choices").and_then(Value::as_array) {
        for (i, choice) in choices.iter().enumerate() {
            let Some(map) = choice.as_object() else {
                continue;
            };
            for (k, v) in map {
                if matches!(k.as_str(), "index" | "finish_reason" | "logprobs") {
                    continue;
                }
                walk(
                    v,
                    &format!("/choices/{i}/{k}"),
                    &format!("choices[{i}].{k}"),
                    "assistant",
                    &not_text,
                    &mut out,
                );
            }
        }
    }
    if let Some(map) = answer.as_object() {
        for (k, v) in map {
            if matches!(
                k.as_str(),
                "id" | "object"
                    | "created"
                    | "model"
                    | "system_fingerprint"
                    | "service_tier"
                    | "usage"
                    | "choices"
            ) {
                continue;
            }
            walk(v, &format!("/{k}"), k, "assistant", &not_text, &mut out);
        }
    }
    out
}

/// Sets `logprobs` to null on every choice with a redacted text: the
/// tokens would spell out what was redacted.
pub fn drop_logprobs(answer: &mut Value, texts: &[Text], redacted: &[Message]) {
    let Some(choices) = answer.get_mut("choices").and_then(Value::as_array_mut) else {
        return;
    };
    for (i, choice) in choices.iter_mut().enumerate() {
        let prefix = format!("/choices/{i}/");
        let changed = texts
            .iter()
            .zip(redacted)
            .any(|(t, m)| t.pointer.starts_with(&prefix) && t.content != m.content);
        if changed && let Some(lp) = choice.get_mut("logprobs") {
            *lp = Value::Null;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_text_of_an_answer_is_found_with_its_path() {
        let answer = json!({"id": "x", "model": "m", "choices": [{"index": 0, "finish_reason": "tool_calls",
            "logprobs": {"content": [{"token": "4111"}]},
            "message": {"role": "assistant", "content": [{"type": "text", "text": "hi"}], "refusal": "no",
                "reasoning_content": "think", "name": "bot",
                "audio": {"id": "a1", "data": "AAAA", "transcript": "said"},
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}],
            "x_extra": {"note": "n/a"}});
        let fields: Vec<String> = answer_texts(&answer).into_iter().map(|t| t.field).collect();
        for f in [
            "choices[0].message.content[0].text",
            "choices[0].message.refusal",
            "choices[0].message.reasoning_content",
            "choices[0].message.name",
            "choices[0].message.audio.transcript",
            "choices[0].message.tool_calls[0].function.name",
            "choices[0].message.tool_calls[0].function.arguments",
            "x_extra.note",
        ] {
            assert!(fields.iter().any(|x| x == f), "{f} not in {fields:?}");
        }
        assert_eq!(fields.len(), 8, "{fields:?}");
    }

    #[test]
    fn redactions_go_back_in_place_and_drop_that_choices_logprobs() {
        let mut answer = json!({"choices": [
            {"index": 0, "logprobs": {"content": []}, "message": {"tool_calls": [{"function": {"name": "f", "arguments": "card 4111"}}]}},
            {"index": 1, "logprobs": {"content": []}, "message": {"content": "fine"}}]});
        let texts = answer_texts(&answer);
        let mut redacted: Vec<Message> = texts.iter().map(Text::message).collect();
        let i = texts.iter().position(|t| t.content == "card 4111").unwrap();
        redacted[i].content = "card <CREDIT_CARD>".into();
        write_back(&mut answer, &texts, &redacted);
        drop_logprobs(&mut answer, &texts, &redacted);
        assert_eq!(
            answer["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
            "card <CREDIT_CARD>"
        );
        assert!(answer["choices"][0]["logprobs"].is_null());
        assert!(answer["choices"][1]["logprobs"].is_object());
    }
}
