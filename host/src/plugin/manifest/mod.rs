//! Plugin manifests: the TOML file beside each component in a plugins
//! folder, saying what the component is, proving which bytes it is, and
//! asking for what it needs.
//!
//! ```toml
//! # no-shouting.toml, beside no-shouting.wasm
//! name = "no-shouting"
//! version = "0.1.0"
//! kind = "guardrail"               # guardrail | pii-detector | judge-router
//! stages = ["request"]             # where it runs: request, response
//! digest = "sha256:9f2c…"          # SHA-256 of the .wasm file
//! signature = "ed25519:4a1b…"      # optional: ed25519 over the 32 digest bytes
//! component = "no-shouting.wasm"   # optional; default: this file's name with .wasm
//! finds = ["EMPLOYEE_ID"]          # optional: the finding categories it reports; the
//!                                  # built-in golden vectors then expect only those
//! vectors = "no-shouting-vectors"  # optional: its own conformance vectors (a JSON file,
//!                                  # or a folder of them), relative to this file
//!
//! [capabilities]                   # none by default
//! clocks = true
//! random = false
//! read-only-dir = "shouting-data"  # relative to the plugins folder; seen at /data
//!
//! [limits]                         # defaults for this plugin; the policy's [defaults] fill the rest
//! timeout-ms = 20
//! memory-mib = 32
//! max-input-kib = 256
//!
//! [config]                         # the plugin's own config (host `config()`): strings,
//! threshold = "0.8"                # numbers, booleans, or arrays of them (repeated keys)
//! ```
//!
//! A manifest is data, validated once when read: every later step works on
//! a [`Manifest`] whose values are checked. The digest check and the
//! signature check are small named functions ([`Manifest::verify_digest`],
//! [`Manifest::verify_signature`]); `plugin::registry` runs them before
//! anything is compiled.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::Deserialize;

use super::capability::Capability;
use super::{PluginDigest, PluginKind};
use crate::payload::Stage;

const MAX_TIMEOUT_MS: i64 = 60_000;
const MAX_MEMORY_MIB: i64 = 4096;
const MAX_INPUT_KIB: i64 = 64 * 1024;

/// A validated manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The manifest file.
    pub path: PathBuf,
    /// The plugin's name: how it appears in decisions and logs. Must match
    /// what the component's `info()` says.
    pub name: String,
    /// Its version; must match `info()`.
    pub version: String,
    /// The world it implements; must match the component's exports.
    pub kind: PluginKind,
    /// The stages it runs at; each must be one `info()` declares.
    pub stages: Vec<Stage>,
    /// The component file.
    pub component: PathBuf,
    /// SHA-256 the component's bytes must have.
    pub digest: PluginDigest,
    /// ed25519 signature over the digest's 32 bytes.
    pub signature: Option<Signature>,
    /// What it asks to be granted.
    pub capabilities: Vec<Capability>,
    /// Its default limits.
    pub limits: ManifestLimits,
    /// Its config, as the host's `config()` returns it.
    pub config: Vec<(String, String)>,
    /// The finding categories it declares it reports (`finds`); `None`:
    /// not declared, every built-in golden vector applies.
    pub finds: Option<Vec<String>>,
    /// Its own conformance vectors: a JSON vector file or a folder of them.
    pub vectors: Option<PathBuf>,
}

/// A manifest's default limits; unset values come from the policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ManifestLimits {
    /// Wall-clock deadline per call.
    pub timeout: Option<Duration>,
    /// Linear memory cap per instance, in bytes.
    pub memory_bytes: Option<u64>,
    /// Input-size cap, in bytes.
    pub max_input_bytes: Option<usize>,
}

/// A public key whose signatures the host accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey(VerifyingKey);

impl TrustedKey {
    /// Parses `ed25519:<64 hex digits>` (the 32-byte public key).
    pub fn parse(s: &str) -> Result<TrustedKey, String> {
        let hex_part = s.strip_prefix("ed25519:").ok_or_else(|| {
            format!("{s:?} does not start with `ed25519:`; expected ed25519:<64 hex digits>")
        })?;
        let bytes: [u8; 32] = hex::decode(hex_part)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                format!("{s:?} is not 32 bytes of hex; expected ed25519:<64 hex digits>")
            })?;
        VerifyingKey::from_bytes(&bytes)
            .map(TrustedKey)
            .map_err(|_| format!("{s:?} is not a valid ed25519 public key"))
    }

    /// The public key of a 32-byte ed25519 secret key (seed).
    pub fn from_secret(secret: &[u8; 32]) -> TrustedKey {
        TrustedKey(SigningKey::from_bytes(secret).verifying_key())
    }
}

