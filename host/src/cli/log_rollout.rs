//! `railyard log stats`, rollout part: live decisions by arm, and the
//! agreement between live and shadow decisions read back from the table.
//!
//! A shadow row (`arm = "shadow"`) is joined to the live rows of the same
//! call by `request_id` and `stage`, plugin by plugin (by its name in the
//! policy): a plugin only one side has counts against `none` on the other,
//! as on `/metrics`. Only stages a shadow evaluated are compared, so calls
//! on routes without a shadow (and stages it skipped) count nowhere here.

use std::collections::{BTreeMap, HashMap};

use crate::audit::DecisionRow;

/// The `arm` of a shadow row.
pub(super) const SHADOW: &str = "shadow";

/// The action label of a plugin one side does not have.
const ABSENT: &str = "none";

/// Live vs shadow actions: (plugin, live action, shadow action) → count.
pub(super) type Matrix = BTreeMap<(String, String, String), u64>;

/// Whether `d` is a shadow row (it affected no call).
pub(super) fn is_shadow(d: &DecisionRow) -> bool {
    d.arm.as_deref() == Some(SHADOW)
}

/// The per-plugin confusion matrix of `rows` (live and shadow rows
/// together), and the number of shadowed stages it covers.
pub(super) fn agreement(rows: &[DecisionRow]) -> (Matrix, usize) {
    // (request id, stage) → (live plugin → action, shadow plugin → action)
    type Side<'a> = BTreeMap<&'a str, &'a str>;
    let mut stages: HashMap<(&str, &str), (Side<'_>, Side<'_>)> = HashMap::new();
    for d in rows {
        let side = stages
            .entry((d.request_id.as_str(), d.stage.as_str()))
            .or_default();
        let side = if is_shadow(d) {
            &mut side.1
        } else {
            &mut side.0
        };
        side.insert(d.plugin.as_str(), d.action.as_str());
    }
    let mut matrix = Matrix::new();
    let mut shadowed = 0;
    for (live, shadow) in stages.values().filter(|(_, s)| !s.is_empty()) {
        shadowed += 1;
        let mut cell = |plugin: &str, l: &str, s: &str| {
            *matrix
                .entry((plugin.to_string(), l.to_string(), s.to_string()))
                .or_default() += 1;
        };
        for (plugin, s) in shadow {
            cell(plugin, live.get(plugin).copied().unwrap_or(ABSENT), s);
        }
        for (plugin, l) in live {
            if !shadow.contains_key(plugin) {
                cell(plugin, l, ABSENT);
            }
        }
    }
    (matrix, shadowed)
}

/// The matrix as JSON: one object per cell.
pub(super) fn matrix_json(m: &Matrix) -> serde_json::Value {
    m.iter()
        .map(|((plugin, live, shadow), n)| {
            serde_json::json!({"plugin": plugin, "live": live, "shadow": shadow, "count": n})
        })
        .collect()
}

/// The matrix for a terminal: per plugin, how often the shadow agreed,
/// then every cell.
pub(super) fn print_matrix(m: &Matrix, shadowed: usize) {
    println!("\nshadow agreement ({shadowed} shadowed stage(s); live → shadow):");
    if m.is_empty() {
        println!("  (no shadow decisions)");
        return;
    }
    let mut per_plugin: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for ((plugin, live, shadow), n) in m {
        let p = per_plugin.entry(plugin).or_default();
        p.1 += n;
        if live == shadow {
            p.0 += n;
        }
    }
    for (plugin, (agree, total)) in &per_plugin {
        println!("  {plugin:<20} {agree:>8} of {total:<8} agree");
        for ((_, live, shadow), n) in m.iter().filter(|((p, _, _), _)| p == plugin) {
            let mark = if live == shadow { " " } else { "!" };
            println!("    {mark} {live:>7} → {shadow:<7} {n:>8}");
        }
    }
}
