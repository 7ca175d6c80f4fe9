//! Native cost of the secrets core on the hot_path bench's prose, default
//! settings (for profiling: `cargo run --release -p railyard-plugin-secrets
//! --example secrets_cost -- 2048 20000`; instruction counts with
//! callgrind, see BENCHMARKS.md "pii and secrets in one pass").
use railyard_plugin_secrets::{Config, Settings, detect};

fn main() {
    let settings = Settings::from_config(&Config::default()).unwrap();
    let mut found = Vec::new();
    railyard_plugin_sdk::sample::time_calls("secrets", |text| {
        found.clear();
        detect(text, &settings, &mut found);
        found.len()
    });
}
