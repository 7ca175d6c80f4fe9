//! The engines that compile.
//!
//! A wasmtime engine keeps Cranelift's per-thread compiler contexts
//! (`wasmtime-internal-cranelift`'s `Compiler::contexts`: the function
//! translator, the codegen context with regalloc2's vectors and bump
//! allocator) for reuse, for as long as the engine lives. For the engine
//! that serves traffic that is the whole process: after compiling the
//! default policy's plugins at start, `railyard serve` held ~16 MiB of
//! them, a third of its live heap, never used again unless a hot reload
//! compiles (BENCHMARKS.md, issue 19).
//!
//! So the serving engine never compiles. Each compile builds an engine from
//! the same `Config` without the pooling allocator (which only decides how
//! instances are allocated, not the code: an engine with it reserves
//! address space for every pooled instance, which a compiler does not
//! need), compiles to an artifact, and is dropped with its contexts; the
//! serving engine loads the artifact (`Component::deserialize`), as it
//! does an entry of the compile cache.
//!
//! That is only sound if the two engines agree on everything that shapes
//! generated code, which is what wasmtime's compatibility hash covers
//! (target, Cranelift flags, tunables, features, version).
//! [`check_compatible`] compares the hashes when an engine is built and
//! refuses to build on a mismatch; `Component::deserialize` checks the
//! same settings again on every load and returns an error, never runs
//! mismatched code.

use std::hash::Hash;

use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, InstanceAllocationStrategy};

use super::cache::Sha256Hasher;

/// `serving`'s configuration for a compile-only engine: the same, with
/// instances allocated on demand instead of from a pool.
pub(super) fn compile_config(serving: &Config) -> Config {
    let mut config = serving.clone();
    config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
    config
}

/// SHA-256 of an engine's compatibility hash input.
pub(super) fn compatibility_digest(engine: &Engine) -> [u8; 32] {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.finalize().into()
}

/// Errors unless an engine built from `compile_config` makes artifacts
/// that `serving` accepts (equal compatibility hashes).
pub(super) fn check_compatible(serving: &Engine, compile_config: &Config) -> wasmtime::Result<()> {
    let compiler = Engine::new(compile_config)?;
    if compatibility_digest(&compiler) != compatibility_digest(serving) {
        wasmtime::bail!(
            "the compile engine's settings differ from the serving engine's \
             (precompile_compatibility_hash); its artifacts would not load"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineSettings, RailyardEngine};

    fn settings() -> EngineSettings {
        EngineSettings {
            pool_instances: 4,
            cache_dir: None,
            ..EngineSettings::default()
        }
    }

    /// The pooling allocator is not part of the compatibility hash, so the
    /// compile engines' artifacts load into the serving engine, metered or
    /// not (building checks it; this states it).
    #[test]
    fn compile_engines_match_the_serving_engines() {
        RailyardEngine::new(settings()).expect("serving engine builds");
        RailyardEngine::metered(settings()).expect("metered engine builds");
    }

    /// A compile engine whose settings change generated code is refused
    /// when the serving engine is built, not found out when code runs.
    #[test]
    fn a_compile_engine_with_other_settings_is_refused() {
        let mut serving = Config::new();
        serving.wasm_component_model(true).epoch_interruption(true);
        let serving = Engine::new(&serving).unwrap();
        let mut other = compile_config(&Config::new());
        other.wasm_component_model(true).consume_fuel(true);
        let err = check_compatible(&serving, &other).unwrap_err();
        assert!(format!("{err}").contains("precompile_compatibility_hash"));
        let mut same = Config::new();
        same.wasm_component_model(true).epoch_interruption(true);
        check_compatible(&serving, &compile_config(&same)).unwrap();
    }
}
