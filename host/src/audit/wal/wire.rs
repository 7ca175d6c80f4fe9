//! The binary payloads of the two hot tables' WAL records.
//!
//! A record's payload starts with one byte naming its table and format:
//!
//! | byte | table | body |
//! |---|---|---|
//! | `D` | decisions | [`DecisionWire`], postcard |
//! | `I` | inferences | [`InferenceWire`], postcard |
//! | `d` `i` `j` `e` `p` | decisions, inferences, judgements, events, policies | the row as JSON |
//!
//! Decisions and inferences (several records per call) are written in the
//! binary form; the lower-case JSON forms are what WALs written before it
//! hold, and what the rarer judgement, event and policy records still use.
//! The reader takes both, so a WAL left by an older version is committed
//! after an upgrade.
//!
//! The body is [postcard](https://postcard.jamesmunns.com) (a documented,
//! stable wire format): fields in declaration order, integers as varints,
//! strings as a length and their UTF-8 bytes. Compared with JSON, nothing
//! is escaped, no field name is written, and a reader borrows every string
//! from the segment instead of unescaping it into a fresh allocation. The
//! layout is positional, so it is frozen: a column added later gets a new
//! tag byte (and the reader keeps this one), never a field appended here.
//!
//! The structs are generic over their list fields so that the writer can
//! serialise straight from the evaluation (an iterator in place of a
//! `Vec`) while the reader gets plain vectors of borrowed strings, with one
//! declaration of the layout for both.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audit::provenance::Provenance;
use crate::audit::record::{DecisionRow, FindingRow, InferenceRow};

/// The payload byte of a binary `decisions` record.
pub const DECISION: u8 = b'D';
/// The payload byte of a binary `inferences` record.
pub const INFERENCE: u8 = b'I';

/// One `decisions` row as the WAL carries it (without its WAL position,
/// which the reader stamps in). `F` is the findings list.
#[derive(Debug, Serialize, Deserialize)]
pub struct DecisionWire<'a, F> {
    pub decision_id: &'a str,
    pub request_id: &'a str,
    pub timestamp_us: i64,
    pub host_id: &'a str,
    pub policy_name: &'a str,
    pub policy_digest: &'a str,
    pub route: &'a str,
    pub caller: &'a str,
    pub stage: &'a str,
    pub plugin: &'a str,
    pub plugin_name: &'a str,
    pub plugin_version: &'a str,
    pub plugin_digest: &'a str,
    pub plugin_kind: &'a str,
    pub action: &'a str,
    pub reason: &'a str,
    pub findings: F,
    pub outcome: &'a str,
    #[serde(borrow)]
    pub failure_mode: Option<&'a str>,
    #[serde(borrow)]
    pub error: Option<&'a str>,
    pub latency_us: i64,
    pub payload_hash: &'a str,
    /// The rollout arm (`live`, `canary`, `shadow`), on a route with one.
    #[serde(borrow)]
    pub arm: Option<&'a str>,
}

/// One element of a decision's findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingWire<'a> {
    pub rule_id: &'a str,
    pub category: &'a str,
    pub score: f32,
    pub message_index: Option<i32>,
    pub span_start: Option<i32>,
    pub span_end: Option<i32>,
    #[serde(borrow)]
    pub field: Option<&'a str>,
}

/// A decision as the reader gets it: every string borrowed from the
/// segment.
pub type DecisionIn<'a> = DecisionWire<'a, Vec<FindingWire<'a>>>;

/// One `inferences` row as the WAL carries it. `L` is the
/// `scanned_fields` list, `M` the provenance attributes map.
#[derive(Debug, Serialize, Deserialize)]
pub struct InferenceWire<'a, L, M> {
    pub request_id: &'a str,
    pub timestamp_us: i64,
    pub host_id: &'a str,
    pub policy_name: &'a str,
    pub policy_digest: &'a str,
    pub route: &'a str,
    pub caller: &'a str,
    pub stage: &'a str,
    pub capture: &'a str,
    /// The prompt messages' JSON text, stored as the bytes it is (in the
    /// JSON record it was escaped a second time).
    #[serde(borrow)]
    pub request: Option<&'a str>,
    #[serde(borrow)]
    pub response: Option<&'a str>,
    pub payload_hash: &'a str,
    pub action: &'a str,
    pub reason: &'a str,
    pub status_code: Option<i32>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub guard_latency_us: i64,
    pub total_latency_us: Option<i64>,
    pub decision_count: i32,
    #[serde(borrow)]
    pub api: Option<&'a str>,
    #[serde(borrow)]
    pub previous_response_id: Option<&'a str>,
    pub scanned_fields: Option<L>,
    #[serde(borrow)]
    pub upstream: Option<&'a str>,
    #[serde(borrow)]
    pub upstream_model: Option<&'a str>,
    #[serde(borrow)]
    pub system_fingerprint: Option<&'a str>,
    #[serde(borrow)]
    pub parameters: Option<&'a str>,
    #[serde(borrow)]
    pub end_user: Option<&'a str>,
    pub attributes: M,
    #[serde(borrow)]
    pub request_body: Option<&'a str>,
    #[serde(borrow)]
    pub response_body: Option<&'a str>,
    #[serde(borrow)]
    pub trace_id: Option<&'a str>,
    /// The rollout arm that served the call, on a route with one.
    #[serde(borrow)]
    pub arm: Option<&'a str>,
}

