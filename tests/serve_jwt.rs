//! Short-lived bearer tokens through a real server and the real `openai`
//! client: JWTs verified against a JWKS served on 127.0.0.1, the caller
//! taken from a claim and held to that caller's grants, and every way a
//! token can be wrong refused with its own code.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use common::http::Upstream;
use common::openai_calls::{openai_calls, serve_config, sha256, write_lenient_policy};
use common::python;

const CARD: &str = "4111 1111 1111 1111";
const ISSUER: &str = "https://idp.test";
const AUDIENCE: &str = "railyard";

/// An Ed25519 signing key and its public JWK.
struct TestKey {
    kid: String,
    der: Vec<u8>,
    jwk: Value,
}

impl TestKey {
    fn new(kid: &str, seed: u8) -> TestKey {
        let key = SigningKey::from_bytes(&[seed; 32]);
        TestKey {
            kid: kid.into(),
            der: key.to_pkcs8_der().unwrap().as_bytes().to_vec(),
            jwk: json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            }),
        }
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&self.der)).unwrap()
    }
}

/// A JWKS endpoint on 127.0.0.1 that counts its fetches.
fn serve_jwks(jwks: Value) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = fetches.clone();
    let body = jwks.to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            counted.fetch_add(1, Ordering::SeqCst);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (addr, fetches)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn jwt_callers_get_their_grants_and_bad_tokens_their_own_codes() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    write_lenient_policy(tmp.path());
    let idp = TestKey::new("k1", 7);
    let stranger = TestKey::new("k1", 9); // same kid, another key
    let (jwks_addr, fetches) = serve_jwks(json!({ "keys": [idp.jwk] }));
    let upstream = Upstream::start();
    let config = format!(
        "[policies]\nlenient = \"lenient.toml\"\n\
         [upstreams.up]\nbase-url = \"{base}\"\n\
         [[routes]]\nmodel = \"lenient-*\"\nupstream = \"up\"\npolicy = \"lenient\"\n\
         [[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
         [jwt]\njwks-url = \"http://{jwks_addr}/jwks.json\"\nissuer = \"{ISSUER}\"\naudience = \"{AUDIENCE}\"\n\
         [[callers]]\nname = \"apps\"\n\
         [[callers]]\nname = \"research\"\npolicies = [\"default\", \"lenient\"]\n\
         [[callers]]\nname = \"keyed\"\nkey-sha256 = \"{k}\"\n",
        base = upstream.base_url(),
        k = sha256("key-keyed"),
    );
    let server = serve_config(tmp.path(), "serve", &config, false, &[]);
    let base = format!("http://{}/v1", server.addr);
    let claims = |sub: &str, iss: &str, aud: &str, exp: u64| json!({"sub": sub, "iss": iss, "aud": aud, "exp": exp, "iat": now()});
    let valid = |sub: &str| idp.sign(&claims(sub, ISSUER, AUDIENCE, now() + 600));
    // A token forged with the public key as an HMAC secret (the classic
    // algorithm confusion) must not pass.
    let confused = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let secret = URL_SAFE_NO_PAD
            .decode(idp.jwk["x"].as_str().unwrap())
            .unwrap();
        jsonwebtoken::encode(
            &header,
            &claims("apps", ISSUER, AUDIENCE, now() + 600),
            &EncodingKey::from_secret(&secret),
        )
        .unwrap()
    };
    let with_card = format!("pay with {CARD}");
    let calls = json!([
        {"key": valid("apps"), "model": "gpt-x", "content": with_card},
        {"key": valid("apps"), "model": "lenient-1", "content": with_card},
        {"key": valid("research"), "model": "lenient-1", "content": with_card},
        {"key": idp.sign(&claims("apps", ISSUER, AUDIENCE, now() - 3600)), "model": "gpt-x", "content": "hi"},
        {"key": stranger.sign(&claims("apps", ISSUER, AUDIENCE, now() + 600)), "model": "gpt-x", "content": "hi"},
        {"key": idp.sign(&claims("apps", ISSUER, "someone-else", now() + 600)), "model": "gpt-x", "content": "hi"},
        {"key": idp.sign(&claims("apps", "https://evil.test", AUDIENCE, now() + 600)), "model": "gpt-x", "content": "hi"},
        {"key": valid("nobody"), "model": "gpt-x", "content": "hi"},
        {"key": confused, "model": "gpt-x", "content": "hi"},
        {"key": TestKey::new("k2", 11).sign(&claims("apps", ISSUER, AUDIENCE, now() + 600)), "model": "gpt-x", "content": "hi"},
        {"key": "key-keyed", "model": "gpt-x", "content": "hi"},
    ]);
    let r = openai_calls(&py, &base, &calls);
    let log = || server.stderr.lock().unwrap().clone();
    // A valid token is its caller, under its caller's own policy.
    assert_eq!(r[0]["ok"], true, "{r:?}\n{}", log());
    assert_eq!(r[0]["content"], "echo: pay with <CREDIT_CARD>");
    // And held to that caller's grants.
    assert_eq!(
        (r[1]["raised"].as_str(), r[1]["code"].as_str()),
        (Some("PermissionDeniedError"), Some("policy_not_allowed")),
        "{r:?}"
    );
    assert_eq!(r[2]["ok"], true, "{r:?}");
    assert_eq!(r[2]["content"], format!("echo: {with_card}"));
    for (i, code) in [
        (3, "token_expired"),
        (4, "invalid_token"),
        (5, "invalid_audience"),
        (6, "invalid_issuer"),
        (7, "unknown_caller"),
        (8, "invalid_token"),
        (9, "unknown_key_id"),
    ] {
        assert_eq!(
            (
                r[i]["raised"].as_str(),
                r[i]["status"].as_u64(),
                r[i]["code"].as_str()
            ),
            (Some("AuthenticationError"), Some(401), Some(code)),
            "call {i}: {:?}",
            r[i]
        );
    }
    // Keys still work beside tokens.
    assert_eq!(r[10]["ok"], true, "{r:?}");
    // Tokens never go upstream, and the card only through `lenient`.
    let received = upstream.received.lock().unwrap().clone();
    assert!(!received.iter().any(|b| b.to_string().contains("eyJ")));
    let verbatim = upstream
        .prompts()
        .iter()
        .filter(|p| p.contains(CARD))
        .count();
    assert_eq!(verbatim, 1, "{:?}", upstream.prompts());
    // The JWKS was fetched once and cached; the unknown `k2` asked again
    // at most once (refetches are at least 10 s apart).
    let n = fetches.load(Ordering::SeqCst);
    assert!((1..=2).contains(&n), "{n} JWKS fetches");
}

#[test]
fn jwt_config_mistakes_name_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[jwt]\nissuer = \"i\"\naudience = \"a\"\n[[callers]]\nname = \"x\"\n",
            "jwt",
        ),
        (
            "[jwt]\njwks-file = \"missing.json\"\nissuer = \"i\"\naudience = \"a\"\n[[callers]]\nname = \"x\"\n",
            "jwt.jwks-file",
        ),
        (
            "[jwt]\njwks-url = \"ftp://x\"\nissuer = \"i\"\naudience = \"a\"\n[[callers]]\nname = \"x\"\n",
            "jwt.jwks-url",
        ),
        (
            "[jwt]\njwks-url = \"http://127.0.0.1:1/\"\nissuer = \"i\"\naudience = \"a\"\n",
            "jwt",
        ),
        ("[[callers]]\nname = \"x\"\n", "callers[0].keys"),
    ];
    for (text, key) in cases {
        let cfg = tmp.path().join("serve.toml");
        std::fs::write(&cfg, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_railyard"))
            .args(["serve", "--no-audit", "--config", cfg.to_str().unwrap()])
            .env("RAILYARD_STATE_DIR", tmp.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{text}");
        assert!(err.contains(&format!(": {key}: ")), "{text}\n{err}");
    }
}
