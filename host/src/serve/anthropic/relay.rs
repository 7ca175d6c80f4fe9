//! From upstream Messages stream events to guarded events: each text of
//! each content block (a `text` block's text, a `thinking` block's
//! thinking, a `tool_use` block's input JSON) goes through a lane of the
//! stream guard, a tool's name is judged whole when its block starts, and
//! what a lane releases is re-emitted as a delta of the same block.
//!
//! A block's `content_block_stop` ends its lane: the rest of its text goes
//! out, then the stop, so blocks come out complete and in order, as the
//! `anthropic` clients expect. `message_delta` (the stop reason and usage)
//! and `message_stop` are held to the end of the answer. Once any lane
//! blocks (or is held for a failed fail-closed plugin), nothing more goes
//! out: what was ready waits for the verdict on the whole answer, and is
//! sent, with every block's rest, only if that verdict lets it go.
//!
//! A `server_tool_use` block keeps its type (its input streams through a
//! lane as a `tool_use`'s does). A block of a type railyard does not
//! stream (a server tool's result, such as `web_search_tool_result`) goes
//! out whole at its start, every string in it judged whole first (ids,
//! types and encrypted content are not text); deltas to such a block, and
//! citations, are not passed on. Strings of `message_start`'s message and
//! of `message_delta`'s delta that are not metadata (fields railyard does
//! not know) are judged whole before their event goes out, as the
//! unstreamed message's are. Blocks keep consecutive indices.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::wire::{Block as StartedBlock, BlockDelta, Event, StartBlock};
use crate::pipeline::lanes::{LanesEnd, Origin, StreamLanes};
use crate::serve::stream::envelope::Envelope;
use crate::verdict::Action;

/// What a content block's lane carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    ToolInput,
    /// Encrypted thinking: no lane.
    Opaque,
}

struct Block {
    kind: Kind,
    /// Its index in what the client receives.
    out: u32,
    lane: Option<usize>,
    /// Whether its stop went out.
    stopped: bool,
}

/// What the relay does with one upstream event.
pub enum Step {
    /// Events to send now (maybe none).
    Send(Vec<Value>),
    /// The upstream's `message_stop`: the answer is complete.
    Complete,
    /// An error event from the upstream, with its `error.type`.
    UpstreamError(String),
}

/// The relay of one streamed message.
pub struct Relay {
    lanes: StreamLanes,
    /// By upstream index.
    blocks: BTreeMap<u32, Block>,
    next_out: u32,
    /// Events that were ready when the lanes were held.
    deferred: Vec<Value>,
    /// `message_delta`, sent at the end.
    ending: Option<Value>,
    started: bool,
    dropped: Vec<String>,
    /// Strings outside the lanes, judged.
    envelope: Envelope,
    /// Citations passed on so far, by upstream block index.
    citations: BTreeMap<u32, u32>,
}

/// Keys of a streamed event's strings that are not text: the unstreamed
/// answer's, and a server tool result's encrypted content.
fn not_text(k: &str) -> bool {
    super::not_text(k) || k == "encrypted_content"
}

impl Relay {
    /// A relay over `lanes`.
    pub fn new(lanes: StreamLanes) -> Relay {
        Relay {
            lanes,
            blocks: BTreeMap::new(),
            next_out: 0,
            deferred: Vec::new(),
            ending: None,
            started: false,
            dropped: Vec::new(),
            envelope: Envelope::default(),
            citations: BTreeMap::new(),
        }
    }

    /// Whether the message started (a `message_start` came).
    pub fn started(&self) -> bool {
        self.started
    }

    /// Whether every block that started has stopped and the stop reason
    /// came (an upstream that closes without `message_stop` then).
    pub fn all_finished(&self) -> bool {
        self.ending.is_some() && self.blocks.values().all(|b| b.stopped)
    }

    /// Event kinds dropped because no lane carries them.
    pub fn dropped(&self) -> &[String] {
        &self.dropped
    }

    fn origin(out: u32, what: &str) -> Origin {
        Origin {
            role: "assistant".into(),
            field: format!("content[{out}].{what}"),
        }
    }

