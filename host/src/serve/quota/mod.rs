//! Requests-per-minute and tokens-per-minute quotas, per caller and for
//! the whole host, checked when a call is admitted (before any plugin or
//! upstream sees it).
//!
//! Each quota is a token bucket holding at most one minute's allowance and
//! refilled continuously (allowance / 60 per second), so a caller may burst
//! up to its minute's allowance and then proceeds at the steady rate. A
//! call's token cost is counted at admission the way OpenAI's own limiter
//! does: its prompt estimated from the body's text (about 4 bytes a token)
//! plus the completion it may ask for (`max_completion_tokens` /
//! `max_tokens`, else a default). Nothing is charged when any bucket
//! refuses, so a refused call costs nothing. Once the call is over, its
//! reservation is settled to what it really used (see [`settle`]): the
//! unused part goes back, an answer longer than its bound is charged.
//!
//! States of a bucket, and what a restart means: *full* at start (a
//! restart forgives the current minute: quotas are per host, in memory);
//! *draining* as calls are admitted; *refusing* while a call's cost is above
//! what is left, with `Retry-After` the time until it would fit.

pub mod settle;
pub mod shared;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Completion tokens counted for a call that does not bound its answer:
/// a common default answer budget; a caller that sets `max_tokens` is
/// charged exactly that.
pub const DEFAULT_COMPLETION_TOKENS: u64 = 1024;

/// Per-minute allowances; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allowance {
    /// Requests per minute.
    pub requests: Option<u64>,
    /// Tokens (prompt estimate + completion bound) per minute.
    pub tokens: Option<u64>,
}

impl Allowance {
    /// Whether any limit is set.
    pub fn is_limited(&self) -> bool {
        self.requests.is_some() || self.tokens.is_some()
    }
}

#[derive(Debug)]
struct Bucket {
    per_minute: u64,
    level: f64,
    updated: Instant,
}

impl Bucket {
    fn new(per_minute: u64, now: Instant) -> Bucket {
        Bucket {
            per_minute,
            level: per_minute as f64,
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let rate = self.per_minute as f64 / 60.0;
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.level = (self.level + elapsed * rate).min(self.per_minute as f64);
        self.updated = now;
    }

    /// Time until `cost` fits (zero when it fits now); `None` when it can
    /// never fit (more than a minute's allowance).
    fn wait_for(&self, cost: u64) -> Option<Duration> {
        if cost > self.per_minute {
            return None;
        }
        let missing = cost as f64 - self.level;
        if missing <= 0.0 {
            return Some(Duration::ZERO);
        }
        Some(Duration::from_secs_f64(
            missing * 60.0 / self.per_minute as f64,
        ))
    }

    /// Time until the bucket is full again.
    fn reset_in(&self) -> Duration {
        let missing = self.per_minute as f64 - self.level;
        Duration::from_secs_f64((missing.max(0.0)) * 60.0 / self.per_minute as f64)
    }
}

/// What a call asks of the quotas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// Estimated tokens (prompt + completion bound).
    pub tokens: u64,
    /// The prompt's part of `tokens` (the rest is the completion bound).
    pub prompt: u64,
}

/// The state of the quotas that applied to an admitted call, for the
/// `x-ratelimit-*` headers OpenAI clients read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Standing {
    /// (limit, remaining, reset) of the tightest requests bucket.
    pub requests: Option<(u64, u64, Duration)>,
    /// (limit, remaining, reset) of the tightest tokens bucket.
    pub tokens: Option<(u64, u64, Duration)>,
}

impl Standing {
    /// The OpenAI rate-limit headers for this standing.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some((limit, left, reset)) = self.requests {
            out.push(("x-ratelimit-limit-requests", limit.to_string()));
            out.push(("x-ratelimit-remaining-requests", left.to_string()));
            out.push(("x-ratelimit-reset-requests", format_reset(reset)));
        }
        if let Some((limit, left, reset)) = self.tokens {
            out.push(("x-ratelimit-limit-tokens", limit.to_string()));
            out.push(("x-ratelimit-remaining-tokens", left.to_string()));
            out.push(("x-ratelimit-reset-tokens", format_reset(reset)));
        }
        out
    }
}

