//! Replaying many calls on every core.
//!
//! One [`Pipeline`] is shared by a scoped thread per core: each plugin
//! call already gets a fresh instance from the engine's pool, so workers
//! need nothing of their own. Workers take calls by index from one atomic
//! counter (calls differ in size; a static split would leave cores idle)
//! and count finished calls in `done`, which the caller may read for
//! progress.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{CallReplay, LoggedCall, replay_call};
use crate::pipeline::Pipeline;

/// The default worker count: every core the process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Replays `calls` on `threads` workers; the results are in `calls`' order.
pub fn replay_all(
    pipeline: &Pipeline,
    calls: &[LoggedCall],
    threads: usize,
    done: &AtomicUsize,
) -> Vec<CallReplay> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, CallReplay)>> = Mutex::new(Vec::with_capacity(calls.len()));
    std::thread::scope(|s| {
        for _ in 0..threads.max(1).min(calls.len().max(1)) {
            s.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(call) = calls.get(i) else { break };
                    mine.push((i, replay_call(pipeline, call)));
                    done.fetch_add(1, Ordering::Relaxed);
                }
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(mine);
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
