//! What a call is given: the stage's payload converted once into the WIT
//! types, and earlier findings as a judge router sees them.

use crate::payload::{Payload, Stage};
use crate::plugin::bindings::wit;
use crate::verdict::Finding;

/// A payload converted once into the WIT types and shared by every plugin
/// of a stage (the payload does not change between them: redaction is
/// applied once, after the stage).
pub struct StageInput {
    pub(super) wit: wit::Payload,
    pub(super) input_bytes: usize,
}

impl AsRef<str> for wit::Message {
    fn as_ref(&self) -> &str {
        &self.content
    }
}

impl StageInput {
    /// The payload as the plugins see it.
    pub(crate) fn wit(&self) -> &wit::Payload {
        &self.wit
    }

    /// Refuses an input over `limit` bytes before any instance is made.
    pub(super) fn within(&self, limit: usize) -> Result<(), super::CallFault> {
        if self.input_bytes > limit {
            return Err(super::CallFault::InputTooLarge {
                bytes: self.input_bytes,
                limit,
            });
        }
        Ok(())
    }

    /// Converts `payload`.
    pub fn new(payload: &Payload) -> Self {
        StageInput {
            wit: wit::Payload {
                request_id: payload.request_id.clone(),
                stage: match payload.stage {
                    Stage::Request => wit::Stage::Request,
                    Stage::Response => wit::Stage::Response,
                    Stage::StreamChunk => wit::Stage::StreamChunk,
                },
                route: payload.route.clone(),
                caller: payload.caller.clone(),
                messages: payload
                    .messages
                    .iter()
                    .map(|m| wit::Message {
                        role: m.role.clone(),
                        content: m.content.clone(),
                    })
                    .collect(),
                attributes: payload.attributes.clone(),
            },
            input_bytes: payload.input_bytes(),
        }
    }

    /// Bytes compared against a plugin's input cap.
    pub fn input_bytes(&self) -> usize {
        self.input_bytes
    }
}

pub(super) fn finding_to_wit(f: &Finding) -> wit::Finding {
    wit::Finding {
        rule_id: f.rule_id.clone(),
        category: f.category.clone(),
        score: f.score,
        span: f.span.map(|s| wit::Span {
            message: s.message,
            start: s.start,
            end: s.end,
        }),
        replacement: f.replacement.clone(),
    }
}
