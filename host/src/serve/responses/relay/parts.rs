//! A part of an output item in the relay (one lane each): what of it went
//! out, and the events that carry it (part `added`, deltas, `.done`,
//! `part.done`), each sent only while the lanes are not held (see the
//! parent module).

use serde_json::{Value, json};

use super::Relay;
use super::items::ItemKind;
use crate::pipeline::lanes::Origin;
use crate::serve::responses::wire::{Piece, Whole};

/// What a lane of an item carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PartKind {
    OutputText,
    Refusal,
    ReasoningText,
    Summary,
    Arguments,
}

impl PartKind {
    /// Parts of one family share one numbering within their item.
    pub(super) fn family(self) -> u8 {
        match self {
            PartKind::OutputText | PartKind::Refusal | PartKind::ReasoningText => 0,
            PartKind::Summary => 1,
            PartKind::Arguments => 2,
        }
    }

    pub(super) fn of_part(part: &Value) -> Option<PartKind> {
        match part.get("type").and_then(Value::as_str)? {
            "output_text" => Some(PartKind::OutputText),
            "refusal" => Some(PartKind::Refusal),
            "reasoning_text" => Some(PartKind::ReasoningText),
            "summary_text" => Some(PartKind::Summary),
            _ => None,
        }
    }

    /// The key of its text in its part (and its `.done` event).
    pub(super) fn key(self) -> &'static str {
        match self {
            PartKind::Refusal => "refusal",
            PartKind::Arguments => "arguments",
            _ => "text",
        }
    }

    /// The event name's stem.
    pub(super) fn stem(self) -> &'static str {
        match self {
            PartKind::OutputText => "response.output_text",
            PartKind::Refusal => "response.refusal",
            PartKind::ReasoningText => "response.reasoning_text",
            PartKind::Summary => "response.reasoning_summary_text",
            PartKind::Arguments => "response.function_call_arguments",
        }
    }

    /// The part as it is at `text`.
    pub(super) fn part(self, text: &str, annotations: Option<&Value>) -> Value {
        match self {
            PartKind::OutputText => json!({"type": "output_text", "text": text,
                "annotations": annotations.cloned().unwrap_or_else(|| json!([]))}),
            PartKind::Refusal => json!({"type": "refusal", "refusal": text}),
            PartKind::ReasoningText => json!({"type": "reasoning_text", "text": text}),
            PartKind::Summary => json!({"type": "summary_text", "text": text}),
            PartKind::Arguments => json!(text),
        }
    }
}

pub(super) struct Part {
    pub(super) kind: PartKind,
    /// Its index in the upstream's item.
    pub(super) upstream: u32,
    /// Its index in the client's item (`content_index`, `summary_index`).
    pub(super) index: u32,
    pub(super) lane: usize,
    /// Bytes pushed into the lane.
    pub(super) pushed: usize,
    /// Everything the lane let go (sent or still to send).
    pub(super) released: String,
    /// Bytes of `released` sent.
    pub(super) sent: usize,
    /// The upstream said the value is whole (its lane is closed).
    pub(super) closed: bool,
    pub(super) added_sent: bool,
    pub(super) text_done_sent: bool,
    pub(super) part_done_sent: bool,
    /// An `output_text` part's annotations, judged.
    pub(super) annotations: Option<Value>,
}

impl Relay {
    pub(super) fn origin(&self, item: usize, kind: PartKind, index: u32) -> Origin {
        let out = self.items[item].out;
        let field = match kind {
            PartKind::OutputText | PartKind::ReasoningText => {
                format!("output[{out}].content[{index}].text")
            }
            PartKind::Refusal => format!("output[{out}].content[{index}].refusal"),
            PartKind::Summary => format!("output[{out}].summary[{index}].text"),
            PartKind::Arguments => format!("output[{out}].arguments"),
        };
        Origin {
            role: "assistant".into(),
            field,
        }
    }

