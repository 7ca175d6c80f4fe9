//! Replay: logged calls re-evaluated through a candidate policy, and the
//! decisions that would change.
//!
//! ```text
//! inferences + decisions rows ──► LoggedCall ──► payload per stage, rebuilt
//!   (source: Delta, or JSON lines        │        from the captured text
//!    on stdin for a distributed engine)  ▼
//!                                 candidate Pipeline::evaluate
//!                                        │
//!                                        ▼
//!                     CallReplay: live vs candidate, per stage and plugin
//!                                        │
//!                                        ▼
//!                     Report (terminal, JSON, HTML) and a table of changes
//! ```
//!
//! A call is replayed whole or not at all. It cannot be replayed when the
//! text the plugins saw is not in the row: `capture = none`, a stage whose
//! decisions were logged without its text, or `capture = redacted` where a
//! live plugin redacted that stage (the row holds the rewritten text, not
//! what was decided on). Such calls are counted and listed with the reason,
//! never silently dropped. What is not captured at all is not replayed:
//! payload attributes (the wire format, the endpoint) and stream chunking
//! (a streamed answer is replayed as the whole answer it was recorded as).
//! Judges are not called; judge routers are compared on their own action.
//!
//! The unit of comparison is one plugin (by its policy name) at one stage
//! of one call. A plugin absent on one side counts as `allow` there when
//! deciding whether its decision changed (it would not have stopped,
//! flagged or rewritten anything), and shows as `absent` in the matrices.

pub mod html;
pub mod out_table;
pub mod pool;
pub mod report;
pub mod source;

use serde::{Deserialize, Serialize};

use crate::payload::{Message, Payload, Stage};
use crate::pipeline::{Evaluation, Pipeline};
use crate::verdict::Action;

/// One logged call: its `inferences` row and its `decisions` rows, as far
/// as replay needs them. Also the JSON line `railyard replay --stdin`
/// reads (unknown fields are ignored, so a distributed engine can send
/// whole rows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoggedCall {
    /// The call's request id.
    pub request_id: String,
    /// When the call was recorded, µs since the Unix epoch.
    #[serde(default)]
    pub timestamp_us: i64,
    /// The host that served it.
    #[serde(default)]
    pub host_id: String,
    /// The live policy's name.
    #[serde(default)]
    pub policy_name: String,
    /// The live policy's digest.
    #[serde(default)]
    pub policy_digest: String,
    /// The call's route.
    #[serde(default)]
    pub route: String,
    /// The caller.
    #[serde(default)]
    pub caller: String,
    /// The stage the `inferences` row names (`request`, `response`,
    /// `stream-chunk`).
    #[serde(default)]
    pub stage: String,
    /// `full`, `redacted` or `none`: what the text columns hold.
    pub capture: String,
    /// The prompt messages, as the `request` column holds them.
    #[serde(default)]
    pub request: Option<String>,
    /// The answer messages, as the `response` column holds them.
    #[serde(default)]
    pub response: Option<String>,
    /// How many decisions the row says were recorded for the call.
    #[serde(default)]
    pub decision_count: Option<i32>,
    /// The call's logged plugin decisions.
    #[serde(default)]
    pub decisions: Vec<LoggedDecision>,
}

/// One logged plugin decision (a `decisions` row, as far as replay needs it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoggedDecision {
    /// `request`, `response` or `stream-chunk`.
    pub stage: String,
    /// The plugin's policy name.
    pub plugin: String,
    /// `guardrail`, `pii-detector` or `judge-router`.
    #[serde(default)]
    pub plugin_kind: String,
    /// The component's digest.
    #[serde(default)]
    pub plugin_digest: String,
    /// What it decided.
    pub action: String,
    /// `ok`, `disabled` or the fault.
    #[serde(default)]
    pub outcome: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
    /// What it found (only the span's message matters to replay).
    #[serde(default)]
    pub findings: Vec<LoggedFinding>,
}

/// One finding of a logged decision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoggedFinding {
    /// What was found.
    #[serde(default)]
    pub category: String,
    /// The message of the span, when it had one.
    #[serde(default)]
    pub message_index: Option<i32>,
}

