//! Judge dispatch: sending payloads that judge-router plugins picked to
//! LLM judges, within each judge's budget, and recording every judgement.
//!
//! Routers decide *which* judge sees *what* (`route(payload, findings)`);
//! only the host reaches a judge. After a stage is evaluated the server
//! hands its judge requests to the [`Dispatcher`]:
//!
//! - **blocking** requests run at once, concurrently, and the call waits for
//!   them within the route's budget ([`BlockingPolicy`]). A `block` verdict
//!   turns the stage into a block (the router's decision row says so); a
//!   `flag` flags it; a judgement that gives no verdict in time (timeout,
//!   error, queue full) applies the route's failure mode.
//! - **async** requests start after the stage's decisions are recorded, in
//!   tasks of their own: the caller is answered at once and the judgement
//!   is recorded when it ends.
//!
//! Every request becomes exactly one `judgements` row, whatever happens:
//! `ok`, `timeout`, `error` (unknown judge or rubric, unreachable judge,
//! HTTP error, malformed answer: the raw text is kept) or `skipped` (the
//! judge's queue was full). On shutdown, async judgements still waiting are
//! recorded as errors rather than lost.
//!
//! What a judge is shown: the stage's messages *after* the policy's
//! redactions — exactly what the model (or the caller) is given — plus the
//! categories and scores of the stage's findings, never the original PII.
//! So a judge's reasoning cannot echo what was redacted, and it is kept in
//! the table unless the policy's `[audit] capture = "none"`.

mod ask;
pub mod config;
pub mod gate;
pub mod outcome;
mod rows;
pub mod verdict;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::audit::{AuditError, AuditLog, AuditRecord, Deferred, JudgementRow};
use crate::evaluation::Evaluation;
use crate::payload::{Message, Payload};
use crate::policy::{Capture, FailureMode};
use crate::verdict::{Action, Finding, JudgeMode, JudgeRequest};

pub use ask::SYSTEM_PROMPT;
pub use config::{BlockingPolicy, JudgeConfig};
use gate::Gate;
pub use verdict::JudgeVerdict;

/// How a judgement ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// The judge answered with a verdict.
    Ok,
    /// No verdict within the time allowed.
    Timeout,
    /// The judge could not be asked, or its answer could not be read.
    Error,
    /// The judge's budget refused it (queue full).
    Skipped,
}

impl Status {
    /// The `status` column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Timeout => "timeout",
            Status::Error => "error",
            Status::Skipped => "skipped",
        }
    }
}

/// One judge endpoint and its budget.
struct Endpoint {
    config: JudgeConfig,
    gate: Arc<Gate>,
}

/// One judge request with everything needed to run and record it.
#[derive(Debug, Clone)]
struct Job {
    router: String,
    router_digest: String,
    /// The router's place in the evaluation's decisions (its decision id
    /// is known once they are recorded).
    router_index: Option<usize>,
    request: JudgeRequest,
    request_id: String,
    stage: &'static str,
    route: String,
    caller: String,
    /// The messages the judge is shown (redacted).
    messages: Vec<Message>,
    /// `CATEGORY (score, rule)` of the stage's findings.
    findings: Vec<String>,
    capture: Capture,
    requested_at_us: i64,
    requested: Instant,
    /// When the judge call itself started (set once by [`Dispatcher::run`]),
    /// so a judgement cut short at shutdown splits its time right.
    call_started: Arc<std::sync::OnceLock<Instant>>,
    /// The call's span context: each judge call is a span under it, and
    /// the judge is sent its `traceparent`.
    trace: Option<opentelemetry::trace::SpanContext>,
}

/// What running one job gave.
#[derive(Debug, Clone)]
struct Ran {
    status: Status,
    verdict: Option<JudgeVerdict>,
    raw_answer: Option<String>,
    error: Option<String>,
    /// From the router's request to the start of the judge call (or to
    /// the end, when the judge was never called): waiting behind the
    /// stage's blocking judgements, for the judge's slots and pace.
    queued_us: i64,
    /// The judge call itself (0 when it was never called).
    latency_us: i64,
    /// No verdict because the judge was saturated (queue full, or the
    /// budget ran out waiting for a slot), not because it failed.
    saturated: bool,
}

impl Ran {
    fn failed(status: Status, error: String, queued_us: i64) -> Ran {
        Ran {
            status,
            verdict: None,
            raw_answer: None,
            error: Some(error),
            queued_us,
            latency_us: 0,
            saturated: false,
        }
    }
}

