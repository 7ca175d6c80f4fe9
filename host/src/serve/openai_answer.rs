//! The texts of an unstreamed chat or completion answer, read from its
//! typed model ([`super::wire::answer`]), and the redactions written back
//! through them. A Responses answer is not typed yet: it is read and
//! written back by JSON pointers ([`super::responses::answer_texts`]).

use serde::Deserialize;
use serde_json::Value;

use super::proxy::Kind;
use super::responses::Echo;
use super::texts::{self, Text};
use super::wire::answer::AnswerTexts;
use super::wire::chat::ChatCompletion;
use super::wire::completions::Completion;
use crate::payload::Message;

/// An unstreamed answer, typed when it is a chat or completion answer.
pub enum OpenAiAnswer {
    /// A `chat.completion`.
    Chat(ChatCompletion),
    /// A `text_completion`.
    Completion(Completion),
    /// A Responses answer (read by pointers), or a chat or completion
    /// answer its model could not read (every string in it is a text).
    /// An answer that is not a JSON object never gets here: it is refused
    /// as `upstream_invalid` ([`super::wire::answer_object`]).
    Untyped {
        /// Whether it is a Responses answer.
        responses: bool,
    },
}

/// The texts of an answer: handles into a typed answer, or pointers into
/// an untyped one.
pub enum AnswerTextsOf<'a> {
    /// Chat and completions.
    Typed(AnswerTexts<'a>),
    /// Responses.
    Untyped(Vec<Text>),
}

impl OpenAiAnswer {
    /// Reads `answer` into its typed model, leaving `null`; leaves a
    /// Responses answer, or one that is not an object, in place.
    pub fn take(kind: Kind, answer: &mut Value) -> OpenAiAnswer {
        let untyped = OpenAiAnswer::Untyped {
            responses: kind == Kind::Responses,
        };
        if kind == Kind::Responses || !answer.is_object() {
            return untyped;
        }
        // The models read any JSON object; were one to fail, the answer
        // is still guarded, as an answer without choices.
        let typed = match kind {
            Kind::Chat => ChatCompletion::deserialize(&*answer).map(OpenAiAnswer::Chat),
            _ => Completion::deserialize(&*answer).map(OpenAiAnswer::Completion),
        };
        match typed {
            Ok(t) => {
                *answer = Value::Null;
                t
            }
            Err(_) => untyped,
        }
    }

    /// Every text of the answer (see [`super::wire::answer::Answer::texts`]);
    /// `echo` is the request as sent, for a Responses answer's echoed
    /// fields ([`super::responses::envelope`]).
    pub fn texts<'a>(&'a mut self, untyped: &Value, echo: &Echo) -> AnswerTextsOf<'a> {
        match self {
            OpenAiAnswer::Chat(a) => AnswerTextsOf::Typed(a.texts()),
            OpenAiAnswer::Completion(a) => AnswerTextsOf::Typed(a.texts()),
            OpenAiAnswer::Untyped { responses: true } => {
                AnswerTextsOf::Untyped(super::responses::answer_texts(untyped, echo))
            }
            OpenAiAnswer::Untyped { responses: false } => {
                let mut out = Vec::new();
                texts::walk(untyped, "", "", "assistant", &|k| k == "id", &mut out);
                AnswerTextsOf::Untyped(out)
            }
        }
    }

    /// The answer as JSON again, with its redactions.
    pub fn into_value(self, untyped: Value) -> Value {
        let v = match self {
            OpenAiAnswer::Chat(a) => serde_json::to_value(a),
            OpenAiAnswer::Completion(a) => serde_json::to_value(a),
            OpenAiAnswer::Untyped { .. } => return untyped,
        };
        // Serialising maps of strings and JSON values cannot fail.
        v.unwrap_or(untyped)
    }
}

impl AnswerTextsOf<'_> {
    /// The messages the rails see.
    pub fn messages(&self) -> Vec<Message> {
        match self {
            AnswerTextsOf::Typed(t) => t.messages(),
            AnswerTextsOf::Untyped(t) => t.iter().map(Text::message).collect(),
        }
    }

    /// `message.<i>.field` and `message.<i>.origin` (`assistant`).
    pub fn attributes(&self) -> Vec<(String, String)> {
        match self {
            AnswerTextsOf::Typed(t) => {
                let mut out = Vec::with_capacity(t.found.len() * 2);
                for (i, f) in t.found.iter().enumerate() {
                    out.push((format!("message.{i}.field"), f.field.clone()));
                    out.push((format!("message.{i}.origin"), "assistant".to_string()));
                }
                out
            }
            AnswerTextsOf::Untyped(t) => texts::attributes(t, "assistant"),
        }
    }

    /// Writes the redacted messages back (and drops the log-probabilities
    /// that would spell out what was redacted); `untyped` is the
    /// Responses answer.
    pub fn write_back(self, untyped: &mut Value, redacted: &[Message]) {
        match self {
            AnswerTextsOf::Typed(t) => t.write_back(redacted),
            AnswerTextsOf::Untyped(t) => {
                texts::write_back(untyped, &t, redacted);
                super::responses::drop_logprobs(untyped, &t, redacted);
            }
        }
    }
}
