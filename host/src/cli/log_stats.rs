//! `railyard log stats`: decision counts and plugin latency percentiles
//! over a window, and the shadow/canary agreement matrix.

use std::collections::BTreeMap;

use super::EXIT_ALLOWED;
use super::log::{Filters, read_decisions};
use crate::audit::DecisionRow;

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx]
}

pub(super) async fn stats(
    root: &url::Url,
    options: &std::collections::HashMap<String, String>,
    filters: &Filters,
    json: bool,
) -> anyhow::Result<u8> {
    let w = filters.window()?;
    let all: Vec<_> = read_decisions(root, options)
        .await?
        .into_iter()
        .filter(|d| filters.keeps_decision(&w, d))
        .collect();
    let (agreement, shadowed) = super::log_rollout::agreement(&all);
    // Shadow rows affected no call: they count in the agreement only.
    let rows: Vec<_> = all
        .into_iter()
        .filter(|d| !super::log_rollout::is_shadow(d))
        .collect();
    let count = |f: fn(&DecisionRow) -> &str| {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for r in &rows {
            *m.entry(f(r).to_string()).or_default() += 1;
        }
        m
    };
    let by_action = count(|d| &d.action);
    let by_plugin = count(|d| &d.plugin);
    let by_outcome = count(|d| &d.outcome);
    let by_arm = count(|d| d.arm.as_deref().unwrap_or("-"));
    let mut lat: Vec<i64> = rows.iter().map(|d| d.latency_us).collect();
    lat.sort_unstable();
    let pct = [
        ("p50", percentile(&lat, 0.50)),
        ("p90", percentile(&lat, 0.90)),
        ("p99", percentile(&lat, 0.99)),
        ("max", lat.last().copied().unwrap_or(0)),
    ];
    if json {
        let latency: serde_json::Map<_, _> = pct
            .iter()
            .map(|(k, v)| (k.to_string(), (*v).into()))
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "decisions": rows.len(),
                "by_action": by_action,
                "by_plugin": by_plugin,
                "by_outcome": by_outcome,
                "by_arm": by_arm,
                "latency_us": latency,
                "shadowed_stages": shadowed,
                "shadow_agreement": super::log_rollout::matrix_json(&agreement),
            })
        );
        return Ok(EXIT_ALLOWED);
    }
    println!("decisions: {}", rows.len());
    for (title, m) in [
        ("action", &by_action),
        ("plugin", &by_plugin),
        ("outcome", &by_outcome),
        ("arm", &by_arm),
    ] {
        println!("\nby {title}:");
        for (k, v) in m {
            println!("  {k:<20} {v:>10}");
        }
    }
    println!("\nplugin latency (µs):");
    for (k, v) in pct {
        println!("  {k:<4} {v:>10}");
    }
    super::log_rollout::print_matrix(&agreement, shadowed);
    Ok(EXIT_ALLOWED)
}
