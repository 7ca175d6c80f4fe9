//! From upstream chunks to guarded chunks: every text of every choice
//! (content, refusal, reasoning, each tool call's arguments, a completion's
//! text) goes through a lane of the stream guard, and what a lane releases
//! is re-emitted as a well-formed delta of the same choice and field.
//!
//! Tool calls are re-emitted the way the `openai` clients assemble them:
//! the call's first delta carries `index`, `id`, `type` and the whole
//! `function.name` (evaluated on arrival, in a lane of its own), later
//! deltas carry only `index` and a piece of `function.arguments`.
//! Finish reasons, and usage, are held to the end: the last text of each
//! lane (released once the whole answer is judged) must come before them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::pipeline::lanes::{LanesEnd, Origin, StreamLanes};
use crate::serve::wire::chunk::{Chunk, ChunkChoice, Delta, FunctionDelta};
use crate::verdict::Action;

/// Which text of which choice a lane carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    Content,
    Refusal,
    Reasoning,
    /// A completion's text.
    Text,
    /// A tool call's arguments, by tool index.
    ToolArgs(u32),
    /// A tool call's function name (evaluated whole).
    ToolName(u32),
    /// The deprecated `function_call`'s arguments.
    FunctionArgs,
    /// The deprecated `function_call`'s name.
    FunctionName,
}

impl Field {
    fn path(self, choice: u32, chat: bool) -> String {
        let c = format!("choices[{choice}]");
        match self {
            Field::Content => format!("{c}.message.content"),
            Field::Refusal => format!("{c}.message.refusal"),
            Field::Reasoning => format!("{c}.message.reasoning_content"),
            Field::Text if chat => format!("{c}.message.content"),
            Field::Text => format!("{c}.text"),
            Field::ToolArgs(t) => format!("{c}.message.tool_calls[{t}].function.arguments"),
            Field::ToolName(t) => format!("{c}.message.tool_calls[{t}].function.name"),
            Field::FunctionArgs => format!("{c}.message.function_call.arguments"),
            Field::FunctionName => format!("{c}.message.function_call.name"),
        }
    }
}

/// A tool call (or the deprecated function call) being relayed.
#[derive(Default)]
struct Call {
    id: Option<String>,
    kind: Option<String>,
    /// The name as released; `None` until it arrived and was judged.
    name: Option<String>,
    /// Whether the call's first delta (id, type, name) went out.
    opened: bool,
    /// Arguments released before the first delta could go.
    pending: String,
}

#[derive(Default)]
struct ChoiceState {
    role_sent: bool,
    calls: BTreeMap<u32, Call>,
    function: Option<Call>,
    finish: Option<String>,
}

/// What goes out for one choice in one chunk.
#[derive(Default)]
struct Out {
    role: Option<String>,
    /// The role delta carries `content: ""` when the upstream's did.
    empty_content: bool,
    texts: BTreeMap<FieldKey, String>,
    calls: BTreeMap<u32, Value>,
    function: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FieldKey {
    Content,
    Refusal,
    Reasoning,
    Text,
}

/// The relay of one streamed answer.
pub struct Relay {
    lanes: StreamLanes,
    chat: bool,
    /// What each lane carries, by lane number.
    refs: Vec<(u32, Field)>,
    open: BTreeMap<(u32, Field), usize>,
    choices: BTreeMap<u32, ChoiceState>,
    /// The latest chunk's metadata, for the chunks railyard writes.
    meta: Map<String, Value>,
    /// Chunks held to the end (usage).
    held: Vec<Value>,
    /// Delta fields dropped because no lane carries them.
    dropped: Vec<String>,
    /// What was ready to go when the lanes were held: sent before the
    /// tails if the final verdict lets the answer go.
    deferred: BTreeMap<u32, Out>,
}

impl Relay {
    /// A relay for a chat (`chat`) or completions stream.
    pub fn new(lanes: StreamLanes, chat: bool) -> Relay {
        let mut meta = Map::new();
        meta.insert(
            "object".into(),
            json!(if chat {
                "chat.completion.chunk"
            } else {
                "text_completion"
            }),
        );
        Relay {
            lanes,
            chat,
            refs: Vec::new(),
            open: BTreeMap::new(),
            choices: BTreeMap::new(),
            meta,
            held: Vec::new(),
            dropped: Vec::new(),
            deferred: BTreeMap::new(),
        }
    }

