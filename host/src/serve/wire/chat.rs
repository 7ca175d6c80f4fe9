//! The chat-completions wire format (`/v1/chat/completions`): the request
//! body and the unstreamed answer, typed where railyard reads them.
//!
//! Checked against the `openai` Python SDK (3.63): request,
//! `types/chat/completion_create_params.py`,
//! `chat_completion_message_param.py` and the per-role
//! `chat_completion_*_message_param.py` (`content` a string or an array
//! of parts, `name`, an assistant's `tool_calls`, `function_call`,
//! `refusal`, `audio`), `chat_completion_content_part_param.py` (`text`,
//! `image_url`, `input_audio`, `file`),
//! `chat_completion_content_part_refusal_param.py`,
//! `chat_completion_message_function_tool_call_param.py` /
//! `..._custom_tool_call_param.py`, `chat_completion_function_tool_param.py`
//! and `shared_params/function_definition.py` (`tools`); answer,
//! `types/chat/chat_completion.py` (`choices[].message`, `logprobs`),
//! `chat_completion_message.py` and `chat_completion_audio.py`.
//!
//! Every model keeps the fields it does not name in `extra`, verbatim,
//! and a field of a shape the format does not allow as it came
//! ([`Loose`]): a body re-serialised after redaction differs from the one
//! received only in the redacted texts. Fields whose value railyard does
//! not read (sampling parameters, ids, `type`s, `metadata`,
//! `response_format`, …) are left in `extra`: they are walked as JSON like
//! any field the format does not define.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::walk::{Found, Loose, Skip, Walk, named, walk_entries, wire_model};

wire_model! {
    /// A chat-completions request body.
    pub struct ChatRequest {
        /// The conversation.
        pub messages: Option<Messages>,
        /// The tools the model may call: their descriptions and schemas are
        /// text the model reads.
        pub tools: Option<Loose<Vec<Loose<Tool>>>>,
        /// The end user's id (free text).
        pub user: Option<Loose<String>>,
    }
    /// Every other field, verbatim.
    extra;
}

/// The conversation: messages, or (refused) anything else.
pub type Messages = Loose<Vec<Loose<RequestMessage>>>;

/// An entry of a typed struct: its key and its value.
pub type Entry<'a> = (&'a str, &'a mut dyn Walk);

impl ChatRequest {
    /// The messages, and the other top-level entries in key order.
    pub fn split(&mut self) -> (Option<&mut Messages>, Vec<Entry<'_>>) {
        let others = super::walk::entries(
            vec![
                ("tools", named(&mut self.tools)),
                ("user", named(&mut self.user)),
            ],
            &mut self.extra,
        );
        (self.messages.as_mut(), others)
    }
}

wire_model! {
    /// One message of the conversation (any role).
    pub struct RequestMessage {
        /// `system`, `developer`, `user`, `assistant`, `tool` or `function`.
        pub role: Option<Loose<String>>,
        /// A string, an array of parts, or null.
        pub content: Option<Content>,
        /// A participant's name.
        pub name: Option<Loose<String>>,
        /// An assistant's tool calls, as it wrote them.
        pub tool_calls: Option<Loose<Vec<Loose<ToolCall>>>>,
        /// The deprecated single function call.
        pub function_call: Option<Loose<FunctionCall>>,
        /// An assistant's refusal.
        pub refusal: Option<Loose<String>>,
    }
    /// `tool_call_id`, `audio` and fields the format does not define.
    extra;
}

impl RequestMessage {
    /// The role (`user` when it has none, or not a string), the content, and the
    /// other entries in key order.
    pub fn split(&mut self) -> (&str, Option<&mut Content>, Vec<Entry<'_>>) {
        let others = super::walk::entries(
            vec![
                ("name", named(&mut self.name)),
                ("tool_calls", named(&mut self.tool_calls)),
                ("function_call", named(&mut self.function_call)),
                ("refusal", named(&mut self.refusal)),
            ],
            &mut self.extra,
        );
        let role = match &self.role {
            Some(Loose::Typed(r)) => r.as_str(),
            _ => "user",
        };
        (role, self.content.as_mut(), others)
    }
}

/// A message's content.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Content parts.
    Parts(Vec<Part>),
    /// Null, or a shape the format does not allow.
    Other(Value),
}

impl Walk for Content {
    fn walk<'a>(&'a mut self, field: &str, skip: Skip, out: &mut Vec<Found<'a>>) {
        match self {
            Content::Text(s) => s.walk(field, skip, out),
            Content::Parts(parts) => parts.walk(field, skip, out),
            Content::Other(v) => v.walk(field, skip, out),
        }
    }
}

