//! Output rails on a streamed answer that carries several texts at once.
//!
//! One streamed answer is rarely one text: a chat answer streams its
//! content, a refusal, reasoning, and each tool call's arguments, for each
//! of `n` choices, interleaved. Each of those values is a *lane* with a
//! [`StreamGuard`] of its own, so a value is released only up to its own
//! settled point and a finding never spans two values. A block in any lane
//! holds every lane: nothing more of the answer leaves.
//!
//! A short value that arrives whole (a tool call's function name) is
//! evaluated at once ([`StreamLanes::whole`]) rather than held to the end,
//! because the client cannot assemble a tool call before its name.
//!
//! [`StreamLanes::finish`] ends every lane and folds their evaluations into
//! one [`Evaluation`] over one [`Payload`] with a message per lane (in the
//! order the lanes opened), each message carrying the field it came from,
//! so the record of a stream names the field of every finding, as the
//! record of an unstreamed answer does.

use std::sync::Arc;

use super::stream::{StreamEnd, StreamGuard};
use super::{Evaluation, Outcome, Pipeline, PluginDecision};
use crate::payload::{Message, Payload};
use crate::verdict::{Action, Span};

/// Where a lane's text sits in the answer it is assembled into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The role the plugins see (`assistant` for every text of an answer).
    pub role: String,
    /// The path of the value in the assembled answer, e.g.
    /// `choices[0].message.tool_calls[1].function.arguments`.
    pub field: String,
}

enum Lane {
    Open(StreamGuard),
    Done(StreamEnd),
    /// Only while [`StreamLanes::close`] ends it.
    Closing,
}

/// Every lane of one streamed answer.
pub struct StreamLanes {
    pipeline: Arc<Pipeline>,
    template: Payload,
    holdback: usize,
    scan_batch: Option<usize>,
    lanes: Vec<(Origin, Lane)>,
    held: bool,
}

/// How a multi-lane stream ended.
pub struct LanesEnd {
    /// The evaluation of every lane, folded into one.
    pub evaluation: Evaluation,
    /// The payload it is about: one message per lane, with its field.
    pub payload: Payload,
    /// Per lane (in [`StreamLanes::open`] order), the text still to
    /// release; all `None` when the answer is blocked.
    pub tails: Vec<Option<String>>,
    /// Redacting findings in text already released (see
    /// [`StreamEnd::late_findings`]), over all lanes.
    pub late_findings: u32,
}

impl StreamLanes {
    /// Lanes for an answer evaluated at `template.stage` (see
    /// [`StreamGuard::new`]).
    pub fn new(pipeline: Arc<Pipeline>, template: Payload, holdback: usize) -> StreamLanes {
        StreamLanes {
            pipeline,
            template,
            holdback,
            scan_batch: None,
            lanes: Vec::new(),
            held: false,
        }
    }

    /// See [`StreamGuard::scan_batch`].
    pub fn scan_batch(mut self, bytes: usize) -> Self {
        self.scan_batch = Some(bytes);
        self
    }

    /// Opens a lane; returns its number.
    pub fn open(&mut self, origin: Origin) -> usize {
        let mut guard = StreamGuard::new(
            self.pipeline.clone(),
            self.lane_template(&origin),
            self.holdback,
        );
        if let Some(b) = self.scan_batch {
            guard = guard.scan_batch(b);
        }
        if self.held {
            guard.hold();
        }
        self.lanes.push((origin, Lane::Open(guard)));
        self.lanes.len() - 1
    }

    /// The payload a lane's plugins are shown: the answer's, with the
    /// lane's field and origin as the attributes of its one message.
    fn lane_template(&self, origin: &Origin) -> Payload {
        let mut t = self.template.clone();
        t.attributes
            .push(("message.0.field".into(), origin.field.clone()));
        t.attributes
            .push(("message.0.origin".into(), origin.role.clone()));
        t
    }

    /// Whether any lane blocked: nothing more is released from any lane.
    pub fn held(&self) -> bool {
        self.held
    }

