//! Output rails on a streamed answer.
//!
//! Text arrives in pieces (server-sent event deltas). A [`StreamGuard`]
//! keeps the whole answer so far and releases text to the caller only once
//! every plugin of the stage has seen it with enough context after it, so
//! that a secret or a card number split across pieces is caught before any
//! of it leaves. Each plugin is run one of two ways:
//!
//! - **scanner**: a plugin that exports the WIT `scanning` interface (and
//!   whose policy entry does not say `scanner = false`) gets one live
//!   instance for the answer; each piece is pushed to it, it reports the
//!   findings completed so far and a *settled* point before which it will
//!   report nothing more. It reads each byte about once.
//! - **host-buffered**: any other guardrail or detector (whole-text `check`
//!   or `detect` only) is re-run on the answer so far each time `holdback`
//!   new bytes arrived, and text is released up to `holdback` bytes before
//!   the end and never into the whitespace-free run the text ends with (a
//!   token or key still arriving, up to 4 KiB of it). Its cost grows with
//!   the square of the answer's length.
//!
//! Text goes out up to the smallest release point of all plugins, and never
//! through the middle of a finding. A block (a scanner's, a buffered
//! prefix's, or a fail-closed plugin that failed) stops the release at once.
//!
//! The verdict on a stream is the verdict on the whole answer: `finish`
//! takes each scanner's `finish` (its verdict on all of the text, which the
//! contract says equals `check`'s or `detect`'s) and runs every other
//! plugin on the complete text, exactly as an unstreamed answer is
//! evaluated, whatever the pieces were. Each decision's reason says how the
//! plugin saw the stream (`[stream: scanner, ...]` or `[stream:
//! host-buffered ...]`), so the audit record shows it. A redacting finding
//! of the final verdict in text already released (a plugin that broke its
//! settled promise, or a buffered match wider than the holdback) is
//! counted, logged and noted on its decision.

use std::sync::Arc;
use std::time::Instant;

use super::{Evaluation, Given, Pipeline, StagePlugin, interpret, redact, redacts, redacts_as};
use crate::payload::{Message, Payload};
use crate::plugin::{CallFault, CallOutput, PluginKind, ScanSession, StageInput};
use crate::policy::FailureMode;
use crate::verdict::{Action, Finding, Span, Verdict};

/// The host-side stream guard for one streamed answer.
pub struct StreamGuard {
    pipeline: Arc<Pipeline>,
    template: Payload,
    text: String,
    released: usize,
    holdback: usize,
    held: bool,
    lanes: Vec<Lane>,
    /// Whether any plugin is host-buffered.
    buffered: bool,
    /// Release bound of the buffered plugins (from their last prefix check).
    buffered_safe: usize,
    /// Redacting findings of the buffered plugins' last prefix check.
    buffered_findings: Vec<(usize, usize, Finding)>,
    evaluated_len: usize,
    prefix_checks: u32,
    /// Spans of the findings that were redacted in released text.
    rendered: Vec<(usize, usize)>,
    /// Bytes of `text` not yet pushed to the scanners start here.
    scanned_len: usize,
    /// Push to the scanners once this many new bytes arrived.
    scan_batch: usize,
}

/// Default for [`StreamGuard::scan_batch`]: a WASM call per 32 bytes (a
/// few server-sent events) instead of one per event; the scanners' own
/// settled points already trail the text by more than this.
pub const DEFAULT_SCAN_BATCH: usize = 32;