impl std::fmt::Display for TrustedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ed25519:{}", hex::encode(self.0.as_bytes()))
    }
}

/// The manifest `signature` value for `digest`, signed with a 32-byte
/// ed25519 secret key (seed): `ed25519:<128 hex digits>`.
pub fn sign_digest(secret: &[u8; 32], digest: &PluginDigest) -> String {
    let signature = SigningKey::from_bytes(secret).sign(&digest.0);
    format!("ed25519:{}", hex::encode(signature.to_bytes()))
}

/// A manifest that cannot be used, or a component that does not match it.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest or its component could not be read.
    #[error("plugin manifest {path}: cannot read {what}: {error}")]
    Read {
        /// The manifest.
        path: String,
        /// What could not be read.
        what: String,
        /// Why.
        error: std::io::Error,
    },
    /// Not valid TOML, an unknown key, or a value of the wrong type.
    #[error("plugin manifest {path}: {message}")]
    Syntax {
        /// The manifest.
        path: String,
        /// The parser's message, with the key.
        message: String,
    },
    /// A value is well-formed but wrong.
    #[error("plugin manifest {path}: `{key}`: {problem}; expected {expected}")]
    Invalid {
        /// The manifest.
        path: String,
        /// The key.
        key: String,
        /// What is wrong.
        problem: String,
        /// What would be right.
        expected: String,
    },
    /// The component's bytes are not the ones the manifest names.
    #[error(
        "plugin manifest {path}: component {component} has digest {found}, but the manifest says {expected}; rebuild the manifest for this component (or finish copying it)"
    )]
    DigestMismatch {
        /// The manifest.
        path: String,
        /// The component file.
        component: String,
        /// The manifest's digest.
        expected: PluginDigest,
        /// The file's digest.
        found: PluginDigest,
    },
    /// Trusted keys are configured and the manifest carries no signature.
    #[error(
        "plugin manifest {path}: unsigned, and this host only accepts plugins signed by one of its {keys} trusted key(s); add `signature = \"ed25519:…\"` (the digest signed with a trusted key)"
    )]
    Unsigned {
        /// The manifest.
        path: String,
        /// How many keys are trusted.
        keys: usize,
    },
    /// The signature is not by any trusted key.
    #[error(
        "plugin manifest {path}: the signature over {digest} does not verify with any of this host's {keys} trusted key(s)"
    )]
    BadSignature {
        /// The manifest.
        path: String,
        /// The digest that was signed.
        digest: PluginDigest,
        /// How many keys are trusted.
        keys: usize,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawManifest {
    name: String,
    version: String,
    kind: String,
    stages: Vec<String>,
    digest: String,
    signature: Option<String>,
    component: Option<PathBuf>,
    finds: Option<Vec<String>>,
    vectors: Option<PathBuf>,
    #[serde(default)]
    capabilities: RawCapabilities,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    config: toml::Table,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCapabilities {
    #[serde(default)]
    clocks: bool,
    #[serde(default)]
    random: bool,
    read_only_dir: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLimits {
    timeout_ms: Option<i64>,
    memory_mib: Option<i64>,
    max_input_kib: Option<i64>,
}

impl Manifest {
    /// Reads and validates a manifest file. Relative paths in it (the
    /// component, a read-only folder) start at the manifest's folder.
    pub fn from_file(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|error| ManifestError::Read {
            path: path.display().to_string(),
            what: "the manifest".into(),
            error,
        })?;
        Manifest::parse(&text, path)
    }

    /// Validates manifest text read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        let label = path.display().to_string();
        let syntax = |message: String| ManifestError::Syntax {
            path: label.clone(),
            message,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| syntax(e.to_string().trim_end().to_string()))?;
        let raw: RawManifest = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let key = e.path().to_string();
                syntax(if key == "." {
                    e.inner().to_string()
                } else {
                    format!("`{key}`: {}", e.inner())
                })
            })?;
        let invalid = |key: &str, problem: String, expected: &str| ManifestError::Invalid {
            path: label.clone(),
            key: key.to_string(),
            problem,
            expected: expected.to_string(),
        };
        let base = path.parent().unwrap_or(Path::new("."));

        if raw.name.is_empty()
            || raw.name.len() > 64
            || !raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid(
                "name",
                format!("{:?} is not a usable plugin name", raw.name),
                "1 to 64 letters, digits, `-`, `_` or `.`",
            ));
        }
        if raw.version.trim().is_empty() || raw.version.len() > 64 {
            return Err(invalid(
                "version",
                format!("{:?} is not a usable version", raw.version),
                "the version the component's info() reports, e.g. \"0.1.0\"",
            ));
        }
        let kind = PluginKind::parse(&raw.kind).ok_or_else(|| {
            invalid(
                "kind",
                format!("unknown kind {:?}", raw.kind),
                "`guardrail`, `pii-detector` or `judge-router`",
            )
        })?;
        if raw.stages.is_empty() {
            return Err(invalid(
                "stages",
                "no stages".into(),
                "at least one of \"request\", \"response\"",
            ));
        }
        let mut stages = Vec::with_capacity(raw.stages.len());
        for (i, s) in raw.stages.iter().enumerate() {
            match Stage::parse(s) {
                Some(stage @ (Stage::Request | Stage::Response)) if !stages.contains(&stage) => {
                    stages.push(stage)
                }
                Some(Stage::Request | Stage::Response) => {
                    return Err(invalid(
                        &format!("stages[{i}]"),
                        format!("{s:?} is listed twice"),
                        "each stage at most once",
                    ));
                }
                _ => {
                    return Err(invalid(
                        &format!("stages[{i}]"),
                        format!("unknown stage {s:?}"),
                        "\"request\" or \"response\"",
                    ));
                }
            }
        }
        stages.sort();
        let digest = parse_digest(&raw.digest).ok_or_else(|| {
            invalid(
                "digest",
                format!("{:?} is not a SHA-256 digest", raw.digest),
                "sha256:<64 hex digits> (`sha256sum plugin.wasm`)",
            )
        })?;
        let signature = match &raw.signature {
            None => None,
            Some(s) => Some(parse_signature(s).ok_or_else(|| {
                invalid(
                    "signature",
                    format!("{s:?} is not an ed25519 signature"),
                    "ed25519:<128 hex digits> (the digest's 32 bytes signed with a trusted key)",
                )
            })?),
        };
        let component = match &raw.component {
            Some(c) if c.is_absolute() => c.clone(),
            Some(c) => base.join(c),
            None => path.with_extension("wasm"),
        };
        if let Some(finds) = &raw.finds
            && let Some((i, bad)) = finds.iter().enumerate().find(|(_, c)| {
                c.is_empty()
                    || c.len() > 64
                    || !c
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            })
        {
            return Err(invalid(
                &format!("finds[{i}]"),
                format!("{bad:?} is not a finding category"),
                "the category the plugin reports, e.g. \"EMPLOYEE_ID\" (letters, digits, `_`, `-`, `.`)",
            ));
        }
        let vectors = raw.vectors.as_ref().map(|v| {
            if v.is_absolute() {
                v.clone()
            } else {
                base.join(v)
            }
        });
        let mut capabilities = Vec::new();
        if raw.capabilities.clocks {
            capabilities.push(Capability::Clocks);
        }
        if raw.capabilities.random {
            capabilities.push(Capability::Random);
        }
        if let Some(dir) = &raw.capabilities.read_only_dir {
            let dir = if dir.is_absolute() {
                dir.clone()
            } else {
                base.join(dir)
            };
            capabilities.push(Capability::ReadOnlyDir(dir));
        }
        let ranged = |key: &str, v: Option<i64>, max: i64, what: &str| match v {
            None => Ok(None),
            Some(v) if (1..=max).contains(&v) => Ok(Some(v as u64)),
            Some(v) => Err(invalid(
                key,
                format!("{v} is out of range"),
                &format!("{what} from 1 to {max}"),
            )),
        };
        let limits = ManifestLimits {
            timeout: ranged(
                "limits.timeout-ms",
                raw.limits.timeout_ms,
                MAX_TIMEOUT_MS,
                "a whole number of milliseconds",
            )?
            .map(Duration::from_millis),
            memory_bytes: ranged(
                "limits.memory-mib",
                raw.limits.memory_mib,
                MAX_MEMORY_MIB,
                "a whole number of MiB",
            )?
            .map(|m| m << 20),
            max_input_bytes: ranged(
                "limits.max-input-kib",
                raw.limits.max_input_kib,
                MAX_INPUT_KIB,
                "a whole number of KiB",
            )?
            .map(|k| (k << 10) as usize),
        };
        let mut config = Vec::new();
        for (key, value) in &raw.config {
            let values: Vec<&toml::Value> = match value {
                toml::Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for v in values {
                let text = match v {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    _ => {
                        return Err(invalid(
                            &format!("config.{key}"),
                            "a table, date or nested array".into(),
                            "a string, number, boolean, or an array of them",
                        ));
                    }
                };
                config.push((key.clone(), text));
            }
        }
        Ok(Manifest {
            path: path.to_path_buf(),
            name: raw.name,
            version: raw.version,
            kind,
            stages,
            component,
            digest,
            signature,
            capabilities,
            limits,
            config,
            finds: raw.finds,
            vectors,
        })
    }

    /// Reads the component and checks it has the manifest's digest. Returns
    /// the bytes, so what is compiled is exactly what was checked.
    pub fn read_component(&self) -> Result<Vec<u8>, ManifestError> {
        let wasm = std::fs::read(&self.component).map_err(|error| ManifestError::Read {
            path: self.path.display().to_string(),
            what: format!("its component {}", self.component.display()),
            error,
        })?;
        self.verify_digest(&wasm)?;
        Ok(wasm)
    }

    /// Checks that `wasm` has the manifest's digest.
    pub fn verify_digest(&self, wasm: &[u8]) -> Result<(), ManifestError> {
        let found = PluginDigest::of(wasm);
        if found == self.digest {
            Ok(())
        } else {
            Err(ManifestError::DigestMismatch {
                path: self.path.display().to_string(),
                component: self.component.display().to_string(),
                expected: self.digest,
                found,
            })
        }
    }

    /// Checks the signature when `trusted` is not empty: it must be present
    /// and verify, over the digest, with one of the keys. With no trusted
    /// keys, signatures are not required (and not checked).
    pub fn verify_signature(&self, trusted: &[TrustedKey]) -> Result<(), ManifestError> {
        if trusted.is_empty() {
            return Ok(());
        }
        let Some(signature) = &self.signature else {
            return Err(ManifestError::Unsigned {
                path: self.path.display().to_string(),
                keys: trusted.len(),
            });
        };
        if trusted
            .iter()
            .any(|k| k.0.verify(&self.digest.0, signature).is_ok())
        {
            Ok(())
        } else {
            Err(ManifestError::BadSignature {
                path: self.path.display().to_string(),
                digest: self.digest,
                keys: trusted.len(),
            })
        }
    }
}

