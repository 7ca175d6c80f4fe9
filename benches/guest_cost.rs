//! What one fresh-instance call of each default plugin costs inside the
//! sandbox, counted rather than timed: fuel (wasmtime's count of executed
//! WebAssembly operators) and the instance's largest linear memory, on a
//! metered engine as the conformance harness measures
//! (`LoadedPlugin::call_metered`). Both are deterministic, so a change to
//! a guest can be judged on a loaded machine where timings are not.
//!
//! Payload: the SDK's sample prose (`sample::prose`) as one user message
//! after a short system message, at 256 B, 2 KiB and 64 KiB, the sizes of
//! `hot_path`. The components are the ones embedded in this build; with
//! `RAILYARD_BENCH_BASELINE_PLUGINS=<folder>` (components as host/build.rs
//! names them, e.g. `railyard_plugin_pii.wasm`) the same calls run on
//! those too, side by side, with the ratio.
//!
//! Run: `cargo bench -p railyard --bench guest_cost`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use railyard::engine::{EngineSettings, RailyardEngine};
use railyard::plugin::{LoadedPlugin, PluginLoader, StageInput};
use railyard::policy::PluginLimits;

#[path = "common/plugins.rs"]
mod plugins;
use plugins::{component_file, payload};

const PLUGINS: [&str; 3] = ["pii", "secrets", "prompt-injection"];
const SIZES: [usize; 3] = [256, 2048, 65536];

/// Fuel and peak linear memory (bytes) of one call on `input`.
fn cost(plugin: &LoadedPlugin, input: &StageInput) -> (u64, u64) {
    let limits = PluginLimits {
        timeout: Duration::from_secs(30),
        memory_bytes: 64 << 20,
        max_input_bytes: 1 << 20,
    };
    let no_config: Arc<[(String, String)]> = Arc::from(Vec::new());
    let (result, cost) = plugin.call_metered(input, &[], &no_config, &limits, u64::MAX / 4);
    result.expect("the plugin answers");
    (cost.fuel, cost.peak_memory)
}

fn baseline(loader: &PluginLoader, dir: &Path, name: &str) -> LoadedPlugin {
    let file = component_file(dir, &format!("railyard-plugin-{name}"));
    let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    loader
        .load(name, &bytes)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn main() {
    let engine = RailyardEngine::metered(EngineSettings::default()).expect("a metered engine");
    let loader = PluginLoader::new(engine).expect("a loader");
    let base_dir = std::env::var_os("RAILYARD_BENCH_BASELINE_PLUGINS").map(PathBuf::from);
    println!(
        "| plugin | payload | fuel | peak memory | baseline fuel | baseline memory | fuel / baseline |"
    );
    println!("|---|---|---|---|---|---|---|");
    for name in PLUGINS {
        let plugin = loader
            .load(
                name,
                railyard::plugin::builtin::component(name).expect("built in"),
            )
            .expect("the built-in component loads");
        let base = base_dir.as_deref().map(|d| baseline(&loader, d, name));
        for bytes in SIZES {
            let payload = payload(bytes);
            let input = StageInput::new(&payload);
            let (fuel, memory) = cost(&plugin, &input);
            let (bf, bm, ratio) = match &base {
                Some(b) => {
                    let (bf, bm) = cost(b, &input);
                    (
                        bf.to_string(),
                        format!("{} KiB", bm >> 10),
                        format!("{:.3}", fuel as f64 / bf as f64),
                    )
                }
                None => ("—".into(), "—".into(), "—".into()),
            };
            println!(
                "| {name} | {bytes} B | {fuel} | {} KiB | {bf} | {bm} | {ratio} |",
                memory >> 10
            );
        }
    }
}
