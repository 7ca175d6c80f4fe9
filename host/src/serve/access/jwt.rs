//! Short-lived bearer tokens: JWTs verified against a JWKS, as an
//! alternative to static caller keys.
//!
//! ```toml
//! [jwt]
//! jwks-file = "jwks.json"            # or jwks-url = "https://idp.example/.well-known/jwks.json"
//! issuer = "https://idp.example"     # the `iss` a token must carry
//! audience = "railyard"              # the `aud` a token must carry
//! caller-claim = "sub"               # the claim naming the caller (default `sub`)
//! leeway-seconds = 30                # clock skew allowed on `exp` / `nbf` (default 30)
//! refresh-seconds = 300              # how long a fetched JWKS is trusted (URL only)
//! ```
//!
//! A token is verified by the key its header's `kid` names (the only key,
//! when the set has one and the token names none), with the algorithm that
//! key declares or, failing that, the one its type implies: a token cannot
//! pick a weaker algorithm than its key's (no `none`, no HMAC with a public
//! key). `exp`, `iss` and `aud` are required. The caller is the
//! `[[callers]]` entry the claim names, with that entry's grants, so a
//! token never carries more than the configuration gives its caller.
//!
//! A JWKS from a URL is fetched on first use, trusted for
//! `refresh-seconds`, and fetched again at once (at most every 10 s) when a
//! token names a key it does not hold, which is how an identity provider's
//! key rotation is followed. If a refresh fails the keys already held stay
//! in use and the failure is logged.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::StatusCode;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::super::ApiError;

/// How soon a token naming an unknown key may fetch the JWKS again.
const MIN_REFETCH: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawJwt {
    jwks_file: Option<String>,
    jwks_url: Option<String>,
    issuer: String,
    audience: String,
    caller_claim: Option<String>,
    leeway_seconds: Option<u64>,
    refresh_seconds: Option<u64>,
}

/// Where the keys come from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// A JWKS document on disk (read at load; a config reload reads it
    /// again).
    File(PathBuf),
    /// A JWKS endpoint.
    Url(String),
}

/// A validated `[jwt]` section with its keys.
#[derive(Debug)]
pub struct JwtVerifier {
    source: JwksSource,
    issuer: String,
    audience: String,
    /// The claim naming the caller.
    pub caller_claim: String,
    leeway: u64,
    refresh: Duration,
    keys: Mutex<Keys>,
}

#[derive(Debug, Default)]
struct Keys {
    set: Vec<(Option<String>, Algorithm, DecodingKey)>,
    fetched: Option<Instant>,
}

/// The algorithm a key is used with: the one it declares, else the one
/// its type implies (RSA keys are RS256, the most common choice).
fn algorithm_of(jwk: &Jwk) -> Result<Algorithm, String> {
    if let Some(alg) = jwk.common.key_algorithm {
        return alg
            .to_string()
            .parse::<Algorithm>()
            .map_err(|_| format!("key algorithm `{alg}` cannot verify signatures"));
    }
    Ok(match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => Algorithm::ES256,
            EllipticCurve::P384 => Algorithm::ES384,
            ref c => return Err(format!("curve {c:?} is not supported")),
        },
        AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
        AlgorithmParameters::OctetKey(_) => {
            return Err("a shared-secret (`oct`) key must declare its `alg`".into());
        }
    })
}

/// Parses a JWKS document into verification keys; a key that cannot
/// verify anything is an error naming it.
fn parse_jwks(text: &str) -> Result<Vec<(Option<String>, Algorithm, DecodingKey)>, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("not a JWKS: {e}"))?;
    if set.keys.is_empty() {
        return Err("the JWKS holds no keys".into());
    }
    set.keys
        .iter()
        .enumerate()
        .map(|(i, jwk)| {
            let name = jwk
                .common
                .key_id
                .clone()
                .map_or_else(|| format!("keys[{i}]"), |k| format!("key `{k}`"));
            let alg = algorithm_of(jwk).map_err(|e| format!("{name}: {e}"))?;
            let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("{name}: {e}"))?;
            Ok((jwk.common.key_id.clone(), alg, key))
        })
        .collect()
}

impl JwtVerifier {
    /// Whether a reloaded `[jwt]` (`next`) is this one unchanged, with its
    /// keys at a URL: then the running verifier is kept with the keys it
    /// holds, so a `serve.toml` reload never drops them while the JWKS
    /// endpoint is down. A JWKS file is read again on every reload (that
    /// is how its keys rotate).
    pub(crate) fn keeps(&self, next: &JwtVerifier) -> bool {
        let same_url = match (&self.source, &next.source) {
            (JwksSource::Url(a), JwksSource::Url(b)) => a == b,
            _ => false,
        };
        same_url
            && self.issuer == next.issuer
            && self.audience == next.audience
            && self.caller_claim == next.caller_claim
            && self.leeway == next.leeway
            && self.refresh == next.refresh
    }

