//! Parsing and validating the policy TOML.
//!
//! Two passes: serde reads the shape (unknown keys and wrong types are
//! reported with their dotted path), then [`Validator`] checks every value
//! and resolves names, reporting the key and what was expected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{
    AuditPolicy, Capture, FailureMode, PluginLimits, PluginSource, PluginSpec, Policy, PolicyError,
    RedactionOperator, RedactionPolicy,
};
use crate::payload::Stage;
use crate::plugin::manifest::TrustedKey;
use crate::plugin::registry::RegistrySettings;
use crate::plugin::{PluginKind, builtin};
use crate::verdict::Action;

/// The embedded default policy's text.
pub const DEFAULT_POLICY_TOML: &str = include_str!("default.toml");

const DEFAULT_TIMEOUT_MS: u64 = 50;
const DEFAULT_MEMORY_MIB: u64 = 64;
const DEFAULT_MAX_INPUT_KIB: u64 = 1024;
const MAX_TIMEOUT_MS: u64 = 60_000;
const MAX_INPUT_KIB: u64 = 64 * 1024;
const DEFAULT_HASH_KEY_ENV: &str = "RAILYARD_REDACTION_KEY";

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    name: Option<String>,
    #[serde(default)]
    defaults: RawLimits,
    #[serde(default)]
    redaction: RawRedaction,
    #[serde(default)]
    plugins: BTreeMap<String, RawPlugin>,
    #[serde(default)]
    stages: BTreeMap<String, Vec<String>>,
    registry: Option<RawRegistry>,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    payload: RawPayload,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAudit {
    capture: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPayload {
    unknown_fields: Option<String>,
    non_text: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRegistry {
    dir: PathBuf,
    #[serde(default)]
    trusted_keys: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    read_only_dirs: Vec<PathBuf>,
    poll_ms: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLimits {
    timeout_ms: Option<i64>,
    memory_mib: Option<i64>,
    max_input_kib: Option<i64>,
    failure_mode: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRedaction {
    operator: Option<String>,
    mask_char: Option<String>,
    hash_key_env: Option<String>,
    #[serde(default)]
    categories: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPlugin {
    builtin: Option<String>,
    path: Option<PathBuf>,
    kind: Option<String>,
    timeout_ms: Option<i64>,
    memory_mib: Option<i64>,
    max_input_kib: Option<i64>,
    failure_mode: Option<String>,
    action: Option<String>,
    min_score: Option<f64>,
    #[serde(default)]
    reuse: bool,
    scanner: Option<bool>,
    #[serde(default)]
    config: toml::Table,
}

pub(super) fn parse(text: &str, origin: Option<&Path>) -> Result<Policy, PolicyError> {
    let path_label = origin
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(embedded default)".to_string());
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| PolicyError::Syntax {
            path: path_label.clone(),
            message: e.to_string().trim_end().to_string(),
        })?;
    let raw: RawPolicy =
        serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let key = e.path().to_string();
            PolicyError::Syntax {
                path: path_label.clone(),
                message: if key == "." {
                    e.inner().to_string()
                } else {
                    format!("`{key}`: {}", e.inner())
                },
            }
        })?;

    let v = Validator {
        path: path_label.clone(),
        base_dir: origin
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    let defaults = v.limits("defaults", &raw.defaults, None)?;
    let default_failure = v.failure_mode(
        "defaults.failure-mode",
        raw.defaults.failure_mode.as_deref(),
        FailureMode::FailClosed,
    )?;

    let mut plugins = BTreeMap::new();
    for (name, p) in &raw.plugins {
        plugins.insert(name.clone(), v.plugin(name, p, &defaults, default_failure)?);
    }

    let mut stages = BTreeMap::new();
    for (stage_name, names) in &raw.stages {
        let stage = match Stage::parse(stage_name) {
            Some(s @ (Stage::Request | Stage::Response)) => s,
            _ => {
                return Err(v.invalid(
                    format!("stages.{stage_name}"),
                    format!("unknown stage {stage_name:?}"),
                    "`request` or `response`",
                ));
            }
        };
        let mut list: Vec<String> = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let key = format!("stages.{stage_name}[{i}]");
            if list.contains(name) {
                return Err(v.invalid(
                    key,
                    format!("plugin {name:?} is listed twice"),
                    "each plugin at most once per stage",
                ));
            }
            if !plugins.contains_key(name) {
                if builtin::component(name).is_some() {
                    // A bare built-in name in a stage: run it with the defaults.
                    let spec =
                        v.plugin(name, &RawPlugin::builtin(name), &defaults, default_failure)?;
                    plugins.insert(name.clone(), spec);
                } else {
                    let defined: Vec<&str> = raw.plugins.keys().map(String::as_str).collect();
                    return Err(v.invalid(
                        key,
                        format!("unknown plugin {name:?}"),
                        &format!(
                            "a plugin defined under [plugins] ({}) or a built-in ({})",
                            if defined.is_empty() {
                                "none defined".to_string()
                            } else {
                                defined.join(", ")
                            },
                            builtin::names().join(", ")
                        ),
                    ));
                }
            }
            list.push(name.clone());
        }
        stages.insert(stage, list);
    }

    let redaction = v.redaction(&raw.redaction)?;
    let audit = AuditPolicy {
        capture: match raw.audit.capture.as_deref() {
            None => Capture::default(),
            Some(c) => Capture::parse(c).ok_or_else(|| {
                v.invalid(
                    "audit.capture",
                    format!("unknown capture mode {c:?}"),
                    "`redacted` (the default: text after redaction), `full` (the exact text), `none` (no text, only its keyed hash) or `verbatim` (redacted text, plus the raw request and answer bodies with redactions written in)",
                )
            })?,
        },
    };
    let payload = super::PayloadPolicy {
        unknown_fields: match raw.payload.unknown_fields.as_deref() {
            None => super::UnknownFields::default(),
            Some(u) => super::UnknownFields::parse(u).ok_or_else(|| {
                v.invalid(
                    "payload.unknown-fields",
                    format!("unknown value {u:?}"),
                    "`walk` (the default: every string of a field railyard does not know is scanned) or `refuse` (400 naming the field)",
                )
            })?,
        },
        non_text: match raw.payload.non_text.as_deref() {
            None => super::NonText::default(),
            Some(n) => super::NonText::parse(n).ok_or_else(|| {
                v.invalid(
                    "payload.non-text",
                    format!("unknown value {n:?}"),
                    "`allow` (the default), `flag` or `block`",
                )
            })?,
        },
    };
    let registry = match &raw.registry {
        Some(r) => Some(v.registry(r)?),
        None => None,
    };
    let name = raw.name.unwrap_or_else(|| {
        origin
            .and_then(|p| p.file_stem())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "default".into())
    });
    Ok(Policy {
        name,
        origin: path_label,
        digest: format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes()))),
        text: text.into(),
        plugins,
        stages,
        redaction,
        default_limits: defaults,
        default_failure_mode: default_failure,
        registry,
        audit,
        payload,
    })
}

