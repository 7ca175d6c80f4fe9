//! An unstreamed chat or completion answer (`chat.completion`,
//! `text_completion`): its choices, typed by format ([`ChatChoice`],
//! [`CompletionChoice`]), and its metadata; and every text in it, as the
//! response rails see it.
//!
//! Checked against the `openai` Python SDK (3.63):
//! `types/chat/chat_completion.py` and `types/completion.py` (`id`,
//! `choices`, `created`, `model`, `object`, `service_tier`,
//! `system_fingerprint`, `usage`).
//!
//! [`ChatChoice`]: super::chat::ChatChoice
//! [`CompletionChoice`]: super::completions::CompletionChoice

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::walk::{Found, Loose, Walk, join, present};
use crate::payload::Message;

/// An unstreamed answer with choices of type `C`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(bound(deserialize = "C: Deserialize<'de>", serialize = "C: Serialize"))]
pub struct Answer<C> {
    /// The choices.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub choices: Option<Loose<Vec<Loose<C>>>>,
    /// Metadata, usage, and anything else, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A choice's entries (named fields, `extra`) and its `logprobs`.
pub type Split<'a> = (
    Vec<(&'static str, Option<&'a mut dyn Walk>)>,
    &'a mut Map<String, Value>,
    &'a mut Option<Value>,
);

/// A choice of an answer.
pub trait Choice {
    /// Its entries other than `logprobs`, and its `logprobs`.
    fn split(&mut self) -> Split<'_>;
}

/// Keys inside a choice's fields that carry no text.
pub(crate) fn not_text(k: &str) -> bool {
    matches!(k, "role" | "id" | "type" | "data" | "expires_at")
}

/// Top-level keys of an answer that carry no model text.
pub(crate) fn metadata(k: &str) -> bool {
    matches!(
        k,
        "id" | "object"
            | "created"
            | "model"
            | "system_fingerprint"
            | "service_tier"
            | "usage"
            | "choices"
    )
}

/// The texts of an answer, each with the choice it belongs to, and each
/// choice's `logprobs`.
pub struct AnswerTexts<'a> {
    /// Every text, in order.
    pub found: Vec<Found<'a>>,
    /// For each text, its choice (`None`: a top-level field).
    choice_of: Vec<Option<usize>>,
    /// Each choice's `logprobs` (by choice).
    logprobs: Vec<(usize, &'a mut Option<Value>)>,
}

impl<C: Choice> Answer<C> {
    /// Every text of the answer: every string of each choice's fields but
    /// `index`, `finish_reason` and `logprobs` (content, parts, refusal,
    /// reasoning, name, tool calls' names and arguments, the deprecated
    /// function call, an audio transcript, a completion's `text`, and any
    /// field this version does not know), then any top-level field that
    /// is not metadata. Not text: ids, `type`s, roles, audio data.
    /// Log-probabilities are not walked: [`AnswerTexts::write_back`] drops
    /// them where their choice was redacted.
    pub fn texts(&mut self) -> AnswerTexts<'_> {
        let mut out = AnswerTexts {
            found: Vec::new(),
            choice_of: Vec::new(),
            logprobs: Vec::new(),
        };
        match &mut self.choices {
            None => {}
            // `choices` of a shape the format does not allow: every string
            // in it is text (the response rails never let an answer they
            // cannot read through unjudged).
            Some(Loose::Other(v)) => {
                v.walk("choices", &not_text, &mut out.found);
                out.choice_of.resize(out.found.len(), None);
            }
            Some(Loose::Typed(choices)) => {
                for (i, choice) in choices.iter_mut().enumerate() {
                    // A choice that is not an object: every string in it.
                    let choice = match choice {
                        Loose::Typed(c) => c,
                        Loose::Other(v) => {
                            v.walk(&format!("choices[{i}]"), &not_text, &mut out.found);
                            out.choice_of.resize(out.found.len(), Some(i));
                            continue;
                        }
                    };
                    let (named, extra, logprobs) = choice.split();
                    out.logprobs.push((i, logprobs));
                    let field = format!("choices[{i}]");
                    for (k, v) in super::walk::entries(named, extra) {
                        if matches!(k, "index" | "finish_reason") {
                            continue;
                        }
                        v.walk(&join(&field, k), &not_text, &mut out.found);
                    }
                    out.choice_of.resize(out.found.len(), Some(i));
                }
            }
        }
        for (k, v) in self.extra.iter_mut() {
            if !metadata(k) {
                v.walk(k, &not_text, &mut out.found);
            }
        }
        out.choice_of.resize(out.found.len(), None);
        out
    }
}

