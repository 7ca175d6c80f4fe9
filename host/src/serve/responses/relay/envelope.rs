//! The response's fields outside its output, in a stream: judged whole
//! when `response.created` (and `response.in_progress`, and the final
//! `response.completed`) carries them, except strings the request sent
//! (see [`super::super::envelope`]). The same string comes back in each
//! of those events, so each is judged once per stream and its verdict
//! reused.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::Relay;
use crate::serve::responses::envelope::{self, Echo};

/// The request as sent, and each envelope string judged so far with what
/// may go out in its place.
pub(super) struct Judged {
    echo: Echo,
    released: HashMap<String, String>,
}

impl Judged {
    pub(super) fn new(echo: Echo) -> Judged {
        Judged {
            echo,
            released: HashMap::new(),
        }
    }
}

impl Relay {
    /// Judges every string of `response` outside its output that the
    /// request did not send, and writes back what may go out (redacted;
    /// once one blocks, the lanes hold and nothing more is sent).
    pub(super) fn guard_envelope(&mut self, response: &mut Map<String, Value>) {
        let texts = envelope::texts(response, &self.envelope.echo);
        if texts.is_empty() {
            return;
        }
        let mut body = Value::Object(std::mem::take(response));
        for t in texts {
            let out = match self.envelope.released.get(&t.content) {
                Some(out) => out.clone(),
                None => {
                    let out = self.whole(t.field.clone(), &t.content);
                    self.envelope
                        .released
                        .insert(t.content.clone(), out.clone());
                    out
                }
            };
            if out != t.content
                && let Some(slot) = body.pointer_mut(&t.pointer)
            {
                *slot = Value::String(out);
            }
        }
        if let Value::Object(map) = body {
            *response = map;
        }
    }
}
