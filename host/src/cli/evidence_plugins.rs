//! The evidence pack's plugin inventory (`plugins.json`): every plugin in
//! force in the period, with its digest, and its signature as far as it can
//! honestly be shown.
//!
//! What the tables say: each `decisions` row carries the plugin's policy
//! name, name, version, kind and content digest (SHA-256 of the component
//! bytes); each `policies` row carries the inventory (the same fields) of
//! the pipeline a host loaded. So the digest of every plugin that decided,
//! or was loaded by a policy in force, comes from the tables alone.
//!
//! What they do not say: the manifest's ed25519 signature is checked when
//! a plugin is loaded, but neither table records it. The signature
//! reported here is read, when the pack is made, from the manifests in the
//! plugins folders given (`--plugins`, or a policy's `[registry]` folder
//! with `--policy`), matched to the rows by digest, and checked against
//! the trusted keys given (`--trusted-key`, or the policy's
//! `trusted-keys`). A digest no manifest there carries any more (a plugin
//! replaced since) is `not_found`, unless it is a first-party plugin built
//! into this railyard binary (`builtin`, which has no manifest).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde_json::Value;

use crate::audit::DecisionRow;
use crate::audit::chain;
use crate::audit::events::PolicyRow;
use crate::plugin::PluginDigest;
use crate::plugin::manifest::{Manifest, TrustedKey};

/// Where signatures are looked up, and which keys are trusted.
#[derive(Debug, Default)]
pub(super) struct Sources {
    /// Plugins folders whose manifests are read.
    pub folders: Vec<PathBuf>,
    /// Keys signatures are checked against.
    pub keys: Vec<TrustedKey>,
}

impl Sources {
    /// From `--plugins`, `--trusted-key` and `--policy` (each policy's
    /// `[registry]` folder and trusted keys).
    pub(super) fn new(
        folders: &[PathBuf],
        keys: &[String],
        policies: &[PathBuf],
    ) -> anyhow::Result<Sources> {
        let mut s = Sources {
            folders: folders.to_vec(),
            keys: Vec::new(),
        };
        for k in keys {
            s.keys.push(
                TrustedKey::parse(k.trim())
                    .map_err(anyhow::Error::msg)
                    .context("--trusted-key")?,
            );
        }
        for p in policies {
            let policy = crate::policy::Policy::from_file(p)
                .with_context(|| format!("--policy {}", p.display()))?;
            match policy.registry {
                Some(r) => {
                    s.folders.push(r.dir);
                    s.keys.extend(r.trusted_keys);
                }
                None => anyhow::bail!(
                    "--policy {}: the policy has no [registry] table, so no plugins folder to read signatures from",
                    p.display()
                ),
            }
        }
        s.keys.dedup();
        Ok(s)
    }
}

/// `ed25519:<first 16 hex digits of sha256(public key)>`, the key id the
/// hash chain uses too.
fn key_id(key: &TrustedKey) -> String {
    let text = key.to_string();
    let public = hex::decode(text.trim_start_matches("ed25519:")).unwrap_or_default();
    format!("ed25519:{}", &chain::sha256_hex(&public)[..16])
}

/// A manifest found in a folder, by the digest it declares.
struct Found {
    path: PathBuf,
    manifest: Manifest,
}

/// What can be said of one plugin's signature.
#[derive(Debug, Clone, Serialize)]
struct Signature {
    /// `verified` (by a trusted key given), `bad_signature` (signed, by none
    /// of the trusted keys given), `unchecked` (signed; no trusted key
    /// given), `unsigned`, `builtin` (compiled into this railyard binary, no
    /// manifest), `not_found` (no manifest in the folders given declares
    /// this digest).
    status: &'static str,
    /// The manifest's `signature` value.
    signature: Option<String>,
    /// The trusted key that verified it.
    key: Option<String>,
    /// That key's id.
    key_id: Option<String>,
    /// The manifest it was read from.
    manifest: Option<String>,
}

fn signature_of(
    digest: &str,
    found: &HashMap<String, Vec<Found>>,
    builtin: &BTreeSet<String>,
    keys: &[TrustedKey],
) -> Signature {
    let none = |status| Signature {
        status,
        signature: None,
        key: None,
        key_id: None,
        manifest: None,
    };
    let Some(candidates) = found.get(digest) else {
        return none(if builtin.contains(digest) {
            "builtin"
        } else {
            "not_found"
        });
    };
    // Several manifests may declare one digest (a copy of a plugin under
    // another name); a verified one wins, then a signed one.
    let mut best: Option<Signature> = None;
    for f in candidates {
        let sig = f
            .manifest
            .signature
            .map(|s| format!("ed25519:{}", hex::encode(s.to_bytes())));
        let verified_by = f.manifest.signature.as_ref().and_then(|_| {
            keys.iter().find(|k| {
                f.manifest
                    .verify_signature(std::slice::from_ref(*k))
                    .is_ok()
            })
        });
        let status = match (&sig, verified_by, keys.is_empty()) {
            (None, _, _) => "unsigned",
            (Some(_), Some(_), _) => "verified",
            (Some(_), None, true) => "unchecked",
            (Some(_), None, false) => "bad_signature",
        };
        let this = Signature {
            status,
            signature: sig,
            key: verified_by.map(|k| k.to_string()),
            key_id: verified_by.map(key_id),
            manifest: Some(f.path.display().to_string()),
        };
        let rank = |s: &Signature| match s.status {
            "verified" => 3,
            "unchecked" | "bad_signature" => 2,
            _ => 1,
        };
        if best.as_ref().is_none_or(|b| rank(&this) > rank(b)) {
            best = Some(this);
        }
    }
    best.unwrap_or_else(|| none("not_found"))
}

