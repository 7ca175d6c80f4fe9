//! A call's records, encoded for the write-ahead log on the recording
//! thread: the decisions of an evaluation and the call's `inferences` row,
//! serialised straight from the evaluation and payload (no row structs in
//! between), binary or JSON (`wal::RecordFormat`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::provenance::Provenance;
use super::record::{CallInfo, Capture, PayloadHasher, RecordContext, hex_into, now_us};
use super::wal::wire::{DecisionWire, FindingWire, InferenceWire};
use super::wal::{self, RecordFormat, wire};
use crate::evaluation::Evaluation;
use crate::payload::{Message, Payload};

/// A decision's findings, with the payload they were found in (to name
/// each finding's field), serialised as the findings list of a
/// [`DecisionWire`] without collecting them first.
struct FindingsOut<'a>(&'a [crate::verdict::Finding], &'a Payload);

impl Serialize for FindingsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let payload = self.1;
        s.collect_seq(self.0.iter().map(|f| FindingWire {
            rule_id: &f.rule_id,
            category: &f.category,
            score: f.score,
            message_index: f.span.map(|s| s.message as i32),
            span_start: f.span.map(|s| s.start as i32),
            span_end: f.span.map(|s| s.end as i32),
            field: finding_field(payload, f),
        }))
    }
}

/// The wire field a finding's text came from: the `field` of the message
/// its span points into (or, for a message built without one, the
/// `message.<i>.field` attribute the serve layer sets beside it). A
/// finding without a span names the field only when the payload has one
/// message (a stream lane, a single text), since then there is no doubt.
pub fn finding_field<'a>(
    payload: &'a Payload,
    finding: &crate::verdict::Finding,
) -> Option<&'a str> {
    let index = match finding.span {
        Some(s) => s.message as usize,
        None if payload.messages.len() == 1 => 0,
        None => return None,
    };
    if let Some(f) = payload.messages.get(index)?.field.as_deref() {
        return Some(f);
    }
    let key = format!("message.{index}.field");
    payload
        .attributes
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
}

/// The fields of the body a payload's messages came from, in order (those
/// that name one): what the `inferences` row's `scanned_fields` lists.
pub fn scanned_fields(payload: &Payload) -> impl Iterator<Item = String> + '_ {
    payload.messages.iter().filter_map(|m| m.field.clone())
}

/// What every record written by one audit log shares: the host, the key
/// of the payload hashes, and the record format.
pub(crate) struct Writer<'a> {
    /// The host id stamped on rows.
    pub host_id: &'a str,
    /// The payload hash key, prepared (see [`PayloadHasher`]).
    pub hasher: &'a PayloadHasher,
    /// Binary, or the JSON of earlier versions.
    pub format: RecordFormat,
}

/// A JSON row with its WAL position fields (always 0 when written; the
/// reader stamps the real position), as the JSON records carry them.
#[derive(Serialize)]
struct JsonRow<'a, T> {
    #[serde(flatten)]
    row: &'a T,
    wal_segment: i64,
    wal_offset: i64,
}

impl Writer<'_> {
    fn decision<F: Serialize>(&self, row: &DecisionWire<'_, F>, out: &mut Vec<u8>) {
        match self.format {
            RecordFormat::Binary => wal::frame(wire::DECISION, out, |o| wire::put(row, o)),
            RecordFormat::Json => wal::encode_row(b'd', &JsonRow::at_zero(row), out),
        }
    }

    fn inference<L: Serialize, M: Serialize>(
        &self,
        row: &InferenceWire<'_, L, M>,
        out: &mut Vec<u8>,
    ) {
        match self.format {
            RecordFormat::Binary => wal::frame(wire::INFERENCE, out, |o| wire::put(row, o)),
            RecordFormat::Json => wal::encode_row(b'i', &JsonRow::at_zero(row), out),
        }
    }
}

impl<'a, T> JsonRow<'a, T> {
    fn at_zero(row: &'a T) -> Self {
        JsonRow {
            row,
            wal_segment: 0,
            wal_offset: 0,
        }
    }
}

/// The `scanned_fields` of a call: the fields of its payloads' messages
/// that name one, in order, serialised without collecting them.
struct FieldsOut<'a>(&'a Payload, Option<&'a Payload>);

impl Serialize for FieldsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let all = || {
            std::iter::once(self.0)
                .chain(self.1)
                .flat_map(|p| p.messages.iter().filter_map(|m| m.field.as_deref()))
        };
        // A sequence of known length (what binary formats ask for).
        let mut seq = s.serialize_seq(Some(all().count()))?;
        for f in all() {
            serde::ser::SerializeSeq::serialize_element(&mut seq, f)?;
        }
        serde::ser::SerializeSeq::end(seq)
    }
}

/// The provenance columns as the row keeps them: the raw bodies only
/// under `capture = "verbatim"`, whatever the caller handed in.
struct KeptProvenance<'a> {
    p: Option<&'a Provenance>,
    verbatim: bool,
}

