//! The hot path, side by side: the default request chain through WASM
//! (fresh instance per plugin per payload, as in production) against the
//! same detector cores compiled natively, on the same chat payloads.
//! `default-chain/wasm` runs the chain as configured (one plugin after
//! another unless `RAILYARD_FANOUT_WORKERS` turns the fan-out on),
//! `default-chain/wasm-sequential` always one after another, as the native
//! column does, and `default-chain/wasm-fanout` fanned out over the cores
//! less one at every payload size.
//!
//! Run: `cargo bench -p railyard --bench hot_path`, then
//! `python3 benches/report.py` prints the BENCHMARKS.md table.
//!
//! Before/after in one run: `RAILYARD_BENCH_BASELINE_PLUGINS=/dir` (a folder
//! of components named as host/build.rs names them, e.g. a copy of an older
//! build's `railyard-plugins/components`) adds the same chain and the same
//! one-plugin calls on those components, as `wasm-baseline` and
//! `instantiate+call-baseline`, so a plugin build change is compared side
//! by side on one engine under the same load.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use railyard::engine::{EngineSettings, RailyardEngine};
use railyard::plugin::{PluginLoader, StageInput};
use railyard::policy::PluginLimits;
use railyard::{Payload, Pipeline, Policy};

#[path = "common/plugins.rs"]
mod plugins;
use plugins::{component_file, payload};

/// A chat payload whose user message is exactly `bytes` long.
const SIZES: &[(usize, &str)] = &[(256, "256B"), (2048, "2KiB"), (65536, "64KiB")];

fn engine() -> PluginLoader {
    let cache = std::env::temp_dir().join("railyard-bench-cache");
    let engine = RailyardEngine::new(EngineSettings {
        cache_dir: Some(cache),
        ..EngineSettings::default()
    })
    .expect("engine");
    PluginLoader::new(engine).expect("loader")
}

/// The same work the three default plugins do, natively: parse settings
/// from (empty) config, scan each non-system message.
fn native_chain(p: &Payload) -> usize {
    let pii_settings =
        railyard_plugin_pii::Settings::from_config(&railyard_plugin_pii::Config::default())
            .unwrap();
    let secret_settings =
        railyard_plugin_secrets::Settings::from_config(&railyard_plugin_secrets::Config::default())
            .unwrap();
    let pi_settings = railyard_plugin_prompt_injection::Settings::from_config(
        &railyard_plugin_prompt_injection::Config::default(),
    )
    .unwrap();
    let mut found = Vec::new();
    let mut n = 0;
    for m in &p.messages {
        found.clear();
        railyard_plugin_pii::detect(&m.content, &pii_settings, &mut found);
        n += found.len();
        found.clear();
        railyard_plugin_secrets::detect(&m.content, &secret_settings, &mut found);
        n += found.len();
    }
    let texts: Vec<&str> = p
        .messages
        .iter()
        .filter(|m| m.role != "system")
        .map(|m| m.content.as_str())
        .collect();
    n + railyard_plugin_prompt_injection::assess(&texts, &pi_settings)
        .detections
        .len()
}

/// The folder of baseline components, when `RAILYARD_BENCH_BASELINE_PLUGINS`
/// names one.
fn baseline_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("RAILYARD_BENCH_BASELINE_PLUGINS").map(std::path::PathBuf::from)
}

/// The default policy's request chain on the components in `dir`.
fn baseline_policy(dir: &std::path::Path) -> Policy {
    let mut toml = String::from(
        "name = \"baseline\"\n[redaction]\noperator = \"tag\"\n[stages]\nrequest = [\"pii\", \"secrets\", \"prompt-injection\"]\n",
    );
    for (name, action) in [
        ("pii", Some("redact")),
        ("secrets", Some("redact")),
        ("prompt-injection", None),
    ] {
        let file = component_file(dir, &format!("railyard-plugin-{name}"));
        toml.push_str(&format!(
            "[plugins.{name}]\npath = {:?}\n",
            file.display().to_string()
        ));
        if let Some(action) = action {
            toml.push_str(&format!("action = {action:?}\n"));
        }
    }
    Policy::from_toml(&toml, None).expect("baseline policy")
}

