//! The `[[callers]]`, `[[admins]]` and `[admin]` sections of `serve.toml`,
//! validated once at load: every key a SHA-256, every expiry a date, every
//! policy a caller may use one the server has, and no key naming two
//! identities.
//!
//! ```toml
//! [[callers]]
//! name = "team-a"
//! keys = [
//!   { sha256 = "…", expires = "2027-03-01T00:00:00Z" },  # rotating: old and new key side by side
//!   { sha256 = "…" },
//! ]
//! policies = ["default", "strict"]   # the first is the caller's own (guard API default)
//! models = ["gpt-4o*", "small"]      # route patterns; default ["*"]
//! max-concurrency = 4
//!
//! [[admins]]
//! name = "ops"
//! key-sha256 = "…"
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::super::config::ConfigError;

/// A caller's or an admin's key, by hash.
#[derive(Debug, Clone)]
pub struct Key {
    /// SHA-256 of the key, lower-case hex.
    pub sha256: String,
    /// After this instant the key is refused (`expired_api_key`).
    pub expires: Option<DateTime<Utc>>,
}

/// A caller allowed in with an API key, and what it may use.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The name recorded with every decision.
    pub name: String,
    /// Its keys (several while one is rotated out).
    pub keys: Vec<Key>,
    /// Policies its calls may be evaluated under; the first is its own.
    /// Default: `["default"]`, so a route to any other policy is refused
    /// until the caller is granted it (a caller never lands on a policy it
    /// was not given, weaker or not).
    pub policies: Vec<String>,
    /// Model patterns it may call (as routes write them: exact, `prefix*`
    /// or `*`). Default: `["*"]`.
    pub models: Vec<String>,
    /// Requests of this caller at once; more get 429.
    pub max_concurrency: Option<usize>,
    /// Its requests and tokens per minute (429 with `Retry-After` beyond).
    pub quota: crate::serve::quota::Allowance,
}

