//! What a replay found: counts, live-vs-candidate matrices per plugin, the
//! changed decisions, the calls that could not be replayed, and whether
//! the `--fail-on` threshold was crossed.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::{ABSENT, CallReplay};

/// The `--fail-on` threshold, over replayed calls with a changed decision:
/// a count (`5`: more than five fails) or a share (`2%`: more than 2 % of
/// the replayed calls fails).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// More than this many changed calls.
    Count(u64),
    /// More than this percentage of replayed calls changed.
    Percent(f64),
}

impl std::str::FromStr for Threshold {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || {
            format!(
                "--fail-on {s:?}: expected a count of changed calls (0, 5) or a percentage of replayed calls (0.5%, 2%)"
            )
        };
        if let Some(p) = s.strip_suffix('%') {
            let p: f64 = p.trim().parse().map_err(|_| bad())?;
            if !(0.0..=100.0).contains(&p) {
                return Err(bad());
            }
            return Ok(Threshold::Percent(p));
        }
        s.parse().map(Threshold::Count).map_err(|_| bad())
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Threshold::Count(n) => write!(f, "{n}"),
            Threshold::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl Threshold {
    /// Whether `changed` of `replayed` calls is above the threshold.
    pub fn exceeded(self, changed: usize, replayed: usize) -> bool {
        match self {
            Threshold::Count(n) => changed as u64 > n,
            Threshold::Percent(p) => replayed > 0 && changed as f64 * 100.0 / replayed as f64 > p,
        }
    }
}

/// One cell of a matrix: how many decisions went from `live` to
/// `candidate`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// The live action (or `absent`).
    pub live: String,
    /// The candidate's action (or `absent`).
    pub candidate: String,
    /// How many.
    pub count: u64,
}

/// Live vs candidate actions of one plugin at one stage (or of whole
/// calls: stage `call`, plugin `*`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    /// The stage.
    pub stage: String,
    /// The plugin's policy name.
    pub plugin: String,
    /// Decisions compared.
    pub total: u64,
    /// Of those, changed.
    pub changed: u64,
    /// Every non-empty cell.
    pub cells: Vec<Cell>,
}

/// One changed decision, as the report and the `--out-table` list it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The call's request id.
    pub request_id: String,
    /// When the call was recorded, µs since the epoch.
    pub timestamp_us: i64,
    /// The host that served it.
    pub host_id: String,
    /// Its route.
    pub route: String,
    /// Its caller.
    pub caller: String,
    /// The stage.
    pub stage: String,
    /// The plugin's policy name.
    pub plugin: String,
    /// The live action (or `absent`).
    pub live_action: String,
    /// The candidate's action (or `absent`).
    pub candidate_action: String,
    /// The live outcome (`""` when absent).
    pub live_outcome: String,
    /// The candidate's outcome (`""` when absent).
    pub candidate_outcome: String,
    /// The live reason.
    pub live_reason: String,
    /// The candidate's reason.
    pub candidate_reason: String,
    /// The live component's digest.
    pub live_plugin_digest: String,
    /// The candidate component's digest.
    pub candidate_plugin_digest: String,
    /// What the candidate found.
    pub candidate_categories: Vec<String>,
    /// The live policy's digest.
    pub live_policy_digest: String,
}

/// A call that could not be replayed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unreplayable {
    /// Its request id.
    pub request_id: String,
    /// When it was recorded, µs since the epoch.
    pub timestamp_us: i64,
    /// Why, per stage.
    pub reasons: Vec<String>,
}

/// The candidate a replay ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// The policy's name.
    pub policy: String,
    /// The policy's digest (of the file, before any `--plugin`).
    pub policy_digest: String,
    /// Each plugin: policy name, version, digest.
    pub plugins: Vec<(String, String, String)>,
    /// The `--plugin NAME=PATH` substitutions.
    pub substituted: Vec<String>,
}

/// Everything a replay found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The candidate.
    pub candidate: Candidate,
    /// The period's start (RFC 3339), if bounded.
    pub since: Option<String>,
    /// The period's end, if bounded.
    pub until: Option<String>,
    /// Calls read in the period.
    pub calls: usize,
    /// Calls replayed.
    pub replayed: usize,
    /// Calls that could not be replayed.
    pub not_replayable: usize,
    /// Replayed calls with at least one changed decision.
    pub changed_calls: usize,
    /// Plugin decisions compared.
    pub decisions_compared: usize,
    /// Of those, changed.
    pub decisions_changed: usize,
    /// Per plugin and stage.
    pub matrices: Vec<Matrix>,
    /// The calls' most severe action, live vs candidate.
    pub call_matrix: Matrix,
    /// Every changed decision, oldest call first.
    pub changes: Vec<Change>,
    /// Every call that could not be replayed, oldest first.
    pub unreplayable: Vec<Unreplayable>,
    /// How many calls each reason stopped (the reason without its plugin).
    pub unreplayable_reasons: BTreeMap<String, u64>,
    /// Worker threads.
    pub threads: usize,
    /// Wall time of the evaluations, ms.
    pub elapsed_ms: u64,
    /// Replay throughput: calls read per second of evaluation.
    pub calls_per_second: f64,
    /// The `--fail-on` threshold, when given.
    pub fail_on: Option<String>,
    /// Whether it was crossed.
    pub failed: bool,
}