    /// Whether every choice seen has its finish reason.
    pub fn all_finished(&self) -> bool {
        !self.choices.is_empty() && self.choices.values().all(|c| c.finish.is_some())
    }

    /// Delta fields that were dropped (logged by the caller once).
    pub fn dropped(&self) -> &[String] {
        &self.dropped
    }

    /// Takes one upstream chunk; returns the chunk to send now, if any.
    pub fn chunk(&mut self, chunk: Chunk) -> Option<Value> {
        self.meta = chunk.rest.clone();
        let had_usage = chunk.usage.is_some();
        if let Some(u) = chunk.usage {
            let mut c = chunk.rest.clone();
            c.insert("choices".into(), json!([]));
            c.insert("usage".into(), u);
            self.held.push(Value::Object(c));
        }
        if chunk.choices.is_empty() {
            // Metadata only (e.g. a provider's prompt filter results) goes
            // on as it came; usage waits for the end.
            if had_usage || self.lanes.held() {
                return None;
            }
            let mut c = chunk.rest;
            c.insert("choices".into(), json!([]));
            return Some(Value::Object(c));
        }
        let mut outs: BTreeMap<u32, Out> = BTreeMap::new();
        for choice in chunk.choices {
            let index = choice.index;
            let out = outs.entry(index).or_default();
            self.choice(choice, out);
        }
        if self.lanes.held() {
            for (i, o) in outs {
                merge_out(self.deferred.entry(i).or_default(), o);
            }
            return None;
        }
        let choices: Vec<Value> = outs
            .into_iter()
            .filter_map(|(i, o)| render(self.chat, i, o, None))
            .collect();
        (!choices.is_empty()).then(|| with_meta(&self.meta, choices))
    }

    fn choice(&mut self, choice: ChunkChoice, out: &mut Out) {
        let index = choice.index;
        let state = self.choices.entry(index).or_default();
        if let Some(f) = choice.finish_reason {
            state.finish = Some(f);
        }
        if let Some(text) = choice.text {
            let r = self.push(index, Field::Text, &text);
            out.texts.entry(FieldKey::Text).or_default().push_str(&r);
        }
        let Some(delta) = choice.delta else { return };
        self.delta(index, delta, out);
    }

    fn delta(&mut self, index: u32, delta: Delta, out: &mut Out) {
        let state = self.choices.entry(index).or_default();
        if let Some(role) = delta.role
            && !state.role_sent
        {
            state.role_sent = true;
            out.role = Some(role);
            out.empty_content = delta.content.is_some();
        }
        for key in delta.rest.keys() {
            if !self.dropped.contains(key) {
                self.dropped.push(key.clone());
            }
        }
        for (key, field, text) in [
            (FieldKey::Content, Field::Content, delta.content),
            (FieldKey::Refusal, Field::Refusal, delta.refusal),
            (
                FieldKey::Reasoning,
                Field::Reasoning,
                delta.reasoning_content,
            ),
        ] {
            if let Some(t) = text {
                let r = self.push(index, field, &t);
                out.texts.entry(key).or_default().push_str(&r);
            }
        }
        for tc in delta.tool_calls.unwrap_or_default() {
            let t = tc.index;
            let call = self.call(index, Some(t));
            if call.id.is_none() {
                call.id = tc.id;
            }
            if call.kind.is_none() {
                call.kind = tc.kind;
            }
            let f = tc.function.unwrap_or_default();
            if let Some(v) = self.function(index, Some(t), f) {
                let before = out.calls.remove(&t);
                out.calls.insert(t, merge_call(before, v));
            }
        }
        if let Some(f) = delta.function_call
            && let Some(v) = self.function(index, None, f)
        {
            out.function = Some(merge_call(out.function.take(), v));
        }
    }

