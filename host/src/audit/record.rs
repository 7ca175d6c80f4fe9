//! The rows of the audit tables, as the hot path builds them.
//!
//! A record is built from an [`Evaluation`](crate::evaluation::Evaluation) and what the caller knows about
//! the call ([`RecordContext`]), serialised into the write-ahead log, and
//! later turned into a Delta row by `audit::schema`. The structs here are
//! the rows themselves: field names are the column names (see
//! `docs/audit-schema.md`), so what is written and what is read back can be
//! compared whole.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::provenance::Provenance;
use crate::payload::{Message, Payload};
pub use crate::policy::Capture;

/// Token counts of a proxied call, where the model reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCounts {
    /// Tokens in the prompt.
    pub prompt: Option<u64>,
    /// Tokens in the answer.
    pub completion: Option<u64>,
}

/// What a caller knows about one inference call beyond the evaluation.
#[derive(Debug, Clone, Default)]
pub struct CallInfo<'a> {
    /// The model's answer, when the call was proxied and answered.
    pub response: Option<&'a [Message]>,
    /// HTTP status returned to the caller, when there was one.
    pub status_code: Option<u16>,
    /// Token counts, where known.
    pub tokens: TokenCounts,
    /// Wall time of the whole call (guard + model), when known.
    pub total_latency_us: Option<u64>,
    /// The wire format of a proxied call (`openai`, `anthropic`); `None`
    /// for guard calls.
    pub api: Option<&'a str>,
    /// A Responses call's `previous_response_id`: the stored turns it
    /// continues, which the call's payload does not hold.
    pub previous_response_id: Option<&'a str>,
    /// Where the call went and on whose behalf (the provenance columns).
    pub provenance: Option<&'a Provenance>,
    /// The call's W3C trace id (32 hex digits), when it has one.
    pub trace_id: Option<&'a str>,
}

/// What [`crate::audit::AuditLog::record`] needs besides the evaluation.
#[derive(Debug, Clone)]
pub struct RecordContext<'a> {
    /// The payload that was evaluated (its route, caller and messages).
    pub payload: &'a Payload,
    /// How much text the policy lets the `inferences` row keep.
    pub capture: Capture,
    /// `Some` when this evaluation is one whole call (a `railyard check`, a
    /// guard request, a proxied call): an `inferences` row is written.
    /// `None` for evaluations that are part of a call already recorded
    /// (e.g. one stream chunk): decisions only.
    pub call: Option<CallInfo<'a>>,
}

/// One `findings` element of a decision row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRow {
    /// Stable identifier of the rule that fired.
    pub rule_id: String,
    /// What was found, e.g. `EMAIL_ADDRESS`.
    pub category: String,
    /// Confidence in 0..=1.
    pub score: f32,
    /// Message index of the span, when the finding has one.
    pub message_index: Option<i32>,
    /// First byte of the span.
    pub span_start: Option<i32>,
    /// One past the last byte of the span.
    pub span_end: Option<i32>,
    /// The field of the wire body the text came from (the message's
    /// `field`, e.g. `messages[2].tool_calls[0].function.arguments`), when
    /// the finding has a span in a message that names one. Stored in the
    /// `finding_fields` column, parallel to `findings`; null in rows
    /// written before it existed.
    #[serde(default)]
    pub field: Option<String>,
}

/// One row of the `decisions` table: one plugin's evaluation of one payload.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DecisionRow {
    /// UUIDv7 of this decision.
    pub decision_id: String,
    /// The payload's request id (joins with `inferences`).
    pub request_id: String,
    /// When it was recorded, microseconds since the Unix epoch (UTC).
    pub timestamp_us: i64,
    /// The host that decided.
    pub host_id: String,
    /// The policy's name.
    pub policy_name: String,
    /// `sha256:<hex>` of the policy file.
    pub policy_digest: String,
    /// Route (model or endpoint) of the call.
    pub route: String,
    /// Who made the call.
    pub caller: String,
    /// `request`, `response` or `stream-chunk`.
    pub stage: String,
    /// The plugin's name in the policy.
    pub plugin: String,
    /// The name the plugin gives itself.
    pub plugin_name: String,
    /// The plugin's version.
    pub plugin_version: String,
    /// `sha256:<hex>` of the component.
    pub plugin_digest: String,
    /// `guardrail`, `pii-detector` or `judge-router`.
    pub plugin_kind: String,
    /// `allow`, `flag`, `redact` or `block`.
    pub action: String,
    /// Why.
    pub reason: String,
    /// What the plugin found.
    pub findings: Vec<FindingRow>,
    /// `ok`, `disabled`, or the fault (`trapped`, `timed-out`, …).
    pub outcome: String,
    /// `fail-closed` or `fail-open` when the call failed.
    pub failure_mode: Option<String>,
    /// The fault's text, when it failed.
    pub error: Option<String>,
    /// Wall time of the plugin call.
    pub latency_us: i64,
    /// Hex HMAC-SHA256 of the original payload under the host's audit key.
    pub payload_hash: String,
    /// WAL segment that carried the row (filled when it is read back from
    /// the WAL; `0` before).
    pub wal_segment: i64,
    /// Byte offset of the row's record in that segment.
    pub wal_offset: i64,
    /// The rollout arm (`live`, `canary`, `shadow`) on a route with a
    /// canary or a shadow candidate; null elsewhere and in rows written
    /// before the column existed. A `shadow` row affected nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm: Option<String>,
}

