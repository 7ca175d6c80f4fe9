//! Evidence packs: `railyard log evidence` over a table written by two
//! hosts (two processes) gives a summary whose counts match the rows read
//! back through the Delta log, a verify result, a self-contained page and
//! a manifest whose hashes and ed25519 signature check.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use ed25519_dalek::{Signature, SigningKey, Verifier};
use railyard::audit;
use railyard::cli::log::{read_decisions, read_inferences};
use serde_json::Value;
use sha2::{Digest, Sha256};

const SEED: &str = "e1de0ce5e1de0ce5e1de0ce5e1de0ce5e1de0ce5e1de0ce5e1de0ce5e1de0ce5";

fn railyard(tmp: &Path, host: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(args)
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .env("RAILYARD_AUDIT_URL", tmp.join("audit"))
        .env("RAILYARD_STATE_DIR", tmp.join(host))
        .env("RAILYARD_HOST_ID", host)
        .env("RAILYARD_AUDIT_SIGNING_KEY", SEED)
        .env("RAILYARD_AUDIT_SEGMENT_MS", "20")
        .env_remove("RAILYARD_AUDIT_KEY")
        .env_remove("RAILYARD_AUDIT_VERIFY_KEYS")
        .output()
        .expect("run railyard")
}

fn ok(o: Output) {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn an_evidence_pack_over_two_hosts_matches_the_rows_and_its_manifest_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    for (host, n) in [("host-a", "15"), ("host-b", "10"), ("host-a", "5")] {
        ok(railyard(
            tmp,
            host,
            &["log", "soak", "--count", n, "--caller", host],
        ));
    }
    let out = tmp.join("pack");
    ok(railyard(
        tmp,
        "auditor",
        &[
            "log",
            "evidence",
            "--since",
            "1h",
            "--out",
            out.to_str().unwrap(),
        ],
    ));

    // The summary counts what the tables hold.
    let root = audit::root_url(&tmp.join("audit").display().to_string()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let decisions = rt
        .block_on(read_decisions(&root, &Default::default()))
        .unwrap();
    let inferences = rt
        .block_on(read_inferences(&root, &Default::default()))
        .unwrap();
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["calls"], inferences.len());
    assert_eq!(inferences.len(), 30);
    assert_eq!(summary["decisions"], decisions.len());
    assert_eq!(
        summary["blocks"],
        inferences.iter().filter(|r| r.action == "block").count()
    );
    assert_eq!(summary["hosts"], serde_json::json!(["host-a", "host-b"]));
    let mut by_caller: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for r in &inferences {
        *by_caller
            .entry(r.caller.clone())
            .or_default()
            .entry(r.action.clone())
            .or_default() += 1;
    }
    assert_eq!(summary["actions_by_caller"], serde_json::json!(by_caller));
    let mut by_plugin: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for d in &decisions {
        *by_plugin
            .entry(d.plugin.clone())
            .or_default()
            .entry(d.action.clone())
            .or_default() += 1;
    }
    assert_eq!(summary["actions_by_plugin"], serde_json::json!(by_plugin));
    let series_calls: u64 = summary["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["calls"].as_u64().unwrap())
        .sum();
    assert_eq!(series_calls, 30);

    let verify: Value =
        serde_json::from_slice(&std::fs::read(out.join("verify.json")).unwrap()).unwrap();
    assert_eq!(verify["ok"], true, "{verify:#}");
    let plugins: Value =
        serde_json::from_slice(&std::fs::read(out.join("plugins.json")).unwrap()).unwrap();
    let digests: Vec<&str> = plugins["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["digest"].as_str().unwrap())
        .collect();
    assert!(!digests.is_empty() && digests.iter().all(|d| d.starts_with("sha256:")));
    let policies: Value =
        serde_json::from_slice(&std::fs::read(out.join("policies.json")).unwrap()).unwrap();
    assert_eq!(
        policies["policies"][0]["digest"].as_str(),
        Some(inferences[0].policy_digest.as_str())
    );

    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="));

    // The manifest: every file's hash, signed with the chain's key.
    let manifest_bytes = std::fs::read(out.join("manifest.json")).unwrap();
    let manifest: Value = serde_json::from_slice(&manifest_bytes).unwrap();
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 6);
    for f in files {
        let bytes = std::fs::read(out.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(f["sha256"], hex::encode(Sha256::digest(&bytes)), "{f}");
        assert_eq!(f["size"], bytes.len());
    }
    let seed: [u8; 32] = hex::decode(SEED).unwrap().try_into().unwrap();
    let key = SigningKey::from_bytes(&seed).verifying_key();
    assert_eq!(manifest["public_key"], hex::encode(key.as_bytes()));
    let sig_hex = std::fs::read_to_string(out.join("manifest.sig")).unwrap();
    let sig = Signature::from_slice(&hex::decode(sig_hex.trim()).unwrap()).unwrap();
    key.verify(&manifest_bytes, &sig)
        .expect("the manifest signature verifies");
    let mut altered = manifest_bytes.clone();
    altered[10] ^= 1;
    assert!(key.verify(&altered, &sig).is_err());

    // A pack is never written over another.
    let again = railyard(
        tmp,
        "auditor",
        &[
            "log",
            "evidence",
            "--since",
            "1h",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}