/// A stage's judgements between evaluation and recording: blocking ones
/// already ran (their rows wait for the decision ids), async ones are
/// still to start.
#[derive(Debug, Default)]
pub struct Judged {
    rows: Vec<(Option<usize>, JudgementRow)>,
    background: Vec<Job>,
}

impl Judged {
    /// Whether there is nothing to record or start.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.background.is_empty()
    }
}

#[derive(Default)]
struct Counters {
    /// (judge, mode, status) → judgements.
    judgements: BTreeMap<(String, &'static str, &'static str), u64>,
}

/// The process's judge dispatcher (one per server).
pub struct Dispatcher {
    judges: BTreeMap<String, Endpoint>,
    client: reqwest::Client,
    audit: Option<Arc<AuditLog>>,
    counters: Mutex<Counters>,
    /// Async judgements started and not yet recorded.
    running: AtomicUsize,
    /// Judgement rows the audit log refused (logged loudly, counted).
    unrecorded: AtomicU64,
    /// Set at shutdown: async judgements still waiting give up and are
    /// recorded as errors.
    stop: tokio::sync::watch::Sender<bool>,
}

impl Dispatcher {
    /// A dispatcher for `judges`, recording into `audit` (`None`: rows are
    /// only logged).
    pub fn new(
        judges: &BTreeMap<String, JudgeConfig>,
        audit: Option<Arc<AuditLog>>,
    ) -> anyhow::Result<Dispatcher> {
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        Ok(Dispatcher {
            judges: judges
                .iter()
                .map(|(name, c)| {
                    (
                        name.clone(),
                        Endpoint {
                            gate: Gate::new(c.max_in_flight, c.queue, c.max_per_second),
                            config: c.clone(),
                        },
                    )
                })
                .collect(),
            client,
            audit,
            counters: Mutex::new(Counters::default()),
            running: AtomicUsize::new(0),
            unrecorded: AtomicU64::new(0),
            stop: tokio::sync::watch::channel(false).0,
        })
    }

    /// Runs the blocking judge requests of `evaluation` (concurrently,
    /// within `policy.budget`) and folds their verdicts into it; the async
    /// ones are kept for [`Dispatcher::settle`]. `can_hold` is false where
    /// the answer has already been released (a streamed answer): blocking
    /// requests then run like async ones and their rows say `streamed`.
    pub async fn judge(
        &self,
        evaluation: &mut Evaluation,
        payload: &Payload,
        policy: BlockingPolicy,
        capture: Capture,
        can_hold: bool,
    ) -> Judged {
        if evaluation.judge_requests.is_empty() {
            return Judged::default();
        }
        let jobs = self.jobs(evaluation, payload, capture);
        let (blocking, background): (Vec<Job>, Vec<Job>) = jobs
            .into_iter()
            .partition(|j| can_hold && j.request.mode == JudgeMode::Blocking);
        let mut judged = Judged {
            rows: Vec::new(),
            background,
        };
        if blocking.is_empty() {
            return judged;
        }
        let deadline = tokio::time::Instant::now() + policy.budget;
        let ran =
            futures_util::future::join_all(blocking.iter().map(|j| self.run(j, Some(deadline))))
                .await;
        let mut changed = false;
        for (job, ran) in blocking.iter().zip(ran) {
            let (effect, action) = match (&ran.verdict, policy.failure_mode) {
                (Some(v), _) => match v.verdict {
                    Action::Block => ("blocked", Action::Block),
                    Action::Flag => ("flagged", Action::Flag),
                    _ => ("passed", Action::Allow),
                },
                (None, FailureMode::FailOpen) => ("fail-open", Action::Allow),
                (None, _) => ("fail-closed", Action::Block),
            };
            if ran.verdict.is_none() {
                tracing::warn!(
                    request_id = %job.request_id,
                    judge = %job.request.judge,
                    status = ran.status.as_str(),
                    error = ran.error.as_deref().unwrap_or(""),
                    "blocking judgement gave no verdict; {effect} applies"
                );
            }
            if ran.verdict.is_none()
                && let Some(d) = job
                    .router_index
                    .and_then(|i| evaluation.decisions.get_mut(i))
            {
                // The router's row says the judgement failed and which
                // failure mode applied, whichever it was.
                outcome::judge_failed(d, &job.request.judge, &ran, policy.failure_mode);
            }
            if action != Action::Allow
                && let Some(d) = job
                    .router_index
                    .and_then(|i| evaluation.decisions.get_mut(i))
            {
                let said = match &ran.verdict {
                    Some(v) => format!(
                        "judge `{}` (rubric `{}`) says {}{}{}",
                        job.request.judge,
                        job.request.rubric,
                        v.verdict.as_str(),
                        v.score
                            .map(|s| format!(" (score {s:.2})"))
                            .unwrap_or_default(),
                        if v.reasoning.is_empty() || capture == Capture::None {
                            String::new()
                        } else {
                            format!(": {}", v.reasoning)
                        }
                    ),
                    None => format!(
                        "judge `{}` gave no verdict ({}: {}); {effect}",
                        job.request.judge,
                        ran.status.as_str(),
                        ran.error.as_deref().unwrap_or("")
                    ),
                };
                let said = match &ran.verdict {
                    // Which rule and finding sent it there.
                    Some(_) if !job.request.reason.is_empty() => {
                        format!("{said} (routed: {})", job.request.reason)
                    }
                    _ => said,
                };
                d.action = d.action.max(action);
                d.reason = if d.reason.is_empty() {
                    said
                } else {
                    format!("{}; {said}", d.reason)
                };
                changed = true;
            }
            self.count(job, ran.status);
            let row = self.row(job, &ran, effect);
            judged.rows.push((job.router_index, row));
        }
        if changed {
            evaluation.merge();
        }
        judged
    }

