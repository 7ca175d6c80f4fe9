//! Instances kept between calls for policy entries that opt in with
//! `reuse = true`, and the call that takes one and gives it back.

use std::sync::{Arc, Mutex};

use wasmtime::Store;

use super::fault::{CallFault, classify};
use super::{Bound, CallOutput, StageInput, invoke};
use crate::engine::RailyardEngine;
use crate::plugin::{LoadedPlugin, PluginLimits, PluginState};
use crate::verdict::Finding;

struct Warm {
    store: Store<PluginState>,
    bound: Bound,
}

/// Instances of one policy entry kept between calls, for entries that opt
/// in with `reuse = true` (DESIGN: a fresh instance per call is the
/// default; reuse is opt-in per plugin, measured).
///
/// A call takes an idle instance (or instantiates one) and gives it back
/// only if the call succeeded: after a trap, a timeout, a memory-limit
/// hit, an `Err` or invalid output the instance is dropped, so a fault
/// never carries into the next call. What a plugin keeps in its own memory
/// between calls is visible to the next caller: opt in only for plugins
/// that keep no per-call state (the first-party detectors keep none).
#[derive(Default)]
pub struct InstancePool {
    idle: Mutex<Vec<Warm>>,
}

/// Idle instances kept per pool; more are dropped after their call.
const MAX_IDLE: usize = 16;

impl InstancePool {
    /// Instances currently idle.
    pub fn idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl LoadedPlugin {
    /// [`LoadedPlugin::call`] on an instance from `pool` (see
    /// [`InstancePool`]).
    pub fn call_pooled(
        &self,
        pool: &InstancePool,
        input: &StageInput,
        prior: &[Finding],
        config: &Arc<[(String, String)]>,
        limits: &PluginLimits,
    ) -> Result<CallOutput, CallFault> {
        input.within(limits.max_input_bytes)?;
        let timeout_ms = limits.timeout.as_millis() as u64;
        let idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut warm = match idle {
            Some(w) => w,
            None => {
                let mut store = self.new_store(config.clone(), limits.memory_bytes);
                store.set_epoch_deadline(RailyardEngine::ticks_for(limits.timeout));
                store.epoch_deadline_trap();
                match self.pre.instantiate(&mut store) {
                    Ok(bound) => Warm { store, bound },
                    Err(e) => return Err(classify(&store, e, timeout_ms)),
                }
            }
        };
        let store = &mut warm.store;
        store.data_mut().begin_call();
        store.set_epoch_deadline(RailyardEngine::ticks_for(limits.timeout));
        store.epoch_deadline_trap();
        let result = invoke(store, &warm.bound, input, prior, |store, e| {
            classify(store, e, timeout_ms)
        });
        if result.is_ok() {
            let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(warm);
            }
        }
        result
    }
}
