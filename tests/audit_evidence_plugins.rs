//! The evidence pack's plugin inventory: a plugin signed with a trusted key
//! decides through a real pipeline loaded from a plugins folder (manifest,
//! digest and signature checked by the registry), its decisions and its
//! policy go through the audit log into the Delta tables, and
//! `railyard log evidence` lists it with its digest (from the tables) and
//! its signature, key id and verification (from the folder): verified with
//! the policy's key, unchecked without a key, bad with another key,
//! unsigned and not found once the manifest changes or goes.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{loader, request, wasm};
use railyard::Stage;
use railyard::audit::{AuditLog, AuditRecord, AuditSettings, CallInfo, Capture, RecordContext};
use railyard::live::Reloader;
use railyard::plugin::manifest::{TrustedKey, render, sign_digest};
use railyard::plugin::{PluginDigest, PluginKind};
use serde_json::Value;

const TRUSTED_SECRET: [u8; 32] = [11; 32];
const OTHER_SECRET: [u8; 32] = [22; 32];

fn manifest(digest: &PluginDigest, signature: Option<&str>) -> String {
    render(
        "hostile",
        "0.1.0",
        PluginKind::Guardrail,
        &[Stage::Request],
        digest,
        signature,
        None,
    )
}

/// Writes a pack with `extra` arguments; returns its `plugins.json` and
/// `summary.md` (with `index.html` appended).
fn pack(tmp: &Path, name: &str, extra: &[&str]) -> (Value, String) {
    let out = tmp.join(name);
    let o = Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["log", "evidence", "--since", "1h", "--out"])
        .arg(&out)
        .args(extra)
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .env("RAILYARD_AUDIT_URL", tmp.join("audit"))
        .env("RAILYARD_STATE_DIR", tmp.join("auditor"))
        .env_remove("RAILYARD_AUDIT_SIGNING_KEY")
        .env_remove("RAILYARD_AUDIT_SIGNING_KEY_FILE")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    let plugins =
        serde_json::from_slice(&std::fs::read(out.join("plugins.json")).unwrap()).unwrap();
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap()
        + &std::fs::read_to_string(out.join("index.html")).unwrap();
    (plugins, md)
}

fn hostile(inventory: &Value) -> &Value {
    inventory["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["plugin"] == "hostile")
        .unwrap_or_else(|| panic!("no hostile plugin in {inventory:#}"))
}

#[test]
fn the_plugin_inventory_shows_each_digest_with_its_signature_and_whether_it_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let plugins = tmp.join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let bytes = std::fs::read(wasm("railyard_fixture_hostile")).unwrap();
    let digest = PluginDigest::of(&bytes);
    std::fs::write(plugins.join("hostile.wasm"), &bytes).unwrap();
    let signature = sign_digest(&TRUSTED_SECRET, &digest);
    std::fs::write(
        plugins.join("hostile.toml"),
        manifest(&digest, Some(&signature)),
    )
    .unwrap();
    let key = TrustedKey::from_secret(&TRUSTED_SECRET);
    let policy = tmp.join("policy.toml");
    std::fs::write(
        &policy,
        format!("name = \"signed\"\n[registry]\ndir = \"plugins\"\ntrusted-keys = [\"{key}\"]\n"),
    )
    .unwrap();

    // The registry loads the signed plugin (refusing it otherwise), and a
    // call it decides is recorded with the policy it ran under.
    let reloader = Reloader::from_file(loader().clone(), &policy).unwrap();
    let payload = request("a hostile word");
    let evaluation = reloader.live().evaluate(&payload);
    assert!(
        evaluation.decisions.iter().any(|d| d.plugin == "hostile"),
        "the signed plugin did not run: {:?}",
        evaluation.decisions
    );
    let log = AuditLog::open(AuditSettings::new(
        tmp.join("audit").display().to_string(),
        tmp.join("host"),
    ))
    .unwrap();
    let row = railyard::serve::evidence::policy_row(&reloader.live().current(), log.host_id());
    log.record_rows(&[AuditRecord::Policy(row)]).unwrap();
    log.record(
        &evaluation,
        &RecordContext {
            payload: &payload,
            capture: Capture::Redacted,
            call: Some(CallInfo::default()),
        },
    )
    .unwrap();
    log.shutdown(Duration::from_secs(60)).unwrap();

    // With the policy: its folder and its trusted key.
    let (inv, md) = pack(tmp, "with-policy", &["--policy", policy.to_str().unwrap()]);
    let p = hostile(&inv);
    assert_eq!(p["digest"], digest.to_string(), "the digest from the rows");
    assert_eq!(p["in"], serde_json::json!(["decisions", "policies"]));
    assert!(p["decisions"].as_u64().unwrap() >= 1);
    let s = &p["signature"];
    assert_eq!(s["status"], "verified", "{p:#}");
    assert_eq!(s["signature"], signature.as_str());
    assert_eq!(s["key"], key.to_string());
    let public = key.to_string();
    let public = hex::decode(public.trim_start_matches("ed25519:")).unwrap();
    let id = format!(
        "ed25519:{}",
        &railyard::audit::chain::sha256_hex(&public)[..16]
    );
    assert_eq!(s["key_id"], id.as_str());
    assert!(
        s["manifest"].as_str().unwrap().ends_with("hostile.toml"),
        "{s}"
    );
    assert_eq!(inv["trusted_keys"][0]["key_id"], id.as_str());
    assert!(
        md.contains("Signatures are not recorded in the tables")
            && md.contains(&format!(
                "| hostile | 0.1.0 | `{digest}` | verified | {id} |"
            )),
        "{md}"
    );

    // The folder without a key: signed, not checked.
    let dir = plugins.to_str().unwrap();
    let (inv, _) = pack(tmp, "no-key", &["--plugins", dir]);
    assert_eq!(hostile(&inv)["signature"]["status"], "unchecked");
    // Another key: the signature does not verify with it.
    let other = TrustedKey::from_secret(&OTHER_SECRET).to_string();
    let (inv, _) = pack(
        tmp,
        "other-key",
        &["--plugins", dir, "--trusted-key", &other],
    );
    let s = &hostile(&inv)["signature"];
    assert_eq!(s["status"], "bad_signature", "{s}");
    assert!(s["key_id"].is_null());
    // The manifest re-signed by nobody: unsigned.
    std::fs::write(plugins.join("hostile.toml"), manifest(&digest, None)).unwrap();
    let (inv, _) = pack(
        tmp,
        "unsigned",
        &["--plugins", dir, "--trusted-key", &other],
    );
    assert_eq!(hostile(&inv)["signature"]["status"], "unsigned");
    // The manifest gone (the plugin replaced since): the digest is still
    // reported from the tables, its signature cannot be.
    std::fs::remove_file(plugins.join("hostile.toml")).unwrap();
    let (inv, _) = pack(tmp, "gone", &["--plugins", dir]);
    let p = hostile(&inv);
    assert_eq!(p["digest"], digest.to_string());
    assert_eq!(p["signature"]["status"], "not_found");
    // No folder at all: the same, and said so.
    let (inv, md) = pack(tmp, "no-folder", &[]);
    assert_eq!(hostile(&inv)["signature"]["status"], "not_found");
    assert!(md.contains("Folders: none given"), "{md}");
}