/// One side's decision of one plugin at one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// `allow`, `flag`, `redact` or `block`.
    pub action: String,
    /// `ok`, `disabled` or the fault.
    pub outcome: String,
    /// Why.
    pub reason: String,
    /// The component's digest.
    pub plugin_digest: String,
    /// The categories found, sorted, without repeats.
    pub categories: Vec<String>,
}

/// One plugin at one stage of a replayed call: what it decided live and
/// what the candidate decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionPair {
    /// The stage.
    pub stage: String,
    /// The plugin's policy name.
    pub plugin: String,
    /// The logged decision; `None` when the live policy did not run it.
    pub live: Option<Side>,
    /// The candidate's decision; `None` when the candidate does not run it.
    pub candidate: Option<Side>,
    /// Whether the action differs (an absent side counts as `allow`).
    pub changed: bool,
}

impl DecisionPair {
    /// The live action, `absent` when it did not run.
    pub fn live_action(&self) -> &str {
        self.live.as_ref().map_or(ABSENT, |s| s.action.as_str())
    }

    /// The candidate's action, `absent` when it does not run.
    pub fn candidate_action(&self) -> &str {
        self.candidate
            .as_ref()
            .map_or(ABSENT, |s| s.action.as_str())
    }
}

/// How an absent decision shows in matrices and tables.
pub const ABSENT: &str = "absent";

/// What became of one logged call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallReplay {
    /// The call's request id.
    pub request_id: String,
    /// When it was recorded, µs since the Unix epoch.
    pub timestamp_us: i64,
    /// The host that served it.
    pub host_id: String,
    /// Its route.
    pub route: String,
    /// Its caller.
    pub caller: String,
    /// The live policy's digest.
    pub live_policy_digest: String,
    /// Empty when it was replayed; otherwise why it could not be, one
    /// reason per stage.
    pub not_replayable: Vec<String>,
    /// Every plugin of every stage, live and candidate (empty when not
    /// replayable).
    pub decisions: Vec<DecisionPair>,
    /// The most severe live plugin action over the call's stages.
    pub live_action: String,
    /// The most severe candidate action (`""` when not replayable).
    pub candidate_action: String,
}

impl CallReplay {
    /// Whether it was replayed.
    pub fn replayed(&self) -> bool {
        self.not_replayable.is_empty()
    }

    /// Whether any of its decisions changed.
    pub fn changed(&self) -> bool {
        self.decisions.iter().any(|d| d.changed)
    }
}

/// The stages a call's text can be replayed at, with the column holding
/// each one's text.
fn call_stages(call: &LoggedCall) -> [(Stage, Option<&str>); 2] {
    // The answer side is `response`, except a guard call made at the
    // `stream-chunk` stage, whose text sits in the `response` column too.
    let answer = if call.stage == Stage::StreamChunk.as_str()
        && !call.decisions.iter().any(|d| d.stage == "response")
    {
        Stage::StreamChunk
    } else {
        Stage::Response
    };
    [
        (Stage::Request, call.request.as_deref()),
        (answer, call.response.as_deref()),
    ]
}

/// Whether a live decision rewrote the text a `redacted` row keeps: a
/// plugin that ran and redacted (or a detector that blocked, whose spans
/// are redacted too) with a finding in a message.
fn redacted_live(d: &LoggedDecision) -> bool {
    d.outcome == "ok"
        && (d.action == "redact" || (d.action == "block" && d.plugin_kind == "pii-detector"))
        && d.findings.iter().any(|f| f.message_index.is_some())
}

