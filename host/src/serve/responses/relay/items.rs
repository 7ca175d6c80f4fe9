//! An output item's state in the relay: what the item is, its parts
//! (see `parts`), and the events that carry it whole (`added`,
//! `item.done`), each sent only while the lanes are not held (see the
//! parent module).

use serde_json::{Map, Value, json};

use super::Relay;
use super::parts::{Part, PartKind};
use crate::pipeline::lanes::Origin;
use crate::serve::wire::walk::{Found, Walk};

/// What an output item is, for the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ItemKind {
    Message,
    FunctionCall,
    Reasoning,
    /// Anything else: held, and judged and sent whole when done.
    Whole,
}

pub(super) struct Item {
    pub(super) kind: ItemKind,
    /// Its `output_index` in what the client receives.
    pub(super) out: u32,
    pub(super) id: String,
    /// The item as added, its texts emptied (a function call's name
    /// judged).
    pub(super) base: Map<String, Value>,
    /// The upstream's item when it was done (a whole item: judged).
    pub(super) last: Option<Map<String, Value>>,
    pub(super) parts: Vec<Part>,
    pub(super) added_sent: bool,
    pub(super) done_sent: bool,
}

impl Relay {
    pub(super) fn item_of(&mut self, upstream: u32) -> Option<usize> {
        let i = *self.by_upstream.get(&upstream)?;
        (self.items[i].kind != ItemKind::Whole).then_some(i)
    }

    /// Judges a value that arrived whole; `""` when blocked (and then
    /// nothing more goes out).
    pub(super) fn whole(&mut self, field: String, text: &str) -> String {
        self.any_lane = true;
        let origin = Origin {
            role: "assistant".into(),
            field,
        };
        self.lanes().whole(origin, text).unwrap_or_default()
    }

    pub(super) fn item_added(&mut self, upstream: u32, item: Map<String, Value>) {
        if self.by_upstream.contains_key(&upstream) {
            self.drop_note(format!("a second output_item.added at {upstream}"));
            return;
        }
        let kind = match item.get("type").and_then(Value::as_str) {
            Some("message") => ItemKind::Message,
            Some("function_call") => ItemKind::FunctionCall,
            Some("reasoning") => ItemKind::Reasoning,
            _ => ItemKind::Whole,
        };
        let out = self.items.len() as u32;
        let mut base = item.clone();
        let mut initial: Vec<(PartKind, u32, String)> = Vec::new();
        let mut take_parts = |base: &mut Map<String, Value>, key: &str, default: PartKind| {
            if let Some(Value::Array(parts)) = base.get_mut(key) {
                for (j, p) in parts.iter().enumerate() {
                    if let Some(k) = PartKind::of_part(p).or(Some(default))
                        && let Some(t) = p.get(k.key()).and_then(Value::as_str)
                    {
                        initial.push((k, j as u32, t.to_string()));
                    }
                }
                *parts = Vec::new();
            }
        };
        match kind {
            ItemKind::Message => take_parts(&mut base, "content", PartKind::OutputText),
            ItemKind::Reasoning => {
                take_parts(&mut base, "summary", PartKind::Summary);
                take_parts(&mut base, "content", PartKind::ReasoningText);
            }
            ItemKind::FunctionCall => {
                if let Some(a) = base.insert("arguments".into(), json!("")) {
                    initial.push((PartKind::Arguments, 0, a.as_str().unwrap_or("").to_string()));
                }
                let name = base.get("name").and_then(Value::as_str).unwrap_or("");
                let name = name.to_string();
                let judged = self.whole(format!("output[{out}].name"), &name);
                base.insert("name".into(), json!(judged));
            }
            ItemKind::Whole => {}
        }
        if kind != ItemKind::Whole {
            self.judge_unknown(&mut base, out);
        }
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        self.items.push(Item {
            kind,
            out,
            id,
            base: base.clone(),
            last: None,
            parts: Vec::new(),
            added_sent: false,
            done_sent: false,
        });
        let i = self.items.len() - 1;
        self.by_upstream.insert(upstream, i);
        if kind != ItemKind::Whole
            && self.emit(
                json!({"type": "response.output_item.added", "output_index": out, "item": base}),
            )
        {
            self.items[i].added_sent = true;
        }
        for (k, j, text) in initial {
            if let Some(p) = self.part(i, k, j) {
                self.push(i, p, &text);
            }
        }
    }

    /// `v` with every string in it judged whole (field names from `field`).
    pub(super) fn judge_all(&mut self, mut v: Value, field: &str) -> Value {
        self.judge(vec![(field.to_string(), &mut v)]);
        v
    }

    /// Judges the strings of `values` whole, in place (see [`Envelope`]).
    ///
    /// [`Envelope`]: crate::serve::stream::envelope::Envelope
    fn judge(&mut self, values: Vec<(String, &mut Value)>) {
        let mut found = Vec::new();
        for (field, v) in values {
            v.walk(&field, &super::not_text, &mut found);
        }
        self.judge_found(found);
    }

    /// Judges strings already found whole, in place (see [`Envelope`]).
    ///
    /// [`Envelope`]: crate::serve::stream::envelope::Envelope
    pub(super) fn judge_found(&mut self, found: Vec<Found<'_>>) {
        if found.is_empty() {
            return;
        }
        let lanes = self.lanes.as_mut().expect("lanes live until finish");
        if self.envelope.judge_found(lanes, found) > 0 {
            self.any_lane = true;
        }
    }