    /// Once the stage's decisions are recorded (`decision_ids`, in plugin
    /// order; empty without an audit log): records the blocking judgements
    /// and starts the async ones. An error means the blocking judgements
    /// were not acknowledged; the call must fail like any unrecorded
    /// decision.
    pub fn settle(
        self: &Arc<Self>,
        judged: Judged,
        decision_ids: &[String],
    ) -> Result<(), AuditError> {
        let rows = judged.rows.len() as u64;
        match self.settle_deferred(judged, decision_ids)? {
            Some(d) => self.complete(d, rows),
            None => Ok(()),
        }
    }

    /// [`Judges::settle`] that returns once the blocking judgements' rows
    /// are appended, before they are durable: the [`Deferred`] (with
    /// `durability = "fsync"`) is the caller's to complete, as the
    /// server's call does with its other records (its answer waits for
    /// it). A failed append is counted and logged here; a failed fsync
    /// later fails the call, and is logged and counted with the call's
    /// other records, not in [`Judges::unrecorded`].
    pub fn settle_deferred(
        self: &Arc<Self>,
        judged: Judged,
        decision_ids: &[String],
    ) -> Result<Option<Deferred>, AuditError> {
        let id = |i: Option<usize>| {
            i.and_then(|i| decision_ids.get(i))
                .cloned()
                .unwrap_or_default()
        };
        let rows: Vec<AuditRecord> = judged
            .rows
            .into_iter()
            .map(|(i, mut row)| {
                row.decision_id = id(i);
                AuditRecord::Judgement(row)
            })
            .collect();
        let recorded = if rows.is_empty() {
            Ok(None)
        } else {
            self.append(&rows)
        };
        for job in judged.background {
            let decision_id = id(job.router_index);
            self.spawn(job, decision_id);
        }
        recorded
    }

