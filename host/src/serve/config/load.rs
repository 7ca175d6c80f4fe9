//! Reading `serve.toml`: the file's TOML shape (unknown keys refused) and
//! its validation into a [`ServeConfig`], a mistake named by its dotted key.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::{Api, ConfigError, Route, ServeConfig, Upstream, patterns};
use crate::base_url::check_base_url;
use crate::serve::access::config::{self as access, RawAdmin, RawIdentity};

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
    jwt: Option<crate::serve::access::jwt::RawJwt>,
    #[serde(default)]
    quotas: Option<crate::serve::quota::shared::RawQuotas>,
    #[serde(default)]
    upstreams: BTreeMap<String, RawUpstream>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    #[serde(default)]
    judges: BTreeMap<String, crate::judge::config::RawJudge>,
    #[serde(default)]
    judging: crate::judge::config::RawJudging,
    #[serde(default)]
    audit: crate::serve::audit_config::RawAudit,
    #[serde(default)]
    telemetry: RawTelemetry,
    #[serde(default)]
    rollout: crate::serve::rollout::config::RawRollout,
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
        c.limits.quota = crate::serve::quota::Allowance {
            requests: access::positive("limits.requests-per-minute", l.requests_per_minute, err)?,
            tokens: access::positive("limits.tokens-per-minute", l.tokens_per_minute, err)?,
        };
        if let Some(h) = raw.stream.holdback_bytes {
            c.holdback_bytes = h;
        }
        c.admins = access::admins(raw.admin, raw.admins, err)?;
        c.audit = raw.audit.validate().map_err(|(k, m)| err(&k, m))?;
        if let Some(q) = raw.quotas {
            c.shared_quotas = crate::serve::quota::shared::SharedConfig::from_raw(q)
                .map_err(|(k, m)| err(&k, m))?;
        }
        if let Some(j) = raw.jwt {
            if raw.callers.is_empty() {
                return Err(err(
                    "jwt",
                    "[jwt] needs [[callers]]: a token's caller claim must name one of them".into(),
                ));
            }
            c.jwt = Some(std::sync::Arc::new(
                crate::serve::access::jwt::JwtVerifier::from_raw(j, base, err)?,
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
            if let Some(var) = &u.api_key_env {
                crate::base_url::check_key_env(var)
                    .map_err(|m| err(&format!("upstreams.{name}.api-key-env"), m))?;
            }
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
            patterns::check_pattern(&r.model).map_err(|m| err(&format!("routes[{i}].model"), m))?;
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
            let rollout = crate::serve::rollout::config::RawRouteRollout {
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
        let apis: Vec<(&Route, Api)> = c
            .routes
            .iter()
            .map(|r| (r, c.upstreams[&r.upstream].api))
            .collect();
        if let Some((i, j)) = patterns::unreachable_route(&apis) {
            return Err(err(
                &format!("routes[{j}].model"),
                format!(
                    "routes[{j}] (model `{}`) can never be used: routes[{i}] (model `{}`) comes first and takes every model it matches, through an upstream of the same API; put the more specific route first, or remove one",
                    c.routes[j].model, c.routes[i].model
                ),
            ));
        }
        Ok(c)
    }
}