    /// Part `upstream` of `kind`'s family in item `item`, opened (its lane,
    /// its `added` event) on first sight.
    pub(super) fn part(&mut self, item: usize, kind: PartKind, upstream: u32) -> Option<usize> {
        let it = &self.items[item];
        if let Some(p) = it
            .parts
            .iter()
            .position(|p| p.kind.family() == kind.family() && p.upstream == upstream)
        {
            return Some(p);
        }
        let fits = match it.kind {
            ItemKind::Message => matches!(kind, PartKind::OutputText | PartKind::Refusal),
            ItemKind::Reasoning => matches!(kind, PartKind::Summary | PartKind::ReasoningText),
            ItemKind::FunctionCall => kind == PartKind::Arguments,
            ItemKind::Whole => false,
        };
        if !fits {
            let what = format!("a {kind:?} part of a {:?} item", it.kind);
            self.drop_note(what);
            return None;
        }
        let index = it
            .parts
            .iter()
            .filter(|p| p.kind.family() == kind.family())
            .count() as u32;
        let origin = self.origin(item, kind, index);
        self.any_lane = true;
        let lane = self.lanes().open(origin);
        self.items[item].parts.push(Part {
            kind,
            upstream,
            index,
            lane,
            pushed: 0,
            released: String::new(),
            sent: 0,
            closed: false,
            added_sent: false,
            text_done_sent: false,
            part_done_sent: false,
            annotations: None,
        });
        let p = self.items[item].parts.len() - 1;
        self.part_added(item, p);
        Some(p)
    }

    pub(super) fn part_added(&mut self, item: usize, p: usize) {
        let it = &self.items[item];
        let part = &it.parts[p];
        if part.added_sent {
            return;
        }
        let (out, id, index, kind) = (it.out, it.id.clone(), part.index, part.kind);
        let event = match kind {
            PartKind::Arguments => None,
            PartKind::Summary => Some(json!({"type": "response.reasoning_summary_part.added",
                "item_id": id, "output_index": out, "summary_index": index,
                "part": kind.part("", None)})),
            _ => Some(json!({"type": "response.content_part.added", "item_id": id,
                "output_index": out, "content_index": index, "part": kind.part("", None)})),
        };
        let sent = match event {
            Some(e) => self.emit(e),
            None => !self.held(),
        };
        self.items[item].parts[p].added_sent = sent;
    }

    pub(super) fn push(&mut self, item: usize, p: usize, piece: &str) {
        if piece.is_empty() {
            return;
        }
        let lane = self.items[item].parts[p].lane;
        if self.items[item].parts[p].closed {
            self.drop_note("text after its .done".into());
            return;
        }
        let released = self.lanes().push(lane, piece);
        let part = &mut self.items[item].parts[p];
        part.pushed += piece.len();
        part.released.push_str(&released);
        self.flush(item, p);
    }

    /// Sends what part `p` released and has not sent, as a delta.
    pub(super) fn flush(&mut self, item: usize, p: usize) {
        let it = &self.items[item];
        let part = &it.parts[p];
        if part.sent >= part.released.len() || self.held() {
            return;
        }
        let text = &part.released[part.sent..];
        let (out, id, index) = (it.out, it.id.as_str(), part.index);
        let event = match part.kind {
            PartKind::OutputText => json!({"type": "response.output_text.delta", "item_id": id,
                "output_index": out, "content_index": index, "delta": text, "logprobs": []}),
            PartKind::Refusal | PartKind::ReasoningText => {
                json!({"type": format!("{}.delta", part.kind.stem()),
                "item_id": id, "output_index": out, "content_index": index, "delta": text})
            }
            PartKind::Summary => {
                json!({"type": "response.reasoning_summary_text.delta", "item_id": id,
                "output_index": out, "summary_index": index, "delta": text})
            }
            PartKind::Arguments => json!({"type": "response.function_call_arguments.delta",
                "item_id": id, "output_index": out, "delta": text}),
        };
        let len = part.released.len();
        if self.emit(event) {
            self.items[item].parts[p].sent = len;
        }
    }