/// One row of the `inferences` table: one evaluated or proxied call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InferenceRow {
    /// The payload's request id.
    pub request_id: String,
    /// When it was recorded, microseconds since the Unix epoch (UTC).
    pub timestamp_us: i64,
    /// The host that served it.
    pub host_id: String,
    /// The policy's name.
    pub policy_name: String,
    /// The policy's digest.
    pub policy_digest: String,
    /// Route (model or endpoint).
    pub route: String,
    /// Who made the call.
    pub caller: String,
    /// The stage that was evaluated.
    pub stage: String,
    /// `redacted`, `full` or `none`: what the text columns hold.
    pub capture: String,
    /// The prompt messages as a JSON array of `{role, content}`, per capture.
    pub request: Option<String>,
    /// The answer messages as a JSON array, per capture.
    pub response: Option<String>,
    /// Hex HMAC-SHA256 of the evaluated messages under the host's key.
    pub payload_hash: String,
    /// The merged action.
    pub action: String,
    /// Why, from the plugin that decided it.
    pub reason: String,
    /// HTTP status returned, when there was one.
    pub status_code: Option<i32>,
    /// Prompt tokens, where known.
    pub prompt_tokens: Option<i64>,
    /// Completion tokens, where known.
    pub completion_tokens: Option<i64>,
    /// Wall time of the guard stage.
    pub guard_latency_us: i64,
    /// Wall time of the whole call, where known.
    pub total_latency_us: Option<i64>,
    /// Number of plugin decisions recorded for this evaluation.
    pub decision_count: i32,
    /// WAL segment that carried the row.
    pub wal_segment: i64,
    /// Byte offset of the row's record in that segment.
    pub wal_offset: i64,
    /// The wire format of a proxied call (`openai`, `anthropic`); null
    /// for guard calls and in rows written before the column existed.
    #[serde(default)]
    pub api: Option<String>,
    /// A Responses call's `previous_response_id` (null otherwise, and in
    /// rows written before the column existed).
    #[serde(default)]
    pub previous_response_id: Option<String>,
    /// The fields of the wire body the rails were shown (request, then
    /// answer), e.g. `messages[1].content`, `choices[0].message.tool_calls[0].function.arguments`;
    /// empty for texts that name no field (guard calls, `railyard check`);
    /// null in rows written before the column existed.
    #[serde(default)]
    pub scanned_fields: Option<Vec<String>>,
    /// Upstream, answering model, parameters, end user, business
    /// attributes and (under `capture = "verbatim"`) the raw bodies: one
    /// column per field, all nullable.
    #[serde(flatten)]
    pub provenance: Provenance,
    /// The call's W3C trace id (null in rows written before the column
    /// existed).
    #[serde(default)]
    pub trace_id: Option<String>,
    /// The rollout arm that served the call (`live` or `canary`) on a
    /// route with a canary or a shadow candidate; null elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm: Option<String>,
}

