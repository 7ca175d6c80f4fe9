//! The response's fields outside its output, in a stream: judged whole
//! when `response.created` (and `response.in_progress`, and the final
//! `response.completed`) carries them, except strings the request sent
//! (see [`super::super::envelope`]). The same string comes back in each
//! of those events; it is judged once per stream ([`Envelope`]).
//!
//! [`Envelope`]: crate::serve::stream::envelope::Envelope

use serde_json::{Map, Value};

use super::Relay;
use crate::serve::responses::envelope::{judged, not_text};
use crate::serve::wire::walk::Walk;

impl Relay {
    /// Judges every string of `response` outside its output that the
    /// request did not send, and writes back what may go out (redacted;
    /// once one blocks, the lanes hold and nothing more is sent).
    pub(super) fn guard_envelope(&mut self, response: &mut Map<String, Value>) {
        let mut found = Vec::new();
        for (k, v) in response.iter_mut() {
            if judged(k, v) {
                v.walk(k, &not_text, &mut found);
            }
        }
        found.retain(|f| !self.echo.sent(f.text));
        self.judge_found(found);
    }
}
