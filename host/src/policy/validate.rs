//! The policy TOML's second pass: every value checked and every name
//! resolved, each problem reported with its key and what was expected.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::raw::{RawLimits, RawPlugin, RawRedaction, RawRegistry};
use super::{
    FailureMode, PluginLimits, PluginSource, PluginSpec, PolicyError, RedactionOperator,
    RedactionPolicy,
};
use crate::plugin::manifest::TrustedKey;
use crate::plugin::registry::RegistrySettings;
use crate::plugin::{PluginKind, builtin};
use crate::verdict::Action;

const DEFAULT_TIMEOUT_MS: u64 = 50;
const DEFAULT_MEMORY_MIB: u64 = 64;
const DEFAULT_MAX_INPUT_KIB: u64 = 1024;
const MAX_TIMEOUT_MS: u64 = 60_000;
const MAX_INPUT_KIB: u64 = 64 * 1024;
const DEFAULT_HASH_KEY_ENV: &str = "RAILYARD_REDACTION_KEY";

pub(super) struct Validator {
    pub(super) path: String,
    pub(super) base_dir: PathBuf,
}

impl Validator {
    pub(super) fn invalid(
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

    pub(super) fn ranged(
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

    pub(super) fn limits(
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

    pub(super) fn failure_mode(
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

    pub(super) fn plugin(
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
    pub(super) fn flatten_config(
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

    pub(super) fn registry(&self, raw: &RawRegistry) -> Result<RegistrySettings, PolicyError> {
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

    pub(super) fn redaction(&self, raw: &RawRedaction) -> Result<RedactionPolicy, PolicyError> {
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