    /// Adds a piece of lane `lane`'s text; returns what of that lane may be
    /// sent now (nothing once held; what a push released just before the
    /// hold must wait for the final verdict, as the caller's other output
    /// of that moment does).
    pub fn push(&mut self, lane: usize, piece: &str) -> String {
        let Some((_, Lane::Open(guard))) = self.lanes.get_mut(lane) else {
            return String::new();
        };
        // The text goes in even when held: the final verdict is on all of
        // it. A held guard releases nothing, so what it has not released
        // is its tail if the final verdict lets the answer go.
        let out = guard.push(piece);
        if guard.held() && !self.held {
            self.hold_all();
        }
        out
    }

    /// Ends lane `lane` now (its value is complete, e.g. an Anthropic
    /// content block stopped): returns the rest of its text, to send now,
    /// unless the lane blocked or the lanes are held (then it stays for
    /// [`StreamLanes::finish`], which releases it only if the whole answer
    /// may go). Every byte of the value has been judged when this
    /// returns, so nothing is released through a finding.
    pub fn close(&mut self, lane: usize) -> String {
        let Some((_, slot)) = self.lanes.get_mut(lane) else {
            return String::new();
        };
        let guard = match std::mem::replace(slot, Lane::Closing) {
            Lane::Open(guard) => guard,
            other => {
                *slot = other;
                return String::new();
            }
        };
        let mut end = guard.finish();
        let blocked = end.evaluation.action == Action::Block;
        let out = if blocked || self.held {
            String::new()
        } else {
            // Sent now: what `finish` releases later is only what is left.
            end.tail.replace(String::new()).unwrap_or_default()
        };
        *slot = Lane::Done(end);
        if blocked && !self.held {
            self.hold_all();
        }
        out
    }

    /// Holds every open lane: one text of the answer blocked (or a
    /// fail-closed plugin failed on it), so nothing more of any text goes
    /// out before the verdict on the whole answer.
    fn hold_all(&mut self) {
        self.held = true;
        for (_, lane) in &mut self.lanes {
            if let Lane::Open(guard) = lane {
                guard.hold();
            }
        }
    }

    /// Evaluates a value that arrived whole in a lane of its own now;
    /// returns it as it may be sent (redacted), or `None` when it is
    /// blocked (and everything is held from then on). While the lanes are
    /// held the caller must not send it before the final verdict.
    pub fn whole(&mut self, origin: Origin, text: &str) -> Option<String> {
        let mut guard = StreamGuard::new(
            self.pipeline.clone(),
            self.lane_template(&origin),
            self.holdback,
        );
        let head = guard.push(text);
        let end = guard.finish();
        let out = end.tail.as_ref().map(|t| format!("{head}{t}"));
        let blocked = end.evaluation.action == Action::Block;
        self.lanes.push((origin, Lane::Done(end)));
        if blocked && !self.held {
            self.hold_all();
        }
        // Judged and let go, even while another lane holds: the caller
        // defers sending it (see `held`), it does not lose it.
        if blocked { None } else { out }
    }

