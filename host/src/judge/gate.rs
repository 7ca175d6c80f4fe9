//! A judge's budget: at most `max_in_flight` calls at once, waiting callers
//! served highest priority first (then first come), at most `queue` of them
//! waiting, and at most `max_per_second` calls started per second.
//!
//! A caller past the queue bound is refused at once ([`Overflow`]); the
//! dispatcher records that as a `skipped` judgement. A waiter that gives up
//! (its deadline passed) simply drops its future; a slot handed to a waiter
//! that is already gone comes back to the gate.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// The gate refused: its queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    /// Calls in flight when it refused.
    pub in_flight: usize,
    /// Callers waiting when it refused.
    pub queued: usize,
}

/// A judge's concurrency, queue and rate budget.
#[derive(Debug)]
pub struct Gate {
    max_in_flight: usize,
    queue: usize,
    /// Minimum spacing between call starts (`None`: no rate limit).
    spacing: Option<Duration>,
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    in_flight: usize,
    waiting: BinaryHeap<Waiter>,
    next_seq: u64,
    /// The earliest time the next call may start (rate limit).
    next_start: Option<Instant>,
}

#[derive(Debug)]
struct Waiter {
    priority: u8,
    seq: u64,
    tx: oneshot::Sender<Permit>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    /// Higher priority first, then the earlier arrival (lower sequence).
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// One call's slot; given back when dropped.
#[derive(Debug)]
pub struct Permit {
    gate: Option<Arc<Gate>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.release();
        }
    }
}

impl Gate {
    /// A gate; `max_in_flight` ≥ 1; `max_per_second` `None` for no rate limit.
    pub fn new(max_in_flight: usize, queue: usize, max_per_second: Option<f64>) -> Arc<Gate> {
        Arc::new(Gate {
            max_in_flight: max_in_flight.max(1),
            queue,
            spacing: max_per_second
                .filter(|r| *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            state: Mutex::new(GateState::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Calls in flight and callers waiting, now.
    pub fn load(&self) -> (usize, usize) {
        let s = self.lock();
        (s.in_flight, s.waiting.len())
    }

    /// Waits for a slot (no deadline here: the caller wraps this in its
    /// own). Refuses at once when the queue is full.
    pub async fn acquire(self: &Arc<Gate>, priority: u8) -> Result<Permit, Overflow> {
        let rx = {
            let mut s = self.lock();
            if s.in_flight < self.max_in_flight {
                s.in_flight += 1;
                return Ok(Permit {
                    gate: Some(self.clone()),
                });
            }
            if s.waiting.len() >= self.queue {
                // Waiters that gave up still sit in the heap; drop them
                // before refusing anyone.
                s.waiting.retain(|w| !w.tx.is_closed());
                if s.waiting.len() >= self.queue {
                    return Err(Overflow {
                        in_flight: s.in_flight,
                        queued: s.waiting.len(),
                    });
                }
            }
            let (tx, rx) = oneshot::channel();
            let seq = s.next_seq;
            s.next_seq += 1;
            s.waiting.push(Waiter { priority, seq, tx });
            rx
        };
        // The sender is dropped only by `retain` above, which removes
        // closed waiters only, so a live waiter always gets its permit.
        Ok(rx.await.expect("a queued waiter is handed a permit"))
    }

    /// Waits until the rate limit lets one more call start.
    pub async fn pace(&self) {
        let Some(spacing) = self.spacing else {
            return;
        };
        let start = {
            let mut s = self.lock();
            let now = Instant::now();
            let start = s.next_start.map_or(now, |t| t.max(now));
            s.next_start = Some(start + spacing);
            start
        };
        tokio::time::sleep_until(start.into()).await;
    }

    fn release(self: Arc<Gate>) {
        loop {
            let waiter = self.lock().waiting.pop();
            let Some(w) = waiter else {
                self.lock().in_flight -= 1;
                return;
            };
            // Hand the slot over: in_flight is unchanged.
            match w.tx.send(Permit {
                gate: Some(self.clone()),
            }) {
                Ok(()) => return,
                Err(mut unclaimed) => {
                    // The waiter gave up; defuse the permit and try the next.
                    unclaimed.gate = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn waiters_are_served_by_priority_then_arrival_and_the_queue_is_bounded() {
        rt().block_on(async {
            let gate = Gate::new(1, 3, None);
            let first = gate.acquire(0).await.unwrap();
            let order = Arc::new(Mutex::new(Vec::new()));
            let mut tasks = Vec::new();
            for (name, priority) in [("low", 1u8), ("high", 9), ("low2", 1)] {
                let (g, o) = (gate.clone(), order.clone());
                tasks.push(tokio::spawn(async move {
                    let _p = g.acquire(priority).await.unwrap();
                    o.lock().unwrap().push(name);
                }));
                tokio::task::yield_now().await;
            }
            assert_eq!(gate.load(), (1, 3));
            assert_eq!(
                gate.acquire(200).await.unwrap_err(),
                Overflow {
                    in_flight: 1,
                    queued: 3
                }
            );
            drop(first);
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*order.lock().unwrap(), ["high", "low", "low2"]);
            assert_eq!(gate.load(), (0, 0));
        });
    }

    #[test]
    fn a_waiter_that_gave_up_does_not_keep_a_slot_or_a_queue_place() {
        rt().block_on(async {
            let gate = Gate::new(1, 1, None);
            let held = gate.acquire(0).await.unwrap();
            let gave_up = tokio::time::timeout(Duration::from_millis(5), gate.acquire(0)).await;
            assert!(gave_up.is_err());
            // Its place in the queue is reclaimed...
            let g = gate.clone();
            let next = tokio::spawn(async move { g.acquire(0).await.map(drop) });
            tokio::task::yield_now().await;
            // ...and the slot goes to the live waiter, then back.
            drop(held);
            next.await.unwrap().unwrap();
            assert_eq!(gate.load(), (0, 0));
        });
    }

    #[test]
    fn the_rate_limit_spaces_call_starts() {
        rt().block_on(async {
            let gate = Gate::new(8, 8, Some(100.0));
            let t0 = Instant::now();
            for _ in 0..5 {
                gate.pace().await;
            }
            // Five starts at 100/s: the fifth no earlier than 40 ms in.
            assert!(t0.elapsed() >= Duration::from_millis(40));
        });
    }
}
