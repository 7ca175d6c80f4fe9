//! Output rails on a streamed answer.
//!
//! Text arrives in pieces (server-sent event deltas). The guard keeps the
//! whole answer so far and releases text to the caller only once the
//! guardrails have seen it *and* `holdback` bytes after it, so that a
//! secret or a card number split across pieces is caught before any of it
//! leaves: when a prefix is evaluated, the release point is moved back to
//! the start of any finding that crosses it.
//!
//! The verdict on a stream is the verdict on the whole answer: `finish`
//! evaluates the complete text, exactly as an unstreamed answer is
//! evaluated, whatever the pieces were. A prefix that blocks stops the
//! release at once (nothing more reaches the caller), and the stream ends
//! with the final verdict. The released pieces, concatenated, equal the
//! redacted whole answer as long as each finding is found in a prefix that
//! extends `holdback` bytes past it (true of the first-party detectors,
//! whose context windows are shorter than the default holdback; the tests
//! check it at every split position).
//!
//! Today every plugin is run on the buffered text (whole-text `check` and
//! `detect`); the decision records say so (`stream: host-buffered`).

use std::sync::Arc;

use crate::payload::{Message, Payload};
use crate::pipeline::{Evaluation, Pipeline, redact};
use crate::verdict::{Action, Finding, Span};

/// The host-side stream guard for one streamed answer.
pub struct StreamGuard {
    pipeline: Arc<Pipeline>,
    template: Payload,
    text: String,
    released: usize,
    evaluated_len: usize,
    holdback: usize,
    held: bool,
    prefix_checks: u32,
}

/// How a stream ended.
pub struct StreamEnd {
    /// The evaluation of the whole answer.
    pub evaluation: Evaluation,
    /// The payload it was made on (the whole answer).
    pub payload: Payload,
    /// Text still to release (`None` when the answer is blocked).
    pub tail: Option<String>,
    /// Prefix evaluations made while streaming.
    pub prefix_checks: u32,
}

impl StreamGuard {
    /// A guard for an answer evaluated at `template.stage` with
    /// `template`'s request id, route and caller.
    pub fn new(pipeline: Arc<Pipeline>, mut template: Payload, holdback: usize) -> StreamGuard {
        template.messages.clear();
        StreamGuard {
            pipeline,
            template,
            text: String::new(),
            released: 0,
            evaluated_len: 0,
            holdback,
            held: false,
            prefix_checks: 0,
        }
    }

    /// Whether a prefix blocked (nothing more is released).
    pub fn held(&self) -> bool {
        self.held
    }

    /// Adds a piece of the answer; returns the text that may be sent now
    /// (possibly empty).
    pub fn push(&mut self, piece: &str) -> String {
        self.text.push_str(piece);
        let len = self.text.len();
        // Evaluate once at least `holdback` new bytes arrived (at least one
        // byte), and only when something could be released.
        if self.held
            || len < self.evaluated_len + self.holdback.max(1)
            || len <= self.released + self.holdback
        {
            return String::new();
        }
        let evaluation = self.evaluate();
        self.prefix_checks += 1;
        self.evaluated_len = len;
        if evaluation.action == Action::Block {
            self.held = true;
            return String::new();
        }
        let mut safe = floor_char_boundary(&self.text, len - self.holdback);
        let spans: Vec<(usize, usize)> = evaluation
            .redacting_findings()
            .filter_map(|f| f.span)
            .filter(|s| s.message == 0)
            .map(|s| (s.start as usize, s.end as usize))
            .collect();
        // Never cut through a finding: release up to its start.
        loop {
            let before = safe;
            for &(s, e) in &spans {
                if s < safe && safe < e {
                    safe = s;
                }
            }
            if safe == before {
                break;
            }
        }
        if safe <= self.released {
            return String::new();
        }
        let out = self.render(self.released, safe, &evaluation);
        self.released = safe;
        out
    }

    /// Ends the stream: evaluates the whole answer.
    pub fn finish(mut self) -> StreamEnd {
        let evaluation = self.evaluate();
        let tail = if evaluation.action == Action::Block {
            None
        } else {
            Some(self.render(self.released, self.text.len(), &evaluation))
        };
        let mut payload = self.template.clone();
        payload.messages = vec![Message::new("assistant", std::mem::take(&mut self.text))];
        StreamEnd {
            evaluation,
            payload,
            tail,
            prefix_checks: self.prefix_checks,
        }
    }

    fn evaluate(&self) -> Evaluation {
        let mut p = self.template.clone();
        p.messages = vec![Message::new("assistant", self.text.clone())];
        self.pipeline.evaluate(&p)
    }

    /// `text[from..to]` with the evaluation's redactions that fall in it.
    fn render(&self, from: usize, to: usize, evaluation: &Evaluation) -> String {
        let findings: Vec<Finding> = evaluation
            .redacting_findings()
            .filter_map(|f| {
                let span = f.span?;
                let (s, e) = ((span.start as usize).max(from), (span.end as usize).min(to));
                (span.message == 0 && s < e).then(|| Finding {
                    span: Some(Span {
                        message: 0,
                        start: (s - from) as u32,
                        end: (e - from) as u32,
                    }),
                    ..f.clone()
                })
            })
            .collect();
        let piece = [Message::new("assistant", &self.text[from..to])];
        match redact(&piece, findings.iter(), &self.pipeline.policy().redaction) {
            Some(mut m) => m.remove(0).content,
            None => piece[0].content.clone(),
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
