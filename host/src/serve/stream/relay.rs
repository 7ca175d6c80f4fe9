//! From upstream chunks to guarded chunks: every text of every choice
//! (content, refusal, reasoning, each tool call's arguments or custom
//! input, a completion's text) goes through a lane of the stream guard,
//! and what a lane releases is re-emitted as a well-formed delta of the
//! same choice and field.
//!
//! Tool calls are re-emitted the way the `openai` clients assemble them:
//! the call's first delta carries `index`, `id`, `type` and the whole
//! name (`function.name`, or `custom.name` for a custom tool call), later
//! deltas carry only `index` and a piece of `function.arguments` (or
//! `custom.input`). A name may arrive in fragments (some compatible
//! servers split it): the fragments are assembled and the name is judged
//! whole, in a lane of its own, once it is complete, that is at the first
//! of: a non-empty piece of the call's arguments after a fragment came
//! (fragments in the same delta count as before it), a delta of another
//! tool call of the same choice, the choice's finish reason, the end of
//! the stream. The call's first delta goes out then; a name fragment
//! after that is dropped (and logged).
//!
//! Strings outside the lanes (a chunk's fields railyard does not know,
//! strings in `usage`, a delta's `annotations`) are judged whole before
//! the chunk carrying them goes out (see [`super::envelope`]); a choice's
//! and a delta's other unknown fields are not passed on. Finish reasons,
//! and usage, are held to the end: the last text of each lane (released
//! once the whole answer is judged) must come before them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::envelope::Envelope;
use super::render::{
    Call, FieldKey, Out, close_call, merge_call, merge_out, open_or_continue, render, text_into,
    with_meta,
};
use crate::pipeline::lanes::{LanesEnd, Origin, StreamLanes};
use crate::serve::wire::answer;
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
    /// A custom tool call's input, by tool index.
    CustomInput(u32),
    /// A custom tool call's name (evaluated whole).
    CustomName(u32),
    /// The deprecated `function_call`'s arguments.
    FunctionArgs,
    /// The deprecated `function_call`'s name.
    FunctionName,
    /// A string outside the lanes, judged whole: nothing to release at the
    /// end.
    Envelope,
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
            Field::CustomInput(t) => format!("{c}.message.tool_calls[{t}].custom.input"),
            Field::CustomName(t) => format!("{c}.message.tool_calls[{t}].custom.name"),
            Field::FunctionArgs => format!("{c}.message.function_call.arguments"),
            Field::FunctionName => format!("{c}.message.function_call.name"),
            Field::Envelope => c,
        }
    }
}

#[derive(Default)]
struct ChoiceState {
    role_sent: bool,
    calls: BTreeMap<u32, Call>,
    function: Option<Call>,
    finish: Option<String>,
    /// Annotations passed on so far.
    annotations: usize,
}

