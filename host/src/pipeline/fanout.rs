//! Running a stage's independent plugins at once, when cores are idle.
//!
//! The detectors of a stage (everything but judge routers) do not see each
//! other's results, so their calls may run at the same time; each still
//! gets its own fresh instance (or its own pooled one), exactly as when
//! they run one after another. [`Fanout`] is a small persistent set of
//! worker threads (a `rayon` pool; no thread is spawned per call) that an
//! evaluation borrows only when doing so does not take a core from other
//! work:
//!
//! - fewer evaluations are in flight through this fan-out than the
//!   machine has cores (each in-flight evaluation is a thread that wants a
//!   core);
//! - a worker is idle: the caller claims idle workers without waiting and,
//!   if it gets none, runs the plugins itself, one by one;
//! - the payload is big enough (`RAILYARD_FANOUT_MIN_KIB`, default
//!   [`DEFAULT_MIN_KIB`]) that the calls take much longer than waking a
//!   worker.
//!
//! The caller works too: it and the workers it claimed take the calls in
//! list order from a shared counter, and the caller waits only for calls a
//! worker took, so a worker that wakes late (or gets no core) finds the
//! calls already taken and costs the caller nothing.
//!
//! Instances: every thread runs one call at a time, so fan-out holds at
//! most one instance more per worker, process-wide, than running the same
//! calls in sequence. A call whose instance could not be had
//! (`pool-exhausted`) while this evaluation held others is run again
//! afterwards, when the evaluation holds none, as it would have run in
//! sequence (see `Pipeline::evaluate_given`).
//!
//! `RAILYARD_FANOUT_WORKERS` sets the workers; the default, 0, leaves
//! fan-out off (measured: it did not pay on a shared 2-core VM, where cores
//! are seldom idle and the in-flight count cannot see other processes).
//! The cores less one is the sensible setting on a host with cores to
//! spare.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A persistent set of workers that evaluations borrow when idle.
pub struct Fanout {
    pool: rayon::ThreadPool,
    workers: usize,
    cores: usize,
    /// Payloads smaller than this run in sequence.
    min_bytes: usize,
    /// Workers not claimed by an evaluation.
    idle: Arc<AtomicUsize>,
    /// Evaluations running through this fan-out now.
    in_flight: AtomicUsize,
    fanned_out: AtomicU64,
    sequential: AtomicU64,
}

impl std::fmt::Debug for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout")
            .field("workers", &self.workers)
            .field("cores", &self.cores)
            .field("min_bytes", &self.min_bytes)
            .finish()
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn env_usize(key: &str) -> Option<usize> {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
}

/// The workers `RAILYARD_FANOUT_WORKERS` asks for; none by default: on
/// the 2-core VM it was measured on, shared with other work, fanning out
/// never paid reliably (BENCHMARKS.md, issue 19, target 1).
fn configured_workers() -> usize {
    env_usize("RAILYARD_FANOUT_WORKERS").unwrap_or(0)
}

/// Payload KiB below which a stage runs in sequence, by default: on small
/// payloads a plugin call (about 10 µs) is not much longer than waking a
/// worker on a VM, and fanned out the serve path got slower (BENCHMARKS.md,
/// issue 19, target 1). 16 is also where `serve` starts handing
/// evaluations off the async worker (`RAILYARD_INLINE_EVAL_KIB`).
pub const DEFAULT_MIN_KIB: usize = 16;

