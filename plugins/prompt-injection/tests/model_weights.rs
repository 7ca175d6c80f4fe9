//! The learned component's committed weights table is what the trainer
//! (`train_model` example) produces from the committed training sets: a
//! change to the features, the trainer or the data without retraining
//! fails here.
use railyard_plugin_prompt_injection::train;
use std::path::Path;

#[test]
fn committed_weights_match_the_trainer() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = train::load(&manifest.join("../..")).unwrap();
    assert!(data.len() > 1000, "training sets shrank: {}", data.len());
    let (table, report) = train::train(&data);
    let committed: &[u8] = include_bytes!("../src/model_weights.bin");
    assert!(
        committed == table.as_slice(),
        "src/model_weights.bin is stale: run `cargo run --release -p \
         railyard-plugin-prompt-injection --example train_model`"
    );
    // The margin was chosen, and keeps the out-of-fold precision target.
    let (tp, fp, _) = report.combined;
    assert!(report.theta.is_finite());
    assert!(f64::from(tp) / f64::from(tp + fp) >= train::PRECISION_TARGET);
}
