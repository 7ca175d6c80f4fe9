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
