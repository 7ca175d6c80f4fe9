//! What admitting one model call costs before any plugin runs: caller
//! authentication (none, a static key, a JWT verified against a JWKS) and
//! the quota check (none, in-memory token buckets, and the settlement of
//! a call's token reservation), side by side.
//!
//! Each case runs what `serve` runs per call, through the public API:
//! `access::authenticate` on the request's headers, `Quotas::check` on a
//! caller with requests- and tokens-per-minute limits far above what the
//! bench asks (so every call is admitted and the figures are the check's,
//! not a refusal's), and `Ticket::settle` after an answer. Each iteration
//! goes through `block_on` on a current-thread runtime, the baseline too,
//! so the cases differ only by the work measured. The shared (Redis)
//! backend is one network round trip per call and is not measured here.
//!
//! Run: `cargo bench -p railyard --bench admission`.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use hyper::HeaderMap;
use hyper::header::HeaderValue;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use railyard::audit::TokenCounts;
use railyard::serve::ServeConfig;
use railyard::serve::access::authenticate;
use railyard::serve::quota::settle::{Ticket, answered};
use railyard::serve::quota::{Allowance, Cost, Quotas};
use serde_json::json;

const KEY: &str = "bench-key-0123456789";

fn sha256_hex(s: &str) -> String {
    railyard::plugin::PluginDigest::of(s.as_bytes())
        .to_string()
        .trim_start_matches("sha256:")
        .to_string()
}

fn config(dir: &std::path::Path, text: &str) -> ServeConfig {
    let path = dir.join("serve.toml");
    std::fs::write(&path, text).unwrap();
    ServeConfig::from_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn bearer(token: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    h
}

fn admission(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();

    // The signing key and its JWKS file.
    let signing = SigningKey::from_bytes(&[7; 32]);
    let der = signing.to_pkcs8_der().unwrap().as_bytes().to_vec();
    let jwks = json!({"keys": [{
        "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": "k1",
        "x": URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
    }]});
    std::fs::write(dir.path().join("jwks.json"), jwks.to_string()).unwrap();
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("k1".into());
    let token = jsonwebtoken::encode(
        &header,
        &json!({"sub": "apps", "iss": "https://idp.bench", "aud": "railyard", "exp": exp}),
        &EncodingKey::from_ed_der(&der),
    )
    .unwrap();

    let open = config(dir.path(), "");
    let keyed = config(
        dir.path(),
        &format!(
            "[[callers]]\nname = \"apps\"\nkey-sha256 = \"{}\"\n",
            sha256_hex(KEY)
        ),
    );
    let jwt = config(
        dir.path(),
        "[jwt]\njwks-file = \"jwks.json\"\nissuer = \"https://idp.bench\"\naudience = \"railyard\"\n\
         [[callers]]\nname = \"apps\"\n",
    );
    let (no_credential, key_headers, jwt_headers) = (HeaderMap::new(), bearer(KEY), bearer(&token));

    let mut group = c.benchmark_group("authentication");
    group.bench_function("none", |b| {
        b.iter(|| {
            rt.block_on(async { black_box(authenticate(&open, &client, &no_credential).await) })
        })
    });
    group.bench_function("key", |b| {
        b.iter(|| {
            rt.block_on(async { black_box(authenticate(&keyed, &client, &key_headers).await) })
        })
    });
    group.bench_function("jwt", |b| {
        b.iter(|| rt.block_on(async { black_box(authenticate(&jwt, &client, &jwt_headers).await) }))
    });
    group.finish();

    // Limits no bench run reaches: every call is admitted.
    let huge = Allowance {
        requests: Some(u64::MAX / 4),
        tokens: Some(u64::MAX / 4),
    };
    let unlimited = Quotas::new(Allowance::default(), HashMap::new());
    let limited = Quotas::new(huge, HashMap::from([("apps".to_string(), huge)]));
    let cost = Cost {
        tokens: 1100,
        prompt: 76,
    };
    let mut group = c.benchmark_group("quota");
    group.bench_function("none", |b| {
        b.iter(|| rt.block_on(async { black_box(unlimited.applies("apps")) }))
    });
    group.bench_function("check", |b| {
        b.iter(|| rt.block_on(async { black_box(limited.check("apps", cost).await) }))
    });
    group.bench_function("check+settle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let ticket = Ticket::new();
                ticket
                    .clone()
                    .scope(async {
                        black_box(limited.check("apps", cost).await.ok());
                        answered(
                            &TokenCounts {
                                prompt: Some(80),
                                completion: Some(40),
                            },
                            None,
                        );
                    })
                    .await;
                black_box(ticket.settle(&limited).await)
            })
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = admission
}
criterion_main!(benches);