    pub(super) fn delta(&mut self, kind: PartKind, piece: Piece) {
        let Some(i) = self.item_of(piece.output_index) else {
            self.drop_note(format!("{} of output {}", kind.stem(), piece.output_index));
            return;
        };
        if let Some(p) = self.part(i, kind, piece.content_index) {
            self.push(i, p, &piece.delta);
        }
    }

    pub(super) fn done(&mut self, kind: PartKind, whole: Whole) {
        let Some(i) = self.item_of(whole.output_index) else {
            self.drop_note(format!("{} of output {}", kind.stem(), whole.output_index));
            return;
        };
        if let Some(p) = self.part(i, kind, whole.content_index) {
            self.close(i, p, &whole.text);
            self.text_done(i, p);
        }
    }

    /// Ends part `p`'s lane (its value is whole; `whole` is the value, used
    /// when no delta carried it) and sends the rest of it.
    pub(super) fn close(&mut self, item: usize, p: usize, whole: &str) {
        if self.items[item].parts[p].closed {
            return;
        }
        if self.items[item].parts[p].pushed == 0 {
            self.push(item, p, whole);
        }
        let lane = self.items[item].parts[p].lane;
        let tail = self.lanes().close(lane);
        let part = &mut self.items[item].parts[p];
        part.closed = true;
        part.released.push_str(&tail);
        self.flush(item, p);
    }

    pub(super) fn text_done(&mut self, item: usize, p: usize) {
        let it = &self.items[item];
        let part = &it.parts[p];
        if part.text_done_sent || !part.closed || part.sent < part.released.len() {
            return;
        }
        let (out, id, index, kind) = (it.out, it.id.as_str(), part.index, part.kind);
        let text = part.released.as_str();
        let event = match kind {
            PartKind::OutputText => json!({"type": "response.output_text.done", "item_id": id,
                "output_index": out, "content_index": index, "text": text, "logprobs": []}),
            PartKind::Refusal | PartKind::ReasoningText => {
                json!({"type": format!("{}.done", kind.stem()),
                "item_id": id, "output_index": out, "content_index": index, kind.key(): text})
            }
            PartKind::Summary => {
                json!({"type": "response.reasoning_summary_text.done", "item_id": id,
                "output_index": out, "summary_index": index, "text": text})
            }
            PartKind::Arguments => json!({"type": "response.function_call_arguments.done",
                "item_id": id, "output_index": out, "arguments": text}),
        };
        if self.emit(event) {
            self.items[item].parts[p].text_done_sent = true;
        }
    }

    pub(super) fn part_done(&mut self, item: usize, p: usize) {
        self.close(item, p, "");
        self.text_done(item, p);
        let it = &self.items[item];
        let part = &it.parts[p];
        if part.part_done_sent || !part.text_done_sent {
            return;
        }
        let (out, id, index, kind) = (it.out, it.id.as_str(), part.index, part.kind);
        let value = kind.part(&part.released, part.annotations.as_ref());
        let event = match kind {
            PartKind::Arguments => None,
            PartKind::Summary => Some(json!({"type": "response.reasoning_summary_part.done",
                "item_id": id, "output_index": out, "summary_index": index, "part": value})),
            _ => Some(json!({"type": "response.content_part.done", "item_id": id,
                "output_index": out, "content_index": index, "part": value})),
        };
        let sent = match event {
            Some(e) => self.emit(e),
            None => !self.held(),
        };
        self.items[item].parts[p].part_done_sent = sent;
    }

    /// Judges an `output_text` part's annotations (titles, URLs, file
    /// names) whole, once.
    pub(super) fn annotations(&mut self, item: usize, p: usize, annotations: &Value) {
        if self.items[item].parts[p].annotations.is_some() {
            return;
        }
        let field = format!(
            "output[{}].content[{}].annotations",
            self.items[item].out, self.items[item].parts[p].index
        );
        let judged = self.judge_all(annotations.clone(), &field);
        self.items[item].parts[p].annotations = Some(judged);
    }
}
