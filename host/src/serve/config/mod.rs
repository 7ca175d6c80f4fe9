//! The server's configuration file (`railyard serve --config serve.toml`).
//!
//! Everything has a default, so no file at all is a valid configuration:
//! listen on 127.0.0.1:8080, the embedded default policy, one upstream
//! from `--upstream` / `RAILYARD_UPSTREAM_URL`, no caller keys (every caller
//! is `anonymous`), admin endpoints off. Mistakes are reported with the file
//! and the dotted key, as for policy files.

mod load;
pub(crate) mod patterns;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
