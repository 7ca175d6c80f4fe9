//! Native cost of the pii core on the hot_path bench's prose, default
//! settings (for profiling: `cargo run --release -p railyard-plugin-pii
//! --example pii_cost -- 2048 20000`; instruction counts with
//! callgrind, see BENCHMARKS.md "pii and secrets in one pass").
use railyard_plugin_pii::{Config, Settings, detect};

fn main() {
    let settings = Settings::from_config(&Config::default()).unwrap();
    let mut found = Vec::new();
    railyard_plugin_sdk::sample::time_calls("pii", |text| {
        found.clear();
        detect(text, &settings, &mut found);
        found.len()
    });
}
