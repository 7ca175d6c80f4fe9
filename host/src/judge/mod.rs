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

pub mod config;
pub mod gate;
pub mod outcome;
pub mod verdict;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::audit::{AuditError, AuditLog, AuditRecord, JudgementRow};
use crate::evaluation::Evaluation;
use crate::payload::{Message, Payload};
use crate::policy::{Capture, FailureMode};
use crate::verdict::{Action, Finding, JudgeMode, JudgeRequest};

pub use config::{BlockingPolicy, JudgeConfig};
use gate::Gate;
pub use verdict::JudgeVerdict;

/// Largest judge answer read, in bytes.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// Longest raw answer kept in a row when it could not be parsed.
const MAX_RAW_BYTES: usize = 8192;

/// The instruction every judge call starts with: the answer shape the host
/// parses ([`verdict::parse`]).
pub const SYSTEM_PROMPT: &str = "You are a guardrail judge for an AI gateway. Apply the rubric in the user message to the text it contains. Answer with exactly one JSON object and nothing else: {\"verdict\": \"allow\" | \"flag\" | \"block\", \"score\": <number in 0..1: how sure you are that the text breaks the rubric>, \"categories\": [<short upper-case labels>], \"reasoning\": \"<one or two sentences>\"}";

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
            Ok(())
        } else {
            self.write(&rows)
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

    /// Appends judgement rows to the audit log; a refusal is logged and
    /// counted (the row is in the error log line, so it is not lost
    /// silently).
    fn write(&self, rows: &[AuditRecord]) -> Result<(), AuditError> {
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
            return Ok(());
        };
        audit.record_rows(rows).map(|_| ()).inspect_err(|e| {
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

    /// Runs one job: budget, then the judge call. `deadline` bounds the
    /// whole (blocking); without one only the judge's own timeout applies.
    async fn run(&self, job: &Job, deadline: Option<tokio::time::Instant>) -> Ran {
        // Queueing counts from the router's request: an async judgement
        // started after the stage's blocking ones waited for them too.
        let queued = || job.requested.elapsed().as_micros() as i64;
        let Some(endpoint) = self.judges.get(&job.request.judge) else {
            let known: Vec<&str> = self.judges.keys().map(String::as_str).collect();
            return Ran::failed(
                Status::Error,
                format!(
                    "no judge named `{}` in the server configuration (configured: {})",
                    job.request.judge,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
                0,
            );
        };
        let Some(template) = endpoint.config.rubric(&job.request.rubric) else {
            return Ran::failed(
                Status::Error,
                format!(
                    "judge `{}` has no rubric `{}` (configured: {})",
                    job.request.judge,
                    job.request.rubric,
                    endpoint
                        .config
                        .rubrics
                        .keys()
                        .map(String::as_str)
                        .chain(std::iter::once("default"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                0,
            );
        };
        let wait_started = Instant::now();
        let gate = endpoint.gate.clone();
        let priority = job.request.priority;
        let wait = async move {
            let permit = gate.acquire(priority).await?;
            gate.pace().await;
            Ok::<_, gate::Overflow>(permit)
        };
        let waited = match deadline {
            Some(d) => tokio::time::timeout_at(d, wait).await,
            None => Ok(wait.await),
        };
        let _permit = match waited {
            Err(_) => {
                return Ran {
                    saturated: true,
                    ..Ran::failed(
                        Status::Timeout,
                        format!(
                            "the budget ran out after {} ms waiting for a free slot of judge `{}`",
                            wait_started.elapsed().as_millis(),
                            job.request.judge
                        ),
                        queued(),
                    )
                };
            }
            Ok(Err(o)) => {
                return Ran {
                    saturated: true,
                    ..Ran::failed(
                        Status::Skipped,
                        format!(
                            "judge `{}` is over its budget: {} in flight (max-in-flight {}), {} waiting (queue {})",
                            job.request.judge,
                            o.in_flight,
                            endpoint.config.max_in_flight,
                            o.queued,
                            endpoint.config.queue
                        ),
                        queued(),
                    )
                };
            }
            Ok(Ok(p)) => p,
        };
        let queued_us = queued();
        let call_started = *job.call_started.get_or_init(Instant::now);
        let latency_us = || call_started.elapsed().as_micros() as i64;
        let own = tokio::time::Instant::now() + endpoint.config.timeout;
        let call_deadline = deadline.map_or(own, |d| d.min(own));
        let prompt = render(template, job);
        let span = job.trace.as_ref().map(|cx| {
            crate::telemetry::Child::start(
                cx,
                "railyard.judge",
                opentelemetry::trace::SpanKind::Client,
            )
        });
        let traceparent = span.as_ref().map(crate::telemetry::Child::traceparent);
        let asked = self.ask(&endpoint.config, prompt, traceparent.as_deref());
        let answered = tokio::time::timeout_at(call_deadline, asked).await;
        if let Some(span) = span {
            let error = match &answered {
                Err(_) => Some("timed out".to_string()),
                Ok(Err((e, _))) => Some(e.clone()),
                Ok(Ok(_)) => None,
            };
            let attributes = vec![
                opentelemetry::KeyValue::new("railyard.judge", job.request.judge.clone()),
                opentelemetry::KeyValue::new("railyard.rubric", job.request.rubric.clone()),
            ];
            span.end(attributes, error);
        }
        match answered {
            Err(_) => Ran {
                latency_us: latency_us(),
                ..Ran::failed(
                    Status::Timeout,
                    format!(
                        "judge `{}` gave no answer within {} ms{}",
                        job.request.judge,
                        call_started.elapsed().as_millis(),
                        if call_deadline < own {
                            " (the blocking budget)"
                        } else {
                            " (its timeout-ms)"
                        }
                    ),
                    queued_us,
                )
            },
            Ok(Err((error, raw))) => Ran {
                raw_answer: raw,
                latency_us: latency_us(),
                ..Ran::failed(Status::Error, error, queued_us)
            },
            Ok(Ok(v)) => Ran {
                status: Status::Ok,
                verdict: Some(v),
                raw_answer: None,
                error: None,
                queued_us,
                latency_us: latency_us(),
                saturated: false,
            },
        }
    }

    /// One chat completion call to a judge; the error carries the raw
    /// answer when there was one.
    async fn ask(
        &self,
        judge: &JudgeConfig,
        prompt: String,
        traceparent: Option<&str>,
    ) -> Result<JudgeVerdict, (String, Option<String>)> {
        let url = format!("{}/chat/completions", judge.base_url);
        let body = json!({
            "model": judge.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": prompt},
            ],
        });
        let mut req = self
            .client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(tp) = traceparent {
            req = req.header("traceparent", tp);
        }
        if let Some(key) = judge
            .api_key_env
            .as_deref()
            .and_then(|v| std::env::var(v).ok())
            .filter(|k| !k.is_empty())
        {
            req = req.bearer_auth(key);
        }
        let mut resp = req.send().await.map_err(|e| {
            (
                format!("cannot reach judge `{}` at {url}: {e}", judge.name),
                None,
            )
        })?;
        let status = resp.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            (
                format!("reading judge `{}`'s answer: {e}", judge.name),
                None,
            )
        })? {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err((
                    format!(
                        "judge `{}`'s answer is larger than {MAX_ANSWER_BYTES} bytes",
                        judge.name
                    ),
                    Some(raw(&bytes)),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err((
                format!("judge `{}` answered HTTP {}", judge.name, status.as_u16()),
                Some(raw(&bytes)),
            ));
        }
        let answer: Value = serde_json::from_slice(&bytes).map_err(|e| {
            (
                format!(
                    "judge `{}`'s answer is not an OpenAI chat completion (not JSON: {e})",
                    judge.name
                ),
                Some(raw(&bytes)),
            )
        })?;
        let Some(content) = answer
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
        else {
            return Err((
                format!(
                    "judge `{}`'s answer has no `choices[0].message.content`",
                    judge.name
                ),
                Some(raw(&bytes)),
            ));
        };
        verdict::parse(content).map_err(|e| {
            (
                format!("judge `{}`: malformed verdict: {e}", judge.name),
                Some(verdict::truncate(content, MAX_RAW_BYTES)),
            )
        })
    }

    fn row(&self, job: &Job, ran: &Ran, effect: &str) -> JudgementRow {
        let keep_text = job.capture != Capture::None;
        let model = self
            .judges
            .get(&job.request.judge)
            .map(|e| e.config.model.clone())
            .unwrap_or_default();
        let v = ran.verdict.as_ref();
        JudgementRow {
            judgement_id: crate::payload::new_request_id(),
            request_id: job.request_id.clone(),
            decision_id: String::new(),
            timestamp_us: crate::audit::now_us(),
            host_id: self
                .audit
                .as_ref()
                .map(|a| a.host_id().to_string())
                .unwrap_or_default(),
            stage: job.stage.to_string(),
            route: job.route.clone(),
            caller: job.caller.clone(),
            judge: job.request.judge.clone(),
            model,
            rubric: job.request.rubric.clone(),
            router: job.router.clone(),
            router_digest: job.router_digest.clone(),
            routing_reason: job.request.reason.clone(),
            mode: job.request.mode.as_str().to_string(),
            priority: i32::from(job.request.priority),
            sample_rate: f64::from(job.request.sample_rate),
            status: ran.status.as_str().to_string(),
            verdict: v.map(|v| v.verdict.as_str().to_string()),
            score: v.and_then(|v| v.score),
            categories: v.map(|v| v.categories.clone()).unwrap_or_default(),
            reasoning: v
                .filter(|_| keep_text)
                .map(|v| v.reasoning.clone())
                .filter(|r| !r.is_empty()),
            raw_answer: ran.raw_answer.clone().filter(|_| keep_text),
            error: ran.error.clone(),
            effect: effect.to_string(),
            requested_at_us: job.requested_at_us,
            queued_us: ran.queued_us,
            latency_us: ran.latency_us,
            wal_segment: 0,
            wal_offset: 0,
        }
    }

    fn count(&self, job: &Job, status: Status) {
        let mode = job.request.mode.as_str();
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        *c.judgements
            .entry((job.request.judge.clone(), mode, status.as_str()))
            .or_default() += 1;
    }

    /// Adds the dispatcher's metrics to a `/metrics` scrape.
    pub fn register_metrics(&self, r: &mut prometheus_client::registry::Registry) {
        use prometheus_client::metrics::counter::{ConstCounter, Counter};
        use prometheus_client::metrics::family::Family;
        use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
        let judgements = Family::<[(&'static str, String); 3], Counter>::default();
        let c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for ((judge, mode, status), n) in &c.judgements {
            judgements
                .get_or_create(&[
                    ("judge", judge.clone()),
                    ("mode", mode.to_string()),
                    ("status", status.to_string()),
                ])
                .inc_by(*n);
        }
        drop(c);
        r.register(
            "railyard_judgements",
            "Judgements by judge, mode and status (ok, timeout, error, skipped)",
            judgements,
        );
        let in_flight = Family::<[(&'static str, String); 1], Gauge>::default();
        let queued = Family::<[(&'static str, String); 1], Gauge>::default();
        for (name, e) in &self.judges {
            let (running, waiting) = e.gate.load();
            let label = [("judge", name.clone())];
            in_flight.get_or_create(&label).set(running as i64);
            queued.get_or_create(&label).set(waiting as i64);
        }
        r.register(
            "railyard_judge_in_flight",
            "Judge calls in flight",
            in_flight,
        );
        r.register(
            "railyard_judge_queued",
            "Judge requests waiting for a slot",
            queued,
        );
        r.register(
            "railyard_judgements_pending",
            "Async judgements started and not yet recorded",
            ConstGauge::new(self.pending() as i64),
        );
        r.register(
            "railyard_judgements_unrecorded",
            "Judgement rows the audit log refused (each logged at error)",
            ConstCounter::new(self.unrecorded.load(Ordering::Relaxed)),
        );
    }
}

/// `CATEGORY (score 0.93, rule pii.email, plugin pii)`.
fn describe(plugin: &str, f: &Finding) -> String {
    format!(
        "{} (score {:.2}, rule {}, plugin {plugin})",
        f.category, f.score, f.rule_id
    )
}

/// The rubric template with `{payload}`, `{findings}`, `{stage}` and
/// `{route}` filled in; a template without `{payload}` gets the payload
/// appended, so a judge always sees what it judges.
fn render(template: &str, job: &Job) -> String {
    let payload = job
        .messages
        .iter()
        .map(|m| format!("[{}] {}", m.role, m.content))
        .collect::<Vec<_>>()
        .join("\n");
    let findings = if job.findings.is_empty() {
        "(none)".to_string()
    } else {
        job.findings.join("\n")
    };
    let mut text = template
        .replace("{stage}", job.stage)
        .replace("{route}", &job.route)
        .replace("{findings}", &findings);
    if text.contains("{payload}") {
        text = text.replace("{payload}", &payload);
    } else {
        text.push_str("\n\n");
        text.push_str(&payload);
    }
    text
}

fn raw(bytes: &[u8]) -> String {
    verdict::truncate(&String::from_utf8_lossy(bytes), MAX_RAW_BYTES)
}