/// An inference row as the reader gets it.
pub type InferenceIn<'a> = InferenceWire<'a, Vec<&'a str>, BTreeMap<&'a str, &'a str>>;

/// A row and the WAL position it was read at (the `wal_segment` and
/// `wal_offset` columns), as the batch builders take it: a binary record
/// borrowed from its segment's bytes, or an owned row borrowed as one.
#[derive(Debug)]
pub struct Placed<T> {
    pub row: T,
    pub segment: i64,
    pub offset: i64,
}

impl<'a> Placed<DecisionIn<'a>> {
    /// An owned row, borrowed, at the position it carries.
    pub fn of(r: &'a DecisionRow) -> Self {
        Placed {
            row: DecisionIn::of(r),
            segment: r.wal_segment,
            offset: r.wal_offset,
        }
    }
}

impl<'a> Placed<InferenceIn<'a>> {
    /// An owned row, borrowed, at the position it carries.
    pub fn of(r: &'a InferenceRow) -> Self {
        Placed {
            row: InferenceIn::of(r),
            segment: r.wal_segment,
            offset: r.wal_offset,
        }
    }
}

/// Appends `value` to `out` in postcard.
pub fn put<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    postcard::serialize_with_flavor(value, Append(out)).expect("appending to a Vec cannot fail");
}

/// Decodes a whole payload body (after its tag byte): trailing bytes are
/// an error, so a body of another layout is not half-read.
pub fn take<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    match postcard::take_from_bytes::<T>(body) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(format!("{} bytes left after the record", rest.len())),
        Err(e) => Err(e.to_string()),
    }
}

/// A postcard output that appends to a `Vec` the caller owns (postcard's
/// own `Vec` flavor starts a new one per value).
struct Append<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Append<'_> {
    type Output = ();

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

impl<'a> FindingWire<'a> {
    /// A finding row, borrowed.
    pub fn of(f: &'a FindingRow) -> Self {
        FindingWire {
            rule_id: &f.rule_id,
            category: &f.category,
            score: f.score,
            message_index: f.message_index,
            span_start: f.span_start,
            span_end: f.span_end,
            field: f.field.as_deref(),
        }
    }

    /// The owned finding row.
    pub fn to_row(&self) -> FindingRow {
        FindingRow {
            rule_id: self.rule_id.to_string(),
            category: self.category.to_string(),
            score: self.score,
            message_index: self.message_index,
            span_start: self.span_start,
            span_end: self.span_end,
            field: self.field.map(str::to_string),
        }
    }
}

impl<'a> DecisionIn<'a> {
    /// A decision row, borrowed (an owned row and a binary record then go
    /// through one column builder).
    pub fn of(r: &'a DecisionRow) -> Self {
        DecisionWire {
            decision_id: &r.decision_id,
            request_id: &r.request_id,
            timestamp_us: r.timestamp_us,
            host_id: &r.host_id,
            policy_name: &r.policy_name,
            policy_digest: &r.policy_digest,
            route: &r.route,
            caller: &r.caller,
            stage: &r.stage,
            plugin: &r.plugin,
            plugin_name: &r.plugin_name,
            plugin_version: &r.plugin_version,
            plugin_digest: &r.plugin_digest,
            plugin_kind: &r.plugin_kind,
            action: &r.action,
            reason: &r.reason,
            findings: r.findings.iter().map(FindingWire::of).collect(),
            outcome: &r.outcome,
            failure_mode: r.failure_mode.as_deref(),
            error: r.error.as_deref(),
            latency_us: r.latency_us,
            payload_hash: &r.payload_hash,
            arm: r.arm.as_deref(),
        }
    }

