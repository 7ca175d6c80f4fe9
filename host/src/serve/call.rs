//! One call through the serve layer: the context every entry point hands
//! on, and the one decide step every stage takes.
//!
//! Every stage of every entry point (a guard call, a proxied request, its
//! answer, a stream at its end, in either wire format) decides the same
//! way, in the same order:
//!
//! 1. **evaluate**: the policy's plugins for the stage ([`State::decide`]);
//! 2. **judge**: the blocking judges the routers asked for fold their
//!    verdicts in, holding the call within the route's budget when it can
//!    still be held (not once a stream is out);
//! 3. **count**: the metrics;
//! 4. **record**: the entry point writes its rows (they differ: a guard
//!    call, a request before it goes upstream, a whole call) and gets the
//!    decision ids back;
//! 5. **settle**: the judgements are recorded under those ids, and the
//!    asynchronous ones start ([`Decided::record`]).
//!
//! Steps 1 to 3 are [`State::decide`]; 4 and 5 are [`Decided::record`], so
//! no entry point can record without settling or settle before recording.

use std::sync::Arc;
use std::time::Instant;

use hyper::StatusCode;

use super::access::CallerId;
use super::admission::Permits;
use super::{ApiError, State};
use crate::audit::TokenCounts;
use crate::evaluation::Evaluation;
use crate::judge::Judged;
use crate::payload::Payload;
use crate::pipeline::Pipeline;
use crate::pipeline::lanes::LanesEnd;
use crate::policy::Capture;

/// What a model-facing call carries from admission to its answer.
pub(super) struct Call {
    /// The configuration it runs on, to its end.
    pub state: Arc<State>,
    /// The id every decision of the call is recorded under.
    pub request_id: String,
    /// Who is calling.
    pub caller: CallerId,
    /// When the request arrived.
    pub started: Instant,
    /// Its concurrency slots, held until the answer (or the stream) ends.
    pub permits: Permits,
    /// What the record takes from the request's headers (end user,
    /// business attributes).
    pub tags: super::audit_config::RequestTags,
}

/// A stage decided (steps 1 to 3): the evaluation, and the judgements that
/// wait for its decision ids.
pub(super) struct Decided {
    /// The evaluation, with the blocking judges' verdicts folded in.
    pub evaluation: Evaluation,
    judged: Judged,
}

impl State {
    /// Steps 1 to 3 for `payload`: `pipeline`'s plugins evaluate it, the
    /// blocking judges fold their verdicts in (holding the call when
    /// `can_hold`), `amend` sets what is not a plugin's decision (the
    /// policy's verdict on non-text parts), and the metrics count it.
    pub(super) async fn decide(
        &self,
        pipeline: &Pipeline,
        payload: &Payload,
        can_hold: bool,
        amend: impl FnOnce(&mut Evaluation),
    ) -> Decided {
        let evaluation = super::offload::run(payload.input_bytes(), || pipeline.evaluate(payload));
        let capture = pipeline.policy().audit.capture;
        self.decided(evaluation, payload, capture, can_hold, amend)
            .await
    }

    /// Steps 2 and 3 for an evaluation made elsewhere (a stream's lanes).
    pub(super) async fn decided(
        &self,
        mut evaluation: Evaluation,
        payload: &Payload,
        capture: Capture,
        can_hold: bool,
        amend: impl FnOnce(&mut Evaluation),
    ) -> Decided {
        let judged = self
            .judge(&mut evaluation, payload, capture, can_hold)
            .await;
        amend(&mut evaluation);
        super::rollout::decided(&mut evaluation, payload);
        self.metrics.evaluation(&evaluation);
        Decided { evaluation, judged }
    }

    /// All five steps for a streamed answer at its end, whose bytes are
    /// already out: nothing can be refused any more, so a failure to
    /// record is logged, and the judgements are settled (or logged as
    /// unrecorded) either way.
    pub(super) async fn conclude_stream(
        &self,
        request: (&Evaluation, &Payload),
        end: LanesEnd,
        ended: Ended,
    ) {
        let request_id = &request.1.request_id;
        let decided = self
            .decided(end.evaluation, &end.payload, ended.capture, false, |_| {})
            .await;
        let ids = super::call_scope::recorded(self, || {
            self.record_call(request, Some((&decided.evaluation, &end.payload)), ended)
        })
        .await
        .unwrap_or_else(|e| {
                tracing::error!(request_id = %request_id, error = %e.message, "a streamed answer's decisions could not be recorded");
                Vec::new()
            });
        if let Err(e) = self.settle(decided.judged, &ids) {
            tracing::error!(request_id = %request_id, error = %e.message, "a streamed answer's judgements could not be recorded");
        }
    }
}

/// How a call ended, as its `inferences` row records it.
pub(super) struct Ended {
    /// What the policy records of texts.
    pub capture: Capture,
    /// The status answered (or, for a stream, recorded).
    pub status: StatusCode,
    /// When the request arrived.
    pub started: Instant,
    /// The tokens the upstream reported or the stream counted.
    pub tokens: TokenCounts,
    /// Upstream, answering model, parameters, end user, attributes and
    /// (under `capture = "verbatim"`) the raw bodies.
    pub provenance: crate::audit::Provenance,
}

impl Ended {
    /// A call that ended without an answer: `status`, no tokens.
    pub(super) fn failed(
        capture: Capture,
        status: StatusCode,
        started: Instant,
        provenance: crate::audit::Provenance,
    ) -> Ended {
        Ended {
            capture,
            status,
            started,
            tokens: TokenCounts::default(),
            provenance,
        }
    }
}

impl Decided {
    /// Steps 4 and 5: `record` writes the stage's rows and returns their
    /// decision ids; the judgements are then settled under them. Returns
    /// the evaluation.
    pub(super) fn record(
        self,
        state: &State,
        record: impl FnOnce(&Evaluation) -> Result<Vec<String>, ApiError>,
    ) -> Result<Evaluation, ApiError> {
        let ids = record(&self.evaluation)?;
        state.settle(self.judged, &ids)?;
        Ok(self.evaluation)
    }
}
