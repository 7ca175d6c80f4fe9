//! An unstreamed answer given to a `stream: true` request, turned into
//! the chunks it would have streamed as, so it goes through the stream
//! guard like any stream and the client gets the event stream it asked
//! for.

use serde_json::{Map, Value, json};

/// The chunks of `answer` (a `chat.completion` when `chat`, else a
/// `text_completion`): per choice, one chunk with the whole message as its
/// delta and one with its finish reason, then the usage. `None` when the
/// answer has no `choices` array (not a completion at all).
pub fn as_chunks(answer: &Value, chat: bool) -> Option<Vec<Value>> {
    let choices = answer.get("choices")?.as_array()?;
    let mut meta = Map::new();
    for key in [
        "id",
        "created",
        "model",
        "system_fingerprint",
        "service_tier",
    ] {
        if let Some(v) = answer.get(key) {
            meta.insert(key.into(), v.clone());
        }
    }
    let object = if chat {
        "chat.completion.chunk"
    } else {
        "text_completion"
    };
    meta.insert("object".into(), json!(object));
    let chunk = |choices: Value, usage: Option<&Value>| {
        let mut c = meta.clone();
        c.insert("choices".into(), choices);
        if let Some(u) = usage {
            c.insert("usage".into(), u.clone());
        }
        Value::Object(c)
    };
    let mut out = Vec::new();
    for (i, choice) in choices.iter().enumerate() {
        let index = choice.get("index").cloned().unwrap_or(json!(i));
        let body = if chat {
            let message = choice.get("message").cloned().unwrap_or(json!({}));
            let mut delta = Map::new();
            for key in [
                "role",
                "content",
                "refusal",
                "reasoning_content",
                "function_call",
            ] {
                if let Some(v) = message.get(key).filter(|v| !v.is_null()) {
                    delta.insert(key.into(), v.clone());
                }
            }
            if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
                let calls: Vec<Value> = calls
                    .iter()
                    .enumerate()
                    .map(|(k, c)| {
                        let mut c = c.clone();
                        if let Some(o) = c.as_object_mut() {
                            o.insert("index".into(), json!(k));
                        }
                        c
                    })
                    .collect();
                delta.insert("tool_calls".into(), Value::Array(calls));
            }
            json!({"index": index, "delta": delta, "finish_reason": null})
        } else {
            json!({"index": index, "text": choice.get("text").cloned().unwrap_or(json!("")), "finish_reason": null})
        };
        out.push(chunk(json!([body]), None));
        let finish = choice
            .get("finish_reason")
            .cloned()
            .unwrap_or(json!("stop"));
        let end = if chat {
            json!({"index": index, "delta": {}, "finish_reason": finish})
        } else {
            json!({"index": index, "text": "", "finish_reason": finish})
        };
        out.push(chunk(json!([end]), None));
    }
    if let Some(usage) = answer.get("usage").filter(|u| !u.is_null()) {
        out.push(chunk(json!([]), Some(usage)));
    }
    Some(out)
}
