//! The compile cache: a second engine loads compiled plugins from disk, and
//! a damaged entry is detected and rebuilt instead of being run.

use railyard::engine::{CacheOutcome, EngineSettings, RailyardEngine};
use railyard::plugin::{PluginDigest, PluginLoader, builtin};
use railyard::{Payload, Pipeline, Policy, Stage};

fn loader(cache: &std::path::Path) -> PluginLoader {
    let engine = RailyardEngine::new(EngineSettings {
        pool_instances: 8,
        max_plugin_memory: 128 << 20,
        cache_dir: Some(cache.to_path_buf()),
        ..EngineSettings::default()
    })
    .unwrap();
    PluginLoader::new(engine).unwrap()
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
