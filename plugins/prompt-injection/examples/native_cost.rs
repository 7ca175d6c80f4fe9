//! Native cost of the prompt-injection core on the hot_path bench's prose
//! (for profiling: `cargo run --release -p railyard-plugin-prompt-injection
//! --example native_cost -- 2048 20000`; a third argument `lines` times
//! the same prose one sentence a line, as a pasted document).
use railyard_plugin_prompt_injection::{Config, Settings, assess};

fn main() {
    let settings = Settings::from_config(&Config::default()).unwrap();
    railyard_plugin_sdk::sample::time_calls("prompt-injection", |text| {
        assess(&[text], &settings).detections.len()
    });
}
