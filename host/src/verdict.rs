//! What plugins and stages decide.

use serde::{Deserialize, Serialize};

/// What should happen to a payload, ordered by severity: when verdicts
/// merge, block beats redact beats flag beats allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Let it through unchanged.
    Allow,
    /// Let it through, and mark it for review.
    Flag,
    /// Let it through with the found spans replaced.
    Redact,
    /// Stop it.
    Block,
}

impl Action {
    /// The name used in policy files, output and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Flag => "flag",
            Action::Redact => "redact",
            Action::Block => "block",
        }
    }

    /// Parses a policy name.
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "allow" => Some(Action::Allow),
            "flag" => Some(Action::Flag),
            "redact" => Some(Action::Redact),
            "block" => Some(Action::Block),
            _ => None,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A byte range `[start, end)` in the content of message `message`,
/// validated to lie inside it and on UTF-8 boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// Index into the payload's messages.
    pub message: u32,
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

/// One thing a plugin noticed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier of the rule that fired.
    pub rule_id: String,
    /// What was found, e.g. `EMAIL_ADDRESS`.
    pub category: String,
    /// Confidence in 0..=1.
    pub score: f32,
    /// Where, when the finding has a location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// The plugin's suggested replacement text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// Whether the host should run a judge before answering or after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JudgeMode {
    /// Off the hot path; the judgement is logged later.
    Async,
    /// The answer waits for the judge within the route's budget.
    Blocking,
}

impl JudgeMode {
    /// The name in the audit log and metrics: `async` or `blocking`.
    pub fn as_str(self) -> &'static str {
        match self {
            JudgeMode::Async => "async",
            JudgeMode::Blocking => "blocking",
        }
    }
}

/// A judge-router's request that a judge see this payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeRequest {
    /// Name of a judge in the host config.
    pub judge: String,
    /// Rubric (prompt template) to judge with.
    pub rubric: String,
    /// When to run it.
    pub mode: JudgeMode,
    /// Higher runs first.
    pub priority: u8,
    /// Fraction of matching payloads to send.
    pub sample_rate: f32,
    /// Why the router sent it.
    pub reason: String,
}

/// A guardrail's decision on a payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// What to do.
    pub action: Action,
    /// Why, for people.
    pub reason: String,
    /// What was found.
    pub findings: Vec<Finding>,
}