    fn spawn(self: &Arc<Self>, job: Job, decision_id: String) {
        self.running.fetch_add(1, Ordering::SeqCst);
        let me = self.clone();
        let mut stop = self.stop.subscribe();
        tokio::spawn(async move {
            let ran = tokio::select! {
                ran = me.run(&job, None) => ran,
                _ = stop.wait_for(|s| *s) => {
                    // Queued until the call started (or until now, if it
                    // never did); the call's own time is latency.
                    let (queued, latency) = match job.call_started.get() {
                        Some(t) => (t.duration_since(job.requested), t.elapsed()),
                        None => (job.requested.elapsed(), Duration::ZERO),
                    };
                    Ran {
                        latency_us: latency.as_micros() as i64,
                        ..Ran::failed(
                            Status::Error,
                            "the server shut down before the judge answered".into(),
                            queued.as_micros() as i64,
                        )
                    }
                }
            };
            me.count(&job, ran.status);
            let effect = if job.request.mode == JudgeMode::Blocking {
                "streamed"
            } else {
                "logged"
            };
            let mut row = me.row(&job, &ran, effect);
            row.decision_id = decision_id;
            let record = [AuditRecord::Judgement(row)];
            if me.audit.is_some() {
                // The audit append may wait for an fsync: off the runtime's
                // worker threads.
                let writer = me.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    let _ = writer.write(&record);
                })
                .await;
            } else {
                let _ = me.write(&record);
            }
            me.running.fetch_sub(1, Ordering::SeqCst);
        });
    }

    /// Appends judgement rows to the audit log and makes them durable; a
    /// refusal is logged and counted (the row is in the error log line, so
    /// it is not lost silently).
    fn write(&self, rows: &[AuditRecord]) -> Result<(), AuditError> {
        match self.append(rows)? {
            Some(d) => self.complete(d, rows.len() as u64),
            None => Ok(()),
        }
    }

    /// Appends judgement rows (logged as judgements); what is left to make
    /// them durable. A refusal is logged and counted.
    fn append(&self, rows: &[AuditRecord]) -> Result<Option<Deferred>, AuditError> {
        for r in rows {
            if let AuditRecord::Judgement(j) = r {
                tracing::info!(
                    request_id = %j.request_id, judge = %j.judge, mode = %j.mode,
                    status = %j.status, verdict = j.verdict.as_deref().unwrap_or("-"),
                    effect = %j.effect, latency_us = j.latency_us, "judgement"
                );
            }
        }
        let Some(audit) = &self.audit else {
            return Ok(None);
        };
        audit
            .record_rows_deferred(rows)
            .map(|(_, d)| d)
            .inspect_err(|e| {
                self.unrecorded
                    .fetch_add(rows.len() as u64, Ordering::Relaxed);
                for r in rows {
                    tracing::error!(
                        error = %e,
                        row = %serde_json::to_string(r).unwrap_or_default(),
                        "AUDIT: a judgement could not be recorded"
                    );
                }
            })
    }

    /// Makes `rows` appended judgement rows durable; a failure is counted.
    fn complete(&self, d: Deferred, rows: u64) -> Result<(), AuditError> {
        let Some(audit) = &self.audit else {
            return Ok(());
        };
        audit.complete(d).inspect_err(|e| {
            self.unrecorded.fetch_add(rows, Ordering::Relaxed);
            tracing::error!(error = %e, rows, "AUDIT: judgements could not be made durable");
        })
    }

    /// Async judgements started and not yet recorded.
    pub fn pending(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Shutdown: waits up to `grace` for async judgements to end, then
    /// tells the rest to give up (each is recorded as an error) and waits
    /// for their rows.
    pub async fn drain(&self, grace: Duration) {
        let until = Instant::now() + grace;
        while self.pending() > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = self.stop.send(true);
        let until = Instant::now() + Duration::from_secs(10);
        while self.pending() > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn jobs(&self, evaluation: &Evaluation, payload: &Payload, capture: Capture) -> Vec<Job> {
        let messages = evaluation
            .redacted
            .clone()
            .unwrap_or_else(|| payload.messages.clone());
        let findings: Vec<String> = evaluation
            .findings()
            .map(|(d, f)| describe(&d.plugin, f))
            .collect();
        let now_us = crate::audit::now_us();
        let now = Instant::now();
        let trace = crate::telemetry::current().map(|t| t.context().clone());
        evaluation
            .judge_requests
            .iter()
            .map(|r| Job {
                router_index: evaluation
                    .decisions
                    .iter()
                    .position(|d| d.plugin == r.router),
                router: r.router.clone(),
                router_digest: r.router_digest.to_string(),
                request: r.request.clone(),
                request_id: payload.request_id.clone(),
                stage: payload.stage.as_str(),
                route: payload.route.clone(),
                caller: payload.caller.clone(),
                messages: messages.clone(),
                findings: findings.clone(),
                capture,
                requested_at_us: now_us,
                requested: now,
                call_started: Arc::default(),
                trace: trace.clone(),
            })
            .collect()
    }
}

/// `CATEGORY (score 0.93, rule pii.email, plugin pii)`.
fn describe(plugin: &str, f: &Finding) -> String {
    format!(
        "{} (score {:.2}, rule {}, plugin {plugin})",
        f.category, f.score, f.rule_id
    )
}
