//! Bounds on every call of a plugin, as the policy sets them and the call
//! path enforces them.

use std::time::Duration;

/// Bounds on every call of a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginLimits {
    /// Wall-clock deadline per call (epoch-based).
    pub timeout: Duration,
    /// Linear memory cap per instance, in bytes.
    pub memory_bytes: u64,
    /// Payloads larger than this are not shown to the plugin.
    pub max_input_bytes: usize,
}
