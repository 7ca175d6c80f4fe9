//! The `info()` call made once when a plugin is loaded, and the
//! validation of what it says about itself.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::Store;

use super::KindPre;
use super::fault::classify;
use super::validate::MAX_IDENT;
use crate::engine::RailyardEngine;
use crate::payload::Stage;
use crate::plugin::bindings::wit;
use crate::plugin::{LoadError, PluginInfo, PluginState};

/// Deadline and memory for the `info()` call made at load.
const INFO_TIMEOUT: Duration = Duration::from_secs(1);
const INFO_MEMORY: u64 = 64 << 20;

/// Calls `info()` once at load and validates it.
pub(crate) fn call_info(
    engine: &RailyardEngine,
    pre: &KindPre,
    plugin: &str,
) -> Result<PluginInfo, LoadError> {
    let mut store = Store::new(
        engine.wasmtime(),
        PluginState::new(Arc::from(plugin), Arc::from(Vec::new()), INFO_MEMORY),
    );
    store.limiter(|s| &mut s.limiter);
    if engine.is_metered() {
        // info() is bounded by its deadline; fuel is for calls under test.
        store.set_fuel(u64::MAX).map_err(|e| LoadError::Info {
            plugin: plugin.to_string(),
            detail: format!("cannot be given fuel: {e}"),
        })?;
    }
    store.set_epoch_deadline(RailyardEngine::ticks_for(INFO_TIMEOUT));
    store.epoch_deadline_trap();
    let result = match pre {
        KindPre::Guardrail(p) => p
            .instantiate(&mut store)
            .and_then(|g| g.call_info(&mut store)),
        KindPre::PiiDetector(p) => p
            .instantiate(&mut store)
            .and_then(|g| g.call_info(&mut store)),
        KindPre::JudgeRouter(p) => p
            .instantiate(&mut store)
            .and_then(|g| g.call_info(&mut store)),
    };
    let info = result.map_err(|e| LoadError::Info {
        plugin: plugin.to_string(),
        detail: format!(
            "failed: {}",
            classify(&store, e, INFO_TIMEOUT.as_millis() as u64)
        ),
    })?;
    let bad = |detail: String| LoadError::Info {
        plugin: plugin.to_string(),
        detail,
    };
    if info.name.trim().is_empty() || info.name.len() > MAX_IDENT {
        return Err(bad(format!(
            "returned an unusable name {:?}; expected 1 to {MAX_IDENT} bytes",
            info.name
        )));
    }
    if info.version.trim().is_empty() || info.version.len() > MAX_IDENT {
        return Err(bad(format!(
            "returned an unusable version {:?}; expected 1 to {MAX_IDENT} bytes",
            info.version
        )));
    }
    if info.stages.is_empty() {
        return Err(bad(
            "declares no stages; expected at least one of request, response, stream-chunk".into(),
        ));
    }
    let mut stages: Vec<Stage> = info.stages.iter().map(|s| stage_from_wit(*s)).collect();
    stages.sort();
    stages.dedup();
    Ok(PluginInfo {
        name: info.name,
        version: info.version,
        stages,
    })
}

fn stage_from_wit(s: wit::Stage) -> Stage {
    match s {
        wit::Stage::Request => Stage::Request,
        wit::Stage::Response => Stage::Response,
        wit::Stage::StreamChunk => Stage::StreamChunk,
    }
}
