//! The rollout's counters on `/metrics`: canary calls by arm, shadow
//! evaluations, skips, and the agreement between live and shadow actions
//! (a confusion matrix per plugin, and one for the merged verdict).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use crate::evaluation::Evaluation;
use crate::verdict::Action;

/// The action label of a plugin one side does not have.
const ABSENT: &str = "none";

#[derive(Default)]
struct Inner {
    /// (route, candidate, arm) → calls.
    canary: BTreeMap<(String, String, &'static str), u64>,
    /// (policy, candidate) → shadow evaluations done.
    evaluations: BTreeMap<(String, String), u64>,
    /// (policy, candidate, reason) → shadow evaluations skipped.
    skipped: BTreeMap<(String, String, &'static str), u64>,
    /// candidate → shadow evaluations not recorded.
    unrecorded: BTreeMap<String, u64>,
    /// (policy, candidate, stage, plugin, live, shadow) → decisions.
    decisions: BTreeMap<(String, String, String, String, String, String), u64>,
    /// (policy, candidate, stage, live, shadow) → merged verdicts.
    verdicts: BTreeMap<(String, String, String, &'static str, &'static str), u64>,
}

/// Shared by every configuration, like the server's own metrics.
#[derive(Default)]
pub(crate) struct Metrics {
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

    /// A call on `route` served by `arm` of its canary `candidate`.
    pub(super) fn canary_call(&self, route: &str, candidate: &str, arm: &'static str) {
        *self
            .lock()
            .canary
            .entry((route.to_string(), candidate.to_string(), arm))
            .or_default() += 1;
    }

    pub(super) fn shadow_skipped(&self, policy: &str, candidate: &str, reason: &'static str) {
        *self
            .lock()
            .skipped
            .entry((policy.to_string(), candidate.to_string(), reason))
            .or_default() += 1;
    }

    pub(super) fn shadow_unrecorded(&self, candidate: &str) {
        *self
            .lock()
            .unrecorded
            .entry(candidate.to_string())
            .or_default() += 1;
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
        let mut m = self.lock();
        let key = (policy.to_string(), candidate.to_string());
        *m.evaluations.entry(key).or_default() += 1;
        let mut cell = |plugin: &str, l: &str, s: &str| {
            *m.decisions
                .entry((
                    policy.to_string(),
                    candidate.to_string(),
                    stage.to_string(),
                    plugin.to_string(),
                    l.to_string(),
                    s.to_string(),
                ))
                .or_default() += 1;
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
        *m.verdicts
            .entry((
                policy.to_string(),
                candidate.to_string(),
                stage.to_string(),
                live_action.as_str(),
                shadow.action.as_str(),
            ))
            .or_default() += 1;
    }

    /// The Prometheus text; `depths` is each shadow queue's (candidate,
    /// jobs waiting, capacity).
    pub(super) fn render(&self, out: &mut String, depths: &[(String, usize, usize)]) {
        let m = self.lock();
        out.push_str("# HELP railyard_canary_calls_total Calls on a route with a canary, by route, candidate and the arm that served (live, canary).\n# TYPE railyard_canary_calls_total counter\n");
        for ((route, candidate, arm), n) in &m.canary {
            let _ = writeln!(
                out,
                "railyard_canary_calls_total{{route=\"{}\",candidate=\"{}\",arm=\"{arm}\"}} {n}",
                escape(route),
                escape(candidate)
            );
        }
        out.push_str("# HELP railyard_shadow_evaluations_total Stages a shadow candidate evaluated, by the policy that served and the candidate.\n# TYPE railyard_shadow_evaluations_total counter\n");
        for ((policy, candidate), n) in &m.evaluations {
            let _ = writeln!(
                out,
                "railyard_shadow_evaluations_total{{policy=\"{}\",candidate=\"{}\"}} {n}",
                escape(policy),
                escape(candidate)
            );
        }
        out.push_str("# HELP railyard_shadow_skipped_total Shadow evaluations skipped, by reason (queue_full: the candidate's queue had no room; the call was not delayed).\n# TYPE railyard_shadow_skipped_total counter\n");
        for ((policy, candidate, reason), n) in &m.skipped {
            let _ = writeln!(
                out,
                "railyard_shadow_skipped_total{{policy=\"{}\",candidate=\"{}\",reason=\"{reason}\"}} {n}",
                escape(policy),
                escape(candidate)
            );
        }
        out.push_str("# HELP railyard_shadow_unrecorded_total Shadow evaluations whose rows the audit log did not accept.\n# TYPE railyard_shadow_unrecorded_total counter\n");
        for (candidate, n) in &m.unrecorded {
            let _ = writeln!(
                out,
                "railyard_shadow_unrecorded_total{{candidate=\"{}\"}} {n}",
                escape(candidate)
            );
        }
        out.push_str("# HELP railyard_shadow_queue_depth Shadow jobs waiting, by candidate.\n# TYPE railyard_shadow_queue_depth gauge\n");
        for (candidate, depth, _) in depths {
            let _ = writeln!(
                out,
                "railyard_shadow_queue_depth{{candidate=\"{}\"}} {depth}",
                escape(candidate)
            );
        }
        out.push_str("# HELP railyard_shadow_queue_capacity Shadow jobs a candidate's queue holds ([rollout] shadow-queue).\n# TYPE railyard_shadow_queue_capacity gauge\n");
        for (candidate, _, capacity) in depths {
            let _ = writeln!(
                out,
                "railyard_shadow_queue_capacity{{candidate=\"{}\"}} {capacity}",
                escape(candidate)
            );
        }
        out.push_str("# HELP railyard_shadow_decisions_total Live vs shadow action per plugin (a confusion matrix; none: that side has no such plugin).\n# TYPE railyard_shadow_decisions_total counter\n");
        for ((policy, candidate, stage, plugin, live, shadow), n) in &m.decisions {
            let _ = writeln!(
                out,
                "railyard_shadow_decisions_total{{policy=\"{}\",candidate=\"{}\",stage=\"{stage}\",plugin=\"{}\",live=\"{live}\",shadow=\"{shadow}\"}} {n}",
                escape(policy),
                escape(candidate),
                escape(plugin)
            );
        }
        out.push_str("# HELP railyard_shadow_verdicts_total Live vs shadow merged verdict per stage.\n# TYPE railyard_shadow_verdicts_total counter\n");
        for ((policy, candidate, stage, live, shadow), n) in &m.verdicts {
            let _ = writeln!(
                out,
                "railyard_shadow_verdicts_total{{policy=\"{}\",candidate=\"{}\",stage=\"{stage}\",live=\"{live}\",shadow=\"{shadow}\"}} {n}",
                escape(policy),
                escape(candidate)
            );
        }
    }
}
