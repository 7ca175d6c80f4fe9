//! Blocking work (plugin evaluations, stream pushes) called from the async
//! handlers.
//!
//! `tokio::task::block_in_place` lets a runtime worker block without
//! stalling the tasks queued on it: it first hands the worker's queue to
//! another thread, waking or starting one. That handoff costs a thread
//! wake-up and a context switch each time, tens of microseconds on a VM,
//! which is more than a plugin evaluation of a small payload takes, and a
//! call makes several (each stage, each streamed chunk). So work on a
//! payload of at most `RAILYARD_INLINE_EVAL_KIB` (default 16) runs inline
//! on the worker, and larger work goes through `block_in_place`. Inline
//! work is still bounded by every plugin's deadline; while it runs, the
//! other worker steals the queued tasks.

use std::sync::OnceLock;

/// Payload bytes at most this many are evaluated inline.
fn inline_limit() -> usize {
    static LIMIT: OnceLock<usize> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("RAILYARD_INLINE_EVAL_KIB")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(16)
            .saturating_mul(1024)
    })
}

/// Runs `f`, work on `bytes` bytes of payload: inline when small, else
/// through `block_in_place` (see the module docs).
pub(crate) fn run<T>(bytes: usize, f: impl FnOnce() -> T) -> T {
    if bytes > inline_limit() {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}
