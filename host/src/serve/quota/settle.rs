//! Settling a call's token reservation once its answer is known.
//!
//! At admission a call reserves its prompt estimate plus its completion
//! bound (`max_tokens`, else [`super::DEFAULT_COMPLETION_TOKENS`]) from
//! every tokens bucket that applies. When the call is over, the
//! reservation is settled to what the call really used:
//!
//! - the prompt: the upstream's count (`usage.prompt_tokens`,
//!   `usage.input_tokens`) when it gives one, else the admission estimate;
//! - the completion: the upstream's count (`usage.completion_tokens` of
//!   Chat Completions and Completions, `usage.output_tokens` of Responses
//!   and Anthropic Messages, including the usage a stream sends in its last
//!   events), else the answer's text as railyard saw it, at about 4 bytes a
//!   token (rounded up) like the prompt estimate: an estimate, higher than a
//!   real tokenizer's count for English prose, lower for some scripts;
//! - a call that never reached an upstream (refused by the request rails,
//!   no route, a bad body) used nothing.
//!
//! The difference goes back to the buckets (never above a full bucket), or,
//! when an upstream ignored the bound and answered more, is charged on top
//! (a bucket may go below empty: the caller's next calls wait until the
//! debt has refilled). Settlement goes to the backend that admitted the
//! call: this host's memory, or Redis; a Redis that cannot be reached then
//! loses the adjustment, counted and logged like an admission it missed.
//!
//! States of a call's ticket: *open* (no tokens reserved: nothing to
//! settle), *reserved* at admission, *answered* when the call's record
//! is written with its token counts, *settled* once. A streamed answer's
//! task carries the ticket, and settles it when the stream ends; otherwise
//! the request handler settles it before answering, and the
//! `x-ratelimit-*-tokens` headers report the settled buckets.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::HeaderMap;
use hyper::header::HeaderValue;

use super::{Check, Cost, Quotas, Standing};
use crate::audit::TokenCounts;
use crate::payload::{Message, Payload};

/// Which backend charged a reservation (and so settles it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// This host's memory.
    Local,
    /// The shared backend (Redis).
    Shared,
}

#[derive(Debug, Clone)]
struct Reservation {
    caller: String,
    cost: Cost,
    backend: Backend,
    standing: Standing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Used {
    prompt: Option<u64>,
    completion: u64,
}

#[derive(Debug, Default)]
enum Phase {
    #[default]
    Open,
    Reserved(Reservation),
    Answered(Reservation, Used),
    Settled,
}

/// One call's reservation, from admission to settlement.
#[derive(Debug, Default)]
pub struct Ticket {
    phase: Mutex<Phase>,
    carried: AtomicBool,
}

tokio::task_local! {
    static TICKET: Arc<Ticket>;
}

impl Ticket {
    /// A ticket with nothing reserved yet.
    pub fn new() -> Arc<Ticket> {
        Arc::default()
    }

    /// Runs `f` as the call this ticket belongs to.
    pub async fn scope<F: Future>(self: Arc<Self>, f: F) -> F::Output {
        TICKET.scope(self, f).await
    }

    /// A streamed answer's task takes over settling it.
    pub fn carry(&self) {
        self.carried.store(true, Ordering::SeqCst);
    }

