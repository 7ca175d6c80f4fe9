//! From upstream Responses stream events to guarded events: each text of
//! each output item (a message's `output_text` and `refusal` parts, a
//! function call's `arguments`, a reasoning item's summary parts and
//! reasoning text) goes through a lane of the stream guard, a function's
//! name is judged whole when its item is added, and what a lane releases
//! is re-emitted as a delta of the same item and part.
//!
//! A value's `.done` event (`response.output_text.done`, …) ends its lane:
//! the rest of its text goes out as a delta, then the `.done` event with
//! the value as it was released (redacted), then `content_part.done` and
//! `output_item.done` with the same. `response.completed` (or
//! `response.incomplete`) is held to the end and goes out with its
//! `output` rebuilt from what was released, so `get_final_response()`
//! equals what the deltas assembled. Output items of a type railyard does
//! not stream (hosted tool calls, …) go out whole when they are done, every
//! string of them judged; the other fields of a streamed item (fields
//! railyard does not know) are judged whole before its `added` and its
//! `done` go out, as the unstreamed answer's are; an `output_text` part's annotations are judged
//! whole and go out in its `done` (not as `annotation.added` events), and
//! log probabilities are not passed on (their tokens would spell out what
//! a lane redacts). Every event out carries railyard's own
//! `sequence_number` (consecutive from 0); `output_index`, `content_index`
//! and `summary_index` are the positions the client will hold them at.
//!
//! Once any lane blocks (or is held for a failed fail-closed plugin),
//! nothing more goes out: the state of every item is kept, and if the
//! verdict on the whole answer lets it go, [`Relay::finish`] sends the
//! rest of every item (and the final response); if it blocks, nothing.

mod envelope;
mod items;
mod parts;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::Echo;
use super::wire::{Event, Piece, Whole};
use crate::pipeline::lanes::{LanesEnd, Origin, StreamLanes};
use crate::serve::stream::envelope::Envelope;
use crate::verdict::Action;
use items::Item;
use parts::PartKind;

/// What the relay does with one upstream event.
pub enum Step {
    /// Events to send now (maybe none).
    Send(Vec<Value>),
    /// `response.completed` or `response.incomplete`: the answer is
    /// complete (see [`Relay::finish`]).
    Complete,
    /// `response.failed` or `error` from the upstream, with its code.
    UpstreamError(String),
    /// An event that is not a Responses stream event, or out of order.
    Invalid(String),
}

/// The relay of one streamed response.
pub struct Relay {
    lanes: Option<StreamLanes>,
    items: Vec<Item>,
    /// Item by the upstream's `output_index`.
    by_upstream: BTreeMap<u32, usize>,
    seq: u64,
    /// The response as created (for the end, should the upstream's final
    /// response lack anything).
    created: Option<Map<String, Value>>,
    /// `response.completed` / `response.incomplete` and its response.
    terminal: Option<(String, Map<String, Value>)>,
    /// Events being produced for the upstream event at hand.
    out: Vec<Value>,
    any_lane: bool,
    dropped: Vec<String>,
    /// Strings outside the lanes, judged.
    envelope: Envelope,
    /// The request as sent: the response's fields that echo it are not
    /// judged again (see [`envelope`]).
    echo: Echo,
}

/// Keys of an output item that are not text.
fn not_text(k: &str) -> bool {
    super::not_answer_text(k)
}

impl Relay {
    /// A relay over `lanes`; `echo` is the request as sent.
    pub fn new(lanes: StreamLanes, echo: Echo) -> Relay {
        Relay {
            lanes: Some(lanes),
            items: Vec::new(),
            by_upstream: BTreeMap::new(),
            seq: 0,
            created: None,
            terminal: None,
            out: Vec::new(),
            any_lane: false,
            dropped: Vec::new(),
            envelope: Envelope::default(),
            echo,
        }
    }

    /// Whether the response started (a `response.created` came).
    pub fn started(&self) -> bool {
        self.created.is_some()
    }

    /// Events dropped because no lane carries them.
    pub fn dropped(&self) -> &[String] {
        &self.dropped
    }