impl RawPlugin {
    fn builtin(name: &str) -> RawPlugin {
        RawPlugin {
            builtin: Some(name.to_string()),
            path: None,
            kind: None,
            timeout_ms: None,
            memory_mib: None,
            max_input_kib: None,
            failure_mode: None,
            action: None,
            min_score: None,
            reuse: false,
            scanner: None,
            config: toml::Table::new(),
        }
    }
}

struct Validator {
    path: String,
    base_dir: PathBuf,
}

impl Validator {
    fn invalid(
        &self,
        key: impl Into<String>,
        problem: impl Into<String>,
        expected: &str,
    ) -> PolicyError {
        PolicyError::Invalid {
            path: self.path.clone(),
            key: key.into(),
            problem: problem.into(),
            expected: expected.to_string(),
        }
    }

    fn ranged(
        &self,
        key: String,
        value: Option<i64>,
        default: u64,
        min: u64,
        max: u64,
        what: &str,
    ) -> Result<u64, PolicyError> {
        match value {
            None => Ok(default),
            Some(v) if v >= min as i64 && v <= max as i64 => Ok(v as u64),
            Some(v) => Err(self.invalid(
                key,
                format!("{v} is out of range"),
                &format!("{what} from {min} to {max}"),
            )),
        }
    }

    fn limits(
        &self,
        prefix: &str,
        raw: &RawLimits,
        base: Option<&PluginLimits>,
    ) -> Result<PluginLimits, PolicyError> {
        let (timeout_ms, memory_mib, input_kib) = match base {
            Some(b) => (
                b.timeout.as_millis() as u64,
                b.memory_bytes >> 20,
                (b.max_input_bytes >> 10) as u64,
            ),
            None => (
                DEFAULT_TIMEOUT_MS,
                DEFAULT_MEMORY_MIB,
                DEFAULT_MAX_INPUT_KIB,
            ),
        };
        Ok(PluginLimits {
            timeout: Duration::from_millis(self.ranged(
                format!("{prefix}.timeout-ms"),
                raw.timeout_ms,
                timeout_ms,
                1,
                MAX_TIMEOUT_MS,
                "a whole number of milliseconds",
            )?),
            memory_bytes: self.ranged(
                format!("{prefix}.memory-mib"),
                raw.memory_mib,
                memory_mib,
                1,
                4096,
                "a whole number of MiB",
            )? << 20,
            max_input_bytes: (self.ranged(
                format!("{prefix}.max-input-kib"),
                raw.max_input_kib,
                input_kib,
                1,
                MAX_INPUT_KIB,
                "a whole number of KiB",
            )? << 10) as usize,
        })
    }