/// Manifests by the digest they declare.
type ByDigest = HashMap<String, Vec<Found>>;

/// Every `*.toml` manifest in `folders`, by declared digest; manifests that
/// do not parse are listed with their error.
fn scan(folders: &[PathBuf]) -> anyhow::Result<(ByDigest, Vec<Value>)> {
    let mut found: HashMap<String, Vec<Found>> = HashMap::new();
    let mut unreadable = Vec::new();
    for dir in folders {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("reading the plugins folder {}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            match read_manifest(&path) {
                Ok(manifest) => found
                    .entry(manifest.digest.to_string())
                    .or_default()
                    .push(Found { path, manifest }),
                Err(e) => unreadable.push(serde_json::json!({"manifest": path.display().to_string(), "error": e.to_string()})),
            }
        }
    }
    Ok((found, unreadable))
}

fn read_manifest(path: &Path) -> anyhow::Result<Manifest> {
    let text = std::fs::read_to_string(path)?;
    Ok(Manifest::parse(&text, path)?)
}

/// Digests of the plugins built into this binary.
fn builtin_digests() -> BTreeSet<String> {
    crate::plugin::builtin::names()
        .into_iter()
        .filter_map(crate::plugin::builtin::component)
        .map(|bytes| PluginDigest::of(bytes).to_string())
        .collect()
}

#[derive(Default)]
struct Entry {
    name: String,
    version: String,
    kind: String,
    first: Option<i64>,
    last: Option<i64>,
    decisions: u64,
    sources: BTreeSet<&'static str>,
}

/// `plugins.json`: the plugins that decided in the period (`decisions`
/// rows) or were loaded by a policy in force (`in_force`, its `policies`
/// rows), each with its signature as the folders and keys of `sources`
/// show it.
pub(super) fn inventory(
    decisions: &[DecisionRow],
    in_force: &[&PolicyRow],
    sources: &Sources,
    rfc3339: fn(i64) -> String,
) -> anyhow::Result<Value> {
    let mut plugins: BTreeMap<(String, String), Entry> = BTreeMap::new();
    for d in decisions {
        let e = plugins
            .entry((d.plugin.clone(), d.plugin_digest.clone()))
            .or_insert_with(|| Entry {
                name: d.plugin_name.clone(),
                version: d.plugin_version.clone(),
                kind: d.plugin_kind.clone(),
                ..Entry::default()
            });
        e.first = Some(e.first.map_or(d.timestamp_us, |f| f.min(d.timestamp_us)));
        e.last = Some(e.last.map_or(d.timestamp_us, |l| l.max(d.timestamp_us)));
        e.decisions += 1;
        e.sources.insert("decisions");
    }
    for row in in_force {
        let listed: Vec<Value> = serde_json::from_str(&row.plugins).unwrap_or_default();
        for p in listed {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            let e = plugins
                .entry((s("plugin"), s("digest")))
                .or_insert_with(|| Entry {
                    name: s("name"),
                    version: s("version"),
                    kind: s("kind"),
                    ..Entry::default()
                });
            e.sources.insert("policies");
        }
    }
    let (found, unreadable) = scan(&sources.folders)?;
    let builtin = builtin_digests();
    let mut by_status: BTreeMap<&str, u64> = BTreeMap::new();
    let list: Vec<Value> = plugins
        .into_iter()
        .map(|((plugin, digest), e)| {
            let signature = signature_of(&digest, &found, &builtin, &sources.keys);
            *by_status.entry(signature.status).or_default() += 1;
            serde_json::json!({
                "plugin": plugin, "name": e.name, "version": e.version, "kind": e.kind, "digest": digest,
                "first_seen": e.first.map(rfc3339), "last_seen": e.last.map(rfc3339), "decisions": e.decisions,
                "in": e.sources, "signature": signature,
            })
        })
        .collect();
    Ok(serde_json::json!({
        "source": "digest, name, version and kind from the tables: decisions rows (plugin, plugin_digest) in the period, and the plugin inventories of the policies in force (policies table). Signatures are not in the tables: each is read, when the pack is made, from the manifests in `folders` that declare the digest, and checked against `trusted_keys`.",
        "folders": sources.folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        "trusted_keys": sources.keys.iter().map(|k| serde_json::json!({"key": k.to_string(), "key_id": key_id(k)})).collect::<Vec<_>>(),
        "unreadable_manifests": unreadable,
        "by_signature_status": by_status,
        "plugins": list,
    }))
}

/// The inventory's section of `summary.md`.
pub(super) fn markdown(inventory: &Value) -> String {
    let mut md = String::from(
        "## Plugin inventory\n\nDigests come from the tables (decisions rows and the policies in force). \
         Signatures are not recorded in the tables: they were read from the plugins folders below when this \
         pack was made, matched by digest, and checked against the trusted keys below.\n\n",
    );
    let list = |v: &Value| {
        v.as_array()
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| x["key_id"].as_str().unwrap_or_default().to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|| "none given".into())
    };
    md.push_str(&format!(
        "Folders: {}. Trusted keys: {}.\n\n| plugin | version | digest | signature | key id |\n|---|---|---|---|---|\n",
        list(&inventory["folders"]),
        list(&inventory["trusted_keys"])
    ));
    for p in inventory["plugins"].as_array().into_iter().flatten() {
        let s = |v: &Value| v.as_str().unwrap_or("").replace('|', "\\|");
        md.push_str(&format!(
            "| {} | {} | `{}` | {} | {} |\n",
            s(&p["plugin"]),
            s(&p["version"]),
            s(&p["digest"]),
            s(&p["signature"]["status"]),
            s(&p["signature"]["key_id"]),
        ));
    }
    md.push('\n');
    md
}
