//! Every text of a chat or completion request, as the request rails see
//! it, and the redactions written back where each text came from.
//!
//! What is text: every string of the body except the keys listed in
//! [`NOT_TEXT`](super::openai_texts) (sampling parameters, ids, types, roles) and the data of
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
//! A chat or completions request is read through the typed models of
//! [`super::wire::chat`] and [`super::wire::completions`] (see
//! [`super::openai_texts`]): each text is a `&mut String` handle into the
//! typed body, and a redaction is written through it. The Anthropic
//! Messages and Responses mappings still read a `serde_json::Value` and
//! write back through JSON pointers ([`Target::Pointer`]).
//!
//! Shapes the format does not allow and that cannot be read without
//! guessing (a message that is not an object, `content` that is neither a
//! string, an array nor null, a token-array prompt) are refused with a 400
//! naming the field; an array of strings as `content` is read as text
//! parts.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::ApiError;
use super::texts::{Text, escape, walk_request, walk_settings};
use super::wire::walk::{Found, join};
use crate::payload::Message;
use crate::pipeline::{Evaluation, redact};
use crate::policy::RedactionPolicy;
use crate::verdict::{Finding, Span};

/// One message the rails see: a text, or the joined text parts of one
/// chat message.
struct Group<'a> {
    message: Message,
    origin: &'static str,
    /// Where each part sits, and its byte range in the joined text.
    parts: Vec<(Target<'a>, usize, usize)>,
}

/// Where a text of the body sits, for writing a redaction back.
pub(super) enum Target<'a> {
    /// A field of a typed body (chat, completions).
    Slot(&'a mut String),
    /// A JSON pointer into a `serde_json::Value` body: the Anthropic
    /// Messages and Responses mappings, which are not typed yet.
    Pointer(String),
}

impl Target<'_> {
    fn set(&mut self, body: &mut Value, text: String) {
        match self {
            Target::Slot(s) => **s = text,
            Target::Pointer(p) => {
                if let Some(slot) = body.pointer_mut(p) {
                    *slot = Value::String(text);
                }
            }
        }
    }
}

/// The texts of a request; `'a` is the typed body its handles point into
/// (`'static` for a body read by pointers).
pub struct RequestTexts<'a> {
    groups: Vec<Group<'a>>,
    /// Non-text parts: (field, description).
    media: Vec<(String, String)>,
}

impl RequestTexts<'_> {
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

    /// Writes the evaluation's redactions back where each text came from:
    /// through its handle, or at its pointer into `body` (`body` is not
    /// touched for a typed body).
    pub fn write_back(
        &mut self,
        body: &mut Value,
        evaluation: &Evaluation,
        policy: &RedactionPolicy,
    ) {
        let Some(redacted) = &evaluation.redacted else {
            return;
        };
        for (i, (g, r)) in self.groups.iter_mut().zip(redacted).enumerate() {
            if r.content == g.message.content {
                continue;
            }
            if let [(target, _, _)] = g.parts.as_mut_slice() {
                target.set(body, r.content.clone());
                continue;
            }
            let findings: Vec<&Finding> = evaluation
                .redacting_findings()
                .filter(|f| f.span.is_some_and(|s| s.message as usize == i))
                .collect();
            for (target, start, end) in &mut g.parts {
                let text = &g.message.content[*start..*end];
                let new = redact_part(text, *start, *end, &findings, policy);
                if new != text {
                    target.set(body, new);
                }
            }
        }
    }

    /// Writes the redactions back into a typed body (every target a
    /// handle).
    pub fn redact_in_place(&mut self, evaluation: &Evaluation, policy: &RedactionPolicy) {
        self.write_back(&mut Value::Null, evaluation, policy);
    }
}

