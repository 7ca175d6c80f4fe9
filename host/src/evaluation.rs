//! What one stage's evaluation of one payload decided: every plugin's
//! decision, and the merge of them into one action.
//!
//! A leaf below `pipeline` (which produces evaluations) and `audit` and
//! `judge` (which record and amend them), so neither has to import the
//! other.

use serde::Serialize;

use crate::payload::{Message, Stage};
use crate::plugin::{PluginDigest, PluginKind};
use crate::policy::FailureMode;
use crate::verdict::{Action, Finding, JudgeRequest};

/// What happened when a plugin was evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It ran and returned valid output.
    Ok,
    /// It failed; the failure mode decided the action.
    Failed {
        /// `trapped`, `timed-out`, `memory-limit`, `invalid-output`,
        /// `plugin-error` or `input-too-large`.
        fault: &'static str,
        /// The failure mode that applied.
        handled: FailureMode,
    },
    /// The policy disabled it; it did not run.
    Disabled,
}

impl Outcome {
    /// `ok`, the fault name, or `disabled`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed { fault, .. } => fault,
            Outcome::Disabled => "disabled",
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One plugin's evaluation of one payload.
#[derive(Debug, Clone, Serialize)]
pub struct PluginDecision {
    /// The plugin's name in the policy.
    pub plugin: String,
    /// The name the plugin gives itself.
    pub plugin_name: String,
    /// The plugin's version.
    pub plugin_version: String,
    /// SHA-256 of the component that decided.
    pub plugin_digest: PluginDigest,
    /// Its world.
    pub kind: PluginKind,
    /// What happened.
    pub outcome: Outcome,
    /// The failure mode that applied, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<FailureMode>,
    /// What it decided (after failure mode and policy overrides).
    pub action: Action,
    /// Why.
    pub reason: String,
    /// What it found.
    pub findings: Vec<Finding>,
    /// The fault, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time of the call, including instantiation.
    pub latency_us: u64,
}

/// A judge request with the router that made it.
#[derive(Debug, Clone, Serialize)]
pub struct RoutedJudgeRequest {
    /// The router's policy name.
    pub router: String,
    /// The router's digest.
    pub router_digest: PluginDigest,
    /// The request.
    #[serde(flatten)]
    pub request: JudgeRequest,
}

/// Which arm of a rollout an evaluation belongs to (see
/// `serve::rollout`): the route's own policy, the canary candidate that
/// served a share of the route's calls for real, or the shadow candidate
/// that evaluated a call off the hot path without affecting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arm {
    /// The route's own policy served the call.
    Live,
    /// The route's canary candidate served the call.
    Canary,
    /// The route's shadow candidate evaluated the call; it affected nothing.
    Shadow,
}

impl Arm {
    /// `live`, `canary` or `shadow`: the `arm` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Arm::Live => "live",
            Arm::Canary => "canary",
            Arm::Shadow => "shadow",
        }
    }
}

/// The result of running one payload through one stage.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// The payload's request id.
    pub request_id: String,
    /// The stage that ran.
    pub stage: Stage,
    /// The policy's name.
    pub policy: String,
    /// The policy's digest.
    pub policy_digest: String,
    /// The merged action.
    pub action: Action,
    /// Why, from the first plugin that decided the merged action.
    pub reason: String,
    /// Every plugin's decision, in the order they ran.
    pub decisions: Vec<PluginDecision>,
    /// The messages with redactions applied, when anything was redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<Vec<Message>>,
    /// Judge requests made by routers.
    pub judge_requests: Vec<RoutedJudgeRequest>,
    /// Wall time of the whole stage.
    pub latency_us: u64,
    /// The rollout arm, on a route with a canary or a shadow; `None`
    /// elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arm: Option<Arm>,
}

impl Evaluation {
    /// Every finding of every plugin.
    pub fn findings(&self) -> impl Iterator<Item = (&PluginDecision, &Finding)> {
        self.decisions
            .iter()
            .flat_map(|d| d.findings.iter().map(move |f| (d, f)))
    }

    /// The findings the stage's redaction pass rewrites (those of plugins
    /// that ran and redact).
    pub fn redacting_findings(&self) -> impl Iterator<Item = &Finding> {
        redacting_findings(&self.decisions)
    }

    /// Sets the merged action and reason from the decisions: the most
    /// severe action (block beats redact beats flag beats allow), and the
    /// reason of the first plugin that decided it. Run again after a
    /// decision changes (a blocking judge's verdict).
    pub fn merge(&mut self) {
        self.action = self
            .decisions
            .iter()
            .map(|d| d.action)
            .max()
            .unwrap_or(Action::Allow);
        self.reason = self
            .decisions
            .iter()
            .find(|d| d.action == self.action && self.action != Action::Allow)
            .map(|d| format!("{}: {}", d.plugin, d.reason))
            .unwrap_or_default();
    }
}

/// Whether a decision's spans are rewritten: every finding of a plugin
/// that decided `redact`, and a detector's findings when it was set to
/// `block` (the payload stops, but its PII must not reach the audit log).
/// A guardrail's block findings (an injection phrase) are evidence, not
/// secrets, and stay as they are.
/// The findings a stage's redaction pass rewrites: those of plugins that
/// ran and redact.
pub(crate) fn redacting_findings(decisions: &[PluginDecision]) -> impl Iterator<Item = &Finding> {
    decisions
        .iter()
        .filter(|d| d.outcome == Outcome::Ok && redacts(d))
        .flat_map(|d| d.findings.iter())
}

pub(crate) fn redacts(d: &PluginDecision) -> bool {
    redacts_as(d.action, d.kind)
}

pub(crate) fn redacts_as(action: Action, kind: PluginKind) -> bool {
    action == Action::Redact || (action == Action::Block && kind == PluginKind::PiiDetector)
}
