//! Server metrics (`GET /metrics`), kept in `prometheus-client` counters
//! and histograms and encoded in the Prometheus text format (0.0.4) by
//! that crate.
//!
//! Each scrape builds a [`Registry`] from the metrics of everything that
//! counts (this server's, the reloader's, the judges', the quotas', the
//! audit log's): see `metrics_endpoint`. The metric types are `Arc`s
//! inside, so registering them costs a clone of a pointer.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::evaluation::Evaluation;

/// Upper bounds of the latency histograms, in seconds.
const BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 10.0,
];

fn histogram() -> Histogram {
    Histogram::new(BUCKETS.iter().copied())
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointStatus {
    endpoint: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Endpoint {
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginStageAction {
    plugin: String,
    stage: String,
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginOutcome {
    plugin: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Plugin {
    plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageAction {
    stage: String,
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Caller {
    caller: String,
}

/// Counters and histograms, shared by every request.
pub struct Metrics {
    requests: Family<EndpointStatus, Counter>,
    request_latency: Histograms<Endpoint>,
    refused: Family<Reason, Counter>,
    caller_requests: Family<Caller, Counter>,
    caller_tokens: Family<Caller, Counter>,
    verdicts: Family<StageAction, Counter>,
    actions: Family<PluginStageAction, Counter>,
    outcomes: Family<PluginOutcome, Counter>,
    plugin_latency: Histograms<Plugin>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            requests: Family::default(),
            request_latency: Family::new_with_constructor(histogram),
            refused: Family::default(),
            caller_requests: Family::default(),
            caller_tokens: Family::default(),
            verdicts: Family::default(),
            actions: Family::default(),
            outcomes: Family::default(),
            plugin_latency: Family::new_with_constructor(histogram),
        }
    }
}

impl Metrics {
    /// One HTTP request answered.
    pub fn request(&self, endpoint: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&EndpointStatus {
                endpoint: endpoint.to_string(),
                status: status.to_string(),
            })
            .inc();
        self.request_latency
            .get_or_create(&Endpoint {
                endpoint: endpoint.to_string(),
            })
            .observe(seconds);
    }

    /// A request refused before evaluation, by reason.
    pub fn refused(&self, reason: &str) {
        self.refused
            .get_or_create(&Reason {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// A model-facing call admitted for `caller`, with its token estimate
    /// (see `quota::estimate`).
    pub fn admitted(&self, caller: &str, tokens: u64) {
        let caller = Caller {
            caller: caller.to_string(),
        };
        self.caller_requests.get_or_create(&caller).inc();
        self.caller_tokens.get_or_create(&caller).inc_by(tokens);
    }

    /// One evaluation's per-plugin actions, outcomes and latencies.
    pub fn evaluation(&self, e: &Evaluation) {
        let stage = e.stage.as_str();
        self.verdicts
            .get_or_create(&StageAction {
                stage: stage.to_string(),
                action: e.action.as_str().to_string(),
            })
            .inc();
        for d in &e.decisions {
            self.actions
                .get_or_create(&PluginStageAction {
                    plugin: d.plugin.clone(),
                    stage: stage.to_string(),
                    action: d.action.as_str().to_string(),
                })
                .inc();
            self.outcomes
                .get_or_create(&PluginOutcome {
                    plugin: d.plugin.clone(),
                    outcome: d.outcome.as_str().to_string(),
                })
                .inc();
            self.plugin_latency
                .get_or_create(&Plugin {
                    plugin: d.plugin.clone(),
                })
                .observe(d.latency_us as f64 / 1e6);
        }
    }

    /// Adds these metrics to a scrape's registry.
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "railyard_http_requests",
            "HTTP requests answered, by endpoint and status",
            self.requests.clone(),
        );
        r.register(
            "railyard_http_request_duration_seconds",
            "Time until the answer is ready to send, by endpoint (a stream: until its headers)",
            self.request_latency.clone(),
        );
        r.register(
            "railyard_requests_refused",
            "Requests refused before evaluation, by reason",
            self.refused.clone(),
        );
        r.register(
            "railyard_caller_requests",
            "Model-facing calls admitted, by caller",
            self.caller_requests.clone(),
        );
        r.register(
            "railyard_caller_tokens_estimated",
            "Tokens counted at admission (prompt estimate plus completion bound, as quotas count them), by caller",
            self.caller_tokens.clone(),
        );
        r.register(
            "railyard_verdicts",
            "Whole-stage verdicts, by stage and action",
            self.verdicts.clone(),
        );
        r.register(
            "railyard_plugin_actions",
            "Plugin decisions, by plugin, stage and action",
            self.actions.clone(),
        );
        r.register(
            "railyard_plugin_outcomes",
            "Plugin runs, by plugin and outcome (ok, trapped, timed-out, ...)",
            self.outcomes.clone(),
        );
        r.register(
            "railyard_plugin_duration_seconds",
            "Plugin call latency, by plugin",
            self.plugin_latency.clone(),
        );
    }
}

/// The Prometheus text (format 0.0.4) of a registry.
pub fn encode(r: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, r);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_encode_as_prometheus_text() {
        let m = Metrics::default();
        m.request("/v1/chat/completions", 200, 0.003);
        m.request("/v1/chat/completions", 200, 0.2);
        m.refused("auth");
        m.admitted("team \"a\"", 120);
        let mut r = Registry::default();
        m.register(&mut r);
        let text = encode(&r);
        for line in [
            "# TYPE railyard_http_requests_total counter",
            "railyard_http_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 2",
            "railyard_requests_refused_total{reason=\"auth\"} 1",
            "railyard_caller_requests_total{caller=\"team \\\"a\\\"\"} 1",
            "railyard_caller_tokens_estimated_total{caller=\"team \\\"a\\\"\"} 120",
            "# TYPE railyard_http_request_duration_seconds histogram",
            "railyard_http_request_duration_seconds_bucket{endpoint=\"/v1/chat/completions\",le=\"0.005\"} 1",
            "railyard_http_request_duration_seconds_bucket{endpoint=\"/v1/chat/completions\",le=\"+Inf\"} 2",
            "railyard_http_request_duration_seconds_count{endpoint=\"/v1/chat/completions\"} 2",
        ] {
            assert!(text.contains(line), "missing `{line}` in:\n{text}");
        }
        // One HELP per family, and the help ends with one period.
        assert!(text.contains(
            "# HELP railyard_requests_refused_total Requests refused before evaluation, by reason.\n"
        ));
        assert!(!text.contains(".."), "{text}");
    }
}
