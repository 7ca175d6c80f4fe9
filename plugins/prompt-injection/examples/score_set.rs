//! Scores the native core on injection sets in the shared format
//! (`{"id", "text", "label"}` per line, label `injection` or `benign`):
//! each text is one user message, an injection when the payload blocks at
//! the default settings, as through the host. The WASM component runs the
//! same code.
//!
//! `cargo run -p railyard-plugin-prompt-injection --example score_set --
//! [-v] [-c key=value]... FILE...` (`-v` lists the misses and false alarms
//! with their score; `-c` sets a plugin config key, e.g. `-c model=false`).
use railyard_plugin_prompt_injection::{Config, Decision, Settings, assess};

fn main() {
    let mut verbose = false;
    let mut files = Vec::new();
    let mut config = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-v" => verbose = true,
            "-c" => {
                let kv = args.next().unwrap_or_default();
                let Some((k, v)) = kv.split_once('=') else {
                    eprintln!("score_set: -c expects key=value, got {kv:?}");
                    std::process::exit(2);
                };
                config.push((k.to_string(), v.to_string()));
            }
            _ => files.push(a),
        }
    }
    if files.is_empty() {
        eprintln!("usage: score_set [-v] [-c key=value]... FILE...");
        std::process::exit(2);
    }
    let settings = Settings::from_config(&Config::new(config)).unwrap_or_else(|e| {
        eprintln!("score_set: {e}");
        std::process::exit(2);
    });
    for file in files {
        let data =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
        let (mut tp, mut fp, mut fn_, mut tn) = (0u32, 0u32, 0u32, 0u32);
        let mut wrong = Vec::new();
        for (n, line) in data.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let row: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{file}:{}: not JSON: {e}", n + 1));
            let text = row["text"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}:{}: no `text`", n + 1));
            let injection = match row["label"].as_str() {
                Some("injection") => true,
                Some("benign") => false,
                other => panic!("{file}:{}: label {other:?}", n + 1),
            };
            let a = assess(&[text], &settings);
            let blocked = a.decision(&settings) == Decision::Block;
            match (blocked, injection) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                (false, false) => tn += 1,
            }
            if blocked != injection {
                let id = row["id"].as_str().unwrap_or("?");
                let kind = if injection { "MISS" } else { "FALSE" };
                let rules: Vec<String> = a
                    .detections
                    .iter()
                    .map(|(_, d)| format!("{}={:.2}", d.rule_id, d.score))
                    .collect();
                wrong.push(format!(
                    "{kind} {id} {:.2} [{}] {text:?}",
                    a.score,
                    rules.join(" ")
                ));
            }
        }
        let precision = f64::from(tp) / f64::from((tp + fp).max(1));
        let recall = f64::from(tp) / f64::from((tp + fn_).max(1));
        println!(
            "{file}: tp {tp} fp {fp} fn {fn_} tn {tn}  precision {precision:.3}  recall {recall:.3}"
        );
        if verbose {
            for w in wrong {
                println!("  {w}");
            }
        }
    }
}
