//! Asking one judge: its budget (slots, pace, deadline), the HTTP call
//! in the OpenAI chat shape, and reading its answer into a verdict.

use std::time::Instant;

use serde_json::{Value, json};

use super::{Dispatcher, Job, Ran, Status};
use super::{JudgeConfig, JudgeVerdict, gate, verdict};

/// Largest judge answer read, in bytes.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// Longest raw answer kept in a row when it could not be parsed.
const MAX_RAW_BYTES: usize = 8192;

/// The instruction every judge call starts with: the answer shape the host
/// parses ([`verdict::parse`]).
pub const SYSTEM_PROMPT: &str = "You are a guardrail judge for an AI gateway. Apply the rubric in the user message to the text it contains. Answer with exactly one JSON object and nothing else: {\"verdict\": \"allow\" | \"flag\" | \"block\", \"score\": <number in 0..1: how sure you are that the text breaks the rubric>, \"categories\": [<short upper-case labels>], \"reasoning\": \"<one or two sentences>\"}";

impl Dispatcher {
    /// Runs one job: budget, then the judge call. `deadline` bounds the
    /// whole (blocking); without one only the judge's own timeout applies.
    pub(super) async fn run(&self, job: &Job, deadline: Option<tokio::time::Instant>) -> Ran {
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
    pub(super) async fn ask(
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
