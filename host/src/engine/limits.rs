//! Per-call memory cap.

use wasmtime::ResourceLimiter;

/// Caps a plugin's linear memory and remembers whether the cap was hit, so
/// the resulting trap is reported as `memory-limit`, not as a generic trap.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    max_bytes: usize,
    hit: bool,
    peak: usize,
}

impl MemoryLimiter {
    pub(crate) fn new(max_bytes: u64) -> Self {
        MemoryLimiter {
            max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            hit: false,
            peak: 0,
        }
    }

    /// Whether the plugin tried to grow past its cap during this call.
    pub(crate) fn was_hit(&self) -> bool {
        self.hit
    }

    /// The largest linear memory the plugin was granted during this call,
    /// in bytes (what the conformance harness compares with its budget).
    pub(crate) fn peak(&self) -> usize {
        self.peak
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.peak = self.peak.max(desired.min(self.max_bytes));
        if desired > self.max_bytes {
            // Refuse the growth and trap at once: a plugin that keeps
            // asking for memory it cannot have would otherwise spin until
            // its deadline, or abort with a less helpful message.
            self.hit = true;
            return Err(wasmtime::Error::msg(format!(
                "plugin tried to grow its memory to {desired} bytes; its limit is {} bytes",
                self.max_bytes
            )));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; no sane plugin needs a million.
        Ok(desired <= 1_000_000)
    }
}