    fn open(&mut self, index: u32, kind: Kind) -> u32 {
        let out = self.next_out;
        self.next_out += 1;
        let lane = match kind {
            Kind::Text => Some(self.lanes.open(Self::origin(out, "text"))),
            Kind::Thinking => Some(self.lanes.open(Self::origin(out, "thinking"))),
            Kind::ToolInput => Some(self.lanes.open(Self::origin(out, "input"))),
            Kind::Opaque => None,
        };
        self.blocks.insert(
            index,
            Block {
                kind,
                out,
                lane,
                stopped: false,
            },
        );
        out
    }

    /// A delta event for block `out` carrying `text` of `kind`.
    fn delta(kind: Kind, out: u32, text: &str) -> Option<Value> {
        if text.is_empty() {
            return None;
        }
        let d = match kind {
            Kind::Text => json!({"type": "text_delta", "text": text}),
            Kind::Thinking => json!({"type": "thinking_delta", "thinking": text}),
            Kind::ToolInput => json!({"type": "input_json_delta", "partial_json": text}),
            Kind::Opaque => return None,
        };
        Some(json!({"type": "content_block_delta", "index": out, "delta": d}))
    }

    /// Pushes `piece` into block `index`'s lane; the delta to send for
    /// what it released.
    fn push(&mut self, index: u32, piece: &str) -> Option<Value> {
        let b = self.blocks.get(&index)?;
        let (kind, out, lane) = (b.kind, b.out, b.lane?);
        if piece.is_empty() {
            return None;
        }
        let released = self.lanes.push(lane, piece);
        Self::delta(kind, out, &released)
    }

