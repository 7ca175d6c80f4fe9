//! The Anthropic Messages API's stream events, typed as the relay reads
//! them, and the events an unstreamed message would have streamed as.
//!
//! Checked against the `anthropic` Python SDK's
//! `types/raw_message_stream_event.py` (`message_start`,
//! `content_block_start`, `content_block_delta`, `content_block_stop`,
//! `message_delta`, `message_stop`), `types/raw_content_block_delta.py`
//! (`text_delta`, `input_json_delta`, `thinking_delta`, `signature_delta`,
//! `citations_delta`) and `lib/streaming/_messages.py` (how the client
//! assembles them: a block is appended on its start, deltas go to
//! `content[index]`, a tool's input is the JSON of its `partial_json`s).

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// One event of a streamed message.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The message, without content yet (its id, model, input usage).
    MessageStart {
        /// The message so far.
        message: Map<String, Value>,
    },
    /// A content block begins at `index`.
    ContentBlockStart {
        /// Its position in `content`.
        index: u32,
        /// The block as it starts.
        content_block: Block,
    },
    /// A piece of block `index`.
    ContentBlockDelta {
        /// Which block.
        index: u32,
        /// The piece.
        delta: BlockDelta,
    },
    /// Block `index` is complete.
    ContentBlockStop {
        /// Which block.
        index: u32,
    },
    /// The stop reason and the output usage.
    MessageDelta {
        /// `stop_reason`, `stop_sequence`, … (no model text).
        #[serde(default)]
        delta: Value,
        /// Output token counts.
        #[serde(default)]
        usage: Value,
    },
    /// The end.
    MessageStop,
    /// A keep-alive.
    Ping,
    /// An error mid-stream.
    Error {
        /// `{type, message}`.
        #[serde(default)]
        error: Value,
    },
    /// An event type this version does not know.
    #[serde(other)]
    Unknown,
}

/// A content block as it starts: typed, and as it came (a block of a type
/// railyard does not stream goes out whole, every string judged).
#[derive(Debug, Clone)]
pub struct Block {
    /// What the relay reads.
    pub typed: StartBlock,
    /// The block as it came.
    pub raw: Value,
}

impl<'de> Deserialize<'de> for Block {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Block, D::Error> {
        let raw = Value::deserialize(d)?;
        let typed = StartBlock::deserialize(&raw).map_err(serde::de::Error::custom)?;
        Ok(Block { typed, raw })
    }
}

/// A content block as it starts.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StartBlock {
    /// Text (empty at the start, in practice).
    Text {
        /// Text it starts with.
        #[serde(default)]
        text: String,
    },
    /// Extended thinking.
    Thinking {
        /// Thinking it starts with.
        #[serde(default)]
        thinking: String,
        /// Its signature so far.
        #[serde(default)]
        signature: String,
    },
    /// A tool call: its input arrives as `input_json_delta`s.
    ToolUse {
        /// The call's id (opaque).
        id: String,
        /// The tool's name, whole.
        name: String,
        /// The input it starts with (`{}` in practice).
        #[serde(default)]
        input: Value,
    },
    /// A server tool call (web search, code execution): its input streams
    /// as a tool call's does; its type is kept.
    ServerToolUse {
        /// The call's id (opaque).
        id: String,
        /// The tool's name, whole.
        name: String,
        /// The input it starts with.
        #[serde(default)]
        input: Value,
    },
    /// Thinking the upstream encrypted: no readable text, passed on.
    RedactedThinking {
        /// The encrypted thinking.
        data: String,
    },
    /// A block type railyard does not stream (server tool results, …):
    /// passed on whole at its start, every string judged.
    #[serde(other)]
    Other,
}

/// A piece of a content block.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockDelta {
    /// A piece of text.
    TextDelta {
        /// The piece.
        text: String,
    },
    /// A piece of a tool call's input JSON.
    InputJsonDelta {
        /// The piece.
        partial_json: String,
    },
    /// A piece of thinking.
    ThinkingDelta {
        /// The piece.
        thinking: String,
    },
    /// The thinking block's signature (opaque).
    SignatureDelta {
        /// The signature.
        signature: String,
    },
    /// A citation added to a text block: judged whole, then passed on.
    CitationsDelta {
        /// The citation (`cited_text`, `document_title`, indices, …).
        citation: Value,
    },
    /// A delta type railyard does not guard: not passed on.
    #[serde(other)]
    Other,
}

