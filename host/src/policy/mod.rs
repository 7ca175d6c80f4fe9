//! The policy file: which plugins run at which stage, with what limits,
//! failure modes and redaction.
//!
//! A policy is parsed and validated whole, once, at the edge: the pipeline
//! only ever sees a [`Policy`] whose every value has been checked. Mistakes
//! are reported with the file, the key and what was expected, e.g.
//!
//! ```text
//! policy file ./policy.toml: `plugins.pii.timeout-ms`: 0 is out of range; expected a whole number of milliseconds from 1 to 60000
//! ```

mod file;
pub mod payload;
mod raw;
mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::payload::Stage;
use crate::plugin::PluginKind;
pub use crate::plugin::PluginLimits;
use crate::verdict::Action;

pub use file::DEFAULT_POLICY_TOML;
pub use payload::{NonText, PayloadPolicy, UnknownFields};

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The policy's name (defaults to the file stem).
    pub name: String,
    /// Where it came from: a path, or `embedded default`.
    pub origin: String,
    /// `sha256:<hex>` of the file's bytes, recorded with every decision.
    pub digest: String,
    /// The file's text, whose SHA-256 is `digest` (archived in the
    /// `policies` audit table, so a digest resolves to what ran).
    pub text: std::sync::Arc<str>,
    /// Every plugin the policy defines or names, by name.
    pub plugins: BTreeMap<String, PluginSpec>,
    /// The plugins of each stage, in the order they run.
    pub stages: BTreeMap<Stage, Vec<String>>,
    /// How redactions are written.
    pub redaction: RedactionPolicy,
    /// The `[defaults]` limits, for plugins the policy does not name (those
    /// of the plugins folder).
    pub default_limits: PluginLimits,
    /// The `[defaults]` failure mode.
    pub default_failure_mode: FailureMode,
    /// The plugins folder, when the policy has a `[registry]` table: every
    /// plugin dropped there with a manifest runs at its manifest's stages.
    pub registry: Option<crate::plugin::registry::RegistrySettings>,
    /// What the audit log may keep of payload text (`[audit]`).
    pub audit: AuditPolicy,
    /// Unknown request fields and non-text parts (`[payload]`).
    pub payload: PayloadPolicy,
}

/// The policy's `[audit]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuditPolicy {
    /// `capture = "redacted" | "full" | "none"` (default `redacted`).
    pub capture: Capture,
}

/// How much of a payload's text the `inferences` table keeps: a policy
/// decision (`[audit] capture = …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capture {
    /// The text after the policy's redactions (the original when nothing
    /// needed redacting). The default: PII never reaches a table unless the
    /// policy says so.
    #[default]
    Redacted,
    /// The exact text the plugins were shown.
    Full,
    /// No text at all; only the keyed hash.
    None,
    /// As `Redacted` for the message columns, and besides the raw request
    /// and answer bodies of a proxied call as they went upstream and came
    /// back to the caller (`request_body`, `response_body`), with the
    /// policy's redactions written into them.
    Verbatim,
}

impl Capture {
    /// The policy-file name.
    pub fn as_str(self) -> &'static str {
        match self {
            Capture::Redacted => "redacted",
            Capture::Full => "full",
            Capture::None => "none",
            Capture::Verbatim => "verbatim",
        }
    }

    /// Parses a policy-file name.
    pub fn parse(s: &str) -> Option<Capture> {
        match s {
            "redacted" => Some(Capture::Redacted),
            "full" => Some(Capture::Full),
            "none" => Some(Capture::None),
            "verbatim" => Some(Capture::Verbatim),
            _ => None,
        }
    }
}

impl Policy {
    /// The embedded default policy.
    pub fn embedded_default() -> Policy {
        file::parse(DEFAULT_POLICY_TOML, None)
            .expect("the embedded default policy is valid (tested)")
    }

