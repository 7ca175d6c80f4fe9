//! The strings of a streamed answer outside its text lanes: a chunk's
//! fields railyard does not know, an item's or a message's unknown fields,
//! a server tool's result, annotations. They arrive whole in one event, so
//! each is judged whole (in a lane of its own, as a tool's name is) before
//! the event carrying it goes out, and a redaction is written back in
//! place, as the unstreamed answer's walk does. A block holds every lane:
//! the caller sees [`StreamLanes::held`] and sends nothing more.
//!
//! A value a provider repeats on every event (its metadata) is judged once
//! per field: the verdict on the same text at the same field is reused.
//! An event without such strings evaluates nothing.

use std::collections::HashMap;

use serde_json::Value;

use crate::pipeline::lanes::{Origin, StreamLanes};
use crate::serve::wire::walk::{Found, Skip, Walk};

/// What was judged of one stream's envelope, by (field, text).
#[derive(Default)]
pub struct Envelope {
    judged: HashMap<(String, String), Option<String>>,
}

impl Envelope {
    /// Judges every non-empty string of each `(field, value)` whole (except
    /// under keys `skip` names), writing each back as it may go (redacted;
    /// emptied when blocked, and then the lanes are held). Returns how
    /// many lanes it opened (one per string not judged before).
    pub fn judge<'v>(
        &mut self,
        lanes: &mut StreamLanes,
        values: impl IntoIterator<Item = (String, &'v mut Value)>,
        skip: Skip,
    ) -> usize {
        let mut found = Vec::new();
        let values: Vec<(String, &mut Value)> = values.into_iter().collect();
        for (field, v) in values {
            v.walk(&field, skip, &mut found);
        }
        self.judge_found(lanes, found)
    }

    /// [`Envelope::judge`] on strings already found.
    pub fn judge_found(&mut self, lanes: &mut StreamLanes, found: Vec<Found<'_>>) -> usize {
        let mut opened = 0;
        for f in found {
            if f.text.is_empty() {
                continue;
            }
            let key = (f.field, std::mem::take(f.text));
            let judged = match self.judged.get(&key) {
                Some(j) => j.clone(),
                None => {
                    opened += 1;
                    let origin = Origin {
                        role: "assistant".into(),
                        field: key.0.clone(),
                    };
                    let j = lanes.whole(origin, &key.1);
                    self.judged.insert(key, j.clone());
                    j
                }
            };
            *f.text = judged.unwrap_or_default();
        }
        opened
    }
}