impl<'a> KeptProvenance<'a> {
    fn new(call: &CallInfo<'a>, capture: Capture) -> Self {
        KeptProvenance {
            p: call.provenance,
            verbatim: capture == Capture::Verbatim,
        }
    }
    fn get(&self, f: impl Fn(&'a Provenance) -> &'a Option<String>) -> Option<&'a str> {
        self.p.and_then(|p| f(p).as_deref())
    }
    fn body(&self, f: impl Fn(&'a Provenance) -> &'a Option<String>) -> Option<&'a str> {
        self.get(f).filter(|_| self.verbatim)
    }
    fn attributes(&self) -> &'a BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.p.map_or(&EMPTY, |p| &p.attributes)
    }
}

/// Encodes one evaluation's rows into `out` as WAL records, pushing each
/// decision id to `ids`. Returns whether an `inferences` row was written.
pub(crate) fn encode_evaluation(
    evaluation: &Evaluation,
    ctx: &RecordContext<'_>,
    w: &Writer<'_>,
    out: &mut Vec<u8>,
    ids: &mut Vec<String>,
) -> bool {
    let timestamp_us = now_us();
    let payload = ctx.payload;
    let hash = w.hasher.hash(&payload.messages);
    let stage = evaluation.stage.as_str();
    let mut digest = String::with_capacity(71);
    for d in &evaluation.decisions {
        let id = crate::payload::new_request_id();
        digest.clear();
        digest.push_str("sha256:");
        hex_into(&d.plugin_digest.0, &mut digest);
        let row = DecisionWire {
            decision_id: &id,
            request_id: &evaluation.request_id,
            timestamp_us,
            host_id: w.host_id,
            policy_name: &evaluation.policy,
            policy_digest: &evaluation.policy_digest,
            route: &payload.route,
            caller: &payload.caller,
            stage,
            plugin: &d.plugin,
            plugin_name: &d.plugin_name,
            plugin_version: &d.plugin_version,
            plugin_digest: &digest,
            plugin_kind: d.kind.as_str(),
            action: d.action.as_str(),
            reason: &d.reason,
            findings: FindingsOut(&d.findings, payload),
            outcome: d.outcome.as_str(),
            failure_mode: d.failure_mode.map(|m| m.as_str()),
            error: d.error.as_deref(),
            latency_us: d.latency_us as i64,
            payload_hash: &hash,
            arm: evaluation.arm.map(|a| a.as_str()),
        };
        w.decision(&row, out);
        ids.push(id);
    }
    let Some(call) = ctx.call.as_ref() else {
        return false;
    };
    let evaluated: &[Message] = match ctx.capture {
        Capture::Full => &payload.messages,
        Capture::Redacted | Capture::Verbatim => {
            evaluation.redacted.as_deref().unwrap_or(&payload.messages)
        }
        Capture::None => &[],
    };
    let text = |m: &[Message]| serde_json::to_string(m).expect("messages serialise");
    let (request, response) = match (ctx.capture, evaluation.stage) {
        (Capture::None, _) => (None, None),
        (_, crate::payload::Stage::Request) => (
            Some(text(evaluated)),
            // An answer given alongside a request-stage evaluation is
            // stored only under full capture: it was not evaluated, so
            // there is no redacted form of it.
            call.response
                .filter(|_| ctx.capture == Capture::Full)
                .map(text),
        ),
        (_, _) => (None, Some(text(evaluated))),
    };
    let kept = KeptProvenance::new(call, ctx.capture);
    let row = InferenceWire {
        request_id: &evaluation.request_id,
        timestamp_us,
        host_id: w.host_id,
        policy_name: &evaluation.policy,
        policy_digest: &evaluation.policy_digest,
        route: &payload.route,
        caller: &payload.caller,
        stage,
        capture: ctx.capture.as_str(),
        request: request.as_deref(),
        response: response.as_deref(),
        payload_hash: &hash,
        action: evaluation.action.as_str(),
        reason: &evaluation.reason,
        status_code: call.status_code.map(i32::from),
        prompt_tokens: call.tokens.prompt.map(|t| t as i64),
        completion_tokens: call.tokens.completion.map(|t| t as i64),
        guard_latency_us: evaluation.latency_us as i64,
        total_latency_us: call.total_latency_us.map(|t| t as i64),
        decision_count: evaluation.decisions.len() as i32,
        api: call.api,
        previous_response_id: call.previous_response_id,
        scanned_fields: Some(FieldsOut(payload, None)),
        upstream: kept.get(|p| &p.upstream),
        upstream_model: kept.get(|p| &p.upstream_model),
        system_fingerprint: kept.get(|p| &p.system_fingerprint),
        parameters: kept.get(|p| &p.parameters),
        end_user: kept.get(|p| &p.end_user),
        attributes: kept.attributes(),
        request_body: kept.body(|p| &p.request_body),
        response_body: kept.body(|p| &p.response_body),
        trace_id: call.trace_id,
        arm: evaluation.arm.map(|a| a.as_str()),
    };
    w.inference(&row, out);
    true
}

