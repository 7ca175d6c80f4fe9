//! One vector at one stage: the `contract`, `determinism`, `redaction`
//! and `golden` checks of a plugin's answer.

use std::sync::Arc;
use std::time::Instant;

use super::{Check, FUEL_BASE, FUEL_PER_BYTE, Vector, explain};
use crate::payload::{Payload, Stage};
use crate::pipeline::redact;
use crate::plugin::{CallFault, CallOutput, LoadedPlugin, StageInput};
use crate::policy::{PluginLimits, RedactionPolicy};
use crate::verdict::{Action, Finding};

/// One vector at one stage.
pub(super) struct VectorRun<'a> {
    pub(super) plugin: &'a LoadedPlugin,
    pub(super) vector: &'a Vector,
    pub(super) stage: Stage,
    pub(super) config: &'a Arc<[(String, String)]>,
    pub(super) limits: &'a PluginLimits,
    pub(super) fuel: Option<u64>,
    pub(super) redaction: &'a RedactionPolicy,
}

impl VectorRun<'_> {
    fn payload(&self) -> Payload {
        let mut p = self.vector.payload.clone();
        p.stage = self.stage;
        p
    }

    fn call(&self, payload: &Payload) -> (Result<CallOutput, CallFault>, crate::plugin::CallCost) {
        let input = StageInput::new(payload);
        let budget = self.fuel.unwrap_or_else(|| {
            FUEL_BASE.saturating_add(FUEL_PER_BYTE.saturating_mul(input.input_bytes() as u64))
        });
        self.plugin.call_metered(
            &input,
            &self.vector.findings,
            self.config,
            self.limits,
            budget,
        )
    }

    pub(super) fn checks(&self, out: &mut Vec<Check>) {
        let case = format!("{}@{}", self.vector.id, self.stage);
        let payload = self.payload();
        let started = Instant::now();
        let (first, cost) = self.call(&payload);
        let mut contract = match &first {
            Ok(_) => Check::pass(
                "contract",
                &case,
                format!(
                    "valid answer; {} fuel, {} KiB peak memory",
                    cost.fuel,
                    cost.peak_memory >> 10
                ),
                started,
            ),
            Err(fault) => Check::fail(
                "contract",
                &case,
                explain(fault, self.limits.memory_bytes),
                started,
            ),
        };
        contract.fuel = Some(cost.fuel);
        contract.peak_memory = Some(cost.peak_memory);
        out.push(contract);
        let Ok(first) = first else { return };

        let started = Instant::now();
        let (second, _) = self.call(&payload);
        out.push(match second {
            Ok(second) if second == first => {
                Check::pass("determinism", &case, "same answer twice".into(), started)
            }
            Ok(second) => Check::fail(
                "determinism",
                &case,
                format!(
                    "a second run on the same input in a fresh instance answered differently: first {}, then {}; answers must depend only on the payload and config",
                    summarize(&first),
                    summarize(&second)
                ),
                started,
            ),
            Err(fault) => Check::fail(
                "determinism",
                &case,
                format!(
                    "the first run answered, the second on the same input failed: {}",
                    explain(&fault, self.limits.memory_bytes)
                ),
                started,
            ),
        });

        if let Some(check) = self.redaction_check(&payload, &first, &case) {
            out.push(check);
        }

        let expect = &self.vector.expect;
        if !expect.finds_one_of.is_empty() || !expect.action_not.is_empty() {
            let started = Instant::now();
            let problems = self.golden_problems(&payload, &first);
            out.push(if problems.is_empty() {
                Check::pass("golden", &case, "expected properties hold".into(), started)
            } else {
                Check::fail("golden", &case, problems.join("; "), started)
            });
        }
    }

    /// Redacts what the plugin found, runs it on the result, and checks
    /// that redacting again changes nothing.
    fn redaction_check(&self, payload: &Payload, first: &CallOutput, case: &str) -> Option<Check> {
        let redacts = match first {
            CallOutput::Findings(_) => true,
            CallOutput::Verdict(v) => v.action == Action::Redact,
            CallOutput::JudgeRequests(_) => false,
        };
        let findings = findings_of(first);
        if !redacts || findings.iter().all(|f| f.span.is_none()) {
            return None;
        }
        let started = Instant::now();
        let once = redact(&payload.messages, findings, self.redaction)?;
        let mut again = payload.clone();
        again.messages = once.clone();
        let (result, _) = self.call(&again);
        Some(match result {
            Err(fault) => Check::fail(
                "redaction",
                case,
                format!(
                    "failed on its own redacted output: {}",
                    explain(&fault, self.limits.memory_bytes)
                ),
                started,
            ),
            Ok(output) => {
                let twice = redact(&once, findings_of(&output), self.redaction);
                match twice {
                    Some(t) if t != once => {
                        let (i, (a, b)) = once
                            .iter()
                            .zip(&t)
                            .enumerate()
                            .find(|(_, (a, b))| a != b)
                            .expect("differing message lists of equal length");
                        Check::fail(
                            "redaction",
                            case,
                            format!(
                                "redaction is not idempotent: after redacting once, the plugin still finds something in message {i}: {:?} became {:?}; placeholders such as <EMAIL_ADDRESS> must not match",
                                clip(&a.content),
                                clip(&b.content)
                            ),
                            started,
                        )
                    }
                    _ => Check::pass(
                        "redaction",
                        case,
                        "redacting twice changes nothing".into(),
                        started,
                    ),
                }
            }
        })
    }

    pub(super) fn golden_problems(&self, payload: &Payload, output: &CallOutput) -> Vec<String> {
        let expect = &self.vector.expect;
        let mut problems = Vec::new();
        if !expect.finds_one_of.is_empty() {
            let findings = findings_of(output);
            let found = expect.finds_one_of.iter().any(|e| {
                findings.iter().any(|f| {
                    let Some(span) = f.span else { return false };
                    let Some(m) = payload.messages.get(span.message as usize) else {
                        return false;
                    };
                    let covered = &m.content[span.start as usize..span.end as usize];
                    covered.contains(&e.text)
                        && e.category.as_ref().is_none_or(|c| *c == f.category)
                })
            });
            if !found {
                let wanted: Vec<String> = expect
                    .finds_one_of
                    .iter()
                    .map(|e| match &e.category {
                        Some(c) => format!("{:?} as {c}", e.text),
                        None => format!("{:?}", e.text),
                    })
                    .collect();
                problems.push(format!(
                    "expected a finding whose span covers one of {}; found {}",
                    wanted.join(", "),
                    if findings.is_empty() {
                        "nothing".to_string()
                    } else {
                        findings
                            .iter()
                            .map(|f| f.category.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ));
            }
        }
        if let CallOutput::Verdict(v) = output
            && expect.action_not.contains(&v.action)
        {
            problems.push(format!(
                "decided {} on a payload where it must not ({}): {:?}",
                v.action, self.vector.description, v.reason
            ));
        }
        problems
    }
}

pub(super) fn findings_of(output: &CallOutput) -> &[Finding] {
    match output {
        CallOutput::Verdict(v) => &v.findings,
        CallOutput::Findings(f) => f,
        CallOutput::JudgeRequests(_) => &[],
    }
}

pub(super) fn summarize(output: &CallOutput) -> String {
    match output {
        CallOutput::Verdict(v) => format!("{} with {} finding(s)", v.action, v.findings.len()),
        CallOutput::Findings(f) => format!("{} finding(s)", f.len()),
        CallOutput::JudgeRequests(r) => format!("{} judge request(s)", r.len()),
    }
}

pub(super) fn clip(s: &str) -> &str {
    let mut cut = s.len().min(120);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}