/// Building the texts of a request in another wire format (the
/// Anthropic Messages and OpenAI Responses mappings): the same groups,
/// origins and write-back as a chat request's.
impl<'a> RequestTexts<'a> {
    /// No texts yet.
    pub(super) fn empty() -> RequestTexts<'a> {
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
            parts: vec![(Target::Pointer(pointer.to_string()), 0, text.len())],
        });
    }

    /// Every string under `v`, one text each, except under keys `skip`
    /// says are not text (an object under one is walked as a settings
    /// object: [`walk_request`]).
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
        walk_request(v, pointer, field, role, skip, &mut found);
        push_texts(self, found, origin);
    }

    /// The entries of a known object (`map`, at `pointer` / `field`) that
    /// were not read already (`handled`): each walked as a field the
    /// format does not define, a key `skip` names only for a settings
    /// object under it. With `refuse`, a key neither `known` nor named by
    /// `skip`, or a string in a settings object, is a 400 naming it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn push_rest(
        &mut self,
        map: &Map<String, Value>,
        handled: &[&str],
        known: &[&str],
        (pointer, field): (&str, &str),
        (role, origin): (&str, &'static str),
        skip: &dyn Fn(&str) -> bool,
        refuse: bool,
    ) -> Result<(), ApiError> {
        let mut found = Vec::new();
        for (k, v) in map {
            if handled.contains(&k.as_str()) {
                continue;
            }
            let (p, f) = (format!("{pointer}/{}", escape(k)), join(field, k));
            if skip(k) {
                settings(v, &p, &f, role, refuse, &mut found)?;
            } else if refuse && !known.contains(&k.as_str()) {
                return Err(unknown_field(&f));
            } else {
                walk_request(v, &p, &f, role, skip, &mut found);
            }
        }
        push_texts(self, found, origin);
        Ok(())
    }

    /// The value of a top-level key that holds no text: a settings object
    /// under it is walked (see [`push_rest`](Self::push_rest)), as a
    /// parameter.
    pub(super) fn push_settings(
        &mut self,
        v: &Value,
        (pointer, field): (&str, &str),
        refuse: bool,
    ) -> Result<(), ApiError> {
        let mut found = Vec::new();
        settings(v, pointer, field, "user", refuse, &mut found)?;
        push_texts(self, found, "parameter");
        Ok(())
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
            spans.push((Target::Pointer(pointer.clone()), start, joined.len()));
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
    pub(super) fn push_media(&mut self, field: String, kind: &str, part: &impl serde::Serialize) {
        self.media.push((field, describe(kind, part)));
    }

    /// One text of a typed body, through its handle.
    pub(super) fn push_found(&mut self, found: Found<'a>, role: &str, origin: &'static str) {
        let len = found.text.len();
        self.groups.push(Group {
            message: Message::new(role, found.text.clone()).with_field(found.field),
            origin,
            parts: vec![(Target::Slot(found.text), 0, len)],
        });
    }

    /// Texts of a typed body shown joined (see [`Self::push_joined`]).
    pub(super) fn push_joined_found(
        &mut self,
        parts: Vec<&'a mut String>,
        field: String,
        role: &str,
        origin: &'static str,
    ) {
        let mut joined = String::new();
        let mut spans = Vec::new();
        for text in parts {
            if !spans.is_empty() {
                joined.push(' ');
            }
            let start = joined.len();
            joined.push_str(text);
            spans.push((Target::Slot(text), start, joined.len()));
        }
        if !spans.is_empty() {
            self.groups.push(Group {
                message: Message::new(role, joined).with_field(field),
                origin,
                parts: spans,
            });
        }
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

pub(super) fn bad(message: String) -> ApiError {
    ApiError::bad_request("invalid_request", message)
}

/// The role the plugins see for a chat message's role.
pub(super) fn origin_of(role: &str) -> &'static str {
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

/// The texts of a settings object under a key that holds no text into
/// `found`; with `refuse`, any is a field the format does not define: a
/// 400 naming it.
fn settings(
    v: &Value,
    pointer: &str,
    field: &str,
    role: &str,
    refuse: bool,
    found: &mut Vec<Text>,
) -> Result<(), ApiError> {
    let before = found.len();
    walk_settings(v, pointer, field, role, found);
    match found.get(before) {
        Some(t) if refuse => Err(unknown_field(&t.field)),
        _ => Ok(()),
    }
}

fn push_texts(out: &mut RequestTexts, texts: Vec<Text>, origin: &'static str) {
    for t in texts {
        let len = t.content.len();
        out.groups.push(Group {
            message: t.message(),
            origin,
            parts: vec![(Target::Pointer(t.pointer), 0, len)],
        });
    }
}

/// A non-text part, as the record keeps it: its type, the size of its
/// JSON, and the SHA-256 of that JSON.
fn describe(kind: &str, part: &impl serde::Serialize) -> String {
    let bytes = serde_json::to_string(part).unwrap_or_default();
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
    use crate::policy::{RedactionOperator, UnknownFields};
    use crate::serve::openai_texts::OpenAiRequest;
    use crate::serve::proxy::Kind;
    use serde_json::json;

    /// The error a chat body gets.
    fn refused(body: Value, unknown: UnknownFields) -> ApiError {
        let mut body = body;
        let mut typed = OpenAiRequest::take(Kind::Chat, &mut body).unwrap();
        typed.texts(&body, unknown).err().unwrap()
    }

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
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "card 4111 1111"}, "1111 1111 ok"]}]});
        let mut typed = OpenAiRequest::take(Kind::Chat, &mut body).unwrap();
        let texts = typed.texts(&body, UnknownFields::Walk).unwrap();
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
            let e = refused(body, UnknownFields::Walk);
            assert!(e.message.contains(field), "{}", e.message);
        }
        let e = refused(json!({"messages": [], "x": 1}), UnknownFields::Refuse);
        assert_eq!(e.code, "unknown_field");
    }
}