    /// Takes one upstream event.
    pub fn event(&mut self, event: Event) -> Step {
        let mut out = Vec::new();
        match event {
            Event::MessageStart { mut message } => {
                self.started = true;
                if message
                    .get("content")
                    .and_then(Value::as_array)
                    .is_some_and(|c| !c.is_empty())
                {
                    self.dropped.push("message_start.message.content".into());
                }
                message.insert("content".into(), json!([]));
                let unknown = message
                    .iter_mut()
                    .filter(|(k, _)| !super::message_metadata(k) && k.as_str() != "content")
                    .map(|(k, v)| (k.clone(), v));
                self.envelope.judge(&mut self.lanes, unknown, &not_text);
                out.push(json!({"type": "message_start", "message": message}));
            }
            Event::ContentBlockStart {
                index,
                content_block: StartedBlock { typed, raw },
            } => {
                match typed {
                    StartBlock::Text { text } => {
                        let o = self.open(index, Kind::Text);
                        out.push(json!({"type": "content_block_start", "index": o,
                        "content_block": {"type": "text", "text": ""}}));
                        out.extend(self.push(index, &text));
                    }
                    StartBlock::Thinking {
                        thinking,
                        signature,
                    } => {
                        let o = self.open(index, Kind::Thinking);
                        out.push(json!({"type": "content_block_start", "index": o,
                        "content_block": {"type": "thinking", "thinking": "", "signature": signature}}));
                        out.extend(self.push(index, &thinking));
                    }
                    StartBlock::ToolUse { id, name, input }
                    | StartBlock::ServerToolUse { id, name, input } => {
                        let kind = raw.get("type").cloned().unwrap_or(json!("tool_use"));
                        let o = self.open(index, Kind::ToolInput);
                        let judged = self.lanes.whole(Self::origin(o, "name"), &name);
                        out.push(json!({"type": "content_block_start", "index": o,
                        "content_block": {"type": kind, "id": id, "name": judged.unwrap_or_default(), "input": {}}}));
                        // An input given whole at the start goes through the
                        // lane as its JSON text.
                        if input.as_object().is_some_and(|m| !m.is_empty()) {
                            out.extend(self.push(index, &input.to_string()));
                        }
                    }
                    StartBlock::RedactedThinking { data } => {
                        let o = self.open(index, Kind::Opaque);
                        out.push(json!({"type": "content_block_start", "index": o,
                        "content_block": {"type": "redacted_thinking", "data": data}}));
                    }
                    StartBlock::Other => {
                        let o = self.open(index, Kind::Opaque);
                        let mut block = raw;
                        self.envelope.judge(
                            &mut self.lanes,
                            [(format!("content[{o}]"), &mut block)],
                            &not_text,
                        );
                        out.push(json!({"type": "content_block_start", "index": o, "content_block": block}));
                    }
                }
            }
            Event::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text: p }
                | BlockDelta::ThinkingDelta { thinking: p }
                | BlockDelta::InputJsonDelta { partial_json: p } => {
                    out.extend(self.push(index, &p))
                }
                BlockDelta::SignatureDelta { signature } => {
                    if let Some(b) = self.blocks.get(&index) {
                        out.push(json!({"type": "content_block_delta", "index": b.out,
                            "delta": {"type": "signature_delta", "signature": signature}}));
                    }
                }
                BlockDelta::CitationsDelta { mut citation } => {
                    if let Some(o) = self.blocks.get(&index).map(|b| b.out) {
                        let k = self.citations.entry(index).or_default();
                        let field = format!("content[{o}].citations[{k}]");
                        *k += 1;
                        self.envelope
                            .judge(&mut self.lanes, [(field, &mut citation)], &not_text);
                        out.push(json!({"type": "content_block_delta", "index": o,
                            "delta": {"type": "citations_delta", "citation": citation}}));
                    }
                }
                BlockDelta::Other => self.dropped.push(format!("delta of block {index}")),
            },
            Event::ContentBlockStop { index } => {
                if let Some(b) = self.blocks.get(&index) {
                    let (kind, o, lane) = (b.kind, b.out, b.lane);
                    let tail = lane.map(|l| self.lanes.close(l)).unwrap_or_default();
                    if !self.lanes.held() {
                        out.extend(Self::delta(kind, o, &tail));
                        out.push(json!({"type": "content_block_stop", "index": o}));
                        if let Some(b) = self.blocks.get_mut(&index) {
                            b.stopped = true;
                        }
                    }
                }
            }
            Event::MessageDelta { mut delta, usage } => {
                if let Some(map) = delta.as_object_mut() {
                    let unknown = map
                        .iter_mut()
                        .filter(|(k, _)| !super::message_metadata(k))
                        .map(|(k, v)| (k.clone(), v));
                    self.envelope.judge(&mut self.lanes, unknown, &not_text);
                }
                self.ending =
                    Some(json!({"type": "message_delta", "delta": delta, "usage": usage}));
            }
            Event::MessageStop => return Step::Complete,
            Event::Ping => out.push(json!({"type": "ping"})),
            Event::Error { error } => {
                return Step::UpstreamError(
                    error
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown")
                        .to_string(),
                );
            }
            Event::Unknown => self.dropped.push("an event of an unknown type".into()),
        }
        if self.lanes.held() {
            self.deferred.append(&mut out);
            return Step::Send(Vec::new());
        }
        Step::Send(out)
    }

    /// Ends the answer. Returns the lanes' end and, unless the answer is
    /// blocked, the events that close it: what waited while the lanes were
    /// held, the rest of every block and its stop, then, when `complete`,
    /// the `message_delta` and `message_stop`.
    pub fn finish(self, complete: bool) -> (LanesEnd, Option<Vec<Value>>) {
        let Relay {
            lanes,
            blocks,
            deferred,
            ending,
            ..
        } = self;
        let end = lanes.finish();
        if end.evaluation.action == Action::Block {
            return (end, None);
        }
        let mut out = deferred;
        let mut open: Vec<&Block> = blocks.values().filter(|b| !b.stopped).collect();
        open.sort_by_key(|b| b.out);
        for b in open {
            if let Some(Some(tail)) = b.lane.and_then(|l| end.tails.get(l)) {
                out.extend(Self::delta(b.kind, b.out, tail));
            }
            if complete {
                out.push(json!({"type": "content_block_stop", "index": b.out}));
            }
        }
        if complete {
            out.extend(ending);
            out.push(json!({"type": "message_stop"}));
        }
        (end, Some(out))
    }
}