    /// Whether a streamed answer's task settles it.
    pub fn carried(&self) -> bool {
        self.carried.load(Ordering::SeqCst)
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Settles the reservation (once); returns the standing to report
    /// when tokens were reserved.
    pub async fn settle(&self, quotas: &Quotas) -> Option<Standing> {
        let (r, used) = match std::mem::replace(&mut *self.phase(), Phase::Settled) {
            Phase::Open | Phase::Settled => return None,
            Phase::Reserved(r) => (
                r,
                Used {
                    prompt: Some(0),
                    completion: 0,
                },
            ),
            Phase::Answered(r, used) => (r, used),
        };
        let real = used.prompt.unwrap_or(r.cost.prompt) + used.completion;
        let delta = real as i64 - r.cost.tokens as i64;
        if delta == 0 {
            return Some(r.standing);
        }
        let after = match r.backend {
            Backend::Local => quotas.adjust_local(&r.caller, delta, Instant::now()),
            Backend::Shared => match quotas.adjust_shared(&r.caller, delta).await {
                Ok(after) => after,
                Err(e) => {
                    if let Some(shared) = &quotas.shared {
                        shared.unreachable(&e);
                    }
                    tracing::warn!(caller = %r.caller, delta, error = %e, "a call's tokens could not be settled on the shared quota backend");
                    return Some(r.standing);
                }
            },
        };
        let mut standing = r.standing;
        if after.is_some() {
            standing.tokens = after;
        }
        Some(standing)
    }
}

/// The ticket of the call the running task serves, if any.
pub fn current() -> Option<Arc<Ticket>> {
    TICKET.try_with(Arc::clone).ok()
}

/// Admission charged `cost` for `caller` on `backend` (called by
/// [`Quotas::check`]); a call that reserved no tokens has nothing to
/// settle.
pub(super) fn reserve(caller: &str, cost: Cost, backend: Backend, standing: &Standing) {
    if cost.tokens == 0 || standing.tokens.is_none() {
        return;
    }
    if let Some(t) = current() {
        *t.phase() = Phase::Reserved(Reservation {
            caller: caller.to_string(),
            cost,
            backend,
            standing: standing.clone(),
        });
    }
}

/// The call's record is being written with `tokens` and the answer as
/// railyard saw it: what the call used. An upstream's error answer is
/// not a completion: its texts count nothing.
pub fn answered(tokens: &TokenCounts, answer: Option<&Payload>) {
    let Some(t) = current() else { return };
    let mut phase = t.phase();
    let r = match std::mem::take(&mut *phase) {
        Phase::Reserved(r) | Phase::Answered(r, _) => r,
        other => {
            *phase = other;
            return;
        }
    };
    let completion = tokens.completion.unwrap_or_else(|| {
        answer
            .filter(|p| !is_upstream_error(p))
            .map_or(0, |p| counted(&p.messages))
    });
    *phase = Phase::Answered(
        r,
        Used {
            prompt: tokens.prompt,
            completion,
        },
    );
}

/// Whether `answer` holds an upstream's error body (see
/// `serve::upstream_error`), whose texts carry that origin.
fn is_upstream_error(answer: &Payload) -> bool {
    answer
        .attributes
        .iter()
        .any(|(k, v)| k.ends_with(".origin") && v == "upstream-error")
}

/// Tokens of an answer no upstream counted: its text at about 4 bytes a
/// token, rounded up (as the prompt is estimated).
pub fn counted(answer: &[Message]) -> u64 {
    let bytes: usize = answer.iter().map(|m| m.content.len()).sum();
    (bytes as u64).div_ceil(4)
}

/// Replaces the `x-ratelimit-*` headers with `standing`'s.
pub fn amend(headers: &mut HeaderMap, standing: &Standing) {
    for (name, value) in standing.headers() {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
}

impl Quotas {
    /// Adds `delta` tokens to every tokens bucket of `caller` in this
    /// host's memory (negative: gives them back, never above a full
    /// bucket; positive: charges them, even below empty, so the next calls
    /// wait for the debt to refill). Returns the tightest tokens bucket's
    /// (limit, remaining, reset) after it.
    pub fn adjust_local(
        &self,
        caller: &str,
        delta: i64,
        now: Instant,
    ) -> Option<(u64, u64, Duration)> {
        let checks = self.token_checks(caller, delta);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let mut tightest: Option<(u64, u64, Duration)> = None;
        for c in &checks {
            let b = buckets
                .entry((c.key.clone(), c.what))
                .or_insert_with(|| super::Bucket::new(c.limit, now));
            b.refill(now);
            b.level = (b.level - delta as f64).min(b.per_minute as f64);
            let row = (c.limit, b.level.max(0.0) as u64, b.reset_in());
            if tightest.is_none_or(|t| row.1 < t.1) {
                tightest = Some(row);
            }
        }
        tightest
    }

    /// The same through the shared backend; `Err` when Redis could not be
    /// asked.
    pub(crate) async fn adjust_shared(
        &self,
        caller: &str,
        delta: i64,
    ) -> Result<Option<(u64, u64, Duration)>, String> {
        let Some(shared) = &self.shared else {
            return Ok(self.adjust_local(caller, delta, Instant::now()));
        };
        let checks = self.token_checks(caller, delta);
        let levels = shared.adjust(&checks, delta).await?;
        Ok(checks
            .iter()
            .zip(levels)
            .map(|(c, (left, reset))| (c.limit, left, reset))
            .min_by_key(|row| row.1))
    }

    /// The tokens buckets of `caller` (its own and the host's).
    fn token_checks(&self, caller: &str, delta: i64) -> Vec<Check> {
        self.checks(
            caller,
            Cost {
                tokens: delta.unsigned_abs(),
                prompt: 0,
            },
        )
        .into_iter()
        .filter(|c| c.what == "tokens")
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::quota::Allowance;
    use std::collections::HashMap;

    fn quotas() -> Quotas {
        Quotas::new(
            Allowance {
                requests: None,
                tokens: Some(6000),
            },
            HashMap::from([(
                "a".to_string(),
                Allowance {
                    requests: None,
                    tokens: Some(600),
                },
            )]),
        )
    }

    #[tokio::test]
    async fn an_answer_shorter_than_its_bound_gives_the_rest_back() {
        let q = quotas();
        let ticket = Ticket::new();
        let cost = Cost {
            tokens: 500,
            prompt: 10,
        };
        let standing = ticket
            .clone()
            .scope(async {
                let s = q.check("a", cost).await.unwrap();
                assert_eq!(s.tokens.unwrap().1, 100);
                answered(
                    &TokenCounts {
                        prompt: None,
                        completion: Some(5),
                    },
                    None,
                );
                s
            })
            .await;
        assert_eq!(standing.tokens.unwrap().1, 100);
        let settled = ticket.settle(&q).await.unwrap();
        // 600 - 15 (a refill within the test's time never passes full).
        let left = settled.tokens.unwrap().1;
        assert!((585..=600).contains(&left), "{left}");
        // Settled once.
        assert!(ticket.settle(&q).await.is_none());
    }

    #[tokio::test]
    async fn an_answer_over_its_bound_is_charged_and_an_uncounted_one_is_counted() {
        let q = quotas();
        let ticket = Ticket::new();
        let cost = Cost {
            tokens: 20,
            prompt: 10,
        };
        ticket
            .clone()
            .scope(async {
                q.check("a", cost).await.unwrap();
                // No usage: 400 bytes of answer count 100 tokens.
                let mut answer = Payload::text(crate::payload::Stage::Response, "x".repeat(400));
                answered(&TokenCounts::default(), Some(&answer));
                // An upstream's error body is no completion.
                answer.attributes =
                    vec![("message.0.origin".to_string(), "upstream-error".to_string())];
                assert!(is_upstream_error(&answer));
            })
            .await;
        let left = ticket.settle(&q).await.unwrap().tokens.unwrap().1;
        // 600 - 110, the refill during the test aside.
        assert!((490..=495).contains(&left), "{left}");
        let r = q
            .admit(
                "a",
                Cost {
                    tokens: 550,
                    prompt: 0,
                },
                Instant::now(),
            )
            .unwrap_err();
        assert_eq!(r.scope, "caller");
    }

    #[tokio::test]
    async fn a_call_that_never_reached_a_model_gives_everything_back() {
        let q = quotas();
        let ticket = Ticket::new();
        ticket
            .clone()
            .scope(async {
                q.check(
                    "a",
                    Cost {
                        tokens: 300,
                        prompt: 10,
                    },
                )
                .await
                .unwrap();
            })
            .await;
        assert_eq!(ticket.settle(&q).await.unwrap().tokens.unwrap().1, 600);
    }

    #[test]
    fn an_answer_is_counted_at_four_bytes_a_token() {
        assert_eq!(counted(&[]), 0);
        assert_eq!(counted(&[Message::new("assistant", "abcde")]), 2);
    }
}
