//! Server metrics in Prometheus text format (`GET /metrics`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use crate::evaluation::Evaluation;

/// Upper bounds of the latency histograms, in seconds.
const BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS.len()];
        }
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let n = self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    /// (endpoint, status) → count.
    requests: BTreeMap<(String, u16), u64>,
    /// endpoint → latency.
    request_latency: BTreeMap<String, Histogram>,
    /// (plugin, stage, action) → count.
    actions: BTreeMap<(String, String, String), u64>,
    /// (plugin, outcome) → count.
    outcomes: BTreeMap<(String, String), u64>,
    /// plugin → latency.
    plugin_latency: BTreeMap<String, Histogram>,
    /// (stage, action) → count, for whole evaluations.
    verdicts: BTreeMap<(String, String), u64>,
    /// Why requests were refused before evaluation (auth, limits, …).
    refused: BTreeMap<String, u64>,
    /// caller → (calls admitted, tokens estimated at admission).
    callers: BTreeMap<String, (u64, u64)>,
}

/// Counters and histograms, shared by every request.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One HTTP request answered.
    pub fn request(&self, endpoint: &str, status: u16, seconds: f64) {
        let mut m = self.lock();
        *m.requests
            .entry((endpoint.to_string(), status))
            .or_default() += 1;
        m.request_latency
            .entry(endpoint.to_string())
            .or_default()
            .observe(seconds);
    }

    /// A request refused before evaluation, by reason.
    pub fn refused(&self, reason: &str) {
        *self.lock().refused.entry(reason.to_string()).or_default() += 1;
    }

    /// A model-facing call admitted for `caller`, with its token estimate
    /// (see `quota::estimate`).
    pub fn admitted(&self, caller: &str, tokens: u64) {
        let mut m = self.lock();
        let c = m.callers.entry(caller.to_string()).or_default();
        c.0 += 1;
        c.1 += tokens;
    }

    /// One evaluation's per-plugin actions, outcomes and latencies.
    pub fn evaluation(&self, e: &Evaluation) {
        let mut m = self.lock();
        let stage = e.stage.as_str().to_string();
        *m.verdicts
            .entry((stage.clone(), e.action.as_str().to_string()))
            .or_default() += 1;
        for d in &e.decisions {
            *m.actions
                .entry((
                    d.plugin.clone(),
                    stage.clone(),
                    d.action.as_str().to_string(),
                ))
                .or_default() += 1;
            *m.outcomes
                .entry((d.plugin.clone(), d.outcome.as_str().to_string()))
                .or_default() += 1;
            m.plugin_latency
                .entry(d.plugin.clone())
                .or_default()
                .observe(d.latency_us as f64 / 1e6);
        }
    }

    /// The Prometheus text of everything counted so far.
    pub fn render(&self, out: &mut String) {
        let m = self.lock();
        out.push_str("# HELP railyard_http_requests_total HTTP requests answered, by endpoint and status.\n# TYPE railyard_http_requests_total counter\n");
        for ((endpoint, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "railyard_http_requests_total{{endpoint=\"{}\",status=\"{status}\"}} {n}",
                escape(endpoint)
            );
        }
        out.push_str("# HELP railyard_http_request_duration_seconds Time until the answer is ready to send, by endpoint (a stream: until its headers).\n# TYPE railyard_http_request_duration_seconds histogram\n");
        for (endpoint, h) in &m.request_latency {
            h.render(
                out,
                "railyard_http_request_duration_seconds",
                &format!("endpoint=\"{}\"", escape(endpoint)),
            );
        }
        out.push_str("# HELP railyard_requests_refused_total Requests refused before evaluation, by reason.\n# TYPE railyard_requests_refused_total counter\n");
        for (reason, n) in &m.refused {
            let _ = writeln!(
                out,
                "railyard_requests_refused_total{{reason=\"{}\"}} {n}",
                escape(reason)
            );
        }
        out.push_str("# HELP railyard_caller_requests_total Model-facing calls admitted, by caller.\n# TYPE railyard_caller_requests_total counter\n");
        for (caller, (n, _)) in &m.callers {
            let _ = writeln!(
                out,
                "railyard_caller_requests_total{{caller=\"{}\"}} {n}",
                escape(caller)
            );
        }
        out.push_str("# HELP railyard_caller_tokens_estimated_total Tokens counted at admission (prompt estimate plus completion bound, as quotas count them), by caller.\n# TYPE railyard_caller_tokens_estimated_total counter\n");
        for (caller, (_, t)) in &m.callers {
            let _ = writeln!(
                out,
                "railyard_caller_tokens_estimated_total{{caller=\"{}\"}} {t}",
                escape(caller)
            );
        }
        out.push_str("# HELP railyard_verdicts_total Whole-stage verdicts, by stage and action.\n# TYPE railyard_verdicts_total counter\n");
        for ((stage, action), n) in &m.verdicts {
            let _ = writeln!(
                out,
                "railyard_verdicts_total{{stage=\"{stage}\",action=\"{action}\"}} {n}"
            );
        }
        out.push_str("# HELP railyard_plugin_actions_total Plugin decisions, by plugin, stage and action.\n# TYPE railyard_plugin_actions_total counter\n");
        for ((plugin, stage, action), n) in &m.actions {
            let _ = writeln!(
                out,
                "railyard_plugin_actions_total{{plugin=\"{}\",stage=\"{stage}\",action=\"{action}\"}} {n}",
                escape(plugin)
            );
        }
        out.push_str("# HELP railyard_plugin_outcomes_total Plugin runs, by plugin and outcome (ok, trapped, timed-out, ...).\n# TYPE railyard_plugin_outcomes_total counter\n");
        for ((plugin, outcome), n) in &m.outcomes {
            let _ = writeln!(
                out,
                "railyard_plugin_outcomes_total{{plugin=\"{}\",outcome=\"{outcome}\"}} {n}",
                escape(plugin)
            );
        }
        out.push_str("# HELP railyard_plugin_duration_seconds Plugin call latency, by plugin.\n# TYPE railyard_plugin_duration_seconds histogram\n");
        for (plugin, h) in &m.plugin_latency {
            h.render(
                out,
                "railyard_plugin_duration_seconds",
                &format!("plugin=\"{}\"", escape(plugin)),
            );
        }
    }
}
