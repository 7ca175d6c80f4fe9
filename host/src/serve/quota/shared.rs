//! Quotas shared by a fleet: the same token buckets as in memory, kept in
//! Redis, so a caller's requests and tokens per minute hold across every
//! host that points at the same server and key prefix.
//!
//! ```toml
//! [quotas]
//! backend = "redis"
//! redis-url = "redis://127.0.0.1:6379/0"
//! key-prefix = "railyard:{quota}:"   # braces: one Redis Cluster slot
//! timeout-ms = 250                   # a call never waits longer on Redis
//! on-unreachable = "local"           # or "open", "closed"
//! ```
//!
//! One call is one Lua script: it reads every bucket the call must fit in,
//! refills them by the time elapsed on the Redis server's clock (hosts'
//! clocks do not matter), and charges them all or none, atomically. With a
//! shared backend, `[limits]` requests and tokens per minute are the
//! fleet's (every host together), and a caller's are across the fleet.
//!
//! When Redis cannot be asked within `timeout-ms` (down, unreachable,
//! slow), `on-unreachable` decides, and every such call is counted in
//! `/metrics` and logged at `warn`:
//! - `local` (default): this host's in-memory buckets decide, so each host
//!   still enforces the full allowance on its own traffic (a fleet of N
//!   may admit up to N times the allowance while Redis is away);
//! - `open`: the call is admitted without a quota;
//! - `closed`: the call is refused with 503 `quota_backend_unavailable`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Check, Refusal, Standing, conclude};

/// What to do when Redis cannot be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUnreachable {
    /// This host's in-memory buckets decide.
    Local,
    /// Admit without a quota.
    Open,
    /// Refuse (503).
    Closed,
}

/// A validated `[quotas]` section with `backend = "redis"`.
#[derive(Debug, Clone)]
pub struct SharedConfig {
    /// `redis://…` or `rediss://…`.
    pub url: String,
    /// Prefix of every key railyard writes.
    pub key_prefix: String,
    /// Longest a call waits on Redis.
    pub timeout: Duration,
    /// What happens when Redis cannot be asked.
    pub on_unreachable: OnUnreachable,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawQuotas {
    backend: Option<String>,
    redis_url: Option<String>,
    key_prefix: Option<String>,
    timeout_ms: Option<u64>,
    on_unreachable: Option<String>,
}

impl SharedConfig {
    /// Validates `[quotas]`; `None` for the in-memory default.
    pub(crate) fn from_raw(raw: RawQuotas) -> Result<Option<SharedConfig>, (String, String)> {
        let backend = raw.backend.as_deref().unwrap_or("memory");
        match backend {
            "memory" => {
                if raw.redis_url.is_some() {
                    return Err((
                        "quotas.redis-url".into(),
                        "set `backend = \"redis\"` to use it".into(),
                    ));
                }
                return Ok(None);
            }
            "redis" => {}
            other => {
                return Err((
                    "quotas.backend".into(),
                    format!("`{other}` is not a backend: `memory` (default) or `redis`"),
                ));
            }
        }
        let url = raw.redis_url.ok_or_else(|| {
            (
                "quotas.redis-url".into(),
                "`backend = \"redis\"` needs a URL like redis://127.0.0.1:6379/0".to_string(),
            )
        })?;
        redis::Client::open(url.as_str())
            .map_err(|e| ("quotas.redis-url".to_string(), format!("`{url}`: {e}")))?;
        let on_unreachable = match raw.on_unreachable.as_deref().unwrap_or("local") {
            "local" => OnUnreachable::Local,
            "open" => OnUnreachable::Open,
            "closed" => OnUnreachable::Closed,
            other => {
                return Err((
                    "quotas.on-unreachable".into(),
                    format!("`{other}` is not one of `local`, `open`, `closed`"),
                ));
            }
        };
        let timeout = match raw.timeout_ms {
            Some(0) => {
                return Err(("quotas.timeout-ms".into(), "must be greater than 0".into()));
            }
            ms => Duration::from_millis(ms.unwrap_or(250)),
        };
        Ok(Some(SharedConfig {
            url,
            key_prefix: raw.key_prefix.unwrap_or_else(|| "railyard:{quota}:".into()),
            timeout,
            on_unreachable,
        }))
    }
}

/// Reads, refills and charges (all or none) every bucket in KEYS.
/// ARGV: limit and amount per key. Returns the index (1-based) of the
/// refusing bucket or 0, its wait in ms (-1: never fits), then each
/// bucket's level after the call and its time to full in ms.
const ADMIT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local levels = {}
local refused, wait = 0, 0
for i, key in ipairs(KEYS) do
  local limit, amount = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local h = redis.call('HMGET', key, 'level', 'ts')
  local level, ts = tonumber(h[1]), tonumber(h[2])
  if level == nil or ts == nil then level, ts = limit, now end
  level = math.min(limit, level + math.max(0, now - ts) * limit / 60000)
  levels[i] = level
  local w = 0
  if amount > limit then w = -1
  elseif level < amount then w = math.ceil((amount - level) * 60000 / limit) end
  if w ~= 0 and (refused == 0 or (wait >= 0 and (w == -1 or w > wait))) then
    refused, wait = i, w
  end
end
local out = {refused, wait}
for i, key in ipairs(KEYS) do
  local limit, level = tonumber(ARGV[2 * i - 1]), levels[i]
  if refused == 0 then level = level - tonumber(ARGV[2 * i]) end
  redis.call('HSET', key, 'level', tostring(level), 'ts', tostring(now))
  redis.call('PEXPIRE', key, 120000)
  out[#out + 1] = math.floor(math.max(level, 0))
  out[#out + 1] = math.ceil(math.max(limit - level, 0) * 60000 / limit)
end
return out
"#;

/// Settles a call's tokens (see `settle`): refills every bucket in KEYS,
/// then takes `ARGV[1]` tokens from each (negative: gives them back, never
/// above full). `ARGV[1 + i]`: the limit of `KEYS[i]`. Returns each bucket's
/// level and time to full in ms. A bucket in debt lives until it is full
/// again, so a large overshoot is not forgiven by the key expiring.
const ADJUST: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local delta = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i + 1])
  local h = redis.call('HMGET', key, 'level', 'ts')
  local level, ts = tonumber(h[1]), tonumber(h[2])
  if level == nil or ts == nil then level, ts = limit, now end
  level = math.min(limit, level + math.max(0, now - ts) * limit / 60000)
  level = math.min(limit, level - delta)
  local full = math.ceil(math.max(limit - level, 0) * 60000 / limit)
  redis.call('HSET', key, 'level', tostring(level), 'ts', tostring(now))
  redis.call('PEXPIRE', key, math.max(120000, full + 60000))
  out[#out + 1] = math.floor(math.max(level, 0))
  out[#out + 1] = full
end
return out
"#;

/// The shared backend of one host.
pub struct Shared {
    connection: ConnectionManager,
    script: redis::Script,
    adjust: redis::Script,
    prefix: String,
    timeout: Duration,
    on_unreachable: OnUnreachable,
    unreachable: AtomicU64,
    warned: Mutex<Option<Instant>>,
}

impl Shared {
    /// Counts a call Redis could not decide, warns (at most every 10 s,
    /// not once per call while Redis is away), and says what decides.
    pub(crate) fn unreachable(&self, why: &str) -> OnUnreachable {
        self.unreachable.fetch_add(1, Ordering::Relaxed);
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        if warned.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
            *warned = Some(Instant::now());
            tracing::warn!(
                error = %why,
                on_unreachable = ?self.on_unreachable,
                "the shared quota backend cannot be reached"
            );
        }
        self.on_unreachable
    }

    /// Calls the backend could not decide so far.
    pub fn unreachable_count(&self) -> u64 {
        self.unreachable.load(Ordering::Relaxed)
    }

    /// Connects lazily: a Redis that is down at start is retried on each
    /// call, never stopping the server from starting.
    pub fn new(config: &SharedConfig) -> anyhow::Result<Shared> {
        let client = redis::Client::open(config.url.as_str())?;
        let connection = client.get_connection_manager_lazy(
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(config.timeout))
                .set_response_timeout(Some(config.timeout))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_secs(1)),
        )?;
        Ok(Shared {
            connection,
            script: redis::Script::new(ADMIT),
            adjust: redis::Script::new(ADJUST),
            prefix: config.key_prefix.clone(),
            timeout: config.timeout,
            on_unreachable: config.on_unreachable,
            unreachable: AtomicU64::new(0),
            warned: Mutex::new(None),
        })
    }