impl Fanout {
    /// The process's fan-out, as `RAILYARD_FANOUT_WORKERS` configures it;
    /// `None` when that is 0 (or the machine has one core). Pipelines use it
    /// unless given another ([`crate::Pipeline::with_fanout`]).
    pub fn shared() -> Option<Arc<Fanout>> {
        static SHARED: OnceLock<Option<Arc<Fanout>>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                let workers = configured_workers();
                let min_kib = env_usize("RAILYARD_FANOUT_MIN_KIB").unwrap_or(DEFAULT_MIN_KIB);
                (workers > 0).then(|| {
                    Arc::new(
                        Fanout::new(workers, cores()).with_min_bytes(min_kib.saturating_mul(1024)),
                    )
                })
            })
            .clone()
    }

    /// `workers` threads, lending themselves out while fewer than `cores`
    /// evaluations are in flight, on payloads of any size.
    pub fn new(workers: usize, cores: usize) -> Fanout {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers.max(1))
            .thread_name(|i| format!("railyard-fanout-{i}"))
            .build()
            .expect("start the fan-out workers");
        Fanout {
            pool,
            workers,
            cores: cores.max(1),
            min_bytes: 0,
            idle: Arc::new(AtomicUsize::new(workers)),
            in_flight: AtomicUsize::new(0),
            fanned_out: AtomicU64::new(0),
            sequential: AtomicU64::new(0),
        }
    }

    /// Fans out only payloads of at least `bytes` bytes
    /// (`Payload::input_bytes`); smaller ones run in sequence.
    pub fn with_min_bytes(mut self, bytes: usize) -> Fanout {
        self.min_bytes = bytes;
        self
    }

    /// Worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Whether a payload of `bytes` bytes is big enough to fan out.
    pub(crate) fn worth(&self, bytes: usize) -> bool {
        bytes >= self.min_bytes
    }

    /// Runs (calls of stages) that were spread over workers, and runs of
    /// two or more calls that ran in sequence because no core or worker was
    /// free.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.fanned_out.load(Ordering::Relaxed),
            self.sequential.load(Ordering::Relaxed),
        )
    }

    /// Marks an evaluation in flight until the guard drops.
    pub(crate) fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Claims every idle worker until the guard drops, as busy evaluations
    /// would (the hook for testing the fall-back).
    #[doc(hidden)]
    pub fn hold_idle_workers(&self) -> Claim<'_> {
        let n = self.claim(usize::MAX);
        Claim { fanout: self, n }
    }

    /// Waits until every worker has given its claim back (a worker gives
    /// it back after running, which may be after the run it was claimed
    /// for returned), so a test's next run finds them idle.
    #[doc(hidden)]
    pub fn settle(&self) {
        while self.idle.load(Ordering::Acquire) < self.workers {
            std::thread::yield_now();
        }
    }

    /// Claims up to `want` idle workers without waiting; returns how many.
    fn claim(&self, want: usize) -> usize {
        let mut idle = self.idle.load(Ordering::Acquire);
        loop {
            let take = idle.min(want);
            if take == 0 {
                return 0;
            }
            match self.idle.compare_exchange_weak(
                idle,
                idle - take,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return take,
                Err(now) => idle = now,
            }
        }
    }

    /// Helpers an evaluation may claim now: cores not wanted by the
    /// evaluations in flight (this one included).
    fn spare_cores(&self) -> usize {
        self.cores
            .saturating_sub(self.in_flight.load(Ordering::Relaxed).max(1))
    }

    /// `f(0)`, …, `f(n - 1)`, in that order in the result: spread over the
    /// caller and idle workers when there are any, else in sequence on the
    /// caller. Also says whether it was spread.
    ///
    /// The caller never waits for a worker to start: calls are taken from
    /// a shared counter, and the caller waits only for calls a worker has
    /// taken and not finished. A worker that starts after the caller took
    /// the last call finds nothing to do; its claim is given back when it
    /// has run, so until a late worker gets a core, other evaluations find
    /// it busy and run in sequence.
    pub(crate) fn run<R, F>(&self, n: usize, f: F) -> (Vec<R>, bool)
    where
        R: Send + 'static,
        F: Fn(usize) -> R + Send + Sync + 'static,
    {
        if n < 2 {
            return ((0..n).map(&f).collect(), false);
        }
        let want = (n - 1).min(self.spare_cores());
        let claimed = if want == 0 { 0 } else { self.claim(want) };
        if claimed == 0 {
            self.sequential.fetch_add(1, Ordering::Relaxed);
            return ((0..n).map(&f).collect(), false);
        }
        self.fanned_out.fetch_add(1, Ordering::Relaxed);
        let run = Arc::new(Run {
            f,
            slots: (0..n).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            caller: std::thread::current(),
            span: tracing::Span::current(),
        });
        for _ in 0..claimed {
            let run = run.clone();
            let idle = self.idle.clone();
            self.pool.spawn(move || {
                run.span.in_scope(|| run.work());
                drop(run);
                idle.fetch_add(1, Ordering::AcqRel);
            });
        }
        run.work();
        while run.done.load(Ordering::Acquire) < n {
            std::thread::park();
        }
        let results = run
            .slots
            .iter()
            .map(|slot| {
                match slot
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .expect("every call of the run ran")
                {
                    Ok(r) => r,
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            })
            .collect();
        (results, true)
    }
}