/// The reason without what is specific to one call (the plugin).
fn reason_kind(r: &str) -> String {
    match r.find(" (`") {
        Some(i) => r[..i].to_string(),
        None => r.to_string(),
    }
}

fn matrix(stage: &str, plugin: &str, cells: &BTreeMap<(String, String), u64>) -> Matrix {
    let total = cells.values().sum();
    let effective = |a: &str| if a == ABSENT { "allow" } else { a }.to_string();
    let changed = cells
        .iter()
        .filter(|((l, c), _)| effective(l) != effective(c))
        .map(|(_, n)| n)
        .sum();
    Matrix {
        stage: stage.to_string(),
        plugin: plugin.to_string(),
        total,
        changed,
        cells: cells
            .iter()
            .map(|((l, c), n)| Cell {
                live: l.clone(),
                candidate: c.clone(),
                count: *n,
            })
            .collect(),
    }
}

impl Report {
    /// Aggregates the results of a replay.
    pub fn build(
        results: &[CallReplay],
        candidate: Candidate,
        period: (Option<String>, Option<String>),
        threads: usize,
        elapsed: std::time::Duration,
        fail_on: Option<Threshold>,
    ) -> Report {
        type Cells = BTreeMap<(String, String), u64>;
        let mut per_plugin: BTreeMap<(String, String), Cells> = BTreeMap::new();
        let mut calls: Cells = BTreeMap::new();
        let mut changes = Vec::new();
        let mut unreplayable = Vec::new();
        let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
        let (mut compared, mut changed_calls) = (0, 0);
        for r in results {
            if !r.replayed() {
                let mut kinds: Vec<String> =
                    r.not_replayable.iter().map(|s| reason_kind(s)).collect();
                kinds.sort();
                kinds.dedup();
                for k in kinds {
                    *reasons.entry(k).or_default() += 1;
                }
                unreplayable.push(Unreplayable {
                    request_id: r.request_id.clone(),
                    timestamp_us: r.timestamp_us,
                    reasons: r.not_replayable.clone(),
                });
                continue;
            }
            *calls
                .entry((r.live_action.clone(), r.candidate_action.clone()))
                .or_default() += 1;
            changed_calls += usize::from(r.changed());
            for d in &r.decisions {
                compared += 1;
                *per_plugin
                    .entry((d.stage.clone(), d.plugin.clone()))
                    .or_default()
                    .entry((
                        d.live_action().to_string(),
                        d.candidate_action().to_string(),
                    ))
                    .or_default() += 1;
                if !d.changed {
                    continue;
                }
                let side = |s: &Option<super::Side>, f: fn(&super::Side) -> &String| {
                    s.as_ref().map(f).cloned().unwrap_or_default()
                };
                changes.push(Change {
                    request_id: r.request_id.clone(),
                    timestamp_us: r.timestamp_us,
                    host_id: r.host_id.clone(),
                    route: r.route.clone(),
                    caller: r.caller.clone(),
                    stage: d.stage.clone(),
                    plugin: d.plugin.clone(),
                    live_action: d.live_action().to_string(),
                    candidate_action: d.candidate_action().to_string(),
                    live_outcome: side(&d.live, |s| &s.outcome),
                    candidate_outcome: side(&d.candidate, |s| &s.outcome),
                    live_reason: side(&d.live, |s| &s.reason),
                    candidate_reason: side(&d.candidate, |s| &s.reason),
                    live_plugin_digest: side(&d.live, |s| &s.plugin_digest),
                    candidate_plugin_digest: side(&d.candidate, |s| &s.plugin_digest),
                    candidate_categories: d
                        .candidate
                        .as_ref()
                        .map(|s| s.categories.clone())
                        .unwrap_or_default(),
                    live_policy_digest: r.live_policy_digest.clone(),
                });
            }
        }
        let replayed = results.len() - unreplayable.len();
        let secs = elapsed.as_secs_f64();
        Report {
            candidate,
            since: period.0,
            until: period.1,
            calls: results.len(),
            replayed,
            not_replayable: unreplayable.len(),
            changed_calls,
            decisions_compared: compared,
            decisions_changed: changes.len(),
            matrices: per_plugin
                .iter()
                .map(|((stage, plugin), cells)| matrix(stage, plugin, cells))
                .collect(),
            call_matrix: matrix("call", "*", &calls),
            changes,
            unreplayable,
            unreplayable_reasons: reasons,
            threads,
            elapsed_ms: elapsed.as_millis() as u64,
            calls_per_second: if secs > 0.0 {
                results.len() as f64 / secs
            } else {
                0.0
            },
            fail_on: fail_on.map(|t| t.to_string()),
            failed: fail_on.is_some_and(|t| t.exceeded(changed_calls, replayed)),
        }
    }