    fn key(&self, c: &Check) -> String {
        if c.key.is_empty() {
            format!("{}fleet:{}", self.prefix, c.what)
        } else {
            format!("{}caller:{}:{}", self.prefix, c.key, c.what)
        }
    }

    /// The verdict on `checks`, or why Redis could not give one.
    pub(crate) async fn admit(
        &self,
        checks: &[Check],
    ) -> Result<Result<Standing, Refusal>, String> {
        if checks.is_empty() {
            return Ok(Ok(Standing::default()));
        }
        let mut invocation = self.script.prepare_invoke();
        for c in checks {
            invocation.key(self.key(c)).arg(c.limit).arg(c.amount);
        }
        let mut connection = self.connection.clone();
        let out: Vec<i64> =
            tokio::time::timeout(self.timeout, invocation.invoke_async(&mut connection))
                .await
                .map_err(|_| format!("no answer from Redis within {:?}", self.timeout))?
                .map_err(|e| format!("Redis: {e}"))?;
        if out.len() != 2 + 2 * checks.len() {
            return Err(format!(
                "Redis answered {} values to the quota script",
                out.len()
            ));
        }
        let refused = (out[0] > 0).then(|| {
            let wait = (out[1] >= 0).then(|| Duration::from_millis(out[1] as u64));
            (out[0] as usize - 1, wait)
        });
        let levels = out[2..].chunks(2).map(|p| {
            (
                p[0].max(0) as u64,
                Duration::from_millis(p[1].max(0) as u64),
            )
        });
        Ok(conclude(checks, levels, refused))
    }

    /// Takes `delta` tokens from every bucket of `checks` (see `ADJUST`);
    /// each bucket's level and time to full after it.
    pub(crate) async fn adjust(
        &self,
        checks: &[Check],
        delta: i64,
    ) -> Result<Vec<(u64, Duration)>, String> {
        if checks.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = self.adjust.prepare_invoke();
        invocation.arg(delta);
        for c in checks {
            invocation.key(self.key(c)).arg(c.limit);
        }
        let mut connection = self.connection.clone();
        let out: Vec<i64> =
            tokio::time::timeout(self.timeout, invocation.invoke_async(&mut connection))
                .await
                .map_err(|_| format!("no answer from Redis within {:?}", self.timeout))?
                .map_err(|e| format!("Redis: {e}"))?;
        if out.len() != 2 * checks.len() {
            return Err(format!(
                "Redis answered {} values to the settle script",
                out.len()
            ));
        }
        Ok(out
            .chunks(2)
            .map(|p| {
                (
                    p[0].max(0) as u64,
                    Duration::from_millis(p[1].max(0) as u64),
                )
            })
            .collect())
    }
}
