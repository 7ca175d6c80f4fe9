//! Authentication and grants on parsed configurations.

use hyper::HeaderMap;
use hyper::header::HeaderValue;

use super::*;

fn sha(k: &str) -> String {
    sha256_hex(k)
}

fn config(text: &str) -> Result<ServeConfig, crate::serve::config::ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("strict.toml"),
        "name = \"strict\"\n[stages]\nrequest = [\"pii\"]\n",
    )
    .unwrap();
    let p = dir.path().join("serve.toml");
    std::fs::write(&p, text).unwrap();
    ServeConfig::from_file(&p)
}

/// [`authenticate`] outside a server (keys only: nothing to fetch).
fn auth(c: &ServeConfig, h: &HeaderMap) -> Result<CallerId, ApiError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(authenticate(c, &reqwest::Client::new(), h))
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

fn two_callers() -> ServeConfig {
    config(&format!(
        "[policies]\nstrict = \"strict.toml\"\n\
         [[callers]]\nname = \"a\"\nkeys = [{{ sha256 = \"{}\" }}, {{ sha256 = \"{}\", expires = \"2001-01-01T00:00:00Z\" }}]\npolicies = [\"strict\"]\nmodels = [\"gpt-4*\"]\n\
         [[callers]]\nname = \"b\"\nkey-sha256 = \"{}\"\n\
         [[admins]]\nname = \"ops\"\nkey-sha256 = \"{}\"\n",
        sha("key-a"),
        sha("old-a"),
        sha("key-b"),
        sha("admin-ops")
    ))
    .unwrap()
}

#[test]
fn a_caller_gets_only_its_policies_and_models() {
    let c = two_callers();
    let a = auth(&c, &headers(&[("authorization", "Bearer key-a")])).unwrap();
    assert_eq!(a.name, "a");
    assert_eq!(a.own_policy(), "strict");
    assert!(a.check_policy("strict").is_ok());
    let e = a.check_policy("default").unwrap_err();
    assert_eq!((e.status.as_u16(), e.code), (403, "policy_not_allowed"));
    assert!(a.check_model("gpt-4o").is_ok());
    let e = a.check_model("small").unwrap_err();
    assert_eq!((e.status.as_u16(), e.code), (403, "model_not_allowed"));
    // Without a grant list: the default policy only, every model.
    let b = auth(&c, &headers(&[("x-api-key", "key-b")])).unwrap();
    assert_eq!(b.own_policy(), "default");
    assert!(b.check_policy("strict").is_err());
    assert!(b.check_model("anything").is_ok());
}

#[test]
fn wrong_missing_expired_and_conflicting_keys_are_refused() {
    let c = two_callers();
    let code = |h: &[(&'static str, &str)]| auth(&c, &headers(h)).unwrap_err().code;
    assert_eq!(code(&[]), "missing_api_key");
    assert_eq!(code(&[("authorization", "Bearer nope")]), "invalid_api_key");
    assert_eq!(
        code(&[("authorization", "Bearer old-a")]),
        "expired_api_key"
    );
    // One right key and one wrong one never pass.
    assert_eq!(
        code(&[("authorization", "Bearer nope"), ("x-api-key", "key-a")]),
        "conflicting_api_keys"
    );
    assert_eq!(
        code(&[("authorization", "Bearer key-a"), ("x-api-key", "nope")]),
        "conflicting_api_keys"
    );
    assert!(
        auth(
            &c,
            &headers(&[("authorization", "Bearer key-a"), ("x-api-key", "key-a")])
        )
        .is_ok()
    );
    // A caller key is not an admin key, and the other way round.
    assert_eq!(
        authenticate_admin(&c, &headers(&[("x-admin-key", "key-a")]))
            .unwrap_err()
            .code,
        "invalid_admin_key"
    );
    assert_eq!(
        code(&[("authorization", "Bearer admin-ops")]),
        "invalid_api_key"
    );
    assert_eq!(
        authenticate_admin(&c, &headers(&[("x-admin-key", "admin-ops")])).unwrap(),
        "ops"
    );
}

#[test]
fn without_callers_everyone_is_anonymous_on_loopback_only() {
    let c = config("").unwrap();
    let anon = auth(&c, &HeaderMap::new()).unwrap();
    assert_eq!(anon.name, "anonymous");
    assert!(anon.check_policy("anything").is_ok());
    assert!(check_listen(&c, "127.0.0.1:0".parse().unwrap()).is_ok());
    assert!(check_listen(&c, "[::1]:0".parse().unwrap()).is_ok());
    let e = check_listen(&c, "0.0.0.0:8080".parse().unwrap()).unwrap_err();
    assert!(e.contains("without caller authentication"), "{e}");
    let open = config("allow-unauthenticated = true\n").unwrap();
    assert!(check_listen(&open, "0.0.0.0:8080".parse().unwrap()).is_ok());
    assert!(check_listen(&two_callers(), "0.0.0.0:8080".parse().unwrap()).is_ok());
    assert_eq!(
        authenticate_admin(&c, &HeaderMap::new()).unwrap_err().code,
        "admin_disabled"
    );
}

#[test]
fn grant_mistakes_name_the_key() {
    let k = sha("k");
    for (text, key) in [
        ("[[callers]]\nname = \"a\"\n".to_string(), "callers[0].keys"),
        (
            format!("[[callers]]\nname = \"a\"\nkey-sha256 = \"{k}\"\npolicies = [\"nope\"]\n"),
            "callers[0].policies[0]",
        ),
        (
            format!("[[callers]]\nname = \"a\"\nkey-sha256 = \"{k}\"\npolicies = []\n"),
            "callers[0].policies",
        ),
        (
            format!(
                "[[callers]]\nname = \"a\"\nkeys = [{{ sha256 = \"{k}\", expires = \"soon\" }}]\n"
            ),
            "callers[0].keys[0].expires",
        ),
        (
            format!(
                "[[callers]]\nname = \"a\"\nkey-sha256 = \"{k}\"\n[[callers]]\nname = \"a\"\nkey-sha256 = \"{}\"\n",
                sha("k2")
            ),
            "callers[1].name",
        ),
        (
            format!(
                "[[callers]]\nname = \"a\"\nkey-sha256 = \"{k}\"\n[[admins]]\nname = \"ops\"\nkey-sha256 = \"{k}\"\n"
            ),
            "callers",
        ),
        (
            format!("[[admins]]\nname = \"ops\"\nkey-sha256 = \"{k}\"\npolicies = [\"default\"]\n"),
            "admins[0]",
        ),
    ] {
        let e = config(&text).unwrap_err();
        assert_eq!(e.key, key, "{text}: {e}");
    }
}

#[test]
fn a_reloaded_jwt_section_keeps_the_running_verifier_only_when_unchanged_and_at_a_url() {
    let with = |jwt: &str| {
        config(&format!(
            "[[callers]]\nname = \"a\"\nkey-sha256 = \"{}\"\n[jwt]\n{jwt}",
            sha("k")
        ))
        .unwrap()
        .jwt
        .unwrap()
    };
    let url = "jwks-url = \"http://127.0.0.1:1/jwks\"\nissuer = \"i\"\naudience = \"a\"\n";
    assert!(with(url).keeps(&with(url)));
    assert!(!with(url).keeps(&with(&url.replace("audience = \"a\"", "audience = \"b\""))));
    assert!(!with(url).keeps(&with(&url.replace(":1/", ":2/"))));
}