/// OpenAI's reset format: `1s`, `6m0s`, `250ms`.
fn format_reset(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = d.as_secs_f64().ceil() as u64;
    if s < 60 {
        format!("{s}s")
    } else {
        format!("{}m{}s", s / 60, s % 60)
    }
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// `requests` or `tokens`.
    pub what: &'static str,
    /// `caller` or `host`.
    pub scope: &'static str,
    /// The per-minute limit that refused.
    pub limit: u64,
    /// When to retry; `None` when the call alone is over a minute's
    /// allowance and will never fit.
    pub retry_after: Option<Duration>,
    /// The standing to report in the headers.
    pub standing: Standing,
}

/// One bucket a call must fit in.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    /// `""` for the host (or, with a shared backend, the fleet), else the
    /// caller's name.
    pub key: String,
    /// `caller` or `host`.
    pub scope: &'static str,
    /// `requests` or `tokens`.
    pub what: &'static str,
    /// Per-minute allowance.
    pub limit: u64,
    /// What this call takes from it.
    pub amount: u64,
}

/// The standing of `checks` whose buckets hold `levels`, and the refusal
/// (the check at `refused` with its `wait`) if any.
fn conclude(
    checks: &[Check],
    levels: impl Iterator<Item = (u64, Duration)>,
    refused: Option<(usize, Option<Duration>)>,
) -> Result<Standing, Refusal> {
    let mut standing = Standing::default();
    for (c, (left, reset)) in checks.iter().zip(levels) {
        let row = (c.limit, left, reset);
        let slot = if c.what == "requests" {
            &mut standing.requests
        } else {
            &mut standing.tokens
        };
        // Report the tightest bucket of each kind.
        if slot.is_none_or(|(_, l, _)| row.1 < l) {
            *slot = Some(row);
        }
    }
    match refused {
        Some((i, wait)) => Err(Refusal {
            what: checks[i].what,
            scope: checks[i].scope,
            limit: checks[i].limit,
            retry_after: wait,
            standing,
        }),
        None => Ok(standing),
    }
}

/// The longer of two waits, `None` (never) longest; used to pick which
/// refusal to report: a call fits only once every bucket has room.
fn longer(current: Option<Option<Duration>>, wait: Option<Duration>) -> bool {
    match (current, wait) {
        (None, _) => true,
        (Some(r), Some(w)) => r.is_some_and(|rw| w > rw),
        (Some(_), None) => true,
    }
}

/// Why a call could not be admitted.
#[derive(Debug, Clone, PartialEq)]
pub enum Denial {
    /// Over a quota (429).
    Over(Refusal),
    /// The shared backend could not be asked and `on-unreachable =
    /// "closed"` (503).
    Unavailable(String),
}

/// Every quota of one host: in memory, or shared with a fleet through
/// Redis (see [`shared`]).
pub struct Quotas {
    host: Allowance,
    callers: HashMap<String, Allowance>,
    /// (scope key, what) → bucket; scope key `""` is the host.
    buckets: Mutex<HashMap<(String, &'static str), Bucket>>,
    shared: Option<shared::Shared>,
}

impl Quotas {
    /// Quotas with the host's allowance and each caller's, kept in memory.
    pub fn new(host: Allowance, callers: HashMap<String, Allowance>) -> Quotas {
        Quotas {
            host,
            callers,
            buckets: Mutex::default(),
            shared: None,
        }
    }

    /// The same quotas kept in a shared backend, so they hold across every
    /// host that uses it; [`Quotas::admit`] stays the in-memory fallback.
    pub fn shared(mut self, backend: &shared::SharedConfig) -> anyhow::Result<Quotas> {
        self.shared = Some(shared::Shared::new(backend)?);
        Ok(self)
    }

    /// Whether any quota applies to `caller`.
    pub fn applies(&self, caller: &str) -> bool {
        self.host.is_limited() || self.callers.get(caller).is_some_and(Allowance::is_limited)
    }