/// One row of the `judgements` table: one judge request a router made, and
/// what came of it (written by the judge dispatcher, `crate::judge`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgementRow {
    /// UUIDv7 of this judgement.
    pub judgement_id: String,
    /// The request judged (joins with `decisions` and `inferences`).
    pub request_id: String,
    /// The `decisions` row of the router that asked for the judgement
    /// (empty when the server runs without an audit log).
    pub decision_id: String,
    /// When the judgement ended and was recorded, microseconds since the
    /// Unix epoch (UTC).
    pub timestamp_us: i64,
    /// The host that ran it.
    pub host_id: String,
    /// `request` or `response`: the stage whose payload was judged.
    pub stage: String,
    /// Route (model or endpoint) of the call.
    pub route: String,
    /// Who made the call.
    pub caller: String,
    /// The judge's name in the server configuration.
    pub judge: String,
    /// The model the judge endpoint was asked to use.
    pub model: String,
    /// The rubric it judged with.
    pub rubric: String,
    /// The router's name in the policy.
    pub router: String,
    /// The router's digest.
    pub router_digest: String,
    /// Why the router sent the payload.
    pub routing_reason: String,
    /// `async` or `blocking`.
    pub mode: String,
    /// The router's priority for it.
    pub priority: i32,
    /// The router's sample rate.
    pub sample_rate: f64,
    /// `ok`, `timeout`, `error` or `skipped`.
    pub status: String,
    /// The judge's verdict (`allow`, `flag` or `block`), when it gave one.
    pub verdict: Option<String>,
    /// The judge's score in 0..=1, when it gave one.
    pub score: Option<f64>,
    /// The judge's categories.
    pub categories: Vec<String>,
    /// The judge's reasoning, per the policy's capture setting.
    pub reasoning: Option<String>,
    /// The judge's raw answer when it could not be parsed, per the
    /// policy's capture setting.
    pub raw_answer: Option<String>,
    /// What went wrong, unless `status` is `ok`.
    pub error: Option<String>,
    /// What the host did with it: `logged` (async), `passed` or `blocked`
    /// (a blocking verdict), `fail-closed` or `fail-open` (a blocking
    /// judgement that did not give a verdict in time).
    pub effect: String,
    /// When the router asked, microseconds since the Unix epoch (UTC).
    pub requested_at_us: i64,
    /// Time spent waiting for the judge's concurrency and rate budget.
    pub queued_us: i64,
    /// Wall time from the request to the end of the judgement.
    pub latency_us: i64,
    /// WAL segment that carried the row.
    pub wal_segment: i64,
    /// Byte offset of the row's record in that segment.
    pub wal_offset: i64,
}

/// One WAL record: a row for one of the tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum AuditRecord {
    /// A `decisions` row.
    Decision(DecisionRow),
    /// An `inferences` row.
    Inference(InferenceRow),
    /// A `judgements` row.
    Judgement(JudgementRow),
    /// An `events` row.
    Event(super::events::EventRow),
    /// A `policies` row.
    Policy(super::events::PolicyRow),
}

impl AuditRecord {
    /// Stamps the WAL position that carried the record.
    pub(crate) fn set_position(&mut self, segment: u64, offset: u64) {
        let (s, o) = match self {
            AuditRecord::Decision(r) => (&mut r.wal_segment, &mut r.wal_offset),
            AuditRecord::Inference(r) => (&mut r.wal_segment, &mut r.wal_offset),
            AuditRecord::Judgement(r) => (&mut r.wal_segment, &mut r.wal_offset),
            AuditRecord::Event(r) => (&mut r.wal_segment, &mut r.wal_offset),
            AuditRecord::Policy(r) => (&mut r.wal_segment, &mut r.wal_offset),
        };
        *s = segment as i64;
        *o = offset as i64;
    }
}

/// Microseconds since the Unix epoch, now.
pub(crate) fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Keyed hash of a payload's messages: equal payloads correlate across
/// rows and hosts sharing the key; the text cannot be recovered from it.
/// Roles and contents are length-prefixed so no two payloads collide by
/// concatenation.
pub fn payload_hash(key: &[u8], messages: &[Message]) -> String {
    PayloadHasher::new(key).hash(messages)
}

/// [`payload_hash`] under one key, with the key's HMAC blocks computed
/// once instead of per call (two of the four SHA-256 blocks a short
/// payload costs).
#[derive(Clone)]
pub struct PayloadHasher(Hmac<Sha256>);

impl PayloadHasher {
    /// The hasher of `key`.
    pub fn new(key: &[u8]) -> Self {
        PayloadHasher(Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length"))
    }

    /// The hex hash of `messages`.
    pub fn hash(&self, messages: &[Message]) -> String {
        let mut mac = self.0.clone();
        for m in messages {
            mac.update(&(m.role.len() as u64).to_le_bytes());
            mac.update(m.role.as_bytes());
            mac.update(&(m.content.len() as u64).to_le_bytes());
            mac.update(m.content.as_bytes());
        }
        let mut out = String::with_capacity(64);
        hex_into(&mac.finalize().into_bytes(), &mut out);
        out
    }
}

/// Appends the lower-case hex of `bytes` to `out` (the `hex` crate's
/// iterator costs more than the HMAC on the hot path).
pub fn hex_into(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
}

pub use super::encode::{finding_field, scanned_fields};
