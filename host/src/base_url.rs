//! The one check every configured base URL passes (upstreams, judges, a
//! JWKS URL): a leaf, so `serve` and `judge` need not import each other
//! for it.

/// An http(s) URL with a host; the error says what is wrong (upstreams
/// and judges alike).
pub(crate) fn check_base_url(u: &str) -> Result<(), String> {
    match url::Url::parse(u) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        Ok(_) => Err(format!("`{u}` is not an http(s) URL")),
        Err(e) => Err(format!("`{u}` is not a URL: {e}")),
    }
}
