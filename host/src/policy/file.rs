//! Parsing and validating the policy TOML.
//!
//! Two passes: serde reads the shape (unknown keys and wrong types are
//! reported with their dotted path), then `validate::Validator` checks every value
//! and resolves names, reporting the key and what was expected.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::raw::{RawPlugin, RawPolicy};
use super::validate::Validator;
use super::{AuditPolicy, Capture, FailureMode, Policy, PolicyError};
use crate::payload::Stage;
use crate::plugin::builtin;

/// The embedded default policy's text.
pub const DEFAULT_POLICY_TOML: &str = include_str!("default.toml");

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