    /// Ends every lane: the verdict on every text of the answer. With no
    /// lane at all, the empty answer is evaluated (so every answer has its
    /// decisions on record).
    pub fn finish(mut self) -> LanesEnd {
        if self.lanes.is_empty() {
            self.open(Origin {
                role: "assistant".into(),
                field: "choices[0].message.content".into(),
            });
        }
        let ends: Vec<(Origin, StreamEnd)> = self
            .lanes
            .into_iter()
            .map(|(origin, lane)| match lane {
                Lane::Open(guard) => (origin, guard.finish()),
                Lane::Done(end) => (origin, end),
                Lane::Closing => unreachable!("a lane is `Closing` only inside `close`"),
            })
            .collect();
        let late_findings = ends.iter().map(|(_, e)| e.late_findings).sum();
        let mut payload = self.template;
        payload.messages = ends
            .iter()
            .map(|(origin, end)| {
                let text = end
                    .payload
                    .messages
                    .first()
                    .map(|m| m.content.clone())
                    .unwrap_or_default();
                Message::new(origin.role.clone(), text).with_field(origin.field.clone())
            })
            .collect();
        for (i, (origin, _)) in ends.iter().enumerate() {
            payload
                .attributes
                .push((format!("message.{i}.field"), origin.field.clone()));
            payload
                .attributes
                .push((format!("message.{i}.origin"), origin.role.clone()));
        }
        let blocked = ends
            .iter()
            .any(|(_, e)| e.evaluation.action == Action::Block);
        let tails = ends
            .iter()
            .map(|(_, e)| if blocked { None } else { e.tail.clone() })
            .collect();
        let evaluation = combine(
            ends.into_iter().map(|(o, e)| (o.field, e.evaluation)),
            &payload.messages,
        );
        LanesEnd {
            evaluation,
            payload,
            tails,
            late_findings,
        }
    }
}

/// Folds the evaluations of single-message payloads (part `i` is about
/// `messages[i]`) into one evaluation of all the messages: per plugin, the
/// most severe action, every finding with its span moved to its message,
/// the reasons labelled with their field, the latencies summed.
pub fn combine(
    parts: impl IntoIterator<Item = (String, Evaluation)>,
    messages: &[Message],
) -> Evaluation {
    let parts: Vec<(String, Evaluation)> = parts.into_iter().collect();
    let many = parts.len() > 1;
    let mut iter = parts.into_iter().enumerate();
    let Some((_, (label, mut out))) = iter.next() else {
        return Evaluation {
            request_id: String::new(),
            stage: crate::payload::Stage::Response,
            policy: String::new(),
            policy_digest: String::new(),
            action: Action::Allow,
            reason: String::new(),
            decisions: Vec::new(),
            redacted: None,
            judge_requests: Vec::new(),
            latency_us: 0,
            arm: None,
        };
    };
    if many {
        for d in &mut out.decisions {
            d.reason = labelled(&label, &d.reason);
        }
    }
    let mut redacted: Vec<Option<Message>> = vec![out.redacted.take().and_then(|mut m| m.pop())];
    for (i, (label, part)) in iter {
        for (d, p) in out.decisions.iter_mut().zip(part.decisions) {
            fold(d, p, i as u32, &label);
        }
        for r in part.judge_requests {
            let seen = out.judge_requests.iter().any(|o| {
                o.router == r.router
                    && o.request.judge == r.request.judge
                    && o.request.rubric == r.request.rubric
            });
            if !seen {
                out.judge_requests.push(r);
            }
        }
        out.latency_us += part.latency_us;
        redacted.push(part.redacted.and_then(|mut m| m.pop()));
    }
    out.redacted = redacted.iter().any(Option::is_some).then(|| {
        redacted
            .into_iter()
            .zip(messages)
            .map(|(r, m)| match r {
                Some(r) => Message {
                    content: r.content,
                    ..m.clone()
                },
                None => m.clone(),
            })
            .collect()
    });
    out.merge();
    out
}

/// Folds plugin decision `part` (about message `message`) into `into`.
fn fold(into: &mut PluginDecision, part: PluginDecision, message: u32, label: &str) {
    into.action = into.action.max(part.action);
    if into.outcome == Outcome::Ok && part.outcome != Outcome::Ok {
        into.outcome = part.outcome;
        into.failure_mode = part.failure_mode;
        into.error = part.error;
    }
    if !part.reason.is_empty() {
        let r = labelled(label, &part.reason);
        if into.reason.is_empty() {
            into.reason = r;
        } else {
            into.reason = format!("{}; {r}", into.reason);
        }
    }
    into.findings.extend(part.findings.into_iter().map(|mut f| {
        if let Some(s) = f.span {
            f.span = Some(Span { message, ..s });
        }
        f
    }));
    into.latency_us += part.latency_us;
}

fn labelled(label: &str, reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!("{label}: {reason}")
    }
}
