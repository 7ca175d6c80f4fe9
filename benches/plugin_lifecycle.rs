//! Plugin lifecycle: time from a plugin's files landing in the plugins
//! folder to the first decision it makes, through the whole reload path
//! (manifest, digest, compile or cache load, link, info, conformance smoke
//! test, swap, first evaluation).
//!
//! - `cold`: an empty compile cache, so the component is compiled;
//! - `warm`: the compile cache already holds it (a restart, or a version
//!   rolled back to), so it is loaded from disk.
//!
//! The reload is triggered by the API call (`Reloader::reload`), as an
//! admin endpoint or SIGHUP does.
//!
//! - `watched/warm`: end to end through the folder watcher, with no API
//!   call: the files are written, filesystem events wake the watcher, it
//!   waits for the folder to be quiet (`watch_events::SETTLE`), reloads, and
//!   the time stops at the first evaluation the new plugin decides. The
//!   default poll interval (1 s) stays in place, so a result well under it
//!   is the event path (the target: under 100 ms).
//!
//! Run: `cargo bench -p railyard --bench plugin_lifecycle`.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use railyard::engine::{EngineSettings, RailyardEngine};
use railyard::live::Reloader;
use railyard::plugin::manifest::render;
use railyard::plugin::{PluginDigest, PluginKind, PluginLoader, builtin};
use railyard::{Payload, Stage};

/// A folder with an empty plugins folder and a policy watching it, and a
/// reloader on a fresh engine whose compile cache is `cache`.
fn fresh(cache: &Path) -> (tempfile::TempDir, Reloader) {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("plugins")).unwrap();
    let policy = root.path().join("policy.toml");
    std::fs::write(&policy, "[registry]\ndir = \"plugins\"\n").unwrap();
    let engine = RailyardEngine::new(EngineSettings {
        pool_instances: 16,
        max_plugin_memory: 128 << 20,
        cache_dir: Some(cache.to_path_buf()),
        ..EngineSettings::default()
    })
    .unwrap();
    let reloader = Reloader::from_file(PluginLoader::new(engine).unwrap(), &policy).unwrap();
    (root, reloader)
}

/// Lands the first-party `pii` detector with its manifest, reloads, and
/// evaluates until it decides. Returns the time from the first byte written.
fn land_to_first_decision(root: &Path, reloader: &Reloader) -> Duration {
    let wasm = builtin::component("pii").unwrap();
    let payload = Payload::text(Stage::Request, "mail bob@example.com");
    let version = pii_version();
    let started = Instant::now();
    let plugins = root.join("plugins");
    std::fs::write(plugins.join("pii.wasm"), wasm).unwrap();
    std::fs::write(
        plugins.join("pii.toml"),
        render(
            "pii",
            &version,
            PluginKind::PiiDetector,
            &[Stage::Request],
            &PluginDigest::of(wasm),
            None,
            None,
        ),
    )
    .unwrap();
    let report = reloader.reload();
    assert!(
        report.refused.is_empty() && report.swapped,
        "the plugin went live: {report:?}"
    );
    let e = reloader.live().evaluate(&payload);
    assert!(e.decisions.iter().any(|d| d.plugin == "pii"));
    started.elapsed()
}

/// The version the pii component reports (the manifest must match it),
/// read once, outside any measurement.
fn pii_version() -> String {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(read_pii_version).clone()
}

fn read_pii_version() -> String {
    let engine = RailyardEngine::new(EngineSettings {
        pool_instances: 4,
        max_plugin_memory: 64 << 20,
        cache_dir: None,
        ..EngineSettings::default()
    })
    .unwrap();
    PluginLoader::new(engine)
        .unwrap()
        .load("pii", builtin::component("pii").unwrap())
        .unwrap()
        .info
        .version
}

fn lifecycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("plugin_lifecycle");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));

    group.bench_function("land_to_first_decision/cold", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let cache = tempfile::tempdir().unwrap();
                let (root, reloader) = fresh(cache.path());
                total += land_to_first_decision(root.path(), &reloader);
            }
            total
        })
    });

    let warm_cache = tempfile::tempdir().unwrap();
    {
        let (root, reloader) = fresh(warm_cache.path());
        land_to_first_decision(root.path(), &reloader);
    }
    group.bench_function("land_to_first_decision/warm", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (root, reloader) = fresh(warm_cache.path());
                total += land_to_first_decision(root.path(), &reloader);
            }
            total
        })
    });
    group.bench_function("land_to_first_decision/watched/warm", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (root, reloader) = fresh(warm_cache.path());
                let reloader = std::sync::Arc::new(reloader);
                let _watcher = reloader.watch().unwrap();
                total += land_watched(root.path(), &reloader);
            }
            total
        })
    });
    group.finish();
}

/// Lands the `pii` detector in a watched folder and evaluates until it
/// decides, with no reload call. Returns the time from the first byte
/// written to that decision.
fn land_watched(root: &Path, reloader: &Reloader) -> Duration {
    let wasm = builtin::component("pii").unwrap();
    let payload = Payload::text(Stage::Request, "mail bob@example.com");
    let manifest = render(
        "pii",
        &pii_version(),
        PluginKind::PiiDetector,
        &[Stage::Request],
        &PluginDigest::of(wasm),
        None,
        None,
    );
    let plugins = root.join("plugins");
    let started = Instant::now();
    std::fs::write(plugins.join("pii.wasm"), wasm).unwrap();
    std::fs::write(plugins.join("pii.toml"), manifest).unwrap();
    loop {
        let e = reloader.live().evaluate(&payload);
        if e.decisions.iter().any(|d| d.plugin == "pii") {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the watcher never picked the plugin up: {:?}",
            reloader.metrics()
        );
        std::thread::yield_now();
    }
}

criterion_group!(benches, lifecycle);
criterion_main!(benches);