    pub(crate) fn checks(&self, caller: &str, cost: Cost) -> Vec<Check> {
        let caller_allowance = self.callers.get(caller).copied().unwrap_or_default();
        let mut checks = Vec::new();
        for (scope, key, allowance) in [
            ("caller", caller.to_string(), caller_allowance),
            ("host", String::new(), self.host),
        ] {
            if let Some(limit) = allowance.requests {
                checks.push(Check {
                    key: key.clone(),
                    scope,
                    what: "requests",
                    limit,
                    amount: 1,
                });
            }
            if let Some(limit) = allowance.tokens {
                checks.push(Check {
                    key,
                    scope,
                    what: "tokens",
                    limit,
                    amount: cost.tokens,
                });
            }
        }
        checks
    }

    /// Admits a call of `caller` costing `cost`: through the shared
    /// backend when one is configured (falling back as its
    /// `on-unreachable` says), else in memory.
    pub async fn check(&self, caller: &str, cost: Cost) -> Result<Standing, Denial> {
        // An admitted call's tokens are settled when it ends (`settle`).
        let reserved = |backend: settle::Backend, standing: Standing| {
            settle::reserve(caller, cost, backend, &standing);
            standing
        };
        let Some(shared) = &self.shared else {
            return self
                .admit(caller, cost, Instant::now())
                .map(|s| reserved(settle::Backend::Local, s))
                .map_err(Denial::Over);
        };
        let checks = self.checks(caller, cost);
        match shared.admit(&checks).await {
            Ok(verdict) => verdict
                .map(|s| reserved(settle::Backend::Shared, s))
                .map_err(Denial::Over),
            Err(e) => match shared.unreachable(&e) {
                shared::OnUnreachable::Closed => Err(Denial::Unavailable(e)),
                // Nothing was charged: nothing to settle.
                shared::OnUnreachable::Open => Ok(Standing::default()),
                shared::OnUnreachable::Local => self
                    .admit(caller, cost, Instant::now())
                    .map(|s| reserved(settle::Backend::Local, s))
                    .map_err(Denial::Over),
            },
        }
    }

    /// `railyard_quota_backend_unreachable_total`, with a shared backend.
    pub fn register_metrics(&self, r: &mut prometheus_client::registry::Registry) {
        if let Some(shared) = &self.shared {
            r.register(
                "railyard_quota_backend_unreachable",
                "Calls whose quota the shared backend could not check (then `on-unreachable` decided)",
                prometheus_client::metrics::counter::ConstCounter::new(shared.unreachable_count()),
            );
        }
    }