    /// The `sequence_number` of the next event out.
    pub fn next_sequence_number(&self) -> u64 {
        self.seq
    }

    fn lanes(&mut self) -> &mut StreamLanes {
        self.lanes.as_mut().expect("lanes live until finish")
    }

    fn held(&self) -> bool {
        self.lanes.as_ref().is_some_and(StreamLanes::held)
    }

    /// Queues `event` to go out, with the next sequence number, unless the
    /// lanes are held; whether it goes.
    fn emit(&mut self, mut event: Value) -> bool {
        if self.held() {
            return false;
        }
        event["sequence_number"] = json!(self.seq);
        self.seq += 1;
        self.out.push(event);
        true
    }

    fn drop_note(&mut self, what: String) {
        if !self.dropped.contains(&what) {
            self.dropped.push(what);
        }
    }

    /// Takes one upstream event (its JSON).
    pub fn event(&mut self, value: Value) -> Step {
        // The type names the event in logs and errors: only when it looks
        // like one (it is upstream text).
        let name = match value.get("type").and_then(Value::as_str) {
            Some(t)
                if t.len() <= 64
                    && t.bytes()
                        .all(|b| b.is_ascii_lowercase() || b"._".contains(&b)) =>
            {
                t.to_string()
            }
            _ => "an event of no known type".to_string(),
        };
        // Serde's message may quote the value: not passed on.
        let Ok(event) = serde_json::from_value::<Event>(value) else {
            return Step::Invalid(format!(
                "`{name}` is not shaped as the Responses API shapes it"
            ));
        };
        let starts = matches!(
            event,
            Event::Created { .. } | Event::InProgress { .. } | Event::Error { .. }
        );
        if !starts && self.created.is_none() && !matches!(event, Event::Failed { .. }) {
            return Step::Invalid(format!("`{name}` before `response.created`"));
        }
        match event {
            Event::Created { response } | Event::InProgress { response } => {
                let first = self.created.is_none();
                let kind = if first {
                    "response.created"
                } else {
                    "response.in_progress"
                };
                let mut r = response;
                r.insert("output".into(), json!([]));
                r.remove("output_text");
                self.guard_envelope(&mut r);
                if first {
                    self.created = Some(r.clone());
                }
                self.emit(json!({"type": kind, "response": r}));
            }
            Event::ItemAdded { output_index, item } => self.item_added(output_index, item),
            Event::ItemDone { output_index, item } => self.item_done(output_index, item),
            Event::PartAdded {
                output_index,
                content_index,
                part,
            }
            | Event::SummaryPartAdded {
                output_index,
                summary_index: content_index,
                part,
            } => {
                let kind = PartKind::of_part(&part);
                match (self.item_of(output_index), kind) {
                    (Some(i), Some(kind)) => {
                        if let Some(p) = self.part(i, kind, content_index) {
                            let text = part.get(kind.key()).and_then(Value::as_str).unwrap_or("");
                            self.push(i, p, text);
                        }
                    }
                    _ => self.drop_note(format!("{name} of output {output_index}")),
                }
            }
            Event::PartDone {
                output_index,
                content_index,
                part,
            }
            | Event::SummaryPartDone {
                output_index,
                summary_index: content_index,
                part,
            } => {
                let kind = PartKind::of_part(&part);
                if let (Some(i), Some(kind)) = (self.item_of(output_index), kind)
                    && let Some(p) = self.part(i, kind, content_index)
                {
                    let text = part.get(kind.key()).and_then(Value::as_str).unwrap_or("");
                    if let Some(a) = part.get("annotations") {
                        self.annotations(i, p, a);
                    }
                    self.close(i, p, text);
                    self.part_done(i, p);
                } else {
                    self.drop_note(format!("{name} of output {output_index}"));
                }
            }
            Event::OutputTextDelta(p) => self.delta(PartKind::OutputText, p),
            Event::RefusalDelta(p) => self.delta(PartKind::Refusal, p),
            Event::ReasoningTextDelta(p) => self.delta(PartKind::ReasoningText, p),
            Event::OutputTextDone(w) => self.done(PartKind::OutputText, w),
            Event::RefusalDone(w) => self.done(PartKind::Refusal, w),
            Event::ReasoningTextDone(w) => self.done(PartKind::ReasoningText, w),
            Event::SummaryDelta {
                output_index,
                summary_index,
                delta,
            } => self.delta(
                PartKind::Summary,
                Piece {
                    output_index,
                    content_index: summary_index,
                    delta,
                },
            ),
            Event::SummaryDone {
                output_index,
                summary_index,
                text,
            } => self.done(
                PartKind::Summary,
                Whole {
                    output_index,
                    content_index: summary_index,
                    text,
                },
            ),
            Event::ArgumentsDelta {
                output_index,
                delta,
            } => self.delta(
                PartKind::Arguments,
                Piece {
                    output_index,
                    content_index: 0,
                    delta,
                },
            ),
            Event::ArgumentsDone {
                output_index,
                arguments,
            } => self.done(
                PartKind::Arguments,
                Whole {
                    output_index,
                    content_index: 0,
                    text: arguments,
                },
            ),
            Event::Completed { response } | Event::Incomplete { response } => {
                // Items of the final response that never streamed: whole.
                if let Some(output) = response.get("output").and_then(Value::as_array) {
                    for (i, item) in output.iter().enumerate() {
                        if !self.by_upstream.contains_key(&(i as u32))
                            && let Some(item) = item.as_object()
                        {
                            self.item_done(i as u32, item.clone());
                        }
                    }
                }
                let mut response = response;
                self.guard_envelope(&mut response);
                self.terminal = Some((name, response));
                return Step::Complete;
            }
            Event::Failed { response } => {
                return Step::UpstreamError(code_of(response.pointer("/error/code")));
            }
            Event::Error { code } => return Step::UpstreamError(code_of(Some(&code))),
            Event::Other => self.drop_note(name),
        }
        Step::Send(std::mem::take(&mut self.out))
    }