    /// The call `tool` of choice `index` (`None`: the deprecated function
    /// call).
    fn call(&mut self, index: u32, tool: Option<u32>) -> &mut Call {
        let state = self.choices.entry(index).or_default();
        match tool {
            Some(t) => state.calls.entry(t).or_default(),
            None => state.function.get_or_insert_with(Call::default),
        }
    }

    /// Takes a piece of a function call; returns the delta entry to send
    /// for it now, if any.
    fn function(&mut self, index: u32, tool: Option<u32>, f: FunctionDelta) -> Option<Value> {
        let (name_field, args_field) = match tool {
            Some(t) => (Field::ToolName(t), Field::ToolArgs(t)),
            None => (Field::FunctionName, Field::FunctionArgs),
        };
        if let Some(name) = f.name
            && self.call(index, tool).name.is_none()
        {
            let origin = self.origin(index, name_field);
            let judged = self.lanes.whole(origin, &name);
            self.refs.push((index, name_field));
            self.call(index, tool).name = judged;
        }
        let released = match f.arguments {
            Some(a) => self.push(index, args_field, &a),
            None => String::new(),
        };
        let call = self.call(index, tool);
        if call.opened {
            return (!released.is_empty()).then(|| entry(tool, None, &released));
        }
        call.pending.push_str(&released);
        // The call cannot open before its name is judged.
        call.name.as_ref()?;
        call.opened = true;
        let header = (call.id.clone(), call.kind.clone(), call.name.clone());
        let args = std::mem::take(&mut call.pending);
        Some(entry(tool, Some(header), &args))
    }

    fn origin(&self, index: u32, field: Field) -> Origin {
        Origin {
            role: "assistant".into(),
            field: field.path(index, self.chat),
        }
    }

    /// Pushes a piece of a lane's text (opening the lane on its first
    /// non-empty piece); returns what may go now.
    fn push(&mut self, index: u32, field: Field, piece: &str) -> String {
        if piece.is_empty() {
            return String::new();
        }
        let lane = match self.open.get(&(index, field)) {
            Some(&l) => l,
            None => {
                let l = self.lanes.open(self.origin(index, field));
                self.refs.push((index, field));
                self.open.insert((index, field), l);
                l
            }
        };
        self.lanes.push(lane, piece)
    }
}

/// The choice entry of an outgoing chunk, or `None` when nothing of the
/// choice goes out.
fn render(chat: bool, index: u32, out: Out, finish: Option<&str>) -> Option<Value> {
    let texts: Vec<(FieldKey, String)> = out
        .texts
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .collect();
    if out.role.is_none()
        && texts.is_empty()
        && out.calls.is_empty()
        && out.function.is_none()
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
        c.insert("delta".into(), Value::Object(d));
    } else {
        let text: String = texts.into_iter().map(|(_, t)| t).collect();
        c.insert("text".into(), json!(text));
    }
    c.insert("finish_reason".into(), json!(finish));
    Some(Value::Object(c))
}

fn with_meta(meta: &Map<String, Value>, choices: Vec<Value>) -> Value {
    let mut c = meta.clone();
    c.insert("choices".into(), Value::Array(choices));
    Value::Object(c)
}