/// One content part.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Part {
    /// A bare string (not in the format: read as a text part).
    Bare(String),
    /// A part with `text` (`type: "text"`).
    Text(TextPart),
    /// A part with `refusal` (`type: "refusal"`, assistant messages).
    Refusal(RefusalPart),
    /// Any other object: `image_url`, `input_audio`, `file`, or a type
    /// the format does not define (read by its `type`).
    Object(Map<String, Value>),
    /// Not an object nor a string.
    Other(Value),
}

impl Walk for Part {
    fn walk<'a>(&'a mut self, field: &str, skip: Skip, out: &mut Vec<Found<'a>>) {
        match self {
            Part::Bare(s) => s.walk(field, skip, out),
            Part::Text(p) => walk_entries(
                vec![("text", Some(&mut p.text))],
                &mut p.extra,
                field,
                skip,
                out,
            ),
            Part::Refusal(p) => walk_entries(
                vec![("refusal", Some(&mut p.refusal))],
                &mut p.extra,
                field,
                skip,
                out,
            ),
            Part::Object(map) => walk_entries(Vec::new(), map, field, skip, out),
            Part::Other(v) => v.walk(field, skip, out),
        }
    }
}

/// A text part.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct TextPart {
    /// The text.
    pub text: String,
    /// `type`, and anything else, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A refusal part.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RefusalPart {
    /// The refusal.
    pub refusal: String,
    /// `type`, and anything else, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

wire_model! {
    /// A tool call an assistant made (`type: "function"`; a `custom` call's
    /// `custom.input` is in `extra`, walked as JSON).
    pub struct ToolCall {
        /// The function called and its arguments.
        pub function: Option<Loose<FunctionCall>>,
    }
    /// `id`, `type`, `custom`, verbatim.
    extra;
    impl Walk;
}

wire_model! {
    /// A function call: its name and its JSON arguments (as text).
    pub struct FunctionCall {
        /// The function's name.
        pub name: Option<Loose<String>>,
        /// The arguments, JSON as the model wrote it.
        pub arguments: Option<Loose<String>>,
    }
    /// Anything else, verbatim.
    extra;
    impl Walk;
}

wire_model! {
    /// A tool the model may call (`type: "function"`; a `custom` tool's
    /// description is in `extra`, walked as JSON).
    pub struct Tool {
        /// The function's definition.
        pub function: Option<Loose<FunctionDefinition>>,
    }
    /// `type`, `custom`, verbatim.
    extra;
    impl Walk;
}

wire_model! {
    /// A function's definition: its name, description and parameter schema
    /// (whose descriptions and enum values the model reads too).
    pub struct FunctionDefinition {
        /// The name.
        pub name: Option<Loose<String>>,
        /// What it does.
        pub description: Option<Loose<String>>,
        /// The JSON schema of its arguments: any JSON, walked as such.
        pub parameters: Option<Value>,
    }
    /// `strict`, and anything else, verbatim.
    extra;
    impl Walk;
}

/// An unstreamed chat answer (`chat.completion`).
pub type ChatCompletion = super::answer::Answer<ChatChoice>;

wire_model! {
    /// One choice of an unstreamed chat answer.
    pub struct ChatChoice {
        /// The message.
        pub message: Option<Loose<AnswerMessage>>,
        /// Token log-probabilities (not walked: dropped where the choice was
        /// redacted, see `serve::answer_texts`).
        pub logprobs: Option<Value>,
    }
    /// `index`, `finish_reason`, and anything else, verbatim.
    extra;
}

impl super::answer::Choice for ChatChoice {
    fn split(&mut self) -> super::answer::Split<'_> {
        (
            vec![("message", named(&mut self.message))],
            &mut self.extra,
            &mut self.logprobs,
        )
    }
}

wire_model! {
    /// The assistant's message in an answer.
    pub struct AnswerMessage {
        /// The text (or, from some providers, parts).
        pub content: Option<Content>,
        /// A refusal.
        pub refusal: Option<Loose<String>>,
        /// Tool calls.
        pub tool_calls: Option<Loose<Vec<Loose<ToolCall>>>>,
        /// The deprecated single function call.
        pub function_call: Option<Loose<FunctionCall>>,
        /// An audio answer: its transcript is text.
        pub audio: Option<Loose<Audio>>,
    }
    /// `role`, `annotations`, provider fields (`reasoning_content`, …),
    /// verbatim; walked as JSON.
    extra;
    impl Walk;
}

wire_model! {
    /// An audio answer.
    pub struct Audio {
        /// What was said.
        pub transcript: Option<Loose<String>>,
    }
    /// `id`, `data`, `expires_at`, verbatim.
    extra;
    impl Walk;
}