    /// Judges the fields of a streamed item (output `out`) that no lane
    /// carries: every field but its texts, which stream, and the ones that
    /// hold no text (its id, type, role, status).
    fn judge_unknown(&mut self, item: &mut Map<String, Value>, out: u32) {
        let values = item
            .iter_mut()
            .filter(|(k, _)| {
                !matches!(k.as_str(), "content" | "summary" | "arguments" | "name")
                    && !super::not_text(k)
            })
            .map(|(k, v)| (format!("output[{out}].{k}"), v))
            .collect();
        self.judge(values);
    }

    pub(super) fn item_done(&mut self, upstream: u32, item: Map<String, Value>) {
        if !self.by_upstream.contains_key(&upstream) {
            self.item_added(upstream, item.clone());
        }
        let i = self.by_upstream[&upstream];
        if self.items[i].last.is_some() {
            self.drop_note(format!("a second output_item.done at {upstream}"));
            return;
        }
        if self.items[i].kind == ItemKind::Whole {
            let field = format!("output[{}]", self.items[i].out);
            let judged = self.judge_all(Value::Object(item), &field);
            let Value::Object(judged) = judged else {
                return;
            };
            self.items[i].last = Some(judged);
            self.send_item(i);
            return;
        }
        // Values the deltas never carried go through their lanes whole.
        let mut wholes: Vec<(PartKind, u32, String, Option<Value>)> = Vec::new();
        for (key, default) in [
            ("content", PartKind::OutputText),
            ("summary", PartKind::Summary),
        ] {
            let parts = item.get(key).and_then(Value::as_array);
            for (j, part) in parts.into_iter().flatten().enumerate() {
                let k = PartKind::of_part(part).unwrap_or(default);
                let k = match (self.items[i].kind, k) {
                    (ItemKind::Reasoning, PartKind::OutputText) => PartKind::ReasoningText,
                    (_, k) => k,
                };
                let text = part.get(k.key()).and_then(Value::as_str).unwrap_or("");
                wholes.push((
                    k,
                    j as u32,
                    text.to_string(),
                    part.get("annotations").cloned(),
                ));
            }
        }
        if self.items[i].kind == ItemKind::FunctionCall {
            let a = item.get("arguments").and_then(Value::as_str).unwrap_or("");
            wholes.push((PartKind::Arguments, 0, a.to_string(), None));
        }
        let mut item = item;
        let out = self.items[i].out;
        self.judge_unknown(&mut item, out);
        self.items[i].last = Some(item);
        for (k, j, text, annotations) in wholes {
            let exists = self.items[i]
                .parts
                .iter()
                .any(|p| p.kind.family() == k.family() && p.upstream == j);
            if !exists && text.is_empty() && k == PartKind::Arguments {
                continue;
            }
            if let Some(p) = self.part(i, k, j) {
                if let Some(a) = annotations {
                    self.annotations(i, p, &a);
                }
                self.close(i, p, &text);
            }
        }
        self.send_item(i);
    }

    /// Sends what of item `i` has not gone out yet and its `done`.
    pub(super) fn send_item(&mut self, i: usize) {
        if !self.items[i].added_sent {
            let item = match self.items[i].kind {
                ItemKind::Whole => match &self.items[i].last {
                    Some(last) => last.clone(),
                    None => return,
                },
                _ => self.items[i].base.clone(),
            };
            let out = self.items[i].out;
            if !self.emit(
                json!({"type": "response.output_item.added", "output_index": out, "item": item}),
            ) {
                return;
            }
            self.items[i].added_sent = true;
        }
        for p in 0..self.items[i].parts.len() {
            self.part_added(i, p);
            self.flush(i, p);
            self.part_done(i, p);
        }
        if self.items[i].done_sent || self.held() {
            return;
        }
        let Some(item) = self.final_item(i) else {
            return;
        };
        let out = self.items[i].out;
        if self
            .emit(json!({"type": "response.output_item.done", "output_index": out, "item": item}))
        {
            self.items[i].done_sent = true;
        }
    }

    /// Item `i` as released: the upstream's final item (or the added one)
    /// with every text as its lane let it go.
    pub(super) fn final_item(&self, i: usize) -> Option<Value> {
        let it = &self.items[i];
        if it.kind == ItemKind::Whole {
            return it.last.clone().map(Value::Object);
        }
        let mut item = it.last.clone().unwrap_or_else(|| it.base.clone());
        let family = |f: u8| -> Vec<Value> {
            let mut parts: Vec<&Part> = it.parts.iter().filter(|p| p.kind.family() == f).collect();
            parts.sort_by_key(|p| p.index);
            parts
                .iter()
                .map(|p| p.kind.part(&p.released, p.annotations.as_ref()))
                .collect()
        };
        match it.kind {
            ItemKind::Message => {
                item.insert("content".into(), Value::Array(family(0)));
            }
            ItemKind::Reasoning => {
                item.insert("summary".into(), Value::Array(family(1)));
                let content = family(0);
                if !content.is_empty() || item.contains_key("content") {
                    item.insert("content".into(), Value::Array(content));
                }
            }
            ItemKind::FunctionCall => {
                let args = it
                    .parts
                    .iter()
                    .find(|p| p.kind == PartKind::Arguments)
                    .map_or("", |p| p.released.as_str());
                item.insert("arguments".into(), json!(args));
                item.insert(
                    "name".into(),
                    it.base.get("name").cloned().unwrap_or(json!("")),
                );
            }
            ItemKind::Whole => {}
        }
        Some(Value::Object(item))
    }
}