/// How one plugin of the stage sees the stream.
enum Lane {
    Scanner {
        session: ScanSession,
        /// Redacting findings reported so far: (start, end, finding).
        redacting: Vec<(usize, usize, Finding)>,
        latency_us: u64,
        pushes: u32,
    },
    /// Its scanner failed; the failure mode applies at the end.
    Faulted {
        fault: CallFault,
        latency_us: u64,
        pushes: u32,
    },
    /// Whole-text checks on the buffered answer; `why` says why it has no
    /// scanner.
    Buffered { why: &'static str },
    /// Runs only on the whole answer (judge routers, disabled plugins).
    WholeOnly,
}

/// How a stream ended.
pub struct StreamEnd {
    /// The evaluation of the whole answer.
    pub evaluation: Evaluation,
    /// The payload it was made on (the whole answer).
    pub payload: Payload,
    /// Text still to release (`None` when the answer is blocked).
    pub tail: Option<String>,
    /// Prefix evaluations of the host-buffered plugins made while
    /// streaming.
    pub prefix_checks: u32,
    /// Redacting findings of the final verdict whose text had already been
    /// released unredacted (0 when every plugin kept its promises).
    pub late_findings: u32,
}

impl StreamGuard {
    /// A guard for an answer evaluated at `template.stage` with
    /// `template`'s request id, route and caller. `holdback` is how many
    /// bytes at the end of the answer the host-buffered plugins keep back.
    pub fn new(pipeline: Arc<Pipeline>, mut template: Payload, holdback: usize) -> StreamGuard {
        template.messages.clear();
        let input = StageInput::new(&template);
        let mut held = false;
        let lanes: Vec<Lane> = pipeline
            .stage_plugins(template.stage)
            .iter()
            .map(|sp| {
                if sp.spec.failure_mode == FailureMode::Disabled
                    || sp.plugin.kind == PluginKind::JudgeRouter
                {
                    return Lane::WholeOnly;
                }
                if !sp.spec.scanner {
                    return Lane::Buffered {
                        why: "the policy sets scanner = false",
                    };
                }
                let t = Instant::now();
                match sp.plugin.start_scan(&input, &sp.config, &sp.spec.limits) {
                    None => Lane::Buffered {
                        why: "the plugin has no scanner",
                    },
                    Some(Ok(session)) => Lane::Scanner {
                        session,
                        redacting: Vec::new(),
                        latency_us: t.elapsed().as_micros() as u64,
                        pushes: 0,
                    },
                    Some(Err(fault)) => {
                        held |= fails_closed(sp);
                        Lane::Faulted {
                            fault,
                            latency_us: t.elapsed().as_micros() as u64,
                            pushes: 0,
                        }
                    }
                }
            })
            .collect();
        let buffered = lanes.iter().any(|l| matches!(l, Lane::Buffered { .. }));
        StreamGuard {
            pipeline,
            template,
            text: String::new(),
            released: 0,
            holdback,
            held,
            lanes,
            buffered,
            buffered_safe: 0,
            buffered_findings: Vec::new(),
            evaluated_len: 0,
            prefix_checks: 0,
            rendered: Vec::new(),
            scanned_len: 0,
            scan_batch: DEFAULT_SCAN_BATCH,
        }
    }

    /// Pushes text to the scanners only once `bytes` new bytes arrived
    /// (1: every piece), default [`DEFAULT_SCAN_BATCH`]. The rest is pushed
    /// before `finish`.
    pub fn scan_batch(mut self, bytes: usize) -> Self {
        self.scan_batch = bytes.max(1);
        self
    }

    /// Whether something blocked (nothing more is released).
    pub fn held(&self) -> bool {
        self.held
    }

    /// Releases nothing more from now on (another text of the same answer
    /// blocked). Text still goes in, for the verdict on the whole answer,
    /// and what was not released is the tail if that verdict lets it go.
    pub fn hold(&mut self) {
        self.held = true;
    }