    /// Validates `[jwt]`; a JWKS file is read now.
    pub(crate) fn from_raw(
        raw: RawJwt,
        base: &Path,
        err: &dyn Fn(&str, String) -> super::super::config::ConfigError,
    ) -> Result<JwtVerifier, super::super::config::ConfigError> {
        let source = match (raw.jwks_file, raw.jwks_url) {
            (Some(f), None) => JwksSource::File(base.join(f)),
            (None, Some(u)) => {
                crate::base_url::check_base_url(&u).map_err(|m| err("jwt.jwks-url", m))?;
                JwksSource::Url(u)
            }
            _ => {
                return Err(err(
                    "jwt",
                    "give exactly one of `jwks-file` and `jwks-url`".into(),
                ));
            }
        };
        for (key, v) in [("jwt.issuer", &raw.issuer), ("jwt.audience", &raw.audience)] {
            if v.trim().is_empty() {
                return Err(err(key, "must not be empty".into()));
            }
        }
        let verifier = JwtVerifier {
            source,
            issuer: raw.issuer,
            audience: raw.audience,
            caller_claim: raw.caller_claim.unwrap_or_else(|| "sub".into()),
            leeway: raw.leeway_seconds.unwrap_or(30),
            refresh: Duration::from_secs(raw.refresh_seconds.unwrap_or(300).max(1)),
            keys: Mutex::new(Keys::default()),
        };
        if let JwksSource::File(path) = &verifier.source {
            let text = std::fs::read_to_string(path).map_err(|e| {
                err(
                    "jwt.jwks-file",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let set = parse_jwks(&text)
                .map_err(|e| err("jwt.jwks-file", format!("{}: {e}", path.display())))?;
            *verifier.keys.lock().expect("jwt keys") = Keys {
                set,
                fetched: Some(Instant::now()),
            };
        }
        Ok(verifier)
    }

    /// Whether a credential is a JWT rather than an API key: three
    /// base64url segments, the first a JSON object (`eyJ`).
    pub fn looks_like_jwt(credential: &str) -> bool {
        credential.starts_with("eyJ")
            && credential.split('.').count() == 3
            && credential
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    }

    /// Fetches the JWKS from its URL when it is stale, or when `kid` is
    /// not held and the last fetch is older than [`MIN_REFETCH`].
    async fn refresh(&self, client: &reqwest::Client, kid: Option<&str>) {
        let JwksSource::Url(url) = &self.source else {
            return;
        };
        let due = {
            let keys = self.keys.lock().expect("jwt keys");
            let age = keys.fetched.map(|t| t.elapsed());
            let held = kid.is_none_or(|k| keys.set.iter().any(|(id, ..)| id.as_deref() == Some(k)));
            match age {
                None => true,
                Some(age) => age >= self.refresh || (!held && age >= MIN_REFETCH),
            }
        };
        if !due {
            return;
        }
        let fetched = async {
            let resp = client
                .get(url)
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !resp.status().is_success() {
                return Err(format!("HTTP {}", resp.status()));
            }
            let text = resp.text().await.map_err(|e| e.to_string())?;
            parse_jwks(&text)
        }
        .await;
        let mut keys = self.keys.lock().expect("jwt keys");
        // Failed or not, wait before asking again (no fetch storm from a
        // flood of tokens naming unknown keys).
        keys.fetched = Some(Instant::now());
        match fetched {
            Ok(set) => keys.set = set,
            Err(e) => {
                tracing::warn!(url = %url, error = %e, "could not fetch the JWKS; keeping the keys already held")
            }
        }
    }

    /// The caller name a valid token carries.
    pub async fn verify(&self, client: &reqwest::Client, token: &str) -> Result<String, ApiError> {
        let refused = |code: &'static str, message: String| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                code,
                message,
            )
        };
        let header = jsonwebtoken::decode_header(token).map_err(|e| {
            refused(
                "invalid_token",
                format!("the bearer token is not a JWT: {e}"),
            )
        })?;
        self.refresh(client, header.kid.as_deref()).await;
        let (alg, key) = {
            let keys = self.keys.lock().expect("jwt keys");
            let found = match &header.kid {
                Some(kid) => keys.set.iter().find(|(id, ..)| id.as_deref() == Some(kid)),
                None if keys.set.len() == 1 => keys.set.first(),
                None => None,
            };
            match found {
                Some((_, alg, key)) => (*alg, key.clone()),
                None => {
                    return Err(refused(
                        "unknown_key_id",
                        match &header.kid {
                            Some(k) => format!(
                                "the token is signed with key `{k}`, which the JWKS does not hold"
                            ),
                            None => {
                                "the token names no key (`kid`) and the JWKS holds several".into()
                            }
                        },
                    ));
                }
            }
        };
        if header.alg != alg {
            return Err(refused(
                "invalid_token",
                format!(
                    "the token says it is signed with {:?}, but its key is for {alg:?}",
                    header.alg
                ),
            ));
        }
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &key,
            &validation,
        )
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => {
                refused("token_expired", "the bearer token has expired".into())
            }
            ErrorKind::ImmatureSignature => refused(
                "token_not_yet_valid",
                "the bearer token is not valid yet (`nbf`)".into(),
            ),
            ErrorKind::InvalidAudience => refused(
                "invalid_audience",
                format!(
                    "the bearer token is not for this server (audience `{}` expected)",
                    self.audience
                ),
            ),
            ErrorKind::InvalidIssuer => refused(
                "invalid_issuer",
                format!("the bearer token was not issued by `{}`", self.issuer),
            ),
            ErrorKind::MissingRequiredClaim(c) => refused(
                "invalid_token",
                format!("the bearer token has no `{c}` claim"),
            ),
            ErrorKind::InvalidSignature => refused(
                "invalid_token",
                "the bearer token's signature does not verify".into(),
            ),
            other => refused(
                "invalid_token",
                format!("the bearer token is not valid: {other:?}"),
            ),
        })?;
        match data.claims.get(&self.caller_claim) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(refused(
                "invalid_token",
                format!(
                    "the bearer token has no `{}` claim naming its caller",
                    self.caller_claim
                ),
            )),
        }
    }
}