/// The payloads a call is replayed with, or why it cannot be.
fn payloads(call: &LoggedCall) -> Result<Vec<Payload>, Vec<String>> {
    let mut out = Vec::new();
    let mut why = Vec::new();
    if let Some(n) = call.decision_count
        && (n.max(0) as usize) > call.decisions.len()
    {
        why.push(format!(
            "the row counts {n} decisions but {} are in the decisions table",
            call.decisions.len()
        ));
    }
    let mut other_stages: Vec<&str> = call
        .decisions
        .iter()
        .map(|d| d.stage.as_str())
        .filter(|s| !call_stages(call).iter().any(|(st, _)| st.as_str() == *s))
        .collect();
    other_stages.sort_unstable();
    other_stages.dedup();
    for s in other_stages {
        why.push(format!("{s}: decisions at a stage replay does not know"));
    }
    for (stage, text) in call_stages(call) {
        let live: Vec<&LoggedDecision> = call
            .decisions
            .iter()
            .filter(|d| d.stage == stage.as_str())
            .collect();
        let Some(text) = text else {
            if live.is_empty() {
                // Not part of this call (a request-only check, an answer
                // that never came).
            } else if call.capture == "none" {
                why.push(format!("{stage}: text not captured (capture = none)"));
            } else {
                why.push(format!(
                    "{stage}: text not in the row (capture = {})",
                    call.capture
                ));
            }
            continue;
        };
        if call.capture == "redacted"
            && let Some(d) = live.iter().find(|d| redacted_live(d))
        {
            why.push(format!(
                "{stage}: text captured redacted (`{}` {}ed it live)",
                d.plugin, d.action
            ));
            continue;
        }
        match serde_json::from_str::<Vec<Message>>(text) {
            Ok(messages) => out.push(Payload {
                request_id: call.request_id.clone(),
                stage,
                route: call.route.clone(),
                caller: call.caller.clone(),
                messages,
                attributes: Vec::new(),
            }),
            Err(e) => why.push(format!(
                "{stage}: the text column is not a JSON list of messages: {e}"
            )),
        }
    }
    if call.capture == "none" && why.is_empty() {
        why.push("text not captured (capture = none)".into());
    }
    if why.is_empty() { Ok(out) } else { Err(why) }
}

fn live_side(d: &LoggedDecision) -> Side {
    let mut categories: Vec<String> = d.findings.iter().map(|f| f.category.clone()).collect();
    categories.sort();
    categories.dedup();
    Side {
        action: d.action.clone(),
        outcome: d.outcome.clone(),
        reason: d.reason.clone(),
        plugin_digest: d.plugin_digest.clone(),
        categories,
    }
}

fn candidate_sides(e: &Evaluation) -> Vec<(String, Side)> {
    e.decisions
        .iter()
        .map(|d| {
            let mut categories: Vec<String> =
                d.findings.iter().map(|f| f.category.clone()).collect();
            categories.sort();
            categories.dedup();
            (
                d.plugin.clone(),
                Side {
                    action: d.action.as_str().to_string(),
                    outcome: d.outcome.as_str().to_string(),
                    reason: d.reason.clone(),
                    plugin_digest: d.plugin_digest.to_string(),
                    categories,
                },
            )
        })
        .collect()
}

fn severity(action: &str) -> Action {
    Action::parse(action).unwrap_or(Action::Allow)
}

/// Re-evaluates one logged call through `pipeline` and compares.
pub fn replay_call(pipeline: &Pipeline, call: &LoggedCall) -> CallReplay {
    let live_action = call
        .decisions
        .iter()
        .map(|d| severity(&d.action))
        .max()
        .unwrap_or(Action::Allow);
    let mut out = CallReplay {
        request_id: call.request_id.clone(),
        timestamp_us: call.timestamp_us,
        host_id: call.host_id.clone(),
        route: call.route.clone(),
        caller: call.caller.clone(),
        live_policy_digest: call.policy_digest.clone(),
        not_replayable: Vec::new(),
        decisions: Vec::new(),
        live_action: live_action.as_str().to_string(),
        candidate_action: String::new(),
    };
    let payloads = match payloads(call) {
        Ok(p) => p,
        Err(why) => {
            out.not_replayable = why;
            return out;
        }
    };
    let mut candidate_action = Action::Allow;
    for payload in &payloads {
        let stage = payload.stage.as_str();
        let evaluation = pipeline.evaluate(payload);
        candidate_action = candidate_action.max(evaluation.action);
        let mut candidate = candidate_sides(&evaluation);
        for d in call.decisions.iter().filter(|d| d.stage == stage) {
            // A plugin logged twice at one stage is compared once, on its
            // most severe decision.
            if out
                .decisions
                .iter()
                .any(|p| p.stage == stage && p.plugin == d.plugin)
            {
                continue;
            }
            let live = call
                .decisions
                .iter()
                .filter(|x| x.stage == stage && x.plugin == d.plugin)
                .max_by_key(|x| severity(&x.action))
                .map(live_side);
            let cand = candidate
                .iter()
                .position(|(name, _)| *name == d.plugin)
                .map(|i| candidate.remove(i).1);
            out.decisions.push(pair(stage, &d.plugin, live, cand));
        }
        for (name, side) in candidate {
            out.decisions.push(pair(stage, &name, None, Some(side)));
        }
    }
    out.candidate_action = candidate_action.as_str().to_string();
    out
}

