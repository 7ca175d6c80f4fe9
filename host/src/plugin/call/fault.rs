//! Why a call produced no usable output: the typed [`CallFault`], and how
//! a wasmtime error (trap, deadline, memory cap, pool limit, fuel) or the
//! plugin's own `Err` is classified into one.

use wasmtime::Store;

use crate::plugin::PluginState;

/// Bytes of a fault message kept.
const MAX_FAULT: usize = 2048;

/// Why a call produced no usable output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFault {
    /// The payload is larger than the plugin's input cap; it was not called.
    #[error("payload is {bytes} bytes; this plugin's input limit is {limit} bytes")]
    InputTooLarge {
        /// Payload size.
        bytes: usize,
        /// The cap.
        limit: usize,
    },
    /// The epoch deadline passed.
    #[error("did not finish within {timeout_ms} ms")]
    TimedOut {
        /// The deadline.
        timeout_ms: u64,
    },
    /// The plugin tried to grow memory past its cap.
    #[error("{0}")]
    MemoryLimit(String),
    /// The plugin trapped (panic, abort, unreachable, out of bounds…), or
    /// could not be instantiated.
    #[error("trapped: {0}")]
    Trapped(String),
    /// The plugin returned `Err`.
    #[error("plugin returned an error: {0}")]
    PluginError(String),
    /// The plugin returned output that breaks the contract.
    #[error("invalid output: {0}")]
    InvalidOutput(String),
    /// No instance could be made: the engine's instance pool is in use to
    /// its limit (`RAILYARD_POOL_INSTANCES`). Nothing about the plugin is
    /// wrong; the host is at capacity.
    #[error("no free instance: {0}")]
    PoolExhausted(String),
    /// The plugin used up its fuel budget (only on a metered engine: the
    /// conformance harness).
    #[error("ran out of fuel: used more than its budget of {budget} units")]
    OutOfFuel {
        /// The budget.
        budget: u64,
    },
}

impl CallFault {
    /// The outcome name recorded for this fault.
    pub fn outcome(&self) -> &'static str {
        match self {
            CallFault::InputTooLarge { .. } => "input-too-large",
            CallFault::TimedOut { .. } => "timed-out",
            CallFault::MemoryLimit(_) => "memory-limit",
            CallFault::Trapped(_) => "trapped",
            CallFault::PluginError(_) => "plugin-error",
            CallFault::InvalidOutput(_) => "invalid-output",
            CallFault::OutOfFuel { .. } => "out-of-fuel",
            CallFault::PoolExhausted(_) => "pool-exhausted",
        }
    }
}

/// Turns a wasmtime result (trap, or the plugin's own `Err`) into a fault.
pub(crate) fn unwrap_call<T>(
    store: &Store<PluginState>,
    result: wasmtime::Result<Result<T, String>>,
    classify: impl FnOnce(&Store<PluginState>, wasmtime::Error) -> CallFault,
) -> Result<T, CallFault> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(message)) => Err(CallFault::PluginError(clip(&message))),
        Err(e) => Err(classify(store, e)),
    }
}

/// [`classify`], where running out of a `fuel` budget is `OutOfFuel`.
pub(crate) fn classify_metered(
    store: &Store<PluginState>,
    error: wasmtime::Error,
    timeout_ms: u64,
    fuel: Option<u64>,
) -> CallFault {
    match fuel {
        Some(budget)
            if matches!(
                error.downcast_ref::<wasmtime::Trap>(),
                Some(wasmtime::Trap::OutOfFuel)
            ) =>
        {
            CallFault::OutOfFuel { budget }
        }
        _ => classify(store, error, timeout_ms),
    }
}

pub(crate) fn classify(
    store: &Store<PluginState>,
    error: wasmtime::Error,
    timeout_ms: u64,
) -> CallFault {
    if store.data().limiter.was_hit() {
        return CallFault::MemoryLimit(clip(&format!("{}", error.root_cause())));
    }
    if let Some(wasmtime::Trap::Interrupt) = error.downcast_ref::<wasmtime::Trap>() {
        return CallFault::TimedOut { timeout_ms };
    }
    if let Some(full) = error.downcast_ref::<wasmtime::PoolConcurrencyLimitError>() {
        return CallFault::PoolExhausted(clip(&format!(
            "{full} (RAILYARD_POOL_INSTANCES sizes the pool)"
        )));
    }
    let mut message = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{}", error.root_cause()),
    };
    if let Some(stderr) = store.data().stderr() {
        message.push_str("; plugin stderr: ");
        message.push_str(&stderr);
    }
    CallFault::Trapped(clip(&message))
}

pub(crate) fn clip(s: &str) -> String {
    if s.len() <= MAX_FAULT {
        return s.to_string();
    }
    let mut cut = MAX_FAULT;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}
