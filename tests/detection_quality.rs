//! Detection quality of the first-party detectors, measured through the
//! host (WASM, fresh instance per call) on the shared development sets.
//!
//! Scoring follows `shared/data/README.md`: entity-level exact match of
//! (type, byte start, byte end), per type and overall; injection scored on
//! the `injection` label. The floors below are what a regression must not
//! cross. They sit well under the measured figures, at levels a reviewer
//! can defend for a structural detector (validated checksums for cards and
//! IBANs, strict formats for keys), not at the figures this file happens to
//! produce: the detectors are also judged on data with other phrasings.
//!
//! Run with `--nocapture` to see the table.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{loader, request, shared_data};
use railyard::{Action, Pipeline, Policy};

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: u32,
    fp: u32,
    fn_: u32,
}

impl Counts {
    fn precision(self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            f64::from(self.tp) / f64::from(self.tp + self.fp)
        }
    }
    fn recall(self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            f64::from(self.tp) / f64::from(self.tp + self.fn_)
        }
    }
    fn f1(self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// (precision, recall) floors per entity type.
const PII_FLOORS: &[(&str, f64, f64)] = &[
    ("EMAIL_ADDRESS", 0.95, 0.95),
    ("PHONE_NUMBER", 0.85, 0.85),
    ("CREDIT_CARD", 0.95, 0.95),
    ("IBAN_CODE", 0.95, 0.95),
    ("US_SSN", 0.90, 0.90),
    ("IP_ADDRESS", 0.95, 0.90),
    ("AWS_ACCESS_KEY", 0.95, 0.95),
    ("GITHUB_TOKEN", 0.95, 0.95),
    ("SLACK_TOKEN", 0.95, 0.95),
];

fn pii_pipeline() -> Pipeline {
    let policy = Policy::from_toml(
        "[plugins.pii]\nbuiltin = \"pii\"\n[plugins.secrets]\nbuiltin = \"secrets\"\n[stages]\nrequest = [\"pii\", \"secrets\"]\n",
        None,
    )
    .unwrap();
    Pipeline::load(loader(), policy).unwrap()
}

/// Scores the pii and secrets plugins on a file in the pii-dev format and
/// prints the table; returns counts per type and overall.
fn score_pii(path: &Path) -> (BTreeMap<String, Counts>, Counts) {
    let pipeline = pii_pipeline();
    let data = std::fs::read_to_string(path).unwrap();
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut lines = 0;
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        lines += 1;
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = row["text"].as_str().unwrap();
        let gold: BTreeSet<(String, u32, u32)> = row["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_string(),
                    e["start"].as_u64().unwrap() as u32,
                    e["end"].as_u64().unwrap() as u32,
                )
            })
            .collect();
        let e = pipeline.evaluate(&request(text));
        assert!(
            e.decisions.iter().all(|d| d.error.is_none()),
            "plugin failed on {text:?}: {:?}",
            e.decisions
        );
        let predicted: BTreeSet<(String, u32, u32)> = e
            .findings()
            .filter_map(|(_, f)| f.span.map(|s| (f.category.clone(), s.start, s.end)))
            .collect();
        for p in &predicted {
            let c = counts.entry(p.0.clone()).or_default();
            if gold.contains(p) {
                c.tp += 1
            } else {
                c.fp += 1
            }
        }
        for g in gold.difference(&predicted) {
            counts.entry(g.0.clone()).or_default().fn_ += 1;
        }
    }

    let mut total = Counts::default();
    println!(
        "\n{} ({lines} texts), through the host (WASM):",
        path.display()
    );
    println!(
        "{:<16} {:>5} {:>5} {:>5} {:>9} {:>7} {:>6}",
        "type", "tp", "fp", "fn", "precision", "recall", "f1"
    );
    for (ty, c) in counts
        .iter()
        .map(|(t, c)| (t.as_str(), *c))
        .chain(std::iter::once(("", Counts::default())))
    {
        let (ty, c) = if ty.is_empty() {
            ("overall", total)
        } else {
            total.tp += c.tp;
            total.fp += c.fp;
            total.fn_ += c.fn_;
            (ty, c)
        };
        println!(
            "{ty:<16} {:>5} {:>5} {:>5} {:>9.3} {:>7.3} {:>6.3}",
            c.tp,
            c.fp,
            c.fn_,
            c.precision(),
            c.recall(),
            c.f1()
        );
    }
    (counts, total)
}

