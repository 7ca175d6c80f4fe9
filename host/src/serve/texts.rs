//! Every text of a JSON body, with where it sits: found by walking the
//! body, shown to the rails as one message each (with its field), and
//! written back in place when redacted.
//!
//! Paths are written the way an auditor reads them
//! (`choices[0].message.tool_calls[1].function.arguments`); the JSON
//! pointer kept beside each text is only for writing it back.
//!
//! Used for the bodies that are not typed yet: Anthropic and Responses
//! answers, upstream error bodies. A chat or completions body is read
//! through its typed model instead ([`super::wire::walk`]).

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