fn hot_path(c: &mut Criterion) {
    let loader = engine();
    let pipeline = Pipeline::load(&loader, Policy::embedded_default()).expect("default policy");
    let baseline_dir = baseline_dir();
    let baseline = baseline_dir
        .as_deref()
        .map(|dir| Pipeline::load(&loader, baseline_policy(dir)).expect("baseline pipeline"));
    // The same chain with the plugins opted in to instance reuse.
    let reusing = Pipeline::load(
        &loader,
        Policy::from_toml(
            "name = \"default-reuse\"\n[plugins.pii]\nbuiltin = \"pii\"\nreuse = true\n[plugins.secrets]\nbuiltin = \"secrets\"\nreuse = true\n[plugins.prompt-injection]\nbuiltin = \"prompt-injection\"\nreuse = true\n[stages]\nrequest = [\"pii\", \"secrets\", \"prompt-injection\"]\n",
            None,
        )
        .expect("reuse policy"),
    )
    .expect("reuse pipeline");

    // The same chain with the fan-out off: every plugin in turn on the
    // calling thread, as before `pipeline::fanout` (and as the native
    // column runs its cores).
    let sequential = Pipeline::load(&loader, Policy::embedded_default())
        .expect("default policy")
        .with_fanout(None);
    // And fanned out at every payload size over the cores less one (what
    // `RAILYARD_FANOUT_WORKERS` and `RAILYARD_FANOUT_MIN_KIB=0` set),
    // whatever the process's default.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let fanned = Pipeline::load(&loader, Policy::embedded_default())
        .expect("default policy")
        .with_fanout(Some(std::sync::Arc::new(railyard::pipeline::Fanout::new(
            cores.saturating_sub(1).max(1),
            cores,
        ))));

    let mut group = c.benchmark_group("default-chain");
    for &(size, label) in SIZES {
        let p = payload(size);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("wasm", label), &p, |b, p| {
            b.iter(|| black_box(pipeline.evaluate(black_box(p))))
        });
        group.bench_with_input(BenchmarkId::new("wasm-sequential", label), &p, |b, p| {
            b.iter(|| black_box(sequential.evaluate(black_box(p))))
        });
        group.bench_with_input(BenchmarkId::new("wasm-fanout", label), &p, |b, p| {
            b.iter(|| black_box(fanned.evaluate(black_box(p))))
        });
        if let Some(baseline) = &baseline {
            group.bench_with_input(BenchmarkId::new("wasm-baseline", label), &p, |b, p| {
                b.iter(|| black_box(baseline.evaluate(black_box(p))))
            });
        }
        group.bench_with_input(BenchmarkId::new("wasm-reuse", label), &p, |b, p| {
            b.iter(|| black_box(reusing.evaluate(black_box(p))))
        });
        group.bench_with_input(BenchmarkId::new("native", label), &p, |b, p| {
            b.iter(|| black_box(native_chain(black_box(p))))
        });
    }
    group.finish();

    // One plugin: instantiate + call, on the smallest payload, and the
    // floor (a guardrail that does almost nothing: the fixture).
    let mut group = c.benchmark_group("one-plugin");
    let limits = PluginLimits {
        timeout: Duration::from_millis(100),
        memory_bytes: 64 << 20,
        max_input_bytes: 1 << 20,
    };
    let small = StageInput::new(&payload(256));
    let no_config: std::sync::Arc<[(String, String)]> = std::sync::Arc::from(Vec::new());
    // Each default plugin, built in, and the baseline folder's build of it.
    let plugins: Vec<_> = ["pii", "secrets", "prompt-injection"]
        .into_iter()
        .map(|name| {
            let plugin = loader
                .load(name, railyard::plugin::builtin::component(name).unwrap())
                .expect("built-in loads");
            let old = baseline_dir.as_ref().map(|dir| {
                let file = component_file(dir, &format!("railyard-plugin-{name}"));
                loader.load_file(name, &file).expect("baseline loads")
            });
            (name, plugin, old)
        })
        .collect();
    for (name, plugin, old) in &plugins {
        group.bench_function(BenchmarkId::new("instantiate+call", name), |b| {
            b.iter(|| black_box(plugin.call(&small, &[], &no_config, &limits)))
        });
        if let Some(old) = old {
            group.bench_function(BenchmarkId::new("instantiate+call-baseline", name), |b| {
                b.iter(|| black_box(old.call(&small, &[], &no_config, &limits)))
            });
        }
    }
    // The baseline the fresh-instance cost is judged against (issue 19):
    // wasmtime's bare instantiate of an empty component on the same engine
    // (pooling allocator, CoW images, epochs), a store per instance and
    // nothing else.
    let wasmtime_engine = loader.engine().wasmtime().clone();
    let empty = wasmtime::component::Component::new(&wasmtime_engine, "(component)")
        .expect("empty component compiles");
    let empty_pre = wasmtime::component::Linker::<()>::new(&wasmtime_engine)
        .instantiate_pre(&empty)
        .expect("empty component links");
    group.bench_function(
        BenchmarkId::new("bare-instantiate", "empty-component"),
        |b| {
            b.iter(|| {
                let mut store = wasmtime::Store::new(&wasmtime_engine, ());
                black_box(empty_pre.instantiate(&mut store).expect("instantiates"));
            })
        },
    );
    let floor_path = std::path::Path::new(railyard::plugin::builtin::WASM_DIR)
        .join("railyard_fixture_hostile.wasm");
    let floor = loader
        .load_file("floor", &floor_path)
        .expect("fixture loads");
    group.bench_function(
        BenchmarkId::new("instantiate+call", "empty-guardrail"),
        |b| b.iter(|| black_box(floor.call(&small, &[], &no_config, &limits))),
    );
    if let Some(dir) = &baseline_dir {
        let old = loader
            .load_file("floor", &component_file(dir, "railyard-fixture-hostile"))
            .expect("baseline fixture loads");
        group.bench_function(
            BenchmarkId::new("instantiate+call-baseline", "empty-guardrail"),
            |b| b.iter(|| black_box(old.call(&small, &[], &no_config, &limits))),
        );
    }
    group.finish();

    // Each default plugin alone on the 64 KiB payload: a fresh instance and
    // call against its native core, to tell which guest loses most (issue
    // 19, target 2).
    let mut group = c.benchmark_group("plugin-64KiB");
    let big = payload(65536);
    let big_input = StageInput::new(&big);
    for (name, plugin, old) in &plugins {
        group.bench_function(BenchmarkId::new("wasm", name), |b| {
            b.iter(|| black_box(plugin.call(&big_input, &[], &no_config, &limits)))
        });
        if let Some(old) = old {
            group.bench_function(BenchmarkId::new("wasm-baseline", name), |b| {
                b.iter(|| black_box(old.call(&big_input, &[], &no_config, &limits)))
            });
        }
        group.bench_function(BenchmarkId::new("native", name), |b| {
            b.iter(|| black_box(native_plugin(name, black_box(&big))))
        });
    }
    group.finish();
}

/// One default plugin's native core on `p`, as [`native_chain`] runs it.
fn native_plugin(name: &str, p: &Payload) -> usize {
    let mut found = Vec::new();
    match name {
        "pii" => {
            let settings =
                railyard_plugin_pii::Settings::from_config(&railyard_plugin_pii::Config::default())
                    .unwrap();
            for m in &p.messages {
                railyard_plugin_pii::detect(&m.content, &settings, &mut found);
            }
            found.len()
        }
        "secrets" => {
            let settings = railyard_plugin_secrets::Settings::from_config(
                &railyard_plugin_secrets::Config::default(),
            )
            .unwrap();
            for m in &p.messages {
                railyard_plugin_secrets::detect(&m.content, &settings, &mut found);
            }
            found.len()
        }
        _ => {
            let settings = railyard_plugin_prompt_injection::Settings::from_config(
                &railyard_plugin_prompt_injection::Config::default(),
            )
            .unwrap();
            let texts: Vec<&str> = p
                .messages
                .iter()
                .filter(|m| m.role != "system")
                .map(|m| m.content.as_str())
                .collect();
            railyard_plugin_prompt_injection::assess(&texts, &settings)
                .detections
                .len()
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = hot_path
}
criterion_main!(benches);
