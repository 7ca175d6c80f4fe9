//! The server's configuration file (`railyard serve --config serve.toml`).
//!
//! Everything has a default, so no file at all is a valid configuration:
//! listen on 127.0.0.1:8080, the embedded default policy, one upstream
//! from `--upstream` / `RAILYARD_UPSTREAM_URL`, no caller keys (every caller
//! is `anonymous`), admin endpoints off. Mistakes are reported with the file
//! and the dotted key, as for policy files.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::access::config::{self as access, RawAdmin, RawIdentity};
pub use super::access::config::{Admin, Caller};
use crate::base_url::check_base_url;
use crate::judge::{BlockingPolicy, JudgeConfig};

/// A configuration error: file, key and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: {message}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The dotted key (or `-` for the whole file).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    listen: Option<String>,
    #[serde(default)]
    policies: BTreeMap<String, String>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    stream: RawStream,
    #[serde(default)]
    admin: RawAdmin,
    #[serde(default)]
    admins: Vec<RawIdentity>,
    #[serde(default)]
    callers: Vec<RawIdentity>,
    allow_unauthenticated: Option<bool>,
    #[serde(default)]
    metrics: RawMetrics,
    jwt: Option<super::access::jwt::RawJwt>,
    #[serde(default)]
    quotas: Option<super::quota::shared::RawQuotas>,
    #[serde(default)]
    upstreams: BTreeMap<String, RawUpstream>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    #[serde(default)]
    judges: BTreeMap<String, crate::judge::config::RawJudge>,
    #[serde(default)]
    judging: crate::judge::config::RawJudging,
    #[serde(default)]
    audit: super::audit_config::RawAudit,
    #[serde(default)]
    telemetry: RawTelemetry,
    #[serde(default)]
    rollout: super::rollout::config::RawRollout,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTelemetry {
    otlp_endpoint: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLimits {
    max_body_kib: Option<u64>,
    header_timeout_ms: Option<u64>,
    body_timeout_ms: Option<u64>,
    max_concurrency: Option<usize>,
    max_connections: Option<usize>,
    shutdown_grace_ms: Option<u64>,
    requests_per_minute: Option<u64>,
    tokens_per_minute: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMetrics {
    key_sha256: Option<String>,
    listen: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStream {
    holdback_bytes: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawUpstream {
    base_url: String,
    api: Option<String>,
    api_key_env: Option<String>,
    timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRoute {
    model: String,
    upstream: String,
    policy: Option<String>,
    judge_budget_ms: Option<u64>,
    judge_failure_mode: Option<String>,
    shadow: Option<String>,
    canary: Option<String>,
    canary_percent: Option<f64>,
    canary_by: Option<String>,
}

/// Request limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Time a client has to send its request headers.
    pub header_timeout: Duration,
    /// Time a client has to send its request body (408 beyond).
    pub body_timeout: Duration,
    /// Requests handled at once; more get 503.
    pub max_concurrency: usize,
    /// Client connections open at once; more wait in the listen queue
    /// until one closes. `None`: sized from the open-file limit
    /// (`super::connections`).
    pub max_connections: Option<usize>,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    /// Requests and tokens per minute for the whole host, every caller
    /// together.
    pub quota: super::quota::Allowance,
}

/// The wire format an upstream speaks (`api` in `[upstreams.NAME]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Api {
    /// OpenAI: `/chat/completions`, `/completions`, `/responses`.
    #[default]
    OpenAi,
    /// Anthropic: `/messages`.
    Anthropic,
}

impl Api {
    /// The name in `serve.toml` and in the audit record.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::OpenAi => "openai",
            Api::Anthropic => "anthropic",
        }
    }
}

/// A model endpoint.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// The name routes use.
    pub name: String,
    /// The wire format it speaks.
    pub api: Api,
    /// Base URL, e.g. `https://api.openai.com/v1` (paths are appended).
    pub base_url: String,
    /// Environment variable holding the API key sent upstream.
    pub api_key_env: Option<String>,
    /// Whole-call timeout.
    pub timeout: Duration,
}

/// Which upstream and policy serve a model.
#[derive(Debug, Clone)]
pub struct Route {
    /// A model name, a prefix ending in `*`, or `*`.
    pub model: String,
    /// The upstream's name.
    pub upstream: String,
    /// The policy's name (`default` if not given).
    pub policy: String,
    /// How blocking judgements hold this route's calls.
    pub judging: BlockingPolicy,
    /// Its shadow and canary candidates (see `serve::rollout`).
    pub rollout: super::rollout::RouteRollout,
}

