//! Who may do what: callers and admins authenticate with keys (checked by
//! hash, in constant time, with an optional expiry), and each caller is
//! bound to the policies and models it was granted. A request for anything
//! else is refused with 403 before any plugin or upstream sees it, so a
//! caller can never move its traffic onto a policy it was not given.
//!
//! With no `[[callers]]` configured every request is the caller
//! `anonymous` with every grant; `railyard serve` allows that only on a
//! loopback address unless `allow-unauthenticated = true` says otherwise
//! ([`check_listen`]).

pub mod config;
pub mod jwt;

use std::net::SocketAddr;

use chrono::Utc;
use hyper::HeaderMap;
use hyper::StatusCode;
use hyper::header;
use sha2::{Digest, Sha256};

use super::ApiError;
use super::config::ServeConfig;
pub use config::{Admin, Caller, Key};

/// Who is calling, and what it may use.
#[derive(Debug, Clone)]
pub struct CallerId {
    /// The name recorded with every decision.
    pub name: String,
    /// `None`: unauthenticated mode, everything granted.
    grant: Option<Grant>,
}

#[derive(Debug, Clone)]
struct Grant {
    policies: Vec<String>,
    models: Vec<String>,
}

impl CallerId {
    /// The caller of unauthenticated mode.
    pub fn anonymous() -> CallerId {
        CallerId {
            name: "anonymous".into(),
            grant: None,
        }
    }

    /// The policy used when the caller names none: its own (the first it
    /// was granted), `default` in unauthenticated mode.
    pub fn own_policy(&self) -> &str {
        self.grant
            .as_ref()
            .and_then(|g| g.policies.first())
            .map_or("default", String::as_str)
    }

    /// 403 `policy_not_allowed` unless the caller was granted `policy`.
    pub fn check_policy(&self, policy: &str) -> Result<(), ApiError> {
        match &self.grant {
            Some(g) if !g.policies.iter().any(|p| p == policy) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "permission_error",
                "policy_not_allowed",
                format!(
                    "caller `{}` may not use policy `{policy}` (its policies: {})",
                    self.name,
                    g.policies.join(", ")
                ),
            )),
            _ => Ok(()),
        }
    }

    /// 403 `model_not_allowed` unless one of the caller's model patterns
    /// matches `model`.
    pub fn check_model(&self, model: &str) -> Result<(), ApiError> {
        match &self.grant {
            Some(g) if !g.models.iter().any(|m| pattern_matches(m, model)) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "permission_error",
                "model_not_allowed",
                format!(
                    "caller `{}` may not call model `{model}` (its models: {})",
                    self.name,
                    g.models.join(", ")
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// A model pattern as routes and grants write it: exact, `prefix*`, `*`.
pub fn pattern_matches(pattern: &str, model: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => model.starts_with(prefix),
        None => pattern == model,
    }
}

/// Refuses to serve without caller authentication on anything but a
/// loopback address, unless the configuration explicitly allows it.
pub fn check_listen(config: &ServeConfig, addr: SocketAddr) -> Result<(), String> {
    if !config.callers.is_empty() || addr.ip().is_loopback() || config.allow_unauthenticated {
        return Ok(());
    }
    Err(format!(
        "refusing to listen on {addr} without caller authentication: anyone who can reach it could use the model endpoints. \
         Add [[callers]] with keys to the serve configuration, listen on a loopback address, \
         or set `allow-unauthenticated = true` if something in front of railyard authenticates callers"
    ))
}

/// The credentials a request carries: `Authorization: Bearer` and
/// `x-api-key` (the Anthropic clients' header). Both may be sent; then they
/// must be the same key, or the request is refused: two credentials of
/// which one is wrong never pass.
fn credential(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or(v)
                .trim()
        });
    let api_key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    match (bearer, api_key) {
        (Some(a), Some(b)) if a != b => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "conflicting_api_keys",
            "the request carries two different keys (`Authorization` and `x-api-key`); send one",
        )),
        (Some(k), _) | (None, Some(k)) => Ok(Some(k)),
        (None, None) => Ok(None),
    }
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Equal in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The key among `keys` whose hash is `hash`, looked at in full (no early
/// exit that would tell which identity came close).
fn find<'a, T>(
    identities: &'a [T],
    keys: impl Fn(&'a T) -> &'a [Key],
    hash: &str,
) -> Option<(&'a T, &'a Key)> {
    let mut found = None;
    for identity in identities {
        for key in keys(identity) {
            if same(&key.sha256, hash) {
                found = Some((identity, key));
            }
        }
    }
    found
}

fn refuse_expired(key: &Key) -> Result<(), ApiError> {
    match key.expires {
        Some(at) if at <= Utc::now() => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "expired_api_key",
            format!("the API key expired at {}", at.to_rfc3339()),
        )),
        _ => Ok(()),
    }
}

