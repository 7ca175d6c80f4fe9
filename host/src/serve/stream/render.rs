//! Writing the chunks the chat relay sends: what goes out for one choice
//! ([`Out`]) as a choice entry, and the entries of tool calls (a
//! function's `function`, a custom tool's `custom`), joined when one chunk
//! carries two pieces of the same call.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// A tool call (or the deprecated function call) being relayed.
#[derive(Default)]
pub(super) struct Call {
    pub(super) id: Option<String>,
    pub(super) kind: Option<String>,
    /// A custom tool call (`custom.name`, `custom.input`), not a function.
    pub(super) custom: bool,
    /// Fragments of the name that arrived and are not judged yet.
    pub(super) name_parts: String,
    /// The name as released; `None` until it is complete and judged.
    pub(super) name: Option<String>,
    /// Whether the call's first delta (id, type, name) went out.
    pub(super) opened: bool,
    /// Arguments released before the first delta could go.
    pub(super) pending: String,
}

/// What goes out for one choice in one chunk.
#[derive(Default)]
pub(super) struct Out {
    pub(super) role: Option<String>,
    /// The role delta carries `content: ""` when the upstream's did.
    pub(super) empty_content: bool,
    pub(super) texts: BTreeMap<FieldKey, String>,
    pub(super) calls: BTreeMap<u32, Value>,
    pub(super) function: Option<Value>,
    /// Annotations, judged.
    pub(super) annotations: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum FieldKey {
    Content,
    Refusal,
    Reasoning,
    Text,
}

/// The choice entry of an outgoing chunk, or `None` when nothing of the
/// choice goes out.
pub(super) fn render(chat: bool, index: u32, out: Out, finish: Option<&str>) -> Option<Value> {
    let texts: Vec<(FieldKey, String)> = out
        .texts
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .collect();
    if out.role.is_none()
        && texts.is_empty()
        && out.calls.is_empty()
        && out.function.is_none()
        && out.annotations.is_empty()
        && finish.is_none()
    {
        return None;
    }
    let mut c = Map::new();
    c.insert("index".into(), json!(index));
    if chat {
        let mut d = Map::new();
        if let Some(role) = out.role {
            d.insert("role".into(), json!(role));
            if out.empty_content {
                d.insert("content".into(), json!(""));
            }
        }
        for (key, text) in texts {
            let name = match key {
                FieldKey::Content | FieldKey::Text => "content",
                FieldKey::Refusal => "refusal",
                FieldKey::Reasoning => "reasoning_content",
            };
            d.insert(name.into(), json!(text));
        }
        if !out.calls.is_empty() {
            d.insert(
                "tool_calls".into(),
                Value::Array(out.calls.into_values().collect()),
            );
        }
        if let Some(f) = out.function {
            d.insert("function_call".into(), f);
        }
        if !out.annotations.is_empty() {
            d.insert("annotations".into(), Value::Array(out.annotations));
        }
        c.insert("delta".into(), Value::Object(d));
    } else {
        let text: String = texts.into_iter().map(|(_, t)| t).collect();
        c.insert("text".into(), json!(text));
    }
    c.insert("finish_reason".into(), json!(finish));
    Some(Value::Object(c))
}

pub(super) fn with_meta(meta: &Map<String, Value>, choices: Vec<Value>) -> Value {
    let mut c = meta.clone();
    c.insert("choices".into(), Value::Array(choices));
    Value::Object(c)
}

/// Joins `o` onto `into` (what goes out for one choice).
pub(super) fn merge_out(into: &mut Out, o: Out) {
    if into.role.is_none() {
        into.role = o.role;
    }
    into.empty_content |= o.empty_content;
    for (k, t) in o.texts {
        into.texts.entry(k).or_default().push_str(&t);
    }
    for (t, v) in o.calls {
        let before = into.calls.remove(&t);
        into.calls.insert(t, merge_call(before, v));
    }
    if let Some(f) = o.function {
        into.function = Some(merge_call(into.function.take(), f));
    }
    into.annotations.extend(o.annotations);
}

pub(super) fn text_into(out: &mut Out, key: FieldKey, tail: &str) {
    out.texts.entry(key).or_default().push_str(tail);
}

/// Call `tool`'s entry for what was released of its arguments now: its
/// first delta (with the header) once its name is judged, else the
/// arguments are kept for that first delta.
pub(super) fn open_or_continue(
    tool: Option<u32>,
    call: &mut Call,
    released: &str,
) -> Option<Value> {
    if call.opened {
        return (!released.is_empty()).then(|| entry(tool, call.custom, None, released));
    }
    call.pending.push_str(released);
    // The call cannot open before its name is judged.
    call.name.as_ref()?;
    call.opened = true;
    let header = (call.id.clone(), call.kind.clone(), call.name.clone());
    let args = std::mem::take(&mut call.pending);
    Some(entry(tool, call.custom, Some(header), &args))
}

/// The entry for a call at the end: its first delta if it never went out,
/// or the rest of its arguments.
pub(super) fn close_call(tool: Option<u32>, call: &mut Call) -> Option<Value> {
    let args = std::mem::take(&mut call.pending);
    if call.opened {
        return (!args.is_empty()).then(|| entry(tool, call.custom, None, &args));
    }
    call.opened = true;
    Some(entry(
        tool,
        call.custom,
        Some((call.id.clone(), call.kind.clone(), call.name.clone())),
        &args,
    ))
}

type Header = (Option<String>, Option<String>, Option<String>);

/// One `tool_calls` entry (or a `function_call`, when `tool` is `None`):
/// with the header on the call's first delta. A custom tool call carries
/// `custom: {name, input}`, a function call `function: {name, arguments}`.
fn entry(tool: Option<u32>, custom: bool, header: Option<Header>, args: &str) -> Value {
    let mut function = Map::new();
    let mut e = Map::new();
    if let Some(t) = tool {
        e.insert("index".into(), json!(t));
    }
    let custom = custom && tool.is_some();
    if let Some((id, kind, name)) = header {
        if tool.is_some() {
            if let Some(id) = id {
                e.insert("id".into(), json!(id));
            }
            // The clients take the call's type from its first delta.
            let default = if custom { "custom" } else { "function" };
            e.insert("type".into(), json!(kind.unwrap_or_else(|| default.into())));
        }
        if let Some(name) = name {
            function.insert("name".into(), json!(name));
        }
    }
    let (key, args_key) = if custom {
        ("custom", "input")
    } else {
        ("function", "arguments")
    };
    function.insert(args_key.into(), json!(args));
    if tool.is_none() {
        return Value::Object(function);
    }
    e.insert(key.into(), Value::Object(function));
    Value::Object(e)
}

/// Two entries for the same call in one chunk, joined. The entries are
/// JSON railyard built itself ([`entry`]), not the upstream's body: the
/// pointer reads the one field `entry` writes.
pub(super) fn merge_call(before: Option<Value>, next: Value) -> Value {
    let Some(mut before) = before else {
        return next;
    };
    let more = next
        .pointer("/function/arguments")
        .or_else(|| next.pointer("/custom/input"))
        .or_else(|| next.get("arguments"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let slot = if before.get("function").is_some() {
        before.pointer_mut("/function/arguments")
    } else if before.get("custom").is_some() {
        before.pointer_mut("/custom/input")
    } else {
        before.get_mut("arguments")
    };
    if let Some(Value::String(s)) = slot {
        s.push_str(&more);
    }
    before
}