impl Route {
    /// Whether this route serves `model`.
    pub fn matches(&self, model: &str) -> bool {
        super::access::pattern_matches(&self.model, model)
    }
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where the server listens.
    pub listen: SocketAddr,
    /// Named policy files; `default` is the embedded default policy unless
    /// given.
    pub policies: BTreeMap<String, Option<PathBuf>>,
    /// Request limits.
    pub limits: Limits,
    /// Bytes of a streamed answer held back until the guardrails have seen
    /// what follows them.
    pub holdback_bytes: usize,
    /// Admin identities; admin endpoints are off without one.
    pub admins: Vec<Admin>,
    /// Callers; empty means no key is asked for (caller `anonymous`).
    pub callers: Vec<Caller>,
    /// Serve without callers on a non-loopback address (something in
    /// front authenticates). Off by default.
    pub allow_unauthenticated: bool,
    /// `[metrics] key-sha256`: `/metrics` needs this key when set.
    pub metrics_key: Option<super::access::Key>,
    /// `[metrics] listen`: `/metrics` is served there only (not on the
    /// model-facing address).
    pub metrics_listen: Option<SocketAddr>,
    /// `[quotas]`: a backend shared by a fleet (Redis); in memory when
    /// `None`.
    pub shared_quotas: Option<super::quota::shared::SharedConfig>,
    /// `[jwt]`: bearer JWTs verified against a JWKS, naming callers.
    pub jwt: Option<std::sync::Arc<super::access::jwt::JwtVerifier>>,
    /// Model endpoints by name.
    pub upstreams: BTreeMap<String, Upstream>,
    /// Routes, first match wins.
    pub routes: Vec<Route>,
    /// Judge endpoints by name (`[judges.NAME]`).
    pub judges: BTreeMap<String, JudgeConfig>,
    /// `[judging]`: how blocking judgements hold calls no route overrides.
    pub judging: BlockingPolicy,
    /// `[audit]`: end-user and attribute headers, retention, holds, WORM.
    pub audit: super::audit_config::AuditConfig,
    /// `[telemetry] otlp-endpoint`: the OTLP/HTTP collector's base URL
    /// spans are exported to (see [`crate::telemetry::init`]).
    pub otlp_endpoint: Option<String>,
    /// `[rollout] shadow-queue`: jobs a shadow candidate's queue holds.
    pub shadow_queue: usize,
}

/// Default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: DEFAULT_LISTEN.parse().expect("a valid address"),
            policies: BTreeMap::from([("default".to_string(), None)]),
            limits: Limits {
                max_body_bytes: 4 << 20,
                header_timeout: Duration::from_secs(10),
                body_timeout: Duration::from_secs(30),
                max_concurrency: 512,
                max_connections: None,
                shutdown_grace: Duration::from_secs(30),
                quota: Default::default(),
            },
            holdback_bytes: 64,
            admins: Vec::new(),
            callers: Vec::new(),
            allow_unauthenticated: false,
            metrics_key: None,
            metrics_listen: None,
            jwt: None,
            shared_quotas: None,
            upstreams: BTreeMap::new(),
            routes: Vec::new(),
            judges: BTreeMap::new(),
            judging: BlockingPolicy::default(),
            audit: Default::default(),
            otlp_endpoint: None,
            shadow_queue: super::rollout::config::DEFAULT_SHADOW_QUEUE,
        }
    }
}