    /// Ends the answer. Returns the lanes' end; unless the answer is
    /// blocked, the events that close it when `complete` (the rest of
    /// every item: what waited while the lanes were held, the tails,
    /// every `done`, then the final response with its `output` as
    /// released; none when not complete: an incomplete answer's held text
    /// is not sent); and the `sequence_number` for an event after them.
    pub fn finish(mut self, complete: bool) -> (LanesEnd, Option<Vec<Value>>, u64) {
        let mut lanes = self.lanes.take().expect("lanes live until finish");
        if !self.any_lane {
            lanes.open(Origin {
                role: "assistant".into(),
                field: "output".into(),
            });
        }
        let end = lanes.finish();
        // Events made for the last upstream event and not sent yet.
        let pending = std::mem::take(&mut self.out);
        let unsent = self.seq - pending.len() as u64;
        if end.evaluation.action == Action::Block {
            return (end, None, unsent);
        }
        if !complete {
            return (end, Some(Vec::new()), unsent);
        }
        for item in &mut self.items {
            for p in &mut item.parts {
                if let Some(Some(tail)) = end.tails.get(p.lane) {
                    p.released.push_str(tail);
                }
                p.closed = true;
            }
        }
        for i in 0..self.items.len() {
            self.send_item(i);
        }
        let (kind, mut response) = self.terminal.take().unwrap_or_else(|| {
            (
                "response.completed".into(),
                self.created.clone().unwrap_or_default(),
            )
        });
        let output: Vec<Value> = (0..self.items.len())
            .filter_map(|i| self.final_item(i))
            .collect();
        response.insert("output".into(), Value::Array(output));
        response.remove("output_text");
        if kind == "response.completed" {
            response.insert("error".into(), Value::Null);
        }
        self.emit(json!({"type": kind, "response": response}));
        let mut out = pending;
        out.append(&mut self.out);
        (end, Some(out), self.seq)
    }
}

/// An upstream error code, if it looks like one (a code, not text).
fn code_of(code: Option<&Value>) -> String {
    match code.and_then(Value::as_str) {
        Some(c) if c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => {
            c.to_string()
        }
        _ => "unknown".into(),
    }
}