fn pair(stage: &str, plugin: &str, live: Option<Side>, candidate: Option<Side>) -> DecisionPair {
    let effective = |s: &Option<Side>| s.as_ref().map_or(Action::Allow, |s| severity(&s.action));
    DecisionPair {
        stage: stage.to_string(),
        plugin: plugin.to_string(),
        changed: effective(&live) != effective(&candidate),
        live,
        candidate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(capture: &str, request: Option<&str>, decisions: Vec<LoggedDecision>) -> LoggedCall {
        LoggedCall {
            request_id: "r1".into(),
            stage: "request".into(),
            capture: capture.into(),
            request: request.map(str::to_string),
            decisions,
            ..LoggedCall::default()
        }
    }

    fn decision(stage: &str, action: &str, span: bool) -> LoggedDecision {
        LoggedDecision {
            stage: stage.into(),
            plugin: "pii".into(),
            plugin_kind: "pii-detector".into(),
            action: action.into(),
            outcome: "ok".into(),
            findings: vec![LoggedFinding {
                category: "EMAIL_ADDRESS".into(),
                message_index: span.then_some(0),
            }],
            ..LoggedDecision::default()
        }
    }

    const TEXT: &str = r#"[{"role":"user","content":"hi"}]"#;

    #[test]
    fn capture_none_is_not_replayable() {
        let why =
            payloads(&call("none", None, vec![decision("request", "flag", true)])).unwrap_err();
        assert_eq!(why, ["request: text not captured (capture = none)"]);
    }

    #[test]
    fn redacted_text_is_not_replayable_but_flagged_text_is() {
        let why = payloads(&call(
            "redacted",
            Some(TEXT),
            vec![decision("request", "redact", true)],
        ))
        .unwrap_err();
        assert!(why[0].contains("captured redacted"), "{why:?}");
        let ok = payloads(&call(
            "redacted",
            Some(TEXT),
            vec![decision("request", "flag", true)],
        ))
        .unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].messages[0].content, "hi");
    }

    #[test]
    fn a_stage_with_decisions_but_no_text_is_not_replayable() {
        let why = payloads(&call(
            "full",
            Some(TEXT),
            vec![decision("response", "allow", false)],
        ))
        .unwrap_err();
        assert_eq!(why, ["response: text not in the row (capture = full)"]);
    }

    #[test]
    fn missing_decision_rows_make_a_call_not_replayable() {
        let mut c = call("full", Some(TEXT), vec![decision("request", "flag", true)]);
        c.decision_count = Some(3);
        let why = payloads(&c).unwrap_err();
        assert_eq!(
            why,
            ["the row counts 3 decisions but 1 are in the decisions table"]
        );
        c.decision_count = Some(1);
        assert!(payloads(&c).is_ok());
    }

    #[test]
    fn an_absent_side_counts_as_allow() {
        let side = |a: &str| Side {
            action: a.into(),
            outcome: "ok".into(),
            reason: String::new(),
            plugin_digest: String::new(),
            categories: Vec::new(),
        };
        assert!(!pair("request", "p", None, Some(side("allow"))).changed);
        assert!(pair("request", "p", None, Some(side("flag"))).changed);
        assert!(pair("request", "p", Some(side("block")), None).changed);
        assert!(!pair("request", "p", Some(side("flag")), Some(side("flag"))).changed);
    }
}