/// Encodes one proxied call's records into `out`: the response stage's
/// decisions (the request stage's were recorded before the call went
/// upstream; their ids go to `ids`) and one `inferences` row with both
/// sides, as the policy lets them be kept.
pub(crate) fn encode_call(
    request: (&Evaluation, &Payload),
    response: Option<(&Evaluation, &Payload)>,
    capture: Capture,
    call: &CallInfo<'_>,
    w: &Writer<'_>,
    out: &mut Vec<u8>,
    ids: &mut Vec<String>,
) {
    let (req_eval, req_payload) = request;
    if let Some((eval, payload)) = response {
        let ctx = RecordContext {
            payload,
            capture,
            call: None,
        };
        encode_evaluation(eval, &ctx, w, out, ids);
    }
    let text = |m: &[Message]| serde_json::to_string(m).expect("messages serialise");
    let kept_text = |eval: &Evaluation, payload: &Payload| match capture {
        Capture::Full => Some(text(&payload.messages)),
        Capture::Redacted | Capture::Verbatim => {
            Some(text(eval.redacted.as_deref().unwrap_or(&payload.messages)))
        }
        Capture::None => None,
    };
    let (action, reason, stage) = match response {
        Some((e, _)) if e.action >= req_eval.action => {
            (e.action, &e.reason, crate::payload::Stage::Response)
        }
        Some(_) => (
            req_eval.action,
            &req_eval.reason,
            crate::payload::Stage::Response,
        ),
        None => (
            req_eval.action,
            &req_eval.reason,
            crate::payload::Stage::Request,
        ),
    };
    let request_text = kept_text(req_eval, req_payload);
    let response_text = response.and_then(|(e, p)| kept_text(e, p));
    let hash = w.hasher.hash(&req_payload.messages);
    let kept = KeptProvenance::new(call, capture);
    let row = InferenceWire {
        request_id: &req_eval.request_id,
        timestamp_us: now_us(),
        host_id: w.host_id,
        policy_name: &req_eval.policy,
        policy_digest: &req_eval.policy_digest,
        route: &req_payload.route,
        caller: &req_payload.caller,
        stage: stage.as_str(),
        capture: capture.as_str(),
        request: request_text.as_deref(),
        response: response_text.as_deref(),
        payload_hash: &hash,
        action: action.as_str(),
        reason,
        status_code: call.status_code.map(i32::from),
        prompt_tokens: call.tokens.prompt.map(|t| t as i64),
        completion_tokens: call.tokens.completion.map(|t| t as i64),
        guard_latency_us: (req_eval.latency_us + response.map_or(0, |(e, _)| e.latency_us)) as i64,
        total_latency_us: call.total_latency_us.map(|t| t as i64),
        decision_count: (req_eval.decisions.len() + response.map_or(0, |(e, _)| e.decisions.len()))
            as i32,
        api: call.api,
        previous_response_id: call.previous_response_id,
        scanned_fields: Some(FieldsOut(req_payload, response.map(|(_, p)| p))),
        upstream: kept.get(|p| &p.upstream),
        upstream_model: kept.get(|p| &p.upstream_model),
        system_fingerprint: kept.get(|p| &p.system_fingerprint),
        parameters: kept.get(|p| &p.parameters),
        end_user: kept.get(|p| &p.end_user),
        attributes: kept.attributes(),
        request_body: kept.body(|p| &p.request_body),
        response_body: kept.body(|p| &p.response_body),
        trace_id: call.trace_id,
        arm: req_eval.arm.map(|a| a.as_str()),
    };
    w.inference(&row, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::Stage;
    use crate::verdict::{Finding, Span};

    fn finding(span: Option<(u32, u32, u32)>) -> Finding {
        Finding {
            rule_id: "r".into(),
            category: "CREDIT_CARD".into(),
            score: 1.0,
            span: span.map(|(message, start, end)| Span {
                message,
                start,
                end,
            }),
            replacement: None,
        }
    }

    #[test]
    fn a_finding_names_the_field_of_the_message_its_span_points_into() {
        let mut p = Payload::text(Stage::Request, "a");
        p.messages = vec![
            Message::new("user", "a").with_field("messages[0].content"),
            Message::new("assistant", "b"),
            Message::new("tool", "c"),
        ];
        // A message built without a field: the serve layer's attribute.
        p.attributes = vec![("message.1.field".into(), "messages[1].refusal".into())];
        let f = |p: &Payload, s| finding_field(p, &finding(s)).map(str::to_string);
        let named = |s: &str| Some(s.to_string());
        assert_eq!(f(&p, Some((0, 0, 1))), named("messages[0].content"));
        assert_eq!(f(&p, Some((1, 0, 1))), named("messages[1].refusal"));
        assert_eq!(f(&p, Some((2, 0, 1))), None, "no field known");
        assert_eq!(f(&p, Some((9, 0, 1))), None, "no such message");
        assert_eq!(f(&p, None), None, "no span, several messages: no guess");
        p.messages.truncate(1);
        assert_eq!(
            f(&p, None),
            named("messages[0].content"),
            "one text: no doubt"
        );
        assert_eq!(
            scanned_fields(&p).collect::<Vec<_>>(),
            ["messages[0].content"]
        );
    }
}