/// A named admin identity.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The name logged with every admin call it makes.
    pub name: String,
    /// Its keys.
    pub keys: Vec<Key>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawAdmin {
    key_sha256: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawIdentity {
    name: String,
    key_sha256: Option<String>,
    #[serde(default)]
    keys: Vec<RawKey>,
    policies: Option<Vec<String>>,
    models: Option<Vec<String>>,
    max_concurrency: Option<usize>,
    requests_per_minute: Option<u64>,
    tokens_per_minute: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawKey {
    sha256: String,
    expires: Option<String>,
}

type Err<'a> = &'a dyn Fn(&str, String) -> ConfigError;

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

const HOW: &str = "expected 64 hex digits: the SHA-256 of the key (`printf %s KEY | sha256sum`)";

/// The keys of one identity at `at` (`callers[0]`): `key-sha256` and every
/// `keys` entry; at least one unless `keyless` (a caller that comes only
/// with JWTs).
fn keys(
    at: &str,
    single: Option<String>,
    many: Vec<RawKey>,
    keyless: bool,
    err: Err,
) -> Result<Vec<Key>, ConfigError> {
    let mut out = Vec::new();
    if let Some(k) = single {
        if !is_sha256_hex(&k) {
            return Err(err(&format!("{at}.key-sha256"), HOW.into()));
        }
        out.push(Key {
            sha256: k.to_ascii_lowercase(),
            expires: None,
        });
    }
    for (j, k) in many.into_iter().enumerate() {
        if !is_sha256_hex(&k.sha256) {
            return Err(err(&format!("{at}.keys[{j}].sha256"), HOW.into()));
        }
        let expires = match k.expires {
            None => None,
            Some(e) => Some(
                DateTime::parse_from_rfc3339(&e)
                    .map_err(|x| {
                        err(
                            &format!("{at}.keys[{j}].expires"),
                            format!("`{e}` is not an RFC 3339 time like 2027-03-01T00:00:00Z: {x}"),
                        )
                    })?
                    .with_timezone(&Utc),
            ),
        };
        out.push(Key {
            sha256: k.sha256.to_ascii_lowercase(),
            expires,
        });
    }
    if out.is_empty() && !keyless {
        return Err(err(
            &format!("{at}.keys"),
            "give `key-sha256` or at least one entry in `keys` (or configure [jwt] for callers that come with tokens)".into(),
        ));
    }
    Ok(out)
}

/// A per-minute quota: absent, or greater than 0.
pub(crate) fn positive(key: &str, v: Option<u64>, err: Err) -> Result<Option<u64>, ConfigError> {
    match v {
        Some(0) => Err(err(
            key,
            "must be greater than 0 (leave it out for no limit)".into(),
        )),
        v => Ok(v),
    }
}

/// Validates `[[callers]]` against the server's policies. With `jwt`,
/// a caller may have no key (it comes with tokens only).
pub(crate) fn callers(
    raw: Vec<RawIdentity>,
    policies: &BTreeMap<String, Option<PathBuf>>,
    jwt: bool,
    err: Err,
) -> Result<Vec<Caller>, ConfigError> {
    let mut out: Vec<Caller> = Vec::new();
    for (i, c) in raw.into_iter().enumerate() {
        let at = format!("callers[{i}]");
        if c.name.trim().is_empty() {
            return Err(err(&format!("{at}.name"), "must not be empty".into()));
        }
        if out.iter().any(|o| o.name == c.name) {
            return Err(err(
                &format!("{at}.name"),
                format!("a caller named `{}` is already defined", c.name),
            ));
        }
        if c.max_concurrency == Some(0) {
            return Err(err(
                &format!("{at}.max-concurrency"),
                "must be greater than 0".into(),
            ));
        }
        let keys = keys(&at, c.key_sha256, c.keys, jwt, err)?;
        let granted = c.policies.unwrap_or_else(|| vec!["default".into()]);
        if granted.is_empty() {
            return Err(err(
                &format!("{at}.policies"),
                "must name at least one policy (the first is the caller's own)".into(),
            ));
        }
        for (j, p) in granted.iter().enumerate() {
            if !policies.contains_key(p) {
                return Err(err(
                    &format!("{at}.policies[{j}]"),
                    format!(
                        "no policy named `{p}` (defined: {})",
                        policies.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        let models = c.models.unwrap_or_else(|| vec!["*".into()]);
        for (j, m) in models.iter().enumerate() {
            crate::serve::config::patterns::check_pattern(m)
                .map_err(|e| err(&format!("{at}.models[{j}]"), e))?;
        }
        let quota = crate::serve::quota::Allowance {
            requests: positive(
                &format!("{at}.requests-per-minute"),
                c.requests_per_minute,
                err,
            )?,
            tokens: positive(&format!("{at}.tokens-per-minute"), c.tokens_per_minute, err)?,
        };
        out.push(Caller {
            name: c.name,
            keys,
            policies: granted,
            models,
            max_concurrency: c.max_concurrency,
            quota,
        });
    }
    Ok(out)
}

/// Validates `[[admins]]` and the single-key `[admin]` (an admin named
/// `admin`).
pub(crate) fn admins(
    single: RawAdmin,
    raw: Vec<RawIdentity>,
    err: Err,
) -> Result<Vec<Admin>, ConfigError> {
    let mut out = Vec::new();
    if let Some(k) = single.key_sha256 {
        if !is_sha256_hex(&k) {
            return Err(err("admin.key-sha256", HOW.into()));
        }
        out.push(Admin {
            name: "admin".into(),
            keys: vec![Key {
                sha256: k.to_ascii_lowercase(),
                expires: None,
            }],
        });
    }
    for (i, a) in raw.into_iter().enumerate() {
        let at = format!("admins[{i}]");
        if a.name.trim().is_empty() {
            return Err(err(&format!("{at}.name"), "must not be empty".into()));
        }
        if out.iter().any(|o: &Admin| o.name == a.name) {
            return Err(err(
                &format!("{at}.name"),
                format!("an admin named `{}` is already defined", a.name),
            ));
        }
        if a.policies.is_some()
            || a.models.is_some()
            || a.max_concurrency.is_some()
            || a.requests_per_minute.is_some()
            || a.tokens_per_minute.is_some()
        {
            return Err(err(
                &at,
                "admins take only `name`, `key-sha256` and `keys`".into(),
            ));
        }
        let keys = keys(&at, a.key_sha256, a.keys, false, err)?;
        out.push(Admin { name: a.name, keys });
    }
    Ok(out)
}

/// `[metrics] key-sha256`.
pub(crate) fn metrics_key(k: Option<String>, err: Err) -> Result<Option<Key>, ConfigError> {
    match k {
        None => Ok(None),
        Some(k) if is_sha256_hex(&k) => Ok(Some(Key {
            sha256: k.to_ascii_lowercase(),
            expires: None,
        })),
        Some(_) => Err(err("metrics.key-sha256", HOW.into())),
    }
}

/// Refuses a key hash that two identities share: a key must say who is
/// calling, and an admin key must never double as a caller key.
pub(crate) fn distinct_keys(
    callers: &[Caller],
    admins: &[Admin],
    err: Err,
) -> Result<(), ConfigError> {
    let mut owner: HashMap<&str, String> = HashMap::new();
    let all = callers
        .iter()
        .map(|c| (format!("caller `{}`", c.name), &c.keys))
        .chain(
            admins
                .iter()
                .map(|a| (format!("admin `{}`", a.name), &a.keys)),
        );
    for (who, keys) in all {
        for k in keys {
            if let Some(first) = owner.insert(&k.sha256, who.clone())
                && first != who
            {
                return Err(err(
                    "callers",
                    format!(
                        "{first} and {who} share a key (sha256 {}…); give each its own",
                        &k.sha256[..12]
                    ),
                ));
            }
        }
    }
    Ok(())
}