impl ServeConfig {
    /// Reads and validates a configuration file. Relative policy paths are
    /// relative to the file.
    pub fn from_file(path: &Path) -> Result<ServeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            key: "-".into(),
            message: format!("cannot read: {e}"),
        })?;
        Self::from_text(path, &text)
    }

    /// Validates `text`, the contents of the file at `path` (a reload
    /// reads the bytes once, then validates them). Relative policy paths
    /// are relative to the file.
    pub fn from_text(path: &Path, text: &str) -> Result<ServeConfig, ConfigError> {
        let file = path.display().to_string();
        let err = |key: &str, message: String| ConfigError {
            file: file.clone(),
            key: key.to_string(),
            message,
        };
        let de = toml::Deserializer::parse(text).map_err(|e| err("-", e.to_string()))?;
        let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            err(
                if key.is_empty() { "-" } else { &key },
                e.into_inner().to_string(),
            )
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_raw(raw, base, &err)
    }

    fn from_raw(
        raw: RawConfig,
        base: &Path,
        err: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<ServeConfig, ConfigError> {
        let mut c = ServeConfig::default();
        if let Some(listen) = raw.listen {
            c.listen = listen.parse().map_err(|e| {
                err(
                    "listen",
                    format!("`{listen}` is not an address like 127.0.0.1:8080: {e}"),
                )
            })?;
        }
        for (name, path) in raw.policies {
            c.policies.insert(name, Some(base.join(path)));
        }
        let l = raw.limits;
        let positive = |key: &str, v: Option<u64>, default: u64| -> Result<u64, ConfigError> {
            match v {
                Some(0) => Err(err(key, "must be greater than 0".into())),
                Some(v) => Ok(v),
                None => Ok(default),
            }
        };
        c.limits.max_body_bytes =
            positive("limits.max-body-kib", l.max_body_kib, 4096)?.saturating_mul(1024) as usize;
        c.limits.header_timeout = Duration::from_millis(positive(
            "limits.header-timeout-ms",
            l.header_timeout_ms,
            10_000,
        )?);
        c.limits.body_timeout = Duration::from_millis(positive(
            "limits.body-timeout-ms",
            l.body_timeout_ms,
            30_000,
        )?);
        c.limits.max_concurrency = positive(
            "limits.max-concurrency",
            l.max_concurrency.map(|v| v as u64),
            512,
        )? as usize;
        c.limits.max_connections = match l.max_connections {
            Some(0) => {
                return Err(err(
                    "limits.max-connections",
                    "must be greater than 0".into(),
                ));
            }
            v => v,
        };
        c.limits.shutdown_grace = Duration::from_millis(l.shutdown_grace_ms.unwrap_or(30_000));
        c.limits.quota = super::quota::Allowance {
            requests: access::positive("limits.requests-per-minute", l.requests_per_minute, err)?,
            tokens: access::positive("limits.tokens-per-minute", l.tokens_per_minute, err)?,
        };
        if let Some(h) = raw.stream.holdback_bytes {
            c.holdback_bytes = h;
        }
        c.admins = access::admins(raw.admin, raw.admins, err)?;
        c.audit = raw.audit.validate().map_err(|(k, m)| err(&k, m))?;
        if let Some(q) = raw.quotas {
            c.shared_quotas =
                super::quota::shared::SharedConfig::from_raw(q).map_err(|(k, m)| err(&k, m))?;
        }
        if let Some(j) = raw.jwt {
            if raw.callers.is_empty() {
                return Err(err(
                    "jwt",
                    "[jwt] needs [[callers]]: a token's caller claim must name one of them".into(),
                ));
            }
            c.jwt = Some(std::sync::Arc::new(
                super::access::jwt::JwtVerifier::from_raw(j, base, err)?,
            ));
        }
        c.callers = access::callers(raw.callers, &c.policies, c.jwt.is_some(), err)?;
        c.metrics_key = access::metrics_key(raw.metrics.key_sha256, err)?;
        if let Some(l) = raw.metrics.listen {
            c.metrics_listen = Some(l.parse().map_err(|e| {
                err(
                    "metrics.listen",
                    format!("`{l}` is not an address like 127.0.0.1:9090: {e}"),
                )
            })?);
        }
        if let Some(e) = raw.telemetry.otlp_endpoint {
            check_base_url(&e).map_err(|m| err("telemetry.otlp-endpoint", m))?;
            c.otlp_endpoint = Some(e);
        }
        access::distinct_keys(&c.callers, &c.admins, err)?;
        c.allow_unauthenticated = raw.allow_unauthenticated.unwrap_or(false);
        for (name, u) in raw.upstreams {
            let key = format!("upstreams.{name}.base-url");
            check_base_url(&u.base_url).map_err(|m| err(&key, m))?;
            let api = match u.api.as_deref() {
                None | Some("openai") => Api::OpenAi,
                Some("anthropic") => Api::Anthropic,
                Some(other) => {
                    return Err(err(
                        &format!("upstreams.{name}.api"),
                        format!(
                            "`{other}` is not an API railyard speaks: \"openai\" or \"anthropic\""
                        ),
                    ));
                }
            };
            c.upstreams.insert(
                name.clone(),
                Upstream {
                    name,
                    api,
                    base_url: u.base_url.trim_end_matches('/').to_string(),
                    api_key_env: u.api_key_env,
                    timeout: Duration::from_millis(u.timeout_ms.unwrap_or(120_000)),
                },
            );
        }
        c.shadow_queue = raw.rollout.shadow_queue().map_err(|(k, m)| err(&k, m))?;
        c.judging =
            crate::judge::config::blocking_policy(raw.judging).map_err(|(k, m)| err(&k, m))?;
        for (name, j) in raw.judges {
            let judge = crate::judge::config::judge(&name, j).map_err(|(k, m)| err(&k, m))?;
            c.judges.insert(name, judge);
        }
        for (i, r) in raw.routes.into_iter().enumerate() {
            if !c.upstreams.contains_key(&r.upstream) {
                return Err(err(
                    &format!("routes[{i}].upstream"),
                    format!(
                        "no upstream named `{}` (defined: {})",
                        r.upstream,
                        c.upstreams.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let policy = r.policy.unwrap_or_else(|| "default".into());
            if !c.policies.contains_key(&policy) {
                return Err(err(
                    &format!("routes[{i}].policy"),
                    format!(
                        "no policy named `{policy}` (defined: {})",
                        c.policies.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let mut judging = c.judging;
            if let Some(ms) = r.judge_budget_ms {
                if ms == 0 {
                    return Err(err(
                        &format!("routes[{i}].judge-budget-ms"),
                        "must be greater than 0".into(),
                    ));
                }
                judging.budget = Duration::from_millis(ms);
            }
            if let Some(m) = r.judge_failure_mode {
                judging.failure_mode = crate::judge::config::parse_failure_mode(&m)
                    .map_err(|e| err(&format!("routes[{i}].judge-failure-mode"), e))?;
            }
            let rollout = super::rollout::config::RawRouteRollout {
                shadow: r.shadow,
                canary: r.canary,
                canary_percent: r.canary_percent,
                canary_by: r.canary_by,
            }
            .validate(i, &policy, &c.policies)
            .map_err(|(k, m)| err(&k, m))?;
            c.routes.push(Route {
                model: r.model,
                upstream: r.upstream,
                policy,
                judging,
                rollout,
            });
        }
        Ok(c)
    }

    /// Adds the upstream given on the command line (or by
    /// `RAILYARD_UPSTREAM_URL`) as `default`, serving every model no route
    /// claims.
    pub fn with_default_upstream(
        mut self,
        base_url: &str,
        api_key_env: Option<String>,
    ) -> Result<ServeConfig, String> {
        check_base_url(base_url)?;
        self.upstreams.insert(
            "default".into(),
            Upstream {
                name: "default".into(),
                api: Api::OpenAi,
                base_url: base_url.trim_end_matches('/').to_string(),
                api_key_env,
                timeout: Duration::from_secs(120),
            },
        );
        self.routes.push(Route {
            model: "*".into(),
            upstream: "default".into(),
            policy: "default".into(),
            judging: self.judging,
            rollout: Default::default(),
        });
        Ok(self)
    }

    /// The route serving `model`, if any.
    pub fn route(&self, model: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.matches(model))
    }

    /// The route serving `model` in wire format `api`: the first route
    /// matching the model whose upstream speaks `api`. The error says why
    /// none does, with its code: `model_not_found` (no route for the
    /// model) or `api_not_served` (only routes to upstreams of another API).
    pub fn route_for(&self, model: &str, api: Api) -> Result<&Route, (&'static str, String)> {
        let mut others = Vec::new();
        for r in self.routes.iter().filter(|r| r.matches(model)) {
            let speaks = self.upstreams.get(&r.upstream).map(|u| u.api);
            if speaks == Some(api) {
                return Ok(r);
            }
            others.push(format!(
                "upstream `{}` speaks {}",
                r.upstream,
                speaks.unwrap_or_default().as_str()
            ));
        }
        if others.is_empty() {
            return Err((
                "model_not_found",
                format!("no route serves model `{model}`"),
            ));
        }
        Err((
            "api_not_served",
            format!(
                "model `{model}` is not served in the {} format here: its routes go to upstreams of another API ({}); translating between formats is not supported, so use that API's endpoint or add a route to an upstream with api = \"{}\"",
                api.as_str(),
                others.join(", "),
                api.as_str()
            ),
        ))
    }

    /// How blocking judgements hold a call for `route` (a guard request's
    /// `route`): the matching route's setting, else `[judging]`.
    pub fn judging(&self, route: &str) -> BlockingPolicy {
        self.route(route).map_or(self.judging, |r| r.judging)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ServeConfig, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("serve.toml");
        std::fs::write(&p, text).unwrap();
        ServeConfig::from_file(&p)
    }

    #[test]
    fn empty_file_is_the_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert!(c.callers.is_empty() && c.routes.is_empty());
    }

    #[test]
    fn mistakes_name_the_key() {
        let e = parse("[limits]\nmax-body-kib = 0\n").unwrap_err();
        assert_eq!(e.key, "limits.max-body-kib");
        let e = parse("[[routes]]\nmodel = \"*\"\nupstream = \"nope\"\n").unwrap_err();
        assert_eq!(e.key, "routes[0].upstream");
        let e = parse("[[callers]]\nname = \"a\"\nkey-sha256 = \"short\"\n").unwrap_err();
        assert_eq!(e.key, "callers[0].key-sha256");
        let e = parse("[limits]\nmax-bodykib = 1\n").unwrap_err();
        assert!(e.message.contains("unknown field"), "{e}");
        let e = parse("listen = \"here\"\n").unwrap_err();
        assert_eq!(e.key, "listen");
    }

    #[test]
    fn judges_and_their_budgets_are_validated_with_the_key_named() {
        let c = parse(
            "[judging]\nblocking-budget-ms = 500\n[judges.j]\nbase-url = \"http://127.0.0.1:1/v1/\"\nmodel = \"m\"\nmax-in-flight = 2\nqueue = 3\n[judges.j.rubrics]\nr = \"Judge {payload}\"\n[upstreams.a]\nbase-url = \"http://127.0.0.1:1/v1\"\n[[routes]]\nmodel = \"risky\"\nupstream = \"a\"\njudge-failure-mode = \"fail-open\"\n[[routes]]\nmodel = \"*\"\nupstream = \"a\"\n",
        )
        .unwrap();
        let j = &c.judges["j"];
        assert_eq!(j.base_url, "http://127.0.0.1:1/v1");
        assert_eq!((j.max_in_flight, j.queue), (2, 3));
        assert_eq!(j.rubric("r"), Some("Judge {payload}"));
        assert!(j.rubric("default").is_some() && j.rubric("nope").is_none());
        assert_eq!(
            c.judging("risky").failure_mode,
            crate::policy::FailureMode::FailOpen
        );
        assert_eq!(c.judging("risky").budget, Duration::from_millis(500));
        assert_eq!(
            c.judging("other").failure_mode,
            crate::policy::FailureMode::FailClosed
        );
        for (text, key) in [
            (
                "[judges.j]\nbase-url = \"ftp://x\"\nmodel = \"m\"\n",
                "judges.j.base-url",
            ),
            (
                "[judges.j]\nbase-url = \"http://x\"\nmodel = \" \"\n",
                "judges.j.model",
            ),
            (
                "[judges.j]\nbase-url = \"http://x\"\nmodel = \"m\"\nmax-in-flight = 0\n",
                "judges.j.max-in-flight",
            ),
            (
                "[judges.j]\nbase-url = \"http://x\"\nmodel = \"m\"\nmax-per-second = -1.0\n",
                "judges.j.max-per-second",
            ),
            (
                "[judging]\nfailure-mode = \"disabled\"\n",
                "judging.failure-mode",
            ),
            (
                "[judging]\nblocking-budget-ms = 0\n",
                "judging.blocking-budget-ms",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.key, key, "{text}: {e}");
        }
        let e =
            parse("[judges.j]\nbase-url = \"http://x\"\nmodel = \"m\"\nmodle = 1\n").unwrap_err();
        assert!(e.message.contains("unknown field"), "{e}");
    }

    #[test]
    fn routes_match_exactly_or_by_prefix() {
        let c = parse(
            "[upstreams.a]\nbase-url = \"http://127.0.0.1:1/v1\"\n[[routes]]\nmodel = \"gpt-4*\"\nupstream = \"a\"\n[[routes]]\nmodel = \"small\"\nupstream = \"a\"\n",
        )
        .unwrap();
        assert!(c.route("gpt-4o").is_some());
        assert!(c.route("small").is_some());
        assert!(c.route("smaller").is_none());
    }
}