/// One event as written to the client: `event: <type>` (the `anthropic`
/// clients skip events without a name) and its JSON.
pub fn sse(event: &Value) -> Bytes {
    let name = event.get("type").and_then(Value::as_str).unwrap_or("error");
    Bytes::from(format!("event: {name}\ndata: {event}\n\n"))
}

/// An Anthropic-shaped error event: the clients raise it as an
/// `APIStatusError` whose body is this.
pub fn error_event(kind: &str, message: &str) -> Bytes {
    sse(&json!({"type": "error", "error": {"type": kind, "message": message}}))
}

/// The events an unstreamed message would have streamed as (an upstream
/// that answered `stream: true` with JSON), or `None` when `message` is
/// not a message.
pub fn as_events(message: &Value) -> Option<Vec<Value>> {
    let map = message.as_object()?;
    let content = map.get("content")?.as_array()?;
    let mut start = map.clone();
    start.insert("content".into(), json!([]));
    start.insert("stop_reason".into(), Value::Null);
    start.insert("stop_sequence".into(), Value::Null);
    let mut out = vec![json!({"type": "message_start", "message": start})];
    for (i, block) in content.iter().enumerate() {
        let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
        let (first, delta) = match kind {
            "text" => (
                json!({"type": "text", "text": ""}),
                Some(
                    json!({"type": "text_delta", "text": block.get("text").cloned().unwrap_or_default()}),
                ),
            ),
            "thinking" => (
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                Some(
                    json!({"type": "thinking_delta", "thinking": block.get("thinking").cloned().unwrap_or_default()}),
                ),
            ),
            "tool_use" | "server_tool_use" => {
                let mut b = block.clone();
                b["input"] = json!({});
                let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
                (
                    b,
                    Some(json!({"type": "input_json_delta", "partial_json": input.to_string()})),
                )
            }
            _ => (block.clone(), None),
        };
        out.push(json!({"type": "content_block_start", "index": i, "content_block": first}));
        if let Some(d) = delta {
            out.push(json!({"type": "content_block_delta", "index": i, "delta": d}));
        }
        if kind == "thinking"
            && let Some(sig) = block.get("signature").and_then(Value::as_str)
        {
            out.push(json!({"type": "content_block_delta", "index": i,
                "delta": {"type": "signature_delta", "signature": sig}}));
        }
        out.push(json!({"type": "content_block_stop", "index": i}));
    }
    out.push(json!({"type": "message_delta",
        "delta": {"stop_reason": map.get("stop_reason").cloned().unwrap_or(Value::Null),
                  "stop_sequence": map.get("stop_sequence").cloned().unwrap_or(Value::Null)},
        "usage": {"output_tokens": message.pointer("/usage/output_tokens").cloned().unwrap_or(json!(0))}}));
    out.push(json!({"type": "message_stop"}));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_of_every_kind_parse_and_unknown_ones_do_not_fail() {
        let e: Event = serde_json::from_str(r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}"#).unwrap();
        assert!(matches!(
            e,
            Event::ContentBlockDelta {
                index: 1,
                delta: BlockDelta::InputJsonDelta { .. }
            }
        ));
        let e: Event = serde_json::from_str(r#"{"type":"content_block_start","index":0,"content_block":{"type":"web_search_tool_result","tool_use_id":"x","content":[]}}"#).unwrap();
        assert!(matches!(
            e,
            Event::ContentBlockStart {
                content_block: Block {
                    typed: StartBlock::Other,
                    ..
                },
                ..
            }
        ));
        let e: Event = serde_json::from_str(r#"{"type":"something_new","x":1}"#).unwrap();
        assert!(matches!(e, Event::Unknown));
        let e: Event = serde_json::from_str(r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}"#).unwrap();
        assert!(matches!(
            e,
            Event::ContentBlockDelta {
                delta: BlockDelta::CitationsDelta { .. },
                ..
            }
        ));
        let e: Event = serde_json::from_str(
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"something_delta","x":{}}}"#,
        )
        .unwrap();
        assert!(matches!(
            e,
            Event::ContentBlockDelta {
                delta: BlockDelta::Other,
                ..
            }
        ));
    }

    #[test]
    fn a_message_becomes_the_events_it_would_have_streamed_as() {
        let m = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": "hi"}, {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}],
            "stop_reason": "tool_use", "stop_sequence": null, "usage": {"input_tokens": 3, "output_tokens": 4}});
        let ev = as_events(&m).unwrap();
        let types: Vec<&str> = ev.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(ev[5]["delta"]["partial_json"], "{\"a\":1}");
        assert_eq!(ev[7]["delta"]["stop_reason"], "tool_use");
    }
}