/// Scores the prompt-injection guardrail on a file in the injection-dev
/// format; returns counts for `block` and for `flag or block`.
fn score_injection(path: &Path) -> (Counts, Counts) {
    let policy = Policy::from_toml("[stages]\nrequest = [\"prompt-injection\"]\n", None).unwrap();
    let pipeline = Pipeline::load(loader(), policy).unwrap();
    let data = std::fs::read_to_string(path).unwrap();
    let (mut blocked, mut flagged) = (Counts::default(), Counts::default());
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let is_injection = row["label"] == "injection";
        let e = pipeline.evaluate(&request(row["text"].as_str().unwrap()));
        assert!(e.decisions[0].error.is_none());
        for (counts, hit) in [
            (&mut blocked, e.action == Action::Block),
            (&mut flagged, e.action >= Action::Flag),
        ] {
            match (hit, is_injection) {
                (true, true) => counts.tp += 1,
                (true, false) => counts.fp += 1,
                (false, true) => counts.fn_ += 1,
                (false, false) => {}
            }
        }
    }
    println!(
        "\n{}, label `injection`, through the host (WASM):",
        path.display()
    );
    for (name, c) in [("block", blocked), ("flag or block", flagged)] {
        println!(
            "{name:<14} tp {:>4} fp {:>4} fn {:>4}  precision {:.3}  recall {:.3}  f1 {:.3}",
            c.tp,
            c.fp,
            c.fn_,
            c.precision(),
            c.recall(),
            c.f1()
        );
    }
    (blocked, flagged)
}

/// A set written apart from the detectors' development, with other
/// phrasings and formats (see tests/data/README.md).
fn heldout(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(file)
}

#[test]
fn pii_and_secrets_precision_and_recall_per_entity_type() {
    let (counts, total) = score_pii(&shared_data("pii-dev.jsonl"));
    for &(ty, p_floor, r_floor) in PII_FLOORS {
        let c = counts.get(ty).copied().unwrap_or_default();
        assert!(
            c.tp + c.fn_ > 0,
            "{ty} has no gold entities: the data set changed"
        );
        assert!(
            c.precision() >= p_floor,
            "{ty} precision {:.3} < {p_floor}",
            c.precision()
        );
        assert!(
            c.recall() >= r_floor,
            "{ty} recall {:.3} < {r_floor}",
            c.recall()
        );
    }
    assert!(total.f1() >= 0.93, "overall F1 {:.3}", total.f1());
}

#[test]
fn pii_and_secrets_hold_up_on_held_out_formats() {
    let (_, total) = score_pii(&heldout("heldout-pii.jsonl"));
    assert!(
        total.precision() >= 0.90,
        "held-out precision {:.3}",
        total.precision()
    );
    assert!(
        total.recall() >= 0.85,
        "held-out recall {:.3}",
        total.recall()
    );
}

#[test]
fn prompt_injection_precision_and_recall() {
    let (blocked, _) = score_injection(&shared_data("injection-dev.jsonl"));
    assert!(
        blocked.precision() >= 0.90,
        "block precision {:.3}",
        blocked.precision()
    );
    assert!(
        blocked.recall() >= 0.80,
        "block recall {:.3}",
        blocked.recall()
    );
}

#[test]
fn prompt_injection_holds_up_on_held_out_phrasings() {
    let (blocked, _) = score_injection(&heldout("heldout-injection.jsonl"));
    assert!(
        blocked.precision() >= 0.85,
        "held-out block precision {:.3}",
        blocked.precision()
    );
    assert!(
        blocked.recall() >= 0.70,
        "held-out block recall {:.3}",
        blocked.recall()
    );
}
