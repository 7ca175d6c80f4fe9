//! The completions wire format (`/v1/completions`): the request's
//! `prompt` and `suffix`, and an answer's `choices[].text`.
//!
//! Checked against the `openai` Python SDK (3.63):
//! `types/completion_create_params.py` (`prompt`: a string, an array of
//! strings, or token arrays; `suffix`: a string or null) and
//! `types/completion_choice.py` (`text`, `logprobs`, `index`,
//! `finish_reason`). Token-array prompts are not text railyard can guard:
//! they are refused (see `serve::request_texts`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::walk::{Loose, named, wire_model};

wire_model! {
    /// A completions request body.
    pub struct CompletionRequest {
        /// The prompt.
        pub prompt: Option<Prompt>,
        /// Text after the completion.
        pub suffix: Option<Loose<String>>,
    }
    /// Every other field, verbatim.
    extra;
}

impl CompletionRequest {
    /// The prompt, and the other top-level entries in key order.
    pub fn split(&mut self) -> (Option<&mut Prompt>, Vec<super::chat::Entry<'_>>) {
        let others =
            super::walk::entries(vec![("suffix", named(&mut self.suffix))], &mut self.extra);
        (self.prompt.as_mut(), others)
    }
}

/// A completions prompt.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Prompt {
    /// One prompt.
    Text(String),
    /// A batch of prompts (an item that is not a string is a token array).
    Batch(Vec<Loose<String>>),
    /// Null, or a shape the format does not allow.
    Other(Value),
}

wire_model! {
    /// One choice of a completion answer.
    pub struct CompletionChoice {
        /// The text.
        pub text: Option<Loose<String>>,
        /// Token log-probabilities (`tokens`, `top_logprobs`): not walked,
        /// dropped where the choice was redacted.
        pub logprobs: Option<Value>,
    }
    /// `index`, `finish_reason`, and anything else, verbatim.
    extra;
}

impl super::answer::Choice for CompletionChoice {
    fn split(&mut self) -> super::answer::Split<'_> {
        (
            vec![("text", named(&mut self.text))],
            &mut self.extra,
            &mut self.logprobs,
        )
    }
}

/// A completion answer.
pub type Completion = super::answer::Answer<CompletionChoice>;