/// One fanned-out run: the calls, their results, and who waits for them.
struct Run<R, F> {
    f: F,
    /// Each call's result, or its panic (resumed on the caller).
    slots: Vec<Mutex<Option<std::thread::Result<R>>>>,
    /// The next call to take.
    next: AtomicUsize,
    /// Calls finished.
    done: AtomicUsize,
    caller: std::thread::Thread,
    span: tracing::Span,
}

impl<R, F: Fn(usize) -> R> Run<R, F> {
    /// Takes calls until none is left.
    fn work(&self) {
        let n = self.slots.len();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return;
            }
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| (self.f)(i)));
            *self.slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
            if self.done.fetch_add(1, Ordering::AcqRel) + 1 == n {
                self.caller.unpark();
            }
        }
    }
}

/// An evaluation in flight (see [`Fanout::enter`]).
pub(crate) struct InFlight<'a>(&'a Fanout);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Claimed workers, given back on drop.
pub struct Claim<'a> {
    fanout: &'a Fanout,
    n: usize,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.fanout.idle.fetch_add(self.n, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_whichever_thread_ran_them() {
        let fanout = Fanout::new(2, 4);
        let (out, fanned) = fanout.run(9, |i| i * 10);
        assert!(fanned);
        assert_eq!(out, (0..9).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(fanout.counts(), (1, 0));
        fanout.settle();
        assert_eq!(fanout.run(2, |i| i), (vec![0, 1], true));
    }

    #[test]
    fn no_idle_worker_runs_in_sequence_on_the_caller() {
        let fanout = Fanout::new(2, 4);
        let held = fanout.hold_idle_workers();
        let caller = std::thread::current().id();
        let (out, fanned) = fanout.run(3, |i| (i, std::thread::current().id()));
        assert!(!fanned);
        assert!(out.iter().all(|(_, t)| *t == caller));
        assert_eq!(out.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(fanout.counts(), (0, 1));
        drop(held);
        fanout.run(3, |i| i);
        assert_eq!(fanout.counts(), (1, 1));
    }

    #[test]
    fn no_spare_core_runs_in_sequence() {
        // Two cores, two evaluations in flight: none to spare.
        let fanout = Fanout::new(1, 2);
        let _a = fanout.enter();
        let _b = fanout.enter();
        assert_eq!(fanout.run(3, |i| i), (vec![0, 1, 2], false));
        assert_eq!(fanout.counts(), (0, 1));
        drop(_b);
        assert_eq!(fanout.run(3, |i| i), (vec![0, 1, 2], true));
        fanout.settle();
        assert_eq!(fanout.counts(), (1, 1));
    }

    #[test]
    fn a_panicking_call_panics_the_caller_and_frees_the_workers() {
        let fanout = Fanout::new(2, 4);
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
            fanout.run(4, |i| {
                assert_ne!(i, 2, "call 2 fails");
                i
            })
        }));
        assert!(caught.is_err());
        fanout.settle();
        assert_eq!(fanout.run(4, |i| i), (vec![0, 1, 2, 3], true));
    }

    #[test]
    fn one_call_is_not_a_run() {
        let fanout = Fanout::new(1, 4);
        assert_eq!(fanout.run(1, |i| i + 1), (vec![1], false));
        assert_eq!(fanout.counts(), (0, 0));
    }
}
