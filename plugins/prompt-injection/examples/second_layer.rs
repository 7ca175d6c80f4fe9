//! Cross-validates the experimental second layer of the prompt-injection
//! detector (issue 21, round 7b; see BENCHMARKS.md): boosted trees over
//! the linear model's margin, the rules' evidence and lexicon-class
//! counts, trained out of fold on the development sets and the round-7
//! hand-written sets, in folds by row id so a look-alike and the
//! injection it was written from stay together. Prints recall on the
//! hand-written sets at precision targets, beside the rules alone and the
//! round-7 veto design, and the variants that keep short texts' rule hits.
//!
//! `cargo run --release -p railyard-plugin-prompt-injection --example second_layer`
//!
//! Deterministic (fixed shuffles, no sampling); it writes nothing.
use railyard_plugin_prompt_injection::train::{self, Example};
use std::path::Path;

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sets: Vec<&str> = train::TRAINING_SETS
        .iter()
        .chain(train::SECOND_LAYER_SETS)
        .copied()
        .collect();
    let data = train::load_sets(&manifest.join("../.."), &sets).unwrap_or_else(|e| {
        eprintln!("second_layer: {e}");
        std::process::exit(1);
    });
    let r = train::second_layer(&data);
    let own = |i: usize| !data[i].external;
    let own_inj = (0..data.len())
        .filter(|&i| own(i) && data[i].injection)
        .count();
    let recall = |tp: u32| f64::from(tp) / own_inj as f64;
    let (tp, fp) = (0..data.len())
        .filter(|&i| own(i) && r.rules_block[i])
        .fold((0, 0), |(tp, fp), i| {
            if data[i].injection {
                (tp + 1, fp)
            } else {
                (tp, fp + 1)
            }
        });
    println!(
        "{} texts, {} hand-written injections; second layer table {} bytes",
        data.len(),
        own_inj,
        r.table_bytes
    );
    println!(
        "rules alone: tp {tp} fp {fp}  precision {:.3} recall {:.3}",
        f64::from(tp) / f64::from(tp + fp),
        recall(tp)
    );
    let show = |name: &str, vals: &[f32], target: f64| {
        let s = train::choose(&data, vals, target);
        println!(
            "  {name}: recall {:.3}",
            s.map_or(0.0, |(_, tp)| recall(tp))
        );
        s
    };
    let mut sorted = r.margins.clone();
    sorted.sort_by(f32::total_cmp);
    let quantiles: Vec<f32> = (0..80).map(|q| sorted[sorted.len() * q / 80]).collect();
    let mut theta98 = f32::MAX;
    for target in [0.97, 0.98, 0.99] {
        println!("at precision >= {target}, hand-written sets, out of fold:");
        let s = show("second layer", &r.values, target);
        if target == 0.98 {
            theta98 = s.map_or(f32::MAX, |(t, _)| t);
        }
        // Round 7's veto design: a rule hit counts when the margin is at
        // least v, the model alone from t up.
        let best = quantiles
            .iter()
            .filter_map(|&v| {
                let vals = veto(&data, &r.rules_block, &r.margins, &|i| r.margins[i] >= v);
                train::choose(&data, &vals, target).map(|(_, tp)| tp)
            })
            .max();
        println!(
            "  veto design over the margin: recall {:.3}",
            best.map_or(0.0, recall)
        );
    }
    println!("at precision >= 0.98, a rule hit on a text under n tokens always blocks:");
    for n in [8usize, 12, 16, 18, 20, 22, 24] {
        let vals = veto(&data, &r.rules_block, &r.values, &|i| r.tokens[i] < n);
        show(&format!("n = {n}"), &vals, 0.98);
    }
    println!(
        "at precision >= 0.98, n = 16, a rule hit blocks unless the second layer is below its threshold + d:"
    );
    for d in [-1.0f32, -0.5, -0.25, 0.0] {
        let vals = veto(&data, &r.rules_block, &r.values, &|i| {
            r.tokens[i] < 16 || r.values[i] >= theta98 + d
        });
        show(&format!("d = {d:+}"), &vals, 0.98);
    }
}

/// Values where a rule hit that `keeps` blocks whatever its value.
fn veto(
    data: &[Example],
    rules: &[bool],
    values: &[f32],
    keeps: &dyn Fn(usize) -> bool,
) -> Vec<f32> {
    (0..data.len())
        .map(|i| {
            if rules[i] && keeps(i) {
                f32::MAX
            } else {
                values[i]
            }
        })
        .collect()
}
