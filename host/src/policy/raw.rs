//! The policy TOML's shape, as serde reads it (the first pass of
//! `file::parse`): unknown keys and wrong types fail here with their
//! dotted path.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawPolicy {
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) defaults: RawLimits,
    #[serde(default)]
    pub(super) redaction: RawRedaction,
    #[serde(default)]
    pub(super) plugins: BTreeMap<String, RawPlugin>,
    #[serde(default)]
    pub(super) stages: BTreeMap<String, Vec<String>>,
    pub(super) registry: Option<RawRegistry>,
    #[serde(default)]
    pub(super) audit: RawAudit,
    #[serde(default)]
    pub(super) payload: RawPayload,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawAudit {
    pub(super) capture: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawPayload {
    pub(super) unknown_fields: Option<String>,
    pub(super) non_text: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawRegistry {
    pub(super) dir: PathBuf,
    #[serde(default)]
    pub(super) trusted_keys: Vec<String>,
    #[serde(default)]
    pub(super) allow: Vec<String>,
    #[serde(default)]
    pub(super) read_only_dirs: Vec<PathBuf>,
    pub(super) poll_ms: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawLimits {
    pub(super) timeout_ms: Option<i64>,
    pub(super) memory_mib: Option<i64>,
    pub(super) max_input_kib: Option<i64>,
    pub(super) failure_mode: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawRedaction {
    pub(super) operator: Option<String>,
    pub(super) mask_char: Option<String>,
    pub(super) hash_key_env: Option<String>,
    #[serde(default)]
    pub(super) categories: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawPlugin {
    pub(super) builtin: Option<String>,
    pub(super) path: Option<PathBuf>,
    pub(super) kind: Option<String>,
    pub(super) timeout_ms: Option<i64>,
    pub(super) memory_mib: Option<i64>,
    pub(super) max_input_kib: Option<i64>,
    pub(super) failure_mode: Option<String>,
    pub(super) action: Option<String>,
    pub(super) min_score: Option<f64>,
    #[serde(default)]
    pub(super) reuse: bool,
    pub(super) scanner: Option<bool>,
    #[serde(default)]
    pub(super) config: toml::Table,
}

impl RawPlugin {
    pub(super) fn builtin(name: &str) -> RawPlugin {
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
