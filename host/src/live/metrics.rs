//! Counters of reload outcomes, for `/metrics`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of reload outcomes, for `/metrics`.
#[derive(Debug, Default)]
pub struct ReloadMetrics {
    pub(super) reloads: AtomicU64,
    pub(super) swaps: AtomicU64,
    pub(super) plugins_live: AtomicU64,
    pub(super) policy_refused: AtomicU64,
    pub(super) plugin_refused: Mutex<BTreeMap<&'static str, u64>>,
}

/// A copy of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Reloads run.
    pub reloads_total: u64,
    /// New pipelines swapped in.
    pub swaps_total: u64,
    /// Plugin versions that went live from the plugins folder.
    pub plugins_live_total: u64,
    /// Policy files refused.
    pub policy_refused_total: u64,
    /// Plugin versions refused, by step (`manifest`, `digest`, `signature`,
    /// `capabilities`, `load`, `info`, `name`, `smoke-test`).
    pub plugin_refused_total: BTreeMap<&'static str, u64>,
}

impl MetricsSnapshot {
    /// Plugin versions refused, all steps.
    pub fn plugin_refused(&self) -> u64 {
        self.plugin_refused_total.values().sum()
    }

    /// Adds the counters to a `/metrics` scrape's registry.
    pub fn register(&self, r: &mut prometheus_client::registry::Registry) {
        use prometheus_client::metrics::counter::{ConstCounter, Counter};
        use prometheus_client::metrics::family::Family;
        r.register(
            "railyard_reloads",
            "Plugin and policy reloads run",
            ConstCounter::new(self.reloads_total),
        );
        r.register(
            "railyard_pipeline_swaps",
            "New pipelines swapped in",
            ConstCounter::new(self.swaps_total),
        );
        r.register(
            "railyard_plugin_versions_live",
            "Plugin versions from the plugins folder that went live",
            ConstCounter::new(self.plugins_live_total),
        );
        r.register(
            "railyard_policy_reload_refused",
            "Policy files refused at reload",
            ConstCounter::new(self.policy_refused_total),
        );
        let refused = Family::<[(&'static str, &'static str); 1], Counter>::default();
        for (step, v) in &self.plugin_refused_total {
            refused.get_or_create(&[("step", *step)]).inc_by(*v);
        }
        r.register(
            "railyard_plugin_reload_refused",
            "Plugin versions refused at reload, by the step that refused them",
            refused,
        );
    }

    /// The counters alone, in the Prometheus text format.
    pub fn prometheus(&self) -> String {
        let mut r = prometheus_client::registry::Registry::default();
        self.register(&mut r);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &r);
        out
    }
}

impl ReloadMetrics {
    /// A copy of the counters.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            reloads_total: self.reloads.load(Ordering::Relaxed),
            swaps_total: self.swaps.load(Ordering::Relaxed),
            plugins_live_total: self.plugins_live.load(Ordering::Relaxed),
            policy_refused_total: self.policy_refused.load(Ordering::Relaxed),
            plugin_refused_total: self
                .plugin_refused
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    pub(super) fn refused(&self, step: &'static str) {
        *self
            .plugin_refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(step)
            .or_default() += 1;
    }
}
