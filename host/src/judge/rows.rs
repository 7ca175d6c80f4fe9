//! What a judgement leaves behind: its `judgements` row, its counter,
//! and the dispatcher's `/metrics`.

use std::sync::atomic::Ordering;

use super::{Dispatcher, Job, Ran, Status};
use crate::audit::JudgementRow;
use crate::policy::Capture;

impl Dispatcher {
    pub(super) fn row(&self, job: &Job, ran: &Ran, effect: &str) -> JudgementRow {
        let keep_text = job.capture != Capture::None;
        let model = self
            .judges
            .get(&job.request.judge)
            .map(|e| e.config.model.clone())
            .unwrap_or_default();
        let v = ran.verdict.as_ref();
        JudgementRow {
            judgement_id: crate::payload::new_request_id(),
            request_id: job.request_id.clone(),
            decision_id: String::new(),
            timestamp_us: crate::audit::now_us(),
            host_id: self
                .audit
                .as_ref()
                .map(|a| a.host_id().to_string())
                .unwrap_or_default(),
            stage: job.stage.to_string(),
            route: job.route.clone(),
            caller: job.caller.clone(),
            judge: job.request.judge.clone(),
            model,
            rubric: job.request.rubric.clone(),
            router: job.router.clone(),
            router_digest: job.router_digest.clone(),
            routing_reason: job.request.reason.clone(),
            mode: job.request.mode.as_str().to_string(),
            priority: i32::from(job.request.priority),
            sample_rate: f64::from(job.request.sample_rate),
            status: ran.status.as_str().to_string(),
            verdict: v.map(|v| v.verdict.as_str().to_string()),
            score: v.and_then(|v| v.score),
            categories: v.map(|v| v.categories.clone()).unwrap_or_default(),
            reasoning: v
                .filter(|_| keep_text)
                .map(|v| v.reasoning.clone())
                .filter(|r| !r.is_empty()),
            raw_answer: ran.raw_answer.clone().filter(|_| keep_text),
            error: ran.error.clone(),
            effect: effect.to_string(),
            requested_at_us: job.requested_at_us,
            queued_us: ran.queued_us,
            latency_us: ran.latency_us,
            wal_segment: 0,
            wal_offset: 0,
        }
    }

    pub(super) fn count(&self, job: &Job, status: Status) {
        let mode = job.request.mode.as_str();
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        *c.judgements
            .entry((job.request.judge.clone(), mode, status.as_str()))
            .or_default() += 1;
    }

    /// Adds the dispatcher's metrics to a `/metrics` scrape.
    pub fn register_metrics(&self, r: &mut prometheus_client::registry::Registry) {
        use prometheus_client::metrics::counter::{ConstCounter, Counter};
        use prometheus_client::metrics::family::Family;
        use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
        let judgements = Family::<[(&'static str, String); 3], Counter>::default();
        let c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for ((judge, mode, status), n) in &c.judgements {
            judgements
                .get_or_create(&[
                    ("judge", judge.clone()),
                    ("mode", mode.to_string()),
                    ("status", status.to_string()),
                ])
                .inc_by(*n);
        }
        drop(c);
        r.register(
            "railyard_judgements",
            "Judgements by judge, mode and status (ok, timeout, error, skipped)",
            judgements,
        );
        let in_flight = Family::<[(&'static str, String); 1], Gauge>::default();
        let queued = Family::<[(&'static str, String); 1], Gauge>::default();
        for (name, e) in &self.judges {
            let (running, waiting) = e.gate.load();
            let label = [("judge", name.clone())];
            in_flight.get_or_create(&label).set(running as i64);
            queued.get_or_create(&label).set(waiting as i64);
        }
        r.register(
            "railyard_judge_in_flight",
            "Judge calls in flight",
            in_flight,
        );
        r.register(
            "railyard_judge_queued",
            "Judge requests waiting for a slot",
            queued,
        );
        r.register(
            "railyard_judgements_pending",
            "Async judgements started and not yet recorded",
            ConstGauge::new(self.pending() as i64),
        );
        r.register(
            "railyard_judgements_unrecorded",
            "Judgement rows the audit log refused (each logged at error)",
            ConstCounter::new(self.unrecorded.load(Ordering::Relaxed)),
        );
    }
}
