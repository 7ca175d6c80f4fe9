//! The OpenAI Responses API's stream events, typed as the relay reads
//! them, and the events an unstreamed response would have streamed as.
//!
//! Checked against the `openai` Python SDK (3.x):
//! `types/responses/response_stream_event.py` and the event types it
//! lists (`response.created`, `response.output_item.added` / `.done`,
//! `response.content_part.added` / `.done`, `response.output_text.delta`
//! / `.done`, `response.refusal.delta` / `.done`,
//! `response.function_call_arguments.delta` / `.done`,
//! `response.reasoning_summary_part.added` / `.done`,
//! `response.reasoning_summary_text.delta` / `.done`,
//! `response.reasoning_text.delta` / `.done`, `response.completed`,
//! `response.incomplete`, `response.failed`, `error`), and
//! `lib/streaming/responses/_responses.py` (how the client assembles
//! them: an item is appended on `output_item.added` and found by
//! `output_index`, a part is appended on `content_part.added` and found
//! by `content_index`, and `get_final_response()` is the `response` of
//! `response.completed`).

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// One event of a streamed response (what the relay needs of it; the
/// `sequence_number`s are railyard's own on the way out).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    /// The response begins (no output yet).
    #[serde(rename = "response.created")]
    Created {
        /// The response so far.
        response: Map<String, Value>,
    },
    /// The response is queued or in progress (no model text).
    #[serde(rename = "response.in_progress", alias = "response.queued")]
    InProgress {
        /// The response so far.
        response: Map<String, Value>,
    },
    /// An output item begins at `output_index`.
    #[serde(rename = "response.output_item.added")]
    ItemAdded {
        /// Its position in `output`.
        output_index: u32,
        /// The item as it starts.
        item: Map<String, Value>,
    },
    /// Output item `output_index` is complete.
    #[serde(rename = "response.output_item.done")]
    ItemDone {
        /// Which item.
        output_index: u32,
        /// The item, whole.
        item: Map<String, Value>,
    },
    /// A content part of a message (or of a reasoning item) begins.
    #[serde(rename = "response.content_part.added")]
    PartAdded {
        /// Which item.
        output_index: u32,
        /// Its position in the item's `content`.
        content_index: u32,
        /// The part as it starts.
        #[serde(default)]
        part: Value,
    },
    /// A content part is complete.
    #[serde(rename = "response.content_part.done")]
    PartDone {
        /// Which item.
        output_index: u32,
        /// Which part.
        content_index: u32,
        /// The part, whole.
        #[serde(default)]
        part: Value,
    },
    /// A piece of a message's text.
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta(Piece),
    /// A message's text is complete.
    #[serde(rename = "response.output_text.done")]
    OutputTextDone(Whole),
    /// A piece of a refusal.
    #[serde(rename = "response.refusal.delta")]
    RefusalDelta(Piece),
    /// A refusal is complete.
    #[serde(rename = "response.refusal.done")]
    RefusalDone(Whole),
    /// A piece of a reasoning item's text.
    #[serde(rename = "response.reasoning_text.delta")]
    ReasoningTextDelta(Piece),
    /// A reasoning item's text is complete.
    #[serde(rename = "response.reasoning_text.done")]
    ReasoningTextDone(Whole),
    /// A piece of a function call's arguments.
    #[serde(rename = "response.function_call_arguments.delta")]
    ArgumentsDelta {
        /// Which item.
        output_index: u32,
        /// The piece.
        delta: String,
    },
    /// A function call's arguments are complete.
    #[serde(rename = "response.function_call_arguments.done")]
    ArgumentsDone {
        /// Which item.
        output_index: u32,
        /// The arguments, whole.
        #[serde(default)]
        arguments: String,
    },
    /// A reasoning summary part begins.
    #[serde(rename = "response.reasoning_summary_part.added")]
    SummaryPartAdded {
        /// Which item.
        output_index: u32,
        /// Its position in the item's `summary`.
        summary_index: u32,
        /// The part as it starts.
        #[serde(default)]
        part: Value,
    },
    /// A reasoning summary part is complete.
    #[serde(rename = "response.reasoning_summary_part.done")]
    SummaryPartDone {
        /// Which item.
        output_index: u32,
        /// Which part.
        summary_index: u32,
        /// The part, whole.
        #[serde(default)]
        part: Value,
    },
    /// A piece of a reasoning summary.
    #[serde(rename = "response.reasoning_summary_text.delta")]
    SummaryDelta {
        /// Which item.
        output_index: u32,
        /// Which part.
        summary_index: u32,
        /// The piece.
        delta: String,
    },
    /// A reasoning summary's text is complete.
    #[serde(rename = "response.reasoning_summary_text.done")]
    SummaryDone {
        /// Which item.
        output_index: u32,
        /// Which part.
        summary_index: u32,
        /// The text, whole.
        #[serde(default)]
        text: String,
    },
    /// The response is complete.
    #[serde(rename = "response.completed")]
    Completed {
        /// The response, whole.
        response: Map<String, Value>,
    },
    /// The response ended early (`max_output_tokens`, a content filter):
    /// complete as far as it goes.
    #[serde(rename = "response.incomplete")]
    Incomplete {
        /// The response as far as it went.
        response: Map<String, Value>,
    },
    /// The upstream failed the response.
    #[serde(rename = "response.failed")]
    Failed {
        /// With `error: {code, message}`.
        #[serde(default)]
        response: Value,
    },
    /// An error mid-stream.
    #[serde(rename = "error")]
    Error {
        /// Its code.
        #[serde(default)]
        code: Value,
    },
    /// An event railyard does not relay (annotations added, hosted tool
    /// progress, audio): the item it belongs to is relayed whole when it
    /// is done.
    #[serde(other)]
    Other,
}

