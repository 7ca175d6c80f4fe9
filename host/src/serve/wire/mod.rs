//! Typed models of the OpenAI wire format, at the edge.
//!
//! Each model says which fields carry text the rails must see. The
//! request and unstreamed-answer models ([`chat`], [`completions`],
//! [`answer`]) keep every field they do not name verbatim in a flattened
//! `extra` map, and a field of a shape the format does not allow as it
//! came, so a body re-serialised after redaction differs only in the
//! redacted texts; [`walk`] finds their texts as `&mut String` handles.
//! The stream chunk ([`chunk`]) keeps unknown fields aside (`rest`) and
//! either passes them on as metadata or drops them, as it documents.

pub mod answer;
pub mod chat;
pub mod chunk;
pub mod completions;
pub mod unstreamed;
pub mod walk;

/// An unstreamed upstream answer read as JSON: it must be an object (a
/// completion, a response, a message). JSON of any other shape (an
/// array, a bare string) is no answer of any format railyard serves, and
/// passing it on would pass its texts unjudged, so it is refused like a
/// body that is not JSON; the error says which (`upstream_invalid`).
pub fn answer_object(bytes: &[u8], upstream: &str) -> Result<serde_json::Value, String> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(v) => Err(format!(
            "upstream `{upstream}` answered JSON that is not an object (a JSON {}), so not an answer",
            match v {
                serde_json::Value::Array(_) => "array",
                serde_json::Value::String(_) => "string",
                serde_json::Value::Number(_) => "number",
                serde_json::Value::Bool(_) => "boolean",
                _ => "null",
            }
        )),
        Err(e) => Err(format!(
            "upstream `{upstream}` answered something that is not JSON: {e}"
        )),
    }
}