    fn failure_mode(
        &self,
        key: &str,
        value: Option<&str>,
        default: FailureMode,
    ) -> Result<FailureMode, PolicyError> {
        match value {
            None => Ok(default),
            Some("fail-closed") => Ok(FailureMode::FailClosed),
            Some("fail-open") => Ok(FailureMode::FailOpen),
            Some("disabled") => Ok(FailureMode::Disabled),
            Some(other) => Err(self.invalid(
                key,
                format!("unknown failure mode {other:?}"),
                "`fail-closed`, `fail-open` or `disabled`",
            )),
        }
    }

    fn plugin(
        &self,
        name: &str,
        p: &RawPlugin,
        defaults: &PluginLimits,
        default_failure: FailureMode,
    ) -> Result<PluginSpec, PolicyError> {
        let key = |field: &str| format!("plugins.{name}.{field}");
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(self.invalid(
                format!("plugins.{name}"),
                format!("{name:?} is not a usable plugin name"),
                "letters, digits, `-`, `_` or `.`",
            ));
        }
        let source = match (&p.builtin, &p.path) {
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    format!("plugins.{name}"),
                    "both `builtin` and `path` are set",
                    "exactly one of them",
                ));
            }
            (None, None) => {
                return Err(self.invalid(
                    format!("plugins.{name}"),
                    "neither `builtin` nor `path` is set",
                    &format!(
                        "`builtin = \"NAME\"` (one of {}) or `path = \"plugin.wasm\"`",
                        builtin::names().join(", ")
                    ),
                ));
            }
            (Some(b), None) => {
                if builtin::component(b).is_none() {
                    return Err(self.invalid(
                        key("builtin"),
                        format!("unknown built-in plugin {b:?}"),
                        &format!("one of {}", builtin::names().join(", ")),
                    ));
                }
                PluginSource::Builtin(b.clone())
            }
            (None, Some(path)) => {
                let resolved = if path.is_absolute() {
                    path.clone()
                } else {
                    self.base_dir.join(path)
                };
                if !resolved.is_file() {
                    return Err(self.invalid(
                        key("path"),
                        format!("file {} does not exist", resolved.display()),
                        "a path to a WebAssembly component (relative paths start at the policy file's folder)",
                    ));
                }
                PluginSource::File(resolved)
            }
        };
        let expected_kind = match p.kind.as_deref() {
            None => None,
            Some(k) => Some(PluginKind::parse(k).ok_or_else(|| {
                self.invalid(
                    key("kind"),
                    format!("unknown kind {k:?}"),
                    "`guardrail`, `pii-detector` or `judge-router`",
                )
            })?),
        };
        let limits = self.limits(
            &format!("plugins.{name}"),
            &RawLimits {
                timeout_ms: p.timeout_ms,
                memory_mib: p.memory_mib,
                max_input_kib: p.max_input_kib,
                failure_mode: None,
            },
            Some(defaults),
        )?;
        let failure_mode = self.failure_mode(
            &key("failure-mode"),
            p.failure_mode.as_deref(),
            default_failure,
        )?;
        let action = match p.action.as_deref() {
            None => None,
            Some(a) => Some(Action::parse(a).ok_or_else(|| {
                self.invalid(
                    key("action"),
                    format!("unknown action {a:?}"),
                    "`allow`, `flag`, `redact` or `block`",
                )
            })?),
        };
        let min_score = match p.min_score {
            None => 0.0,
            Some(s) if (0.0..=1.0).contains(&s) => s as f32,
            Some(s) => {
                return Err(self.invalid(
                    key("min-score"),
                    format!("{s} is out of range"),
                    "a number from 0 to 1",
                ));
            }
        };
        let mut config = Vec::new();
        self.flatten_config(&key("config"), "", &p.config, &mut config)?;
        Ok(PluginSpec {
            name: name.to_string(),
            source,
            expected_kind,
            limits,
            failure_mode,
            action,
            min_score,
            config,
            reuse: p.reuse,
            scanner: p.scanner.unwrap_or(true),
        })
    }

    /// Nested tables become dotted keys; arrays become repeated keys.
    fn flatten_config(
        &self,
        key: &str,
        prefix: &str,
        table: &toml::Table,
        out: &mut Vec<(String, String)>,
    ) -> Result<(), PolicyError> {
        for (k, v) in table {
            let full = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => self.flatten_config(key, &full, t, out)?,
                toml::Value::Array(items) => {
                    for item in items {
                        match scalar(item) {
                            Some(s) => out.push((full.clone(), s)),
                            None => {
                                return Err(self.invalid(
                                    format!("{key}.{full}"),
                                    "an array holds a table or another array",
                                    "strings, numbers or booleans (use nested tables for structure)",
                                ));
                            }
                        }
                    }
                }
                other => out.push((
                    full,
                    scalar(other).expect("non-table, non-array TOML values are scalars"),
                )),
            }
        }
        Ok(())
    }

    fn registry(&self, raw: &RawRegistry) -> Result<RegistrySettings, PolicyError> {
        let resolve = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                self.base_dir.join(p)
            }
        };
        let mut settings = RegistrySettings::new(resolve(&raw.dir));
        for (i, key) in raw.trusted_keys.iter().enumerate() {
            let parsed = TrustedKey::parse(key).map_err(|problem| {
                self.invalid(
                    format!("registry.trusted-keys[{i}]"),
                    problem,
                    "an ed25519 public key, ed25519:<64 hex digits>",
                )
            })?;
            settings.trusted_keys.push(parsed);
        }
        for (i, cap) in raw.allow.iter().enumerate() {
            match cap.as_str() {
                "clocks" => settings.allow_clocks = true,
                "random" => settings.allow_random = true,
                other => {
                    return Err(self.invalid(
                        format!("registry.allow[{i}]"),
                        format!("unknown capability {other:?}"),
                        "`clocks` or `random` (read-only folders are listed in `registry.read-only-dirs`)",
                    ));
                }
            }
        }
        for (i, dir) in raw.read_only_dirs.iter().enumerate() {
            let dir = resolve(dir);
            if !dir.is_dir() {
                return Err(self.invalid(
                    format!("registry.read-only-dirs[{i}]"),
                    format!("{} is not a folder", dir.display()),
                    "an existing folder (relative paths start at the policy file's folder)",
                ));
            }
            settings.read_only_dirs.push(dir);
        }
        settings.poll_interval = Duration::from_millis(self.ranged(
            "registry.poll-ms".into(),
            raw.poll_ms,
            1000,
            10,
            3_600_000,
            "a whole number of milliseconds",
        )?);
        Ok(settings)
    }

    fn redaction(&self, raw: &RawRedaction) -> Result<RedactionPolicy, PolicyError> {
        let op = |key: String, value: &str| {
            RedactionOperator::parse(value).ok_or_else(|| {
                self.invalid(
                    key,
                    format!("unknown redaction operator {value:?}"),
                    "`tag`, `mask`, `hash`, `drop` or `plugin`",
                )
            })
        };
        let operator = match raw.operator.as_deref() {
            None => RedactionOperator::Tag,
            Some(v) => op("redaction.operator".into(), v)?,
        };
        let mut categories = BTreeMap::new();
        for (cat, v) in &raw.categories {
            categories.insert(cat.clone(), op(format!("redaction.categories.{cat}"), v)?);
        }
        let mask_char = match raw.mask_char.as_deref() {
            None => '*',
            Some(s) => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => c,
                    _ => {
                        return Err(self.invalid(
                            "redaction.mask-char",
                            format!("{s:?} is not one character"),
                            "a single character, e.g. \"*\"",
                        ));
                    }
                }
            }
        };
        let uses_hash = operator == RedactionOperator::Hash
            || categories.values().any(|o| *o == RedactionOperator::Hash);
        let env_name = raw.hash_key_env.as_deref().unwrap_or(DEFAULT_HASH_KEY_ENV);
        let hash_key = std::env::var(env_name)
            .ok()
            .filter(|k| !k.is_empty())
            .map(String::into_bytes);
        if uses_hash && hash_key.is_none() {
            return Err(self.invalid(
                "redaction.hash-key-env",
                format!(
                    "the `hash` operator is used but the environment variable {env_name} is not set"
                ),
                "a secret key in that variable (the key never goes in the policy file)",
            ));
        }
        Ok(RedactionPolicy {
            operator,
            categories,
            mask_char,
            hash_key,
        })
    }
}

fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        toml::Value::Array(_) | toml::Value::Table(_) => None,
    }
}
