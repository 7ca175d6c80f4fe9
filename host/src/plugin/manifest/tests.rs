//! Manifests parsed, validated and verified: defaults, the keys a mistake
//! names, and signatures checked against trusted keys.

use std::path::Path;

use super::*;

const SECRET: [u8; 32] = [7; 32];

fn manifest(extra: &str) -> Result<Manifest, ManifestError> {
    let digest = PluginDigest::of(b"component bytes");
    let text = format!(
        "{}{extra}",
        render(
            "no-shouting",
            "0.1.0",
            PluginKind::Guardrail,
            &[Stage::Request],
            &digest,
            None,
            None
        )
    );
    Manifest::parse(&text, Path::new("/plugins/no-shouting.toml"))
}

#[test]
fn a_minimal_manifest_parses_with_defaults() {
    let m = manifest("").unwrap();
    assert_eq!(m.name, "no-shouting");
    assert_eq!(m.kind, PluginKind::Guardrail);
    assert_eq!(m.component, Path::new("/plugins/no-shouting.wasm"));
    assert!(m.capabilities.is_empty());
    assert_eq!(m.limits, ManifestLimits::default());
    m.verify_digest(b"component bytes").unwrap();
    assert!(matches!(
        m.verify_digest(b"other bytes"),
        Err(ManifestError::DigestMismatch { .. })
    ));
}

#[test]
fn capabilities_and_limits_are_read() {
    let m = manifest(
        "[capabilities]\nclocks = true\nread-only-dir = \"data\"\n[limits]\ntimeout-ms = 20\nmemory-mib = 8\n",
    )
    .unwrap();
    assert_eq!(
        m.capabilities,
        vec![
            Capability::Clocks,
            Capability::ReadOnlyDir("/plugins/data".into())
        ]
    );
    assert_eq!(m.limits.timeout, Some(Duration::from_millis(20)));
    assert_eq!(m.limits.memory_bytes, Some(8 << 20));
}

#[test]
fn finds_and_vectors_are_read() {
    let m = manifest("finds = [\"EMPLOYEE_ID\"]\nvectors = \"emp.json\"\n").unwrap();
    assert_eq!(m.finds, Some(vec!["EMPLOYEE_ID".to_string()]));
    assert_eq!(m.vectors, Some(PathBuf::from("/plugins/emp.json")));
    assert_eq!(manifest("").unwrap().finds, None);
    let e = manifest("finds = [\"an id\"]\n").unwrap_err().to_string();
    assert!(e.contains("`finds[0]`"), "{e}");
}

#[test]
fn mistakes_name_the_key() {
    let e = manifest("[limits]\ntimeout-ms = 0\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`limits.timeout-ms`") && e.contains("out of range"),
        "{e}"
    );
    let e = manifest("[capabilities]\nsockets = true\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("capabilities") && e.contains("sockets"), "{e}");
    let e = Manifest::parse(
        "name = \"x\"\nversion = \"1\"\nkind = \"firewall\"\nstages = [\"request\"]\ndigest = \"sha256:00\"\n",
        Path::new("m.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`kind`") && e.contains("firewall"), "{e}");
}

#[test]
fn signatures_verify_only_with_a_trusted_key() {
    let digest = PluginDigest::of(b"component bytes");
    let sig = sign_digest(&SECRET, &digest);
    let text = render(
        "p",
        "1.0.0",
        PluginKind::PiiDetector,
        &[Stage::Request],
        &digest,
        Some(&sig),
        None,
    );
    let m = Manifest::parse(&text, Path::new("p.toml")).unwrap();
    let trusted = TrustedKey::from_secret(&SECRET);
    let other = TrustedKey::from_secret(&[9; 32]);
    m.verify_signature(&[]).unwrap();
    m.verify_signature(std::slice::from_ref(&trusted)).unwrap();
    m.verify_signature(&[other.clone(), trusted.clone()])
        .unwrap();
    assert!(matches!(
        m.verify_signature(std::slice::from_ref(&other)),
        Err(ManifestError::BadSignature { .. })
    ));
    assert_eq!(TrustedKey::parse(&trusted.to_string()).unwrap(), trusted);
    let unsigned = manifest("").unwrap();
    assert!(matches!(
        unsigned.verify_signature(&[trusted]),
        Err(ManifestError::Unsigned { .. })
    ));
}
