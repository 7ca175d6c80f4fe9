//! Trains the learned component on the development sets and writes its
//! weights table, `src/model_weights.bin` (compiled into the plugin):
//!
//! `cargo run -p railyard-plugin-prompt-injection --example train_model`
//! (`--check`: only compare with the committed table; `--curve`: the
//! out-of-fold trade-off by margin; `TRAIN_DUMP=file`: each text's
//! out-of-fold margin, rule decision, label and origin as tab-separated
//! lines, for analysis).
//!
//! Reproducible byte for byte; the `model_weights` test fails when the
//! committed table is not what this writes.
use railyard_plugin_prompt_injection::train;
use std::path::Path;

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = train::load(&manifest.join("../..")).unwrap_or_else(|e| {
        eprintln!("train_model: {e}");
        std::process::exit(1);
    });
    let (table, r) = train::train(&data);
    let prf = |(tp, fp, fn_): (u32, u32, u32)| {
        format!(
            "tp {tp} fp {fp} fn {fn_}  precision {:.3} recall {:.3}",
            f64::from(tp) / f64::from((tp + fp).max(1)),
            f64::from(tp) / f64::from((tp + fn_).max(1))
        )
    };
    println!("{} texts; chosen margin {:.3}", data.len(), r.theta);
    println!("out-of-fold, rules alone:    {}", prf(r.rules));
    println!("out-of-fold, model alone:    {}", prf(r.model));
    println!("out-of-fold, rules or model: {}", prf(r.combined));
    let [rules, model, both] = r.own;
    println!("hand-written sets alone:");
    println!("out-of-fold, rules alone:    {}", prf(rules));
    println!("out-of-fold, model alone:    {}", prf(model));
    println!("out-of-fold, rules or model: {}", prf(both));
    // Recall on the hand-written sets at a precision target, out of fold:
    // the second layer, and the round-7 veto design over the margin
    // (block = rule hit with margin >= v, or margin >= t).
    for target in [0.97, 0.98, 0.99] {
        let s = train::choose(&data, &r.stack, target);
        let mut sorted: Vec<f32> = r.margins.clone();
        sorted.sort_by(f32::total_cmp);
        let qs: Vec<f32> = (0..80).map(|q| sorted[sorted.len() * q / 80]).collect();
        let mut veto: Option<(u32, f32, f32)> = None;
        for &v in &qs {
            let vals: Vec<f32> = (0..data.len())
                .map(|i| {
                    if r.rules_block[i] && r.margins[i] >= v {
                        f32::MAX
                    } else {
                        r.margins[i]
                    }
                })
                .collect();
            if let Some((t, tp)) = train::choose(&data, &vals, target)
                && veto.is_none_or(|(b, _, _)| tp > b)
            {
                veto = Some((tp, v, t));
            }
        }
        let own_inj = data.iter().filter(|e| !e.external && e.injection).count() as f64;
        let rec = |tp: u32| f64::from(tp) / own_inj;
        println!(
            "at precision >= {target}: second layer recall {:.3} (value {:.3}); veto design recall {:.3} (v {:.2}, t {:.2})",
            s.map_or(0.0, |(_, tp)| rec(tp)),
            s.map_or(f32::NAN, |(t, _)| t),
            veto.map_or(0.0, |(tp, _, _)| rec(tp)),
            veto.map_or(f32::NAN, |(_, v, _)| v),
            veto.map_or(f32::NAN, |(_, _, t)| t),
        );
    }
    if std::env::args().any(|a| a == "--curve") {
        // Out-of-fold trade-off: margin, then rules-or-model and model
        // alone.
        let mut sorted = r.margins.clone();
        sorted.sort_by(f32::total_cmp);
        for q in (50..100).step_by(2) {
            let t = sorted[sorted.len() * q / 100];
            let c = |rules: bool| {
                let (mut tp, mut fp, mut fn_) = (0, 0, 0);
                for (i, e) in data.iter().enumerate() {
                    match (
                        (rules && r.rules_block[i]) || r.margins[i] >= t,
                        e.injection,
                    ) {
                        (true, true) => tp += 1,
                        (true, false) => fp += 1,
                        (false, true) => fn_ += 1,
                        (false, false) => {}
                    }
                }
                prf((tp, fp, fn_))
            };
            println!("margin {t:7.3}: or {}  | alone {}", c(true), c(false));
        }
    }
    if let Ok(dump) = std::env::var("TRAIN_DUMP") {
        let rows: String = data
            .iter()
            .enumerate()
            .map(|(i, e)| {
                format!(
                    "{}\t{}\t{}\t{}\n",
                    r.margins[i], r.rules_block[i] as u8, e.injection as u8, e.external as u8
                )
            })
            .collect();
        std::fs::write(dump, rows).expect("writing the dump");
    }
    let path = manifest.join("src/model_weights.bin");
    if check {
        let committed = std::fs::read(&path).unwrap_or_default();
        if committed != table {
            eprintln!(
                "train_model: {} is not what training writes",
                path.display()
            );
            std::process::exit(1);
        }
        println!("{} matches", path.display());
    } else {
        std::fs::write(&path, &table).unwrap_or_else(|e| {
            eprintln!("train_model: cannot write {}: {e}", path.display());
            std::process::exit(1);
        });
        println!("wrote {}", path.display());
    }
}
