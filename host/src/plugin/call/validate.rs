//! A call's output checked by small named functions before anything
//! trusts it: a verdict, findings (spans against the payload, scores,
//! sizes), judge requests.

use super::fault::CallFault;
use crate::plugin::bindings::wit;
use crate::verdict::{Action, Finding, JudgeMode, JudgeRequest, Span, Verdict};

/// Findings one call may return; more is a runaway plugin.
const MAX_FINDINGS: usize = 10_000;
/// Judge requests one call may return.
const MAX_JUDGE_REQUESTS: usize = 64;
/// Longest identifier (rule id, category, judge, rubric name) accepted.
pub(super) const MAX_IDENT: usize = 256;
/// Longest free text (reason, replacement) accepted.
const MAX_TEXT: usize = 16 * 1024;

pub(crate) fn action_from_wit(a: wit::Action) -> Action {
    match a {
        wit::Action::Allow => Action::Allow,
        wit::Action::Flag => Action::Flag,
        wit::Action::Redact => Action::Redact,
        wit::Action::Block => Action::Block,
    }
}

pub(crate) fn validate_verdict<S: AsRef<str>>(
    v: wit::Verdict,
    messages: &[S],
) -> Result<Verdict, CallFault> {
    if v.reason.len() > MAX_TEXT {
        return Err(CallFault::InvalidOutput(format!(
            "verdict reason is {} bytes; the limit is {MAX_TEXT}",
            v.reason.len()
        )));
    }
    Ok(Verdict {
        action: action_from_wit(v.action),
        reason: v.reason,
        findings: validate_findings(v.findings, messages)?,
    })
}

/// Checks every finding against the payload it was made on: a span must
/// name a real message and lie inside it on UTF-8 boundaries, a score must
/// be a number in 0..=1. One bad finding makes the whole output invalid —
/// a plugin that gets spans wrong cannot be trusted with the others.
pub(crate) fn validate_findings<S: AsRef<str>>(
    findings: Vec<wit::Finding>,
    messages: &[S],
) -> Result<Vec<Finding>, CallFault> {
    let invalid = |i: usize, what: String| CallFault::InvalidOutput(format!("finding {i}: {what}"));
    if findings.len() > MAX_FINDINGS {
        return Err(CallFault::InvalidOutput(format!(
            "{} findings; the limit is {MAX_FINDINGS}",
            findings.len()
        )));
    }
    let mut out = Vec::with_capacity(findings.len());
    for (i, f) in findings.into_iter().enumerate() {
        if f.rule_id.is_empty() || f.rule_id.len() > MAX_IDENT {
            return Err(invalid(
                i,
                format!(
                    "rule id must be 1 to {MAX_IDENT} bytes, got {}",
                    f.rule_id.len()
                ),
            ));
        }
        if f.category.is_empty() || f.category.len() > MAX_IDENT {
            return Err(invalid(
                i,
                format!(
                    "category must be 1 to {MAX_IDENT} bytes, got {}",
                    f.category.len()
                ),
            ));
        }
        if !(0.0..=1.0).contains(&f.score) {
            return Err(invalid(i, format!("score {} is outside 0..=1", f.score)));
        }
        if f.replacement.as_ref().is_some_and(|r| r.len() > MAX_TEXT) {
            return Err(invalid(
                i,
                format!("replacement is longer than {MAX_TEXT} bytes"),
            ));
        }
        let span = match f.span {
            None => None,
            Some(s) => {
                let Some(message) = messages.get(s.message as usize) else {
                    return Err(invalid(
                        i,
                        format!(
                            "span names message {} but the payload has {}",
                            s.message,
                            messages.len()
                        ),
                    ));
                };
                let content = message.as_ref();
                let (start, end) = (s.start as usize, s.end as usize);
                if start > end || end > content.len() {
                    return Err(invalid(
                        i,
                        format!(
                            "span {start}..{end} is out of bounds for message {} of {} bytes",
                            s.message,
                            content.len()
                        ),
                    ));
                }
                if !content.is_char_boundary(start) || !content.is_char_boundary(end) {
                    return Err(invalid(
                        i,
                        format!(
                            "span {start}..{end} splits a UTF-8 character in message {}",
                            s.message
                        ),
                    ));
                }
                Some(Span {
                    message: s.message,
                    start: s.start,
                    end: s.end,
                })
            }
        };
        out.push(Finding {
            rule_id: f.rule_id,
            category: f.category,
            score: f.score,
            span,
            replacement: f.replacement,
        });
    }
    Ok(out)
}

pub(super) fn validate_judge_requests(
    requests: Vec<wit::JudgeRequest>,
) -> Result<Vec<JudgeRequest>, CallFault> {
    if requests.len() > MAX_JUDGE_REQUESTS {
        return Err(CallFault::InvalidOutput(format!(
            "{} judge requests; the limit is {MAX_JUDGE_REQUESTS}",
            requests.len()
        )));
    }
    requests
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let invalid =
                |what: String| CallFault::InvalidOutput(format!("judge request {i}: {what}"));
            if r.judge.is_empty() || r.judge.len() > MAX_IDENT {
                return Err(invalid(format!(
                    "judge name must be 1 to {MAX_IDENT} bytes"
                )));
            }
            if r.rubric.len() > MAX_IDENT {
                return Err(invalid(format!(
                    "rubric name is longer than {MAX_IDENT} bytes"
                )));
            }
            if !(0.0..=1.0).contains(&r.sample_rate) {
                return Err(invalid(format!(
                    "sample rate {} is outside 0..=1",
                    r.sample_rate
                )));
            }
            if r.reason.len() > MAX_TEXT {
                return Err(invalid(format!("reason is longer than {MAX_TEXT} bytes")));
            }
            Ok(JudgeRequest {
                judge: r.judge,
                rubric: r.rubric,
                mode: match r.mode {
                    wit::JudgeMode::Background => JudgeMode::Async,
                    wit::JudgeMode::Blocking => JudgeMode::Blocking,
                },
                priority: r.priority,
                sample_rate: r.sample_rate,
                reason: r.reason,
            })
        })
        .collect()
}
