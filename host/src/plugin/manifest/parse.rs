//! Reading a manifest: its TOML shape, and the validation that turns it
//! into a [`Manifest`] whose values are checked (a mistake names its key).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::signature::parse_signature;
use super::{Manifest, ManifestError, ManifestLimits};
use crate::payload::Stage;
use crate::plugin::capability::Capability;
use crate::plugin::{PluginDigest, PluginKind};

const MAX_TIMEOUT_MS: i64 = 60_000;
const MAX_MEMORY_MIB: i64 = 4096;
const MAX_INPUT_KIB: i64 = 64 * 1024;

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
}

fn parse_digest(s: &str) -> Option<PluginDigest> {
    let bytes: [u8; 32] = hex::decode(s.strip_prefix("sha256:")?)
        .ok()?
        .try_into()
        .ok()?;
    Some(PluginDigest(bytes))
}