    /// Adds a piece of the answer; returns the text that may be sent now
    /// (possibly empty).
    pub fn push(&mut self, piece: &str) -> String {
        if piece.is_empty() {
            return String::new();
        }
        self.text.push_str(piece);
        if self.text.len() >= self.scanned_len + self.scan_batch {
            self.push_scanners();
        }
        self.check_buffered();
        if self.held {
            return String::new();
        }
        let mut safe = self.text.len();
        if self.buffered {
            safe = safe.min(self.buffered_safe);
        }
        for lane in &self.lanes {
            if let Lane::Scanner { session, .. } = lane {
                safe = safe.min(session.settled());
            }
        }
        // Never cut through a finding: release up to its start.
        loop {
            let before = safe;
            for (s, e, _) in self.known_findings() {
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
        let from = self.released;
        let known: Vec<(usize, usize, Finding)> = self
            .known_findings()
            .filter(|&(s, e, _)| s < safe && e > from)
            .map(|(s, e, f)| (s, e, f.clone()))
            .collect();
        self.rendered.extend(known.iter().map(|&(s, e, _)| (s, e)));
        let out = self.render(from, safe, known.iter().map(|(_, _, f)| f));
        self.released = safe;
        out
    }

    /// Ends the stream: the verdict on the whole answer.
    pub fn finish(mut self) -> StreamEnd {
        if self.text.len() > self.scanned_len {
            self.push_scanners();
        }
        let mut payload = self.template.clone();
        payload.messages = vec![Message::new("assistant", self.text.clone())];
        let text = self.text.as_str();
        let mut notes = Vec::with_capacity(self.lanes.len());
        let mut given: Vec<Option<(Result<CallOutput, CallFault>, u64)>> = Vec::new();
        for lane in std::mem::take(&mut self.lanes) {
            match lane {
                Lane::Scanner {
                    session,
                    latency_us,
                    pushes,
                    ..
                } => {
                    let t = Instant::now();
                    let r = session.finish(text);
                    given.push(Some((r, latency_us + t.elapsed().as_micros() as u64)));
                    notes.push(Some(format!("[stream: scanner, {pushes} pushes]")));
                }
                Lane::Faulted {
                    fault,
                    latency_us,
                    pushes,
                } => {
                    given.push(Some((Err(fault), latency_us)));
                    notes.push(Some(format!(
                        "[stream: scanner failed after {pushes} pushes]"
                    )));
                }
                Lane::Buffered { why } => {
                    given.push(None);
                    notes.push(Some(format!(
                        "[stream: host-buffered whole-text check ({why}), {} prefix checks, holdback {} B]",
                        self.prefix_checks, self.holdback
                    )));
                }
                Lane::WholeOnly => {
                    given.push(None);
                    notes.push(None);
                }
            }
        }
        let mut evaluation = self.pipeline.evaluate_given(&payload, |i, _| {
            match given.get_mut(i).and_then(Option::take) {
                Some((r, latency)) => Given::Result(r, latency),
                None => Given::Run,
            }
        });

        let released = self.released;
        let mut late_findings = 0;
        for (d, note) in evaluation.decisions.iter_mut().zip(notes) {
            let late = if d.outcome == super::Outcome::Ok && redacts(d) {
                d.findings
                    .iter()
                    .filter_map(|f| f.span)
                    .filter(|s| s.message == 0 && (s.start as usize) < released)
                    .filter(|s| !self.rendered.contains(&(s.start as usize, s.end as usize)))
                    .count() as u32
            } else {
                0
            };
            if late > 0 {
                tracing::warn!(
                    request_id = %evaluation.request_id,
                    plugin = %d.plugin,
                    late,
                    "findings of a streamed answer were in text already released"
                );
                late_findings += late;
            }
            let mut parts: Vec<String> = Vec::new();
            if !d.reason.is_empty() {
                parts.push(std::mem::take(&mut d.reason));
            }
            parts.extend(note);
            if late > 0 {
                parts.push(format!(
                    "[stream: {late} findings were in text already released]"
                ));
            }
            d.reason = parts.join(" ");
        }

        let tail = if evaluation.action == Action::Block {
            None
        } else {
            let findings: Vec<&Finding> = evaluation.redacting_findings().collect();
            Some(self.render(released, self.text.len(), findings.into_iter()))
        };
        StreamEnd {
            evaluation,
            payload,
            tail,
            prefix_checks: self.prefix_checks,
            late_findings,
        }
    }

    /// Pushes the text not pushed yet to every scanner (even when held: a
    /// scanner's `finish` needs the whole answer).
    fn push_scanners(&mut self) {
        let from = std::mem::replace(&mut self.scanned_len, self.text.len());
        let piece = &self.text[from..];
        let plugins = self.pipeline.stage_plugins(self.template.stage);
        for (lane, sp) in self.lanes.iter_mut().zip(plugins) {
            let Lane::Scanner {
                session,
                redacting,
                latency_us,
                pushes,
            } = lane
            else {
                continue;
            };
            let t = Instant::now();
            let r = session.push(piece, &self.text);
            *latency_us += t.elapsed().as_micros() as u64;
            *pushes += 1;
            match r {
                Ok(p) => {
                    let output = match sp.plugin.kind {
                        PluginKind::Guardrail => CallOutput::Verdict(Verdict {
                            action: p.action,
                            reason: p.reason,
                            findings: p.findings,
                        }),
                        _ => CallOutput::Findings(p.findings),
                    };
                    let (action, _, findings, _) = interpret(sp, output);
                    if action == Action::Block {
                        self.held = true;
                    }
                    if redacts_as(action, sp.plugin.kind) {
                        redacting.extend(spanned(findings));
                    }
                }
                Err(fault) => {
                    tracing::warn!(
                        request_id = %self.template.request_id,
                        plugin = %sp.spec.name,
                        error = %fault,
                        "a stream scanner failed; its failure mode applies"
                    );
                    self.held |= fails_closed(sp);
                    *lane = Lane::Faulted {
                        fault,
                        latency_us: *latency_us,
                        pushes: *pushes,
                    };
                }
            }
        }
    }

    /// Re-runs the host-buffered plugins on the answer so far once
    /// `holdback` new bytes arrived (at least one byte), when something
    /// could be released.
    fn check_buffered(&mut self) {
        let len = self.text.len();
        if !self.buffered
            || self.held
            || len < self.evaluated_len + self.holdback.max(1)
            || len <= self.released + self.holdback
        {
            return;
        }
        let mut prefix = self.template.clone();
        prefix.messages = vec![Message::new("assistant", self.text.clone())];
        let lanes = &self.lanes;
        let evaluation = self
            .pipeline
            .evaluate_given(&prefix, |i, _| match lanes.get(i) {
                Some(Lane::Buffered { .. }) => Given::Run,
                _ => Given::Skip,
            });
        self.prefix_checks += 1;
        self.evaluated_len = len;
        if evaluation.action == Action::Block {
            self.held = true;
            return;
        }
        self.buffered_safe = floor_char_boundary(&self.text, len - self.holdback)
            .min(trailing_token_start(&self.text));
        self.buffered_findings = spanned(evaluation.redacting_findings().cloned());
    }

    /// Every redacting finding known now, with its span in the answer.
    fn known_findings(&self) -> impl Iterator<Item = (usize, usize, &Finding)> {
        let scanned = self.lanes.iter().flat_map(|l| match l {
            Lane::Scanner { redacting, .. } => redacting.as_slice(),
            _ => &[],
        });
        scanned
            .chain(&self.buffered_findings)
            .map(|(s, e, f)| (*s, *e, f))
    }

    /// `text[from..to]` with the redactions of `findings` that fall in it.
    fn render<'a>(
        &self,
        from: usize,
        to: usize,
        findings: impl Iterator<Item = &'a Finding>,
    ) -> String {
        let clipped: Vec<Finding> = findings
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
        match redact(&piece, clipped.iter(), &self.pipeline.policy().redaction) {
            Some(mut m) => m.remove(0).content,
            None => piece[0].content.clone(),
        }
    }
}

fn fails_closed(sp: &StagePlugin) -> bool {
    sp.spec.failure_mode != FailureMode::FailOpen
}

/// The findings with a span in the answer, with that span.
fn spanned(findings: impl IntoIterator<Item = Finding>) -> Vec<(usize, usize, Finding)> {
    findings
        .into_iter()
        .filter_map(|f| {
            let s = f.span.filter(|s| s.message == 0)?;
            Some((s.start as usize, s.end as usize, f))
        })
        .collect()
}

/// The longest whitespace-free run a host-buffered plugin's text is held
/// back for (a key or a token still arriving).
const MAX_TOKEN: usize = 4096;

/// Where the whitespace-free run `text` ends with starts (at most
/// [`MAX_TOKEN`] bytes back): a token cut short may not match yet, so none
/// of it is released before it ends.
fn trailing_token_start(text: &str) -> usize {
    let b = text.as_bytes();
    let floor = b.len().saturating_sub(MAX_TOKEN);
    let mut i = b.len();
    while i > floor && !b[i - 1].is_ascii_whitespace() {
        i -= 1;
    }
    floor_char_boundary(text, i)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
