//! The rollout's counters on `/metrics`: canary calls by arm, shadow
//! evaluations, skips, and the agreement between live and shadow actions
//! (a confusion matrix per plugin, and one for the merged verdict). Kept
//! in `prometheus-client` families, like the server's own metrics.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::evaluation::Evaluation;
use crate::verdict::Action;

/// The action label of a plugin one side does not have.
const ABSENT: &str = "none";

type Labels<const N: usize> = [(&'static str, String); N];

/// Shared by every configuration, like the server's own metrics.
#[derive(Default)]
pub(crate) struct Metrics {
    /// (route, candidate, arm) → calls.
    canary: Family<Labels<3>, Counter>,
    /// (policy, candidate) → shadow evaluations done.
    evaluations: Family<Labels<2>, Counter>,
    /// (policy, candidate, reason) → shadow evaluations skipped.
    skipped: Family<Labels<3>, Counter>,
    /// candidate → shadow evaluations not recorded.
    unrecorded: Family<Labels<1>, Counter>,
    /// (policy, candidate, stage, plugin, live, shadow) → decisions.
    decisions: Family<Labels<6>, Counter>,
    /// (policy, candidate, stage, live, shadow) → merged verdicts.
    verdicts: Family<Labels<5>, Counter>,
}

impl Metrics {
    /// A call on `route` served by `arm` of its canary `candidate`.
    pub(super) fn canary_call(&self, route: &str, candidate: &str, arm: &'static str) {
        self.canary
            .get_or_create(&[
                ("route", route.to_string()),
                ("candidate", candidate.to_string()),
                ("arm", arm.to_string()),
            ])
            .inc();
    }

    pub(super) fn shadow_skipped(&self, policy: &str, candidate: &str, reason: &'static str) {
        self.skipped
            .get_or_create(&[
                ("policy", policy.to_string()),
                ("candidate", candidate.to_string()),
                ("reason", reason.to_string()),
            ])
            .inc();
    }

    pub(super) fn shadow_unrecorded(&self, candidate: &str) {
        self.unrecorded
            .get_or_create(&[("candidate", candidate.to_string())])
            .inc();
    }

    /// One shadow evaluation, compared plugin by plugin (by name in the
    /// policy) with the live actions: a plugin only one side runs counts
    /// against `none` on the other.
    pub(super) fn shadow_compared(
        &self,
        policy: &str,
        candidate: &str,
        stage: &str,
        live: &[(String, Action)],
        live_action: Action,
        shadow: &Evaluation,
    ) {
        self.evaluations
            .get_or_create(&[
                ("policy", policy.to_string()),
                ("candidate", candidate.to_string()),
            ])
            .inc();
        let cell = |plugin: &str, l: &str, s: &str| {
            self.decisions
                .get_or_create(&[
                    ("policy", policy.to_string()),
                    ("candidate", candidate.to_string()),
                    ("stage", stage.to_string()),
                    ("plugin", plugin.to_string()),
                    ("live", l.to_string()),
                    ("shadow", s.to_string()),
                ])
                .inc();
        };
        for d in &shadow.decisions {
            let l = live
                .iter()
                .find(|(p, _)| *p == d.plugin)
                .map_or(ABSENT, |(_, a)| a.as_str());
            cell(&d.plugin, l, d.action.as_str());
        }
        for (plugin, a) in live {
            if !shadow.decisions.iter().any(|d| d.plugin == *plugin) {
                cell(plugin, a.as_str(), ABSENT);
            }
        }
        self.verdicts
            .get_or_create(&[
                ("policy", policy.to_string()),
                ("candidate", candidate.to_string()),
                ("stage", stage.to_string()),
                ("live", live_action.as_str().to_string()),
                ("shadow", shadow.action.as_str().to_string()),
            ])
            .inc();
    }

    /// Adds the counters to a scrape; `depths` is each shadow queue's
    /// (candidate, jobs waiting, capacity).
    pub(super) fn register(&self, r: &mut Registry, depths: &[(String, usize, usize)]) {
        r.register(
            "railyard_canary_calls",
            "Calls on a route with a canary, by route, candidate and the arm that served (live, canary)",
            self.canary.clone(),
        );
        r.register(
            "railyard_shadow_evaluations",
            "Stages a shadow candidate evaluated, by the policy that served and the candidate",
            self.evaluations.clone(),
        );
        r.register(
            "railyard_shadow_skipped",
            "Shadow evaluations skipped, by reason (queue_full: the candidate's queue had no room; the call was not delayed)",
            self.skipped.clone(),
        );
        r.register(
            "railyard_shadow_unrecorded",
            "Shadow evaluations whose rows the audit log did not accept",
            self.unrecorded.clone(),
        );
        let depth = Family::<Labels<1>, Gauge>::default();
        let capacity = Family::<Labels<1>, Gauge>::default();
        for (candidate, d, c) in depths {
            let label = [("candidate", candidate.clone())];
            depth.get_or_create(&label).set(*d as i64);
            capacity.get_or_create(&label).set(*c as i64);
        }
        r.register(
            "railyard_shadow_queue_depth",
            "Shadow jobs waiting, by candidate",
            depth,
        );
        r.register(
            "railyard_shadow_queue_capacity",
            "Shadow jobs a candidate's queue holds ([rollout] shadow-queue)",
            capacity,
        );
        r.register(
            "railyard_shadow_decisions",
            "Live vs shadow action per plugin (a confusion matrix; none: that side has no such plugin)",
            self.decisions.clone(),
        );
        r.register(
            "railyard_shadow_verdicts",
            "Live vs shadow merged verdict per stage",
            self.verdicts.clone(),
        );
    }
}