    /// Admits a call of `caller` costing `cost` at `now` in this host's
    /// memory, charging every bucket that applies, or refuses it charging
    /// none.
    pub fn admit(&self, caller: &str, cost: Cost, now: Instant) -> Result<Standing, Refusal> {
        let checks = self.checks(caller, cost);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let mut refused: Option<(usize, Option<Duration>)> = None;
        for (i, c) in checks.iter().enumerate() {
            let b = buckets
                .entry((c.key.clone(), c.what))
                .or_insert_with(|| Bucket::new(c.limit, now));
            b.refill(now);
            match b.wait_for(c.amount) {
                Some(w) if w.is_zero() => {}
                wait => {
                    if longer(refused.map(|r| r.1), wait) {
                        refused = Some((i, wait));
                    }
                }
            }
        }
        let levels: Vec<(u64, Duration)> = checks
            .iter()
            .map(|c| {
                let b = buckets
                    .get_mut(&(c.key.clone(), c.what))
                    .expect("created above");
                if refused.is_none() {
                    b.level -= c.amount as f64;
                }
                (b.level.max(0.0) as u64, b.reset_in())
            })
            .collect();
        conclude(&checks, levels.into_iter(), refused)
    }
}

/// Estimated token cost of a chat or completions body: its text at about
/// 4 bytes a token (rounded up), plus the completion it may ask for.
pub fn estimate(body: &serde_json::Value) -> Cost {
    fn text_bytes(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::String(s) => s.len(),
            serde_json::Value::Array(a) => a.iter().map(text_bytes).sum(),
            serde_json::Value::Object(o) => o.values().map(text_bytes).sum(),
            _ => 0,
        }
    }
    let prompt_bytes = [
        "messages",
        "prompt",
        "tools",
        "text",
        "system",
        "input",
        "instructions",
    ]
    .iter()
    .filter_map(|k| body.get(*k))
    .map(text_bytes)
    .sum::<usize>();
    let completion = ["max_completion_tokens", "max_tokens", "max_output_tokens"]
        .iter()
        .find_map(|k| body.get(*k).and_then(serde_json::Value::as_u64))
        .unwrap_or(DEFAULT_COMPLETION_TOKENS);
    let choices = body
        .get("n")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(1)
        .max(1);
    let prompt = (prompt_bytes as u64).div_ceil(4);
    Cost {
        tokens: prompt + completion.saturating_mul(choices),
        prompt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quotas(host: Allowance, caller: Allowance) -> Quotas {
        Quotas::new(host, HashMap::from([("a".to_string(), caller)]))
    }

    #[test]
    fn a_minute_of_requests_then_the_steady_rate() {
        let q = quotas(
            Allowance::default(),
            Allowance {
                requests: Some(3),
                tokens: None,
            },
        );
        let t0 = Instant::now();
        for left in [2, 1, 0] {
            let s = q
                .admit(
                    "a",
                    Cost {
                        tokens: 1,
                        prompt: 0,
                    },
                    t0,
                )
                .unwrap();
            assert_eq!(s.requests.unwrap().1, left);
        }
        let r = q
            .admit(
                "a",
                Cost {
                    tokens: 1,
                    prompt: 0,
                },
                t0,
            )
            .unwrap_err();
        assert_eq!((r.what, r.scope, r.limit), ("requests", "caller", 3));
        // 3 a minute: one more every 20 s.
        assert_eq!(r.retry_after, Some(Duration::from_secs(20)));
        assert!(
            q.admit(
                "a",
                Cost {
                    tokens: 1,
                    prompt: 0
                },
                t0 + Duration::from_secs(19)
            )
            .is_err()
        );
        assert!(
            q.admit(
                "a",
                Cost {
                    tokens: 1,
                    prompt: 0
                },
                t0 + Duration::from_secs(21)
            )
            .is_ok()
        );
        // Other callers are not limited by a's quota.
        assert!(
            q.admit(
                "b",
                Cost {
                    tokens: 1,
                    prompt: 0
                },
                t0
            )
            .is_ok()
        );
    }

    #[test]
    fn a_refused_call_charges_nothing_and_the_longest_wait_is_reported() {
        let q = quotas(
            Allowance {
                requests: None,
                tokens: Some(600),
            },
            Allowance {
                requests: Some(10),
                tokens: None,
            },
        );
        let t0 = Instant::now();
        q.admit(
            "a",
            Cost {
                tokens: 500,
                prompt: 0,
            },
            t0,
        )
        .unwrap();
        let r = q
            .admit(
                "a",
                Cost {
                    tokens: 200,
                    prompt: 0,
                },
                t0,
            )
            .unwrap_err();
        assert_eq!((r.what, r.scope), ("tokens", "host"));
        // 100 missing at 10 a second.
        assert_eq!(r.retry_after, Some(Duration::from_secs(10)));
        // The refused call took no request from a's bucket.
        let s = q
            .admit(
                "a",
                Cost {
                    tokens: 100,
                    prompt: 0,
                },
                t0,
            )
            .unwrap();
        assert_eq!(s.requests.unwrap().1, 8);
        // A call over a whole minute's allowance never fits.
        let r = q
            .admit(
                "a",
                Cost {
                    tokens: 601,
                    prompt: 0,
                },
                t0 + Duration::from_secs(3600),
            )
            .unwrap_err();
        assert_eq!(r.retry_after, None);
    }

    #[test]
    fn estimates_count_text_and_the_completion_bound() {
        let body = serde_json::json!({"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "x".repeat(40)}]});
        // "user" (4) + 40 bytes = 44 → 11 tokens, + 100.
        assert_eq!(estimate(&body).tokens, 111);
        let body = serde_json::json!({"model": "m", "n": 2, "prompt": "abcd"});
        assert_eq!(estimate(&body).tokens, 1 + 2 * DEFAULT_COMPLETION_TOKENS);
    }

    #[test]
    fn reset_reads_like_openai() {
        assert_eq!(format_reset(Duration::from_millis(250)), "250ms");
        assert_eq!(format_reset(Duration::from_millis(1500)), "2s");
        assert_eq!(format_reset(Duration::from_secs(360)), "6m0s");
    }
}