impl Relay {
    /// Ends the answer. Returns the lanes' end and, unless the answer is
    /// blocked, the chunks that close it: the rest of every lane's text
    /// (and any tool call not opened yet), then, when `complete`, each
    /// choice's finish reason and the usage held back.
    pub fn finish(self, complete: bool) -> (LanesEnd, Option<Vec<Value>>) {
        let Relay {
            lanes,
            chat,
            refs,
            mut choices,
            meta,
            held,
            deferred,
            ..
        } = self;
        let end = lanes.finish();
        if end.evaluation.action == Action::Block {
            return (end, None);
        }
        let mut outs: BTreeMap<u32, Out> = deferred;
        for (lane, (index, field)) in refs.iter().enumerate() {
            let Some(Some(tail)) = end.tails.get(lane) else {
                continue;
            };
            let out = outs.entry(*index).or_default();
            let state = choices.entry(*index).or_default();
            match field {
                Field::Content => text_into(out, FieldKey::Content, tail),
                Field::Refusal => text_into(out, FieldKey::Refusal, tail),
                Field::Reasoning => text_into(out, FieldKey::Reasoning, tail),
                Field::Text => text_into(out, FieldKey::Text, tail),
                Field::ToolArgs(t) => {
                    let call = state.calls.entry(*t).or_default();
                    call.pending.push_str(tail);
                }
                Field::FunctionArgs => {
                    state
                        .function
                        .get_or_insert_with(Call::default)
                        .pending
                        .push_str(tail);
                }
                Field::ToolName(_) | Field::FunctionName => {}
            }
        }
        // Calls still to open or with arguments still to go.
        for (&index, state) in &mut choices {
            let out = outs.entry(index).or_default();
            for (&t, call) in &mut state.calls {
                if let Some(v) = close_call(Some(t), call) {
                    let before = out.calls.remove(&t);
                    out.calls.insert(t, merge_call(before, v));
                }
            }
            if let Some(call) = &mut state.function
                && let Some(v) = close_call(None, call)
            {
                out.function = Some(merge_call(out.function.take(), v));
            }
        }
        let mut chunks = Vec::new();
        let rest: Vec<Value> = outs
            .into_iter()
            .filter_map(|(i, o)| render(chat, i, o, None))
            .collect();
        if !rest.is_empty() {
            chunks.push(with_meta(&meta, rest));
        }
        if complete {
            let finishes: Vec<Value> = choices
                .iter()
                .filter_map(|(&i, s)| render(chat, i, Out::default(), Some(s.finish.as_deref()?)))
                .collect();
            if !finishes.is_empty() {
                chunks.push(with_meta(&meta, finishes));
            }
            chunks.extend(held);
        }
        (end, Some(chunks))
    }
}

/// Joins `o` onto `into` (what goes out for one choice).
fn merge_out(into: &mut Out, o: Out) {
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
}

fn text_into(out: &mut Out, key: FieldKey, tail: &str) {
    out.texts.entry(key).or_default().push_str(tail);
}

/// The entry for a call at the end: its first delta if it never went out,
/// or the rest of its arguments.
fn close_call(tool: Option<u32>, call: &mut Call) -> Option<Value> {
    let args = std::mem::take(&mut call.pending);
    if call.opened {
        return (!args.is_empty()).then(|| entry(tool, None, &args));
    }
    call.opened = true;
    Some(entry(
        tool,
        Some((call.id.clone(), call.kind.clone(), call.name.clone())),
        &args,
    ))
}

type Header = (Option<String>, Option<String>, Option<String>);

/// One `tool_calls` entry (or a `function_call`, when `tool` is `None`):
/// with the header on the call's first delta.
fn entry(tool: Option<u32>, header: Option<Header>, args: &str) -> Value {
    let mut function = Map::new();
    let mut e = Map::new();
    if let Some(t) = tool {
        e.insert("index".into(), json!(t));
    }
    if let Some((id, kind, name)) = header {
        if tool.is_some() {
            if let Some(id) = id {
                e.insert("id".into(), json!(id));
            }
            // The clients take the call's type from its first delta.
            e.insert(
                "type".into(),
                json!(kind.unwrap_or_else(|| "function".into())),
            );
        }
        if let Some(name) = name {
            function.insert("name".into(), json!(name));
        }
    }
    function.insert("arguments".into(), json!(args));
    if tool.is_none() {
        return Value::Object(function);
    }
    e.insert("function".into(), Value::Object(function));
    Value::Object(e)
}

/// Two entries for the same call in one chunk, joined. The entries are
/// JSON railyard built itself ([`entry`]), not the upstream's body: the
/// pointer reads the one field `entry` writes.
fn merge_call(before: Option<Value>, next: Value) -> Value {
    let Some(mut before) = before else {
        return next;
    };
    let more = next
        .pointer("/function/arguments")
        .or_else(|| next.get("arguments"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let slot = if before.get("function").is_some() {
        before.pointer_mut("/function/arguments")
    } else {
        before.get_mut("arguments")
    };
    if let Some(Value::String(s)) = slot {
        s.push_str(&more);
    }
    before
}