/// Top-level keys of a chunk that carry no model text: an answer's
/// metadata, and `obfuscation` (random padding OpenAI adds to each chunk).
fn chunk_metadata(k: &str) -> bool {
    answer::metadata(k) || k == "obfuscation"
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
    /// Strings outside the lanes, judged.
    envelope: Envelope,
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
            envelope: Envelope::default(),
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

    fn note_dropped(&mut self, what: &str) {
        if !self.dropped.iter().any(|d| d == what) {
            self.dropped.push(what.to_string());
        }
    }

    /// Judges the strings of `values` whole (see [`Envelope::judge`]).
    fn judge<'v>(&mut self, values: impl IntoIterator<Item = (String, &'v mut Value)>) {
        let opened = self
            .envelope
            .judge(&mut self.lanes, values, &answer::not_text);
        self.refs
            .extend(std::iter::repeat_n((0, Field::Envelope), opened));
    }

    /// Takes one upstream chunk; returns the chunk to send now, if any.
    pub fn chunk(&mut self, mut chunk: Chunk) -> Option<Value> {
        let mut envelope: Vec<(String, &mut Value)> = chunk
            .rest
            .iter_mut()
            .filter(|(k, _)| !chunk_metadata(k))
            .map(|(k, v)| (k.clone(), v))
            .collect();
        if let Some(u) = &mut chunk.usage {
            envelope.push(("usage".into(), u));
        }
        if !envelope.is_empty() {
            self.judge(envelope);
        }
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
            // on (its strings judged); usage waits for the end.
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
        if let Some(text) = choice.text {
            let r = self.push(index, Field::Text, &text);
            out.texts.entry(FieldKey::Text).or_default().push_str(&r);
        }
        if let Some(delta) = choice.delta {
            self.delta(index, delta, out);
        }
        if let Some(f) = choice.finish_reason {
            self.choices.entry(index).or_default().finish = Some(f);
            // Every name of the choice is complete.
            let tools: Vec<u32> = self.choices[&index].calls.keys().copied().collect();
            for t in tools {
                self.settle(index, Some(t), out);
            }
            self.settle(index, None, out);
        }
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
        if let Some(a) = delta.annotations {
            self.annotations(index, a, out);
        }
        for tc in delta.tool_calls.unwrap_or_default() {
            let t = tc.index;
            // A delta of another call: every other name is complete.
            let others: Vec<u32> = self.choices[&index]
                .calls
                .keys()
                .copied()
                .filter(|&u| u != t)
                .collect();
            for u in others {
                self.settle(index, Some(u), out);
            }
            let call = self.call(index, Some(t));
            if call.id.is_none() {
                call.id = tc.id;
            }
            if call.kind.is_none() {
                call.kind = tc.kind;
            }
            let f = match tc.custom {
                Some(c) => {
                    call.custom = true;
                    FunctionDelta {
                        name: c.name,
                        arguments: c.input,
                    }
                }
                None => {
                    call.custom |= call.kind.as_deref() == Some("custom");
                    tc.function.unwrap_or_default()
                }
            };
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

    /// A delta's annotations: each judged whole, then passed on.
    fn annotations(&mut self, index: u32, a: Value, out: &mut Out) {
        let mut items = match a {
            Value::Array(items) => items,
            other => vec![other],
        };
        let first = self.choices.entry(index).or_default().annotations;
        self.judge(items.iter_mut().enumerate().map(|(k, v)| {
            (
                format!("choices[{index}].message.annotations[{}]", first + k),
                v,
            )
        }));
        self.choices.entry(index).or_default().annotations += items.len();
        out.annotations.extend(items);
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

    /// The lanes of call `tool`'s name and arguments.
    fn fields(&mut self, index: u32, tool: Option<u32>) -> (Field, Field) {
        let custom = self.call(index, tool).custom;
        match tool {
            Some(t) if custom => (Field::CustomName(t), Field::CustomInput(t)),
            Some(t) => (Field::ToolName(t), Field::ToolArgs(t)),
            None => (Field::FunctionName, Field::FunctionArgs),
        }
    }

    /// Judges call `tool`'s name whole if fragments of it came and it is
    /// not judged yet (it is complete now).
    fn judge_name(&mut self, index: u32, tool: Option<u32>) {
        let call = self.call(index, tool);
        if call.name.is_some() || call.name_parts.is_empty() {
            return;
        }
        let name = std::mem::take(&mut call.name_parts);
        let (name_field, _) = self.fields(index, tool);
        let origin = self.origin(index, name_field);
        let judged = self.lanes.whole(origin, &name);
        self.refs.push((index, name_field));
        self.call(index, tool).name = judged;
    }

    /// Call `tool`'s name is complete: judged, and the call's first delta
    /// goes into `out` if it can go now.
    fn settle(&mut self, index: u32, tool: Option<u32>, out: &mut Out) {
        let exists = match tool {
            Some(t) => self.choices[&index].calls.contains_key(&t),
            None => self.choices[&index].function.is_some(),
        };
        if !exists {
            return;
        }
        self.judge_name(index, tool);
        let call = self.call(index, tool);
        if call.opened {
            return;
        }
        let Some(v) = open_or_continue(tool, call, "") else {
            return;
        };
        match tool {
            Some(t) => {
                let before = out.calls.remove(&t);
                out.calls.insert(t, merge_call(before, v));
            }
            None => out.function = Some(merge_call(out.function.take(), v)),
        }
    }

    /// Takes a piece of a function call; returns the delta entry to send
    /// for it now, if any.
    fn function(&mut self, index: u32, tool: Option<u32>, f: FunctionDelta) -> Option<Value> {
        if let Some(name) = f.name.filter(|n| !n.is_empty()) {
            let call = self.call(index, tool);
            if call.name.is_none() {
                call.name_parts.push_str(&name);
            } else {
                self.note_dropped("a tool call's name fragment after the name was complete");
            }
        }
        let args = f.arguments.unwrap_or_default();
        if !args.is_empty() {
            // The arguments started: the name is complete.
            self.judge_name(index, tool);
        }
        let (_, args_field) = self.fields(index, tool);
        let released = self.push(index, args_field, &args);
        open_or_continue(tool, self.call(index, tool), &released)
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

    /// Ends the answer. Returns the lanes' end and, unless the answer is
    /// blocked, the chunks that close it: the rest of every lane's text
    /// (and any tool call not opened yet), then, when `complete`, each
    /// choice's finish reason and the usage held back.
    pub fn finish(mut self, complete: bool) -> (LanesEnd, Option<Vec<Value>>) {
        // Names still being assembled are complete now.
        let names: Vec<(u32, Option<u32>)> = self
            .choices
            .iter()
            .flat_map(|(&i, s)| {
                s.calls
                    .keys()
                    .map(move |&t| (i, Some(t)))
                    .chain(s.function.is_some().then_some((i, None)))
            })
            .collect();
        for (i, t) in names {
            self.judge_name(i, t);
        }
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
                Field::ToolArgs(t) | Field::CustomInput(t) => {
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
                Field::ToolName(_)
                | Field::CustomName(_)
                | Field::FunctionName
                | Field::Envelope => {}
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