/// The caller a model-facing request comes from: by API key, or by a JWT
/// when `[jwt]` is configured (see [`jwt`]).
pub async fn authenticate(
    config: &ServeConfig,
    client: &reqwest::Client,
    headers: &HeaderMap,
) -> Result<CallerId, ApiError> {
    if config.callers.is_empty() {
        return Ok(CallerId::anonymous());
    }
    let Some(key) = credential(headers)? else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "missing_api_key",
            "this server needs an API key: send `Authorization: Bearer <key>`",
        ));
    };
    let caller = match &config.jwt {
        Some(verifier) if jwt::JwtVerifier::looks_like_jwt(key) => {
            let name = verifier.verify(client, key).await?;
            config
                .callers
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "authentication_error",
                        "unknown_caller",
                        format!(
                            "the token's `{}` claim names `{name}`, which is not a caller of this server",
                            verifier.caller_claim
                        ),
                    )
                })?
        }
        _ => {
            let (caller, key) =
                find(&config.callers, |c| &c.keys, &sha256_hex(key)).ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "authentication_error",
                        "invalid_api_key",
                        "the API key is not valid for this server",
                    )
                })?;
            refuse_expired(key)?;
            caller
        }
    };
    Ok(CallerId {
        name: caller.name.clone(),
        grant: Some(Grant {
            policies: caller.policies.clone(),
            models: caller.models.clone(),
        }),
    })
}

/// The admin an admin request comes from (its name is logged with what it
/// did). The key comes in `x-admin-key` or as a bearer token.
pub fn authenticate_admin(config: &ServeConfig, headers: &HeaderMap) -> Result<String, ApiError> {
    if config.admins.is_empty() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "admin_disabled",
            "admin endpoints are off: add [[admins]] (or [admin] key-sha256) to the serve configuration",
        ));
    }
    let key = match headers.get("x-admin-key").and_then(|v| v.to_str().ok()) {
        Some(k) => Some(k.trim()),
        None => credential(headers)?,
    };
    let refused = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid_admin_key",
            "admin endpoints need an admin key in `x-admin-key` (or `Authorization: Bearer`)",
        )
    };
    let key = key.ok_or_else(refused)?;
    let (admin, key) = find(&config.admins, |a| &a.keys, &sha256_hex(key)).ok_or_else(refused)?;
    refuse_expired(key)?;
    Ok(admin.name.clone())
}

/// `/metrics` is open unless `[metrics] key-sha256` is set; then it needs
/// that key as a bearer token (what Prometheus's `authorization`
/// scrape setting sends).
pub fn authenticate_metrics(config: &ServeConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &config.metrics_key else {
        return Ok(());
    };
    match credential(headers)? {
        Some(k) if same(&sha256_hex(k), &expected.sha256) => refuse_expired(expected),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid_metrics_key",
            "/metrics needs the metrics key: `Authorization: Bearer <key>`",
        )),
    }
}

#[cfg(test)]
mod tests;
