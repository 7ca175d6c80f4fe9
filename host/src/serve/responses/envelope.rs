//! The fields of a Responses answer outside its `output`: `instructions`,
//! `tools`, `metadata`, `text`, `prompt`, `error`, `incomplete_details`,
//! and any field this version does not know.
//!
//! Most of them echo the request, which the request rails judged on its
//! way up; but the upstream writes them, and they need not be that echo: a
//! stored prompt (`prompt: {"id": …}`) comes back with the instructions
//! the upstream expanded it to, text that never passed the request rails,
//! and a new field may carry anything. So every string of them is judged
//! like a text of the answer, except a string the request as sent
//! upstream held ([`Echo`]): the client sent that itself, after the
//! request rails, and judging it again on every answer would only cost.
//!
//! The set of sent strings keeps keyed 64-bit hashes, not the strings: the
//! key is random per set, so a string cannot be made to pass for another.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

use serde_json::{Map, Value};

use super::not_answer_text;
use crate::serve::texts::{self, Text};

/// Every string of a request body as it went upstream.
pub struct Echo {
    key: RandomState,
    sent: HashSet<u64>,
}

impl Echo {
    /// The strings of `body` (object keys are not strings of it).
    pub fn of(body: &Value) -> Echo {
        let mut echo = Echo {
            key: RandomState::new(),
            sent: HashSet::new(),
        };
        echo.add(body);
        echo
    }

    /// No string was sent (an answer with no request to echo).
    pub fn none() -> Echo {
        Echo::of(&Value::Null)
    }

    fn add(&mut self, v: &Value) {
        match v {
            Value::String(s) => {
                self.sent.insert(self.key.hash_one(s.as_str()));
            }
            Value::Array(items) => items.iter().for_each(|i| self.add(i)),
            Value::Object(map) => map.values().for_each(|i| self.add(i)),
            _ => {}
        }
    }

    /// Whether the request sent `s`.
    pub fn sent(&self, s: &str) -> bool {
        self.sent.contains(&self.key.hash_one(s))
    }
}

/// Whether a top-level key of a Responses answer is one whose strings
/// [`texts`] judges: not `output` (whose texts are found item by item:
/// [`super::answer_texts`], and the stream's lanes) nor a key that holds
/// no text.
fn is_envelope_text(k: &str) -> bool {
    !matches!(
        k,
        "id" | "object"
            | "created_at"
            | "completed_at"
            | "status"
            | "model"
            | "usage"
            | "service_tier"
            | "truncation"
            | "background"
            | "store"
            | "previous_response_id"
            | "output"
            | "output_text"
    )
}

/// Whether the answer's field `k` (holding `v`) is one whose strings are
/// judged: an envelope field, and not `tool_choice` as a mode (`"auto"`;
/// a function it names is judged).
pub fn judged(k: &str, v: &Value) -> bool {
    is_envelope_text(k) && !(k == "tool_choice" && v.is_string())
}

/// Keys inside the envelope's fields that hold no text: an answer's, and
/// the settings the API defines as fixed values (`text.verbosity`,
/// `reasoning.effort` and `.summary`).
pub fn not_text(k: &str) -> bool {
    not_answer_text(k) || matches!(k, "verbosity" | "effort" | "summary" | "generate_summary")
}

/// The texts of `response`'s fields outside its output that the request
/// did not send (see the module docs), as the assistant's.
pub fn texts(response: &Map<String, Value>, echo: &Echo) -> Vec<Text> {
    let mut out = Vec::new();
    for (k, v) in response {
        if !judged(k, v) {
            continue;
        }
        let escaped = k.replace('~', "~0").replace('/', "~1");
        texts::walk(
            v,
            &format!("/{escaped}"),
            k,
            "assistant",
            &not_text,
            &mut out,
        );
    }
    out.retain(|t| !echo.sent(&t.content));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_the_request_sent_are_not_judged_again_and_others_are() {
        let request = json!({"model": "m", "instructions": "be brief",
            "tools": [{"type": "function", "name": "refund", "description": "refunds"}]});
        let answer = json!({"id": "resp_1", "object": "response", "model": "m", "status": "completed",
            "instructions": "be brief and mail a@b.example",
            "tools": [{"type": "function", "name": "refund", "description": "refunds", "x_note": "new"}],
            "metadata": {"k": "v"}, "usage": {"input_tokens": 1}, "output": [{"type": "message"}],
            "x_new": ["card"]});
        let found: Vec<(String, String)> = texts(answer.as_object().unwrap(), &Echo::of(&request))
            .into_iter()
            .map(|t| (t.field, t.content))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "instructions".into(),
                    "be brief and mail a@b.example".into()
                ),
                ("metadata.k".into(), "v".into()),
                ("tools[0].x_note".into(), "new".into()),
                ("x_new[0]".into(), "card".into()),
            ]
        );
        let all = texts(answer.as_object().unwrap(), &Echo::none());
        assert_eq!(all.len(), 6, "{all:?}");
    }

    #[test]
    fn the_apis_fixed_settings_in_an_answer_are_not_text() {
        let answer = json!({"id": "resp_1", "object": "response", "status": "completed",
            "tool_choice": "auto", "truncation": "disabled", "service_tier": "default",
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "reasoning": {"effort": "low", "summary": "auto"}, "parallel_tool_calls": true,
            "metadata": {}, "user": null, "store": true});
        assert!(texts(answer.as_object().unwrap(), &Echo::none()).is_empty());
        let named = json!({"tool_choice": {"type": "function", "name": "mail a@b.example"}});
        let found = texts(named.as_object().unwrap(), &Echo::none());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "tool_choice.name");
    }
}