    /// Reads and validates a policy file.
    pub fn from_file(path: impl Into<PathBuf>) -> Result<Policy, PolicyError> {
        let path = path.into();
        let text = std::fs::read_to_string(&path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            error: source,
        })?;
        file::parse(&text, Some(&path))
    }

    /// Validates policy text; relative plugin paths resolve from `base_dir`.
    pub fn from_toml(text: &str, origin: Option<&std::path::Path>) -> Result<Policy, PolicyError> {
        file::parse(text, origin)
    }

    /// The plugin names of `stage`, empty if the stage has none.
    pub fn stage(&self, stage: Stage) -> &[String] {
        self.stages.get(&stage).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// One plugin's entry in a policy.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    /// The name stages refer to it by.
    pub name: String,
    /// Where its component comes from.
    pub source: PluginSource,
    /// The kind the policy expects; checked against the component's world.
    pub expected_kind: Option<PluginKind>,
    /// Time, memory and input bounds for every call.
    pub limits: PluginLimits,
    /// What a failed call (trap, timeout, limit, bad output) turns into.
    pub failure_mode: FailureMode,
    /// What a hit turns into. For detectors: the action when they find
    /// anything (default `redact`). For guardrails: when set, replaces any
    /// non-allow verdict (e.g. run a blocking guardrail as flag-only).
    pub action: Option<Action>,
    /// Findings scoring below this are ignored.
    pub min_score: f32,
    /// The plugin's own config, flattened to key/value pairs.
    pub config: Vec<(String, String)>,
    /// Keep instances between calls instead of a fresh one per call
    /// (`reuse = true`; default false). Only for plugins that keep no
    /// per-call state: what one call leaves in the instance's memory the
    /// next caller's call runs with. A faulted instance is never reused.
    pub reuse: bool,
    /// On a streamed answer, use the plugin's `scanner` when it exports
    /// one (`scanner = true`, the default); `false` runs it host-buffered
    /// (its whole-text check re-run on the answer so far) like a plugin
    /// without one.
    pub scanner: bool,
}

/// Where a plugin's component comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// A first-party plugin embedded in the binary.
    Builtin(String),
    /// A `.wasm` component file.
    File(PathBuf),
}

/// What happens when a plugin call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureMode {
    /// The failure blocks the payload (default: a broken guardrail must not
    /// become an open door).
    FailClosed,
    /// The failure allows the payload; the outcome is still recorded and
    /// logged loudly.
    FailOpen,
    /// The plugin is not run at all; recorded as `disabled`.
    Disabled,
}

impl FailureMode {
    /// The policy name.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureMode::FailClosed => "fail-closed",
            FailureMode::FailOpen => "fail-open",
            FailureMode::Disabled => "disabled",
        }
    }
}

/// How found spans are rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedactionOperator {
    /// `<CATEGORY>`, e.g. `<EMAIL_ADDRESS>`.
    Tag,
    /// Every character replaced by the mask character.
    Mask,
    /// `<CATEGORY:hex>`, a keyed HMAC-SHA256 of the value (first 8 bytes):
    /// equal values correlate, the value cannot be recovered without the key.
    Hash,
    /// Removed.
    Drop,
    /// The replacement the plugin suggested; `<CATEGORY>` when it gave none.
    Plugin,
}

impl RedactionOperator {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "tag" => RedactionOperator::Tag,
            "mask" => RedactionOperator::Mask,
            "hash" => RedactionOperator::Hash,
            "drop" => RedactionOperator::Drop,
            "plugin" => RedactionOperator::Plugin,
            _ => return None,
        })
    }
}

/// Redaction settings.
#[derive(Clone)]
pub struct RedactionPolicy {
    /// The operator for every category without its own.
    pub operator: RedactionOperator,
    /// Per-category operators.
    pub categories: BTreeMap<String, RedactionOperator>,
    /// The character `mask` writes.
    pub mask_char: char,
    /// The key of the `hash` operator (from the environment variable the
    /// policy names; never from the file itself).
    pub hash_key: Option<Vec<u8>>,
}

impl std::fmt::Debug for RedactionPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedactionPolicy")
            .field("operator", &self.operator)
            .field("categories", &self.categories)
            .field("mask_char", &self.mask_char)
            .field("hash_key", &self.hash_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl RedactionPolicy {
    /// The operator for `category`.
    pub fn operator_for(&self, category: &str) -> RedactionOperator {
        self.categories
            .get(category)
            .copied()
            .unwrap_or(self.operator)
    }
}

/// A policy that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("policy file {path}: cannot read it: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not valid TOML, or a value has the wrong type.
    #[error("policy file {path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message, with line and column or key.
        message: String,
    },
    /// A value is well-formed but wrong.
    #[error("policy file {path}: `{key}`: {problem}; expected {expected}")]
    Invalid {
        /// The file.
        path: String,
        /// The dotted key, e.g. `plugins.pii.timeout-ms`.
        key: String,
        /// What is wrong.
        problem: String,
        /// What would be right.
        expected: String,
    },
}
