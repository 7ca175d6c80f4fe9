//! One event of a streamed chat or completion answer
//! (`chat.completion.chunk`, streamed `text_completion`).
//!
//! Checked against the `openai` Python SDK's
//! `types/chat/chat_completion_chunk.py` and `types/completion_choice.py`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A streamed chunk. `rest` holds the chunk's metadata (`id`, `object`,
/// `created`, `model`, `system_fingerprint`, `service_tier`, …): no model
/// text, passed on as it came.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Chunk {
    /// One entry per choice that moved in this chunk (empty in a usage
    /// chunk).
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    /// Token counts (`stream_options.include_usage`), usually in a last
    /// chunk without choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Value>,
    /// Everything else: metadata.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// One choice's part of a chunk.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ChunkChoice {
    /// Which choice (`n > 1` interleaves them).
    #[serde(default)]
    pub index: u32,
    /// Chat: what this chunk adds to the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<Delta>,
    /// Completions: what this chunk adds to the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Set on the choice's last chunk.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Token log-probabilities. Not passed on: they spell out the tokens
    /// of text the rails may redact or hold (see README, streamed answers).
    #[serde(default, skip_serializing)]
    pub logprobs: Option<Value>,
    /// Other fields (e.g. a provider's content-filter results): metadata.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// What one chunk adds to a chat message.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Delta {
    /// On a choice's first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A piece of the answer text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A piece of a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// A piece of reasoning (DeepSeek, vLLM and others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Pieces of tool calls, by tool index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// The deprecated single function call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionDelta>,
    /// Citations (`url_citation`s), each whole in one delta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
    /// Fields this model does not know (e.g. `audio`). Never passed on: a
    /// text in them would leave unscanned.
    #[serde(flatten, skip_serializing)]
    pub rest: Map<String, Value>,
}

/// A piece of one tool call. The first piece of a call carries `id`,
/// `type` and `function.name` (some servers split the name over several
/// pieces); the later ones pieces of `function.arguments`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ToolCallDelta {
    /// Which tool call of the choice.
    #[serde(default)]
    pub index: u32,
    /// The call's id (opaque, chosen by the upstream; not model text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The function's name and a piece of its arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionDelta>,
    /// A custom tool call's name and a piece of its input (`type:
    /// "custom"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomDelta>,
}

/// A piece of a custom tool call.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CustomDelta {
    /// The tool's name (whole, or in fragments: see the relay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A piece of the free-form input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

/// A piece of a function call.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FunctionDelta {
    /// The function's name (whole on the call's first piece from OpenAI;
    /// in fragments from some compatible servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A piece of the JSON arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}