    /// The summary a person reads in a terminal, with up to `examples`
    /// changed decisions and unreplayable calls listed.
    pub fn write_text(&self, out: &mut impl Write, examples: usize) -> std::io::Result<()> {
        let pct = |n: usize, of: usize| {
            if of == 0 {
                0.0
            } else {
                n as f64 * 100.0 / of as f64
            }
        };
        writeln!(
            out,
            "replay through policy `{}` ({}){}",
            self.candidate.policy,
            self.candidate.policy_digest,
            if self.candidate.substituted.is_empty() {
                String::new()
            } else {
                format!(" with {}", self.candidate.substituted.join(", "))
            }
        )?;
        writeln!(
            out,
            "period: {} .. {}",
            self.since.as_deref().unwrap_or("(start)"),
            self.until.as_deref().unwrap_or("(now)")
        )?;
        writeln!(out)?;
        writeln!(out, "  calls read          {:>8}", self.calls)?;
        writeln!(out, "  replayed            {:>8}", self.replayed)?;
        writeln!(out, "  not replayable      {:>8}", self.not_replayable)?;
        writeln!(
            out,
            "  changed calls       {:>8}   ({:.1}% of replayed)",
            self.changed_calls,
            pct(self.changed_calls, self.replayed)
        )?;
        writeln!(
            out,
            "  changed decisions   {:>8}   of {} compared",
            self.decisions_changed, self.decisions_compared
        )?;
        writeln!(
            out,
            "  throughput          {:>8.0} calls/s on {} thread{} ({:.0} calls/s per thread)",
            self.calls_per_second,
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.calls_per_second / self.threads.max(1) as f64
        )?;
        writeln!(out, "\nlive → candidate, per plugin:")?;
        for m in self.matrices.iter().chain([&self.call_matrix]) {
            let name = if m.stage == "call" {
                "whole call (most severe action)".to_string()
            } else {
                format!("{} · {}", m.stage, m.plugin)
            };
            writeln!(out, "  {name:<34} {:>6} changed of {}", m.changed, m.total)?;
            for c in &m.cells {
                writeln!(
                    out,
                    "      {:>7} → {:<7} {:>8}{}",
                    c.live,
                    c.candidate,
                    c.count,
                    if c.live == c.candidate { "" } else { "  *" }
                )?;
            }
        }
        if !self.changes.is_empty() {
            writeln!(
                out,
                "\nchanged decisions ({} of {}):",
                self.changes.len().min(examples),
                self.changes.len()
            )?;
            for c in self.changes.iter().take(examples) {
                writeln!(
                    out,
                    "  {}  {:<8} {:<18} {} → {}  {}",
                    c.request_id,
                    c.stage,
                    c.plugin,
                    c.live_action,
                    c.candidate_action,
                    if c.candidate_reason.is_empty() {
                        &c.live_reason
                    } else {
                        &c.candidate_reason
                    }
                )?;
            }
        }
        if !self.unreplayable.is_empty() {
            writeln!(
                out,
                "\nnot replayable ({} call{}):",
                self.not_replayable,
                if self.not_replayable == 1 { "" } else { "s" }
            )?;
            for (why, n) in &self.unreplayable_reasons {
                writeln!(out, "  {n:>8}  {why}")?;
            }
            for u in self.unreplayable.iter().take(examples) {
                writeln!(out, "  {}  {}", u.request_id, u.reasons.join("; "))?;
            }
            if self.unreplayable.len() > examples {
                writeln!(
                    out,
                    "  … {} more (--json lists every one)",
                    self.unreplayable.len() - examples
                )?;
            }
        }
        if let Some(t) = &self.fail_on {
            writeln!(
                out,
                "\n--fail-on {t}: {} changed call{} of {} replayed: {}",
                self.changed_calls,
                if self.changed_calls == 1 { "" } else { "s" },
                self.replayed,
                if self.failed {
                    "above the threshold (exit 1)"
                } else {
                    "within the threshold"
                }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Threshold;

    #[test]
    fn thresholds_are_counts_or_percentages_and_fail_strictly_above() {
        assert_eq!("5".parse(), Ok(Threshold::Count(5)));
        assert_eq!("2.5%".parse(), Ok(Threshold::Percent(2.5)));
        assert!("x".parse::<Threshold>().is_err());
        assert!("150%".parse::<Threshold>().is_err());
        assert!(!Threshold::Count(2).exceeded(2, 10));
        assert!(Threshold::Count(2).exceeded(3, 10));
        assert!(Threshold::Count(0).exceeded(1, 10));
        assert!(!Threshold::Percent(10.0).exceeded(1, 10));
        assert!(Threshold::Percent(10.0).exceeded(2, 10));
        assert!(!Threshold::Percent(0.0).exceeded(0, 0));
    }
}
