//! The checks every configured endpoint passes: its base URL (upstreams,
//! judges, a JWKS URL) and the variable its key is read from (upstreams,
//! judges): a leaf, so `serve` and `judge` need not import each other for
//! them.

/// An http(s) URL with a host; the error says what is wrong (upstreams
/// and judges alike).
pub(crate) fn check_base_url(u: &str) -> Result<(), String> {
    match url::Url::parse(u) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        Ok(_) => Err(format!("`{u}` is not an http(s) URL")),
        Err(e) => Err(format!("`{u}` is not a URL: {e}")),
    }
}

/// Refuses an `api-key-env` naming a variable that is unset or empty:
/// every call would go out with no key.
pub(crate) fn check_key_env(var: &str) -> Result<(), String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(()),
        _ => Err(format!(
            "the environment variable `{var}` is not set (or is empty), so calls would be sent with no key; set it before starting railyard, or remove `api-key-env` if no key is needed"
        )),
    }
}