    /// The owned row, at WAL position (`segment`, `offset`).
    pub fn to_row(&self, segment: u64, offset: u64) -> DecisionRow {
        DecisionRow {
            decision_id: self.decision_id.to_string(),
            request_id: self.request_id.to_string(),
            timestamp_us: self.timestamp_us,
            host_id: self.host_id.to_string(),
            policy_name: self.policy_name.to_string(),
            policy_digest: self.policy_digest.to_string(),
            route: self.route.to_string(),
            caller: self.caller.to_string(),
            stage: self.stage.to_string(),
            plugin: self.plugin.to_string(),
            plugin_name: self.plugin_name.to_string(),
            plugin_version: self.plugin_version.to_string(),
            plugin_digest: self.plugin_digest.to_string(),
            plugin_kind: self.plugin_kind.to_string(),
            action: self.action.to_string(),
            reason: self.reason.to_string(),
            findings: self.findings.iter().map(FindingWire::to_row).collect(),
            outcome: self.outcome.to_string(),
            failure_mode: self.failure_mode.map(str::to_string),
            error: self.error.map(str::to_string),
            latency_us: self.latency_us,
            payload_hash: self.payload_hash.to_string(),
            wal_segment: segment as i64,
            wal_offset: offset as i64,
            arm: self.arm.map(str::to_string),
        }
    }
}

impl<'a> InferenceIn<'a> {
    /// An inference row, borrowed.
    pub fn of(r: &'a InferenceRow) -> Self {
        let p = &r.provenance;
        InferenceWire {
            request_id: &r.request_id,
            timestamp_us: r.timestamp_us,
            host_id: &r.host_id,
            policy_name: &r.policy_name,
            policy_digest: &r.policy_digest,
            route: &r.route,
            caller: &r.caller,
            stage: &r.stage,
            capture: &r.capture,
            request: r.request.as_deref(),
            response: r.response.as_deref(),
            payload_hash: &r.payload_hash,
            action: &r.action,
            reason: &r.reason,
            status_code: r.status_code,
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            guard_latency_us: r.guard_latency_us,
            total_latency_us: r.total_latency_us,
            decision_count: r.decision_count,
            api: r.api.as_deref(),
            previous_response_id: r.previous_response_id.as_deref(),
            scanned_fields: r
                .scanned_fields
                .as_ref()
                .map(|v| v.iter().map(String::as_str).collect()),
            upstream: p.upstream.as_deref(),
            upstream_model: p.upstream_model.as_deref(),
            system_fingerprint: p.system_fingerprint.as_deref(),
            parameters: p.parameters.as_deref(),
            end_user: p.end_user.as_deref(),
            attributes: p
                .attributes
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            request_body: p.request_body.as_deref(),
            response_body: p.response_body.as_deref(),
            trace_id: r.trace_id.as_deref(),
            arm: r.arm.as_deref(),
        }
    }

    /// The owned row, at WAL position (`segment`, `offset`).
    pub fn to_row(&self, segment: u64, offset: u64) -> InferenceRow {
        let s = |v: Option<&str>| v.map(str::to_string);
        InferenceRow {
            request_id: self.request_id.to_string(),
            timestamp_us: self.timestamp_us,
            host_id: self.host_id.to_string(),
            policy_name: self.policy_name.to_string(),
            policy_digest: self.policy_digest.to_string(),
            route: self.route.to_string(),
            caller: self.caller.to_string(),
            stage: self.stage.to_string(),
            capture: self.capture.to_string(),
            request: s(self.request),
            response: s(self.response),
            payload_hash: self.payload_hash.to_string(),
            action: self.action.to_string(),
            reason: self.reason.to_string(),
            status_code: self.status_code,
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            guard_latency_us: self.guard_latency_us,
            total_latency_us: self.total_latency_us,
            decision_count: self.decision_count,
            wal_segment: segment as i64,
            wal_offset: offset as i64,
            api: s(self.api),
            previous_response_id: s(self.previous_response_id),
            scanned_fields: self
                .scanned_fields
                .as_ref()
                .map(|v| v.iter().map(|f| f.to_string()).collect()),
            provenance: Provenance {
                upstream: s(self.upstream),
                upstream_model: s(self.upstream_model),
                system_fingerprint: s(self.system_fingerprint),
                parameters: s(self.parameters),
                end_user: s(self.end_user),
                attributes: self
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                request_body: s(self.request_body),
                response_body: s(self.response_body),
            },
            trace_id: s(self.trace_id),
            arm: s(self.arm),
        }
    }
}