impl AnswerTexts<'_> {
    /// The messages the rails see, one per text, as the assistant.
    pub fn messages(&self) -> Vec<Message> {
        self.found
            .iter()
            .map(|f| Message::new("assistant", f.text.clone()).with_field(f.field.clone()))
            .collect()
    }

    /// Writes each redacted message back where its text came from, and
    /// sets `logprobs` to null on every choice with a redacted text: the
    /// tokens would spell out what was redacted.
    pub fn write_back(self, redacted: &[Message]) {
        let mut changed = Vec::new();
        for ((f, choice), m) in self.found.into_iter().zip(&self.choice_of).zip(redacted) {
            if *f.text != m.content {
                f.text.clone_from(&m.content);
                changed.extend(*choice);
            }
        }
        for (i, logprobs) in self.logprobs {
            if changed.contains(&i)
                && let Some(lp) = logprobs
            {
                *lp = Value::Null;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::chat::ChatCompletion;
    use super::super::completions::Completion;
    use super::*;
    use serde_json::json;

    fn fields(texts: &AnswerTexts<'_>) -> Vec<String> {
        texts.found.iter().map(|f| f.field.clone()).collect()
    }

    #[test]
    fn every_text_of_a_chat_answer_is_found_with_its_path() {
        let answer = json!({"id": "x", "model": "m", "choices": [{"index": 0, "finish_reason": "tool_calls",
            "logprobs": {"content": [{"token": "4111"}]},
            "message": {"role": "assistant", "content": [{"type": "text", "text": "hi"}], "refusal": "no",
                "reasoning_content": "think", "name": "bot",
                "audio": {"id": "a1", "data": "AAAA", "transcript": "said"},
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}],
            "x_extra": {"note": "n/a"}});
        let mut typed: ChatCompletion = serde_json::from_value(answer).unwrap();
        let texts = typed.texts();
        // In key order, as a walk over the JSON would find them.
        assert_eq!(
            fields(&texts),
            [
                "choices[0].message.audio.transcript",
                "choices[0].message.content[0].text",
                "choices[0].message.name",
                "choices[0].message.reasoning_content",
                "choices[0].message.refusal",
                "choices[0].message.tool_calls[0].function.arguments",
                "choices[0].message.tool_calls[0].function.name",
                "x_extra.note",
            ]
        );
    }

    #[test]
    fn redactions_go_back_in_place_and_drop_that_choices_logprobs() {
        let answer = json!({"choices": [
            {"index": 0, "logprobs": {"content": []}, "message": {"tool_calls": [{"function": {"name": "f", "arguments": "card 4111"}}]}},
            {"index": 1, "logprobs": {"content": []}, "message": {"content": "fine"}}]});
        let mut typed: ChatCompletion = serde_json::from_value(answer).unwrap();
        let texts = typed.texts();
        let mut redacted = texts.messages();
        let i = redacted
            .iter()
            .position(|m| m.content == "card 4111")
            .unwrap();
        redacted[i].content = "card <CREDIT_CARD>".into();
        texts.write_back(&redacted);
        let answer = serde_json::to_value(&typed).unwrap();
        assert_eq!(
            answer["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
            "card <CREDIT_CARD>"
        );
        assert!(answer["choices"][0]["logprobs"].is_null());
        assert!(answer["choices"][1]["logprobs"].is_object());
    }

    #[test]
    fn choices_of_a_shape_the_format_does_not_allow_are_walked_not_skipped() {
        let answer = json!({"choices": "card 4111", "x": 1});
        let mut typed: ChatCompletion = serde_json::from_value(answer).unwrap();
        assert_eq!(fields(&typed.texts()), ["choices"]);
        let answer = json!({"choices": ["plain", {"message": {"content": "hi"}}, ["a", {"id": "i", "b": "c"}]]});
        let mut typed: ChatCompletion = serde_json::from_value(answer).unwrap();
        let texts = typed.texts();
        assert_eq!(
            fields(&texts),
            [
                "choices[0]",
                "choices[1].message.content",
                "choices[2][0]",
                "choices[2][1].b"
            ]
        );
        let mut redacted = texts.messages();
        redacted[0].content = "<X>".into();
        texts.write_back(&redacted);
        assert_eq!(serde_json::to_value(&typed).unwrap()["choices"][0], "<X>");
    }

    #[test]
    fn a_completion_answers_texts_are_its_choices_text() {
        let answer = json!({"id": "c", "object": "text_completion", "model": "m",
            "choices": [{"index": 0, "text": "one", "logprobs": {"tokens": ["one"]}, "finish_reason": "stop"},
                        {"index": 1, "text": "two", "logprobs": null}],
            "usage": {"prompt_tokens": 1}});
        let mut typed: Completion = serde_json::from_value(answer.clone()).unwrap();
        let texts = typed.texts();
        assert_eq!(fields(&texts), ["choices[0].text", "choices[1].text"]);
        let mut redacted = texts.messages();
        redacted[0].content = "<X>".into();
        texts.write_back(&redacted);
        let mut want = answer;
        want["choices"][0]["text"] = json!("<X>");
        want["choices"][0]["logprobs"] = Value::Null;
        assert_eq!(serde_json::to_value(&typed).unwrap(), want);
    }

    #[test]
    fn an_answer_with_unknown_fields_at_every_level_re_serialises_equal() {
        let answer = json!({"id": "x", "x_top": {"a": [1, 2.5, null, true]}, "usage": {"total_tokens": 3},
            "choices": [{"index": 0, "x_choice": 1, "logprobs": null, "finish_reason": null,
                "message": {"role": "assistant", "content": null, "x_message": "m", "refusal": null,
                    "annotations": [{"type": "url_citation", "url_citation": {"url": "u", "title": "t", "start_index": 0}}],
                    "audio": {"id": "a", "data": "AA", "expires_at": 1, "transcript": "t", "x_audio": false},
                    "tool_calls": [{"id": "c", "type": "function", "x_call": [], "function": {"name": "f", "arguments": "{}", "x_fn": {}}},
                                   {"id": "d", "type": "custom", "custom": {"name": "g", "input": "i"}}],
                    "function_call": {"name": "f", "arguments": "", "x": 0}}},
                {"index": 1, "message": {"content": [{"type": "text", "text": "a", "x_part": 1}, {"type": "refusal", "refusal": "r"}, {"type": "x"}, "s", 7]}},
                "not a choice", {"index": 2, "message": 5, "text": ["odd"]}]});
        let typed: ChatCompletion = serde_json::from_value(answer.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), answer);
        let typed: Completion = serde_json::from_value(answer.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), answer);
    }
}
