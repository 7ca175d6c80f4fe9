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

mod error;
mod parse;
mod signature;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::Duration;

use ed25519_dalek::Signature;

use super::capability::Capability;
use super::{PluginDigest, PluginKind};
use crate::payload::Stage;

pub use error::ManifestError;
pub use signature::{TrustedKey, sign_digest};

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

impl Manifest {
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
