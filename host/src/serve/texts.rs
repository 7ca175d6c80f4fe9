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
    walk_keys(v, pointer, field, role, skip, false, out);
}

/// [`walk`] for a request: under a key `skip` names, only strings are not
/// text; an object there is a settings object, walked by
/// [`walk_settings`], so a key the format does not define inside a known
/// object is scanned rather than forwarded unscanned.
pub fn walk_request(
    v: &Value,
    pointer: &str,
    field: &str,
    role: &str,
    skip: &dyn Fn(&str) -> bool,
    out: &mut Vec<Text>,
) {
    walk_keys(v, pointer, field, role, skip, true, out);
}

/// The texts of `v` under a key that holds no text: none in a string (or
/// an array of strings); an object is walked with
/// [`setting`](super::wire::walk::setting) as its not-text keys.
pub fn walk_settings(v: &Value, pointer: &str, field: &str, role: &str, out: &mut Vec<Text>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_settings(
                    item,
                    &format!("{pointer}/{i}"),
                    &format!("{field}[{i}]"),
                    role,
                    out,
                );
            }
        }
        Value::Object(_) => walk_request(v, pointer, field, role, &super::wire::walk::setting, out),
        _ => {}
    }
}

/// `key` as a JSON pointer segment.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn walk_keys(
    v: &Value,
    pointer: &str,
    field: &str,
    role: &str,
    skip: &dyn Fn(&str) -> bool,
    settings: bool,
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
                walk_keys(
                    item,
                    &format!("{pointer}/{i}"),
                    &format!("{field}[{i}]"),
                    role,
                    skip,
                    settings,
                    out,
                );
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let p = format!("{pointer}/{}", escape(k));
                let f = super::wire::walk::join(field, k);
                if !skip(k) {
                    walk_keys(item, &p, &f, role, skip, settings, out);
                } else if settings {
                    walk_settings(item, &p, &f, role, out);
                }
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