/// A piece of a content part's text.
#[derive(Debug, Clone, Deserialize)]
pub struct Piece {
    /// Which item.
    pub output_index: u32,
    /// Which part.
    pub content_index: u32,
    /// The piece.
    pub delta: String,
}

/// A content part's text, whole.
#[derive(Debug, Clone, Deserialize)]
pub struct Whole {
    /// Which item.
    pub output_index: u32,
    /// Which part.
    pub content_index: u32,
    /// The text (`refusal` on a refusal).
    #[serde(default, alias = "refusal")]
    pub text: String,
}

/// One event as written to the client: `event: <type>` and its JSON.
pub fn sse(event: &Value) -> Bytes {
    let name = event.get("type").and_then(Value::as_str).unwrap_or("error");
    Bytes::from(format!("event: {name}\ndata: {event}\n\n"))
}

/// railyard's error event on a Responses stream: the Responses `error`
/// event (`type`, `code`, `message`, `param`, `sequence_number`), with
/// the same under `error`, so the `openai` clients raise it as an
/// `APIError` whose body carries the code.
pub fn error_event(code: &str, message: &str, sequence_number: u64) -> Bytes {
    sse(
        &json!({"type": "error", "code": code, "message": message, "param": null,
        "sequence_number": sequence_number,
        "error": {"type": "railyard_guardrail", "code": code, "message": message, "param": null}}),
    )
}

