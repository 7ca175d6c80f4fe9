//! The compile cache: a second engine loads compiled plugins from disk, and
//! a damaged entry is detected and rebuilt instead of being run.

use railyard::engine::{CacheOutcome, EngineSettings, RailyardEngine};
use railyard::plugin::{PluginDigest, PluginLoader, builtin};
use railyard::{Payload, Pipeline, Policy, Stage};

fn loader(cache: &std::path::Path) -> PluginLoader {
    loader_with(Some(cache))
}

fn loader_with(cache: Option<&std::path::Path>) -> PluginLoader {
    let engine = RailyardEngine::new(EngineSettings {
        pool_instances: 8,
        max_plugin_memory: 128 << 20,
        cache_dir: cache.map(std::path::Path::to_path_buf),
        ..EngineSettings::default()
    })
    .unwrap();
    PluginLoader::new(engine).unwrap()
}

/// The serving engine never compiles: a compile runs on an engine built for
/// it and dropped before the load returns, so Cranelift's scratch (which an
/// engine keeps for reuse, ~16 MiB after the default policy) is not held
/// for the life of the process. Shown with a weak handle to that engine,
/// not a heap reading. A cache hit compiles nothing.
#[test]
fn compile_engines_are_dropped_once_the_plugin_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let payload = Payload::text(Stage::Request, "mail bob@example.com");
    for cache in [Some(dir.path()), None] {
        let l = loader_with(cache);
        assert!(!l.engine().has_compiled());
        let p = Pipeline::load(&l, Policy::embedded_default()).unwrap();
        assert!(l.engine().has_compiled(), "cache {cache:?}: compiled");
        assert!(
            !l.engine().last_compile_engine_alive(),
            "cache {cache:?}: the compile engine outlived the load"
        );
        assert!(p.evaluate(&payload).redacted.is_some());
    }
    // Everything is in the cache now: a new engine loads without compiling.
    let l = loader(dir.path());
    let loaded = l.load("pii", builtin::component("pii").unwrap()).unwrap();
    assert_eq!(loaded.cache, CacheOutcome::Hit);
    assert!(!l.engine().has_compiled());
}

#[test]
fn second_load_hits_the_cache_and_a_corrupt_entry_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = builtin::component("pii").unwrap();

    let first = loader(dir.path()).load("pii", wasm).unwrap();
    assert_eq!(first.cache, CacheOutcome::Miss);
    let l2 = loader(dir.path());
    let second = l2.load("pii", wasm).unwrap();
    assert_eq!(second.cache, CacheOutcome::Hit);
    assert_eq!(first.digest, second.digest);

    // Flip one byte in the middle of the stored artifact.
    let entry = l2
        .engine()
        .cache()
        .unwrap()
        .entry_path(&PluginDigest::of(wasm).0);
    let mut bytes = std::fs::read(&entry).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&entry, &bytes).unwrap();

    let third = loader(dir.path()).load("pii", wasm).unwrap();
    assert_eq!(third.cache, CacheOutcome::Corrupt);
    let fourth = loader(dir.path()).load("pii", wasm).unwrap();
    assert_eq!(
        fourth.cache,
        CacheOutcome::Hit,
        "the rebuilt entry is good again"
    );
}

#[test]
fn cached_and_fresh_plugins_decide_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let payload = Payload::text(
        Stage::Request,
        "mail bob@example.com, card 4111 1111 1111 1111",
    );
    let run = || {
        let p = Pipeline::load(&loader(dir.path()), Policy::embedded_default()).unwrap();
        let e = p.evaluate(&payload);
        (e.action, e.redacted)
    };
    assert_eq!(run(), run());
}

#[test]
fn unwritable_cache_folder_still_loads_plugins() {
    // A file where the folder should be: the cache cannot be written, the
    // plugin is compiled in memory and a warning is logged.
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("cache");
    std::fs::write(&blocker, b"not a folder").unwrap();
    let loaded = loader(&blocker)
        .load("pii", builtin::component("pii").unwrap())
        .unwrap();
    assert_eq!(loaded.cache, CacheOutcome::Miss);
}