/// Writes a manifest's text: the inverse of [`Manifest::parse`] for the
/// fields a plugin author fills in (used by tests and tooling).
pub fn render(
    name: &str,
    version: &str,
    kind: PluginKind,
    stages: &[Stage],
    digest: &PluginDigest,
    signature: Option<&str>,
    component: Option<&str>,
) -> String {
    let mut out = format!(
        "name = {name:?}\nversion = {version:?}\nkind = \"{kind}\"\nstages = [{}]\ndigest = \"{digest}\"\n",
        stages
            .iter()
            .map(|s| format!("{:?}", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(sig) = signature {
        out.push_str(&format!("signature = {sig:?}\n"));
    }
    if let Some(c) = component {
        out.push_str(&format!("component = {c:?}\n"));
    }
    out
}

fn parse_digest(s: &str) -> Option<PluginDigest> {
    let bytes: [u8; 32] = hex::decode(s.strip_prefix("sha256:")?)
        .ok()?
        .try_into()
        .ok()?;
    Some(PluginDigest(bytes))
}

fn parse_signature(s: &str) -> Option<Signature> {
    let bytes: [u8; 64] = hex::decode(s.strip_prefix("ed25519:")?)
        .ok()?
        .try_into()
        .ok()?;
    Some(Signature::from_bytes(&bytes))
}

#[cfg(test)]
mod tests {
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
}