/// The events an unstreamed response would have streamed as (an upstream
/// that answered `stream: true` with JSON), or `None` when `response` is
/// not a response.
pub fn as_events(response: &Value) -> Option<Vec<Value>> {
    let map = response.as_object()?;
    let output = map.get("output")?.as_array()?;
    let mut start = map.clone();
    start.insert("output".into(), json!([]));
    start.insert("status".into(), json!("in_progress"));
    let mut out = vec![json!({"type": "response.created", "response": start})];
    for (i, item) in output.iter().enumerate() {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        let mut first = item.clone();
        match kind {
            "message" => first["content"] = json!([]),
            "function_call" => first["arguments"] = json!(""),
            "reasoning" => {
                first["summary"] = json!([]);
                if first.get("content").is_some() {
                    first["content"] = json!([]);
                }
            }
            _ => {}
        }
        out.push(json!({"type": "response.output_item.added", "output_index": i, "item": first}));
        match kind {
            "message" | "reasoning" => {
                let parts = item.get("content").and_then(Value::as_array);
                for (j, part) in parts.into_iter().flatten().enumerate() {
                    let t = part.get("type").and_then(Value::as_str).unwrap_or("");
                    let key = if t == "refusal" { "refusal" } else { "text" };
                    let text = part.get(key).cloned().unwrap_or_else(|| json!(""));
                    let name = match t {
                        "refusal" => "response.refusal",
                        "reasoning_text" => "response.reasoning_text",
                        _ => "response.output_text",
                    };
                    let mut empty = part.clone();
                    empty[key] = json!("");
                    if let Some(a) = empty.get_mut("annotations") {
                        *a = json!([]);
                    }
                    out.push(
                        json!({"type": "response.content_part.added", "output_index": i,
                        "content_index": j, "part": empty}),
                    );
                    out.push(json!({"type": format!("{name}.delta"), "output_index": i,
                        "content_index": j, "delta": text}));
                    out.push(json!({"type": format!("{name}.done"), "output_index": i,
                        "content_index": j, key: text}));
                    out.push(
                        json!({"type": "response.content_part.done", "output_index": i,
                        "content_index": j, "part": part}),
                    );
                }
                let summary = item.get("summary").and_then(Value::as_array);
                for (j, part) in summary.into_iter().flatten().enumerate() {
                    let text = part.get("text").cloned().unwrap_or_else(|| json!(""));
                    out.push(
                        json!({"type": "response.reasoning_summary_part.added", "output_index": i,
                        "summary_index": j, "part": {"type": "summary_text", "text": ""}}),
                    );
                    out.push(
                        json!({"type": "response.reasoning_summary_text.delta", "output_index": i,
                        "summary_index": j, "delta": text}),
                    );
                    out.push(
                        json!({"type": "response.reasoning_summary_text.done", "output_index": i,
                        "summary_index": j, "text": text}),
                    );
                    out.push(
                        json!({"type": "response.reasoning_summary_part.done", "output_index": i,
                        "summary_index": j, "part": part}),
                    );
                }
            }
            "function_call" => {
                let args = item.get("arguments").cloned().unwrap_or_else(|| json!(""));
                out.push(
                    json!({"type": "response.function_call_arguments.delta", "output_index": i,
                    "delta": args}),
                );
                out.push(
                    json!({"type": "response.function_call_arguments.done", "output_index": i,
                    "arguments": args}),
                );
            }
            _ => {}
        }
        out.push(json!({"type": "response.output_item.done", "output_index": i, "item": item}));
    }
    let terminal = match map.get("status").and_then(Value::as_str) {
        Some("incomplete") => "response.incomplete",
        _ => "response.completed",
    };
    out.push(json!({"type": terminal, "response": map}));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_of_every_kind_parse_and_unknown_ones_do_not_fail() {
        let e: Event = serde_json::from_str(r#"{"type":"response.refusal.done","output_index":0,"content_index":1,"item_id":"m","refusal":"no","sequence_number":4}"#).unwrap();
        assert!(
            matches!(e, Event::RefusalDone(Whole { content_index: 1, ref text, .. }) if text == "no")
        );
        let e: Event = serde_json::from_str(r#"{"type":"response.function_call_arguments.delta","output_index":2,"item_id":"fc","delta":"{\"a","sequence_number":9}"#).unwrap();
        assert!(matches!(
            e,
            Event::ArgumentsDelta {
                output_index: 2,
                ..
            }
        ));
        let e: Event = serde_json::from_str(r#"{"type":"response.web_search_call.searching","output_index":0,"item_id":"ws","sequence_number":1}"#).unwrap();
        assert!(matches!(e, Event::Other));
        let e: Event =
            serde_json::from_str(r#"{"type":"error","code":"server_error","message":"x","param":null,"sequence_number":3}"#)
                .unwrap();
        assert!(matches!(e, Event::Error { .. }));
    }

    #[test]
    fn a_response_becomes_the_events_it_would_have_streamed_as() {
        let r = json!({"id": "resp_1", "object": "response", "status": "completed", "output": [
            {"type": "message", "id": "m1", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "hi", "annotations": []}]},
            {"type": "function_call", "id": "f1", "call_id": "c1", "name": "f", "arguments": "{\"a\":1}", "status": "completed"}]});
        let ev = as_events(&r).unwrap();
        let types: Vec<&str> = ev.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "response.created",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed"
            ]
        );
        for e in &ev {
            serde_json::from_value::<Event>(e.clone()).unwrap();
        }
        assert_eq!(ev[8]["delta"], "{\"a\":1}");
    }
}
