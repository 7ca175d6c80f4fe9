//! The plugins folder: every `*.toml` manifest in it, with the component it
//! names, is a plugin candidate.
//!
//! A candidate becomes a loaded plugin only through these steps, in order,
//! each refusing with an error that names the manifest and what to fix:
//!
//! 1. `manifest`: the manifest parses and validates;
//! 2. `digest`: the component's bytes have the manifest's SHA-256 (the
//!    bytes read here are the ones compiled: no second read, no race);
//! 3. `signature`: when the policy trusts keys, one of them signed the digest;
//! 4. `capabilities`: everything the manifest requests is allowed by the
//!    policy's `[registry]`;
//! 5. `load`: the component compiles (through the compile cache), exports
//!    the world the manifest declares, imports nothing beyond its grants;
//! 6. `info`: name, version and stages agree with what `info()` reports.
//!
//! The smoke test against the conformance vectors, and the swap, are the
//! reloader's (`live`), which runs these steps off the hot path.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::capability::{Capability, Grants};
use super::manifest::{Manifest, ManifestError, TrustedKey};
use super::{LoadError, LoadedPlugin, PluginDigest, PluginLoader};

/// How a policy's plugins folder is run (the policy's `[registry]` table).
#[derive(Debug, Clone, PartialEq)]
pub struct RegistrySettings {
    /// The folder of manifests and components.
    pub dir: PathBuf,
    /// Keys whose signatures are accepted. Not empty: every plugin must be
    /// signed by one of them.
    pub trusted_keys: Vec<TrustedKey>,
    /// May plugins be granted `clocks`?
    pub allow_clocks: bool,
    /// May plugins be granted `random`?
    pub allow_random: bool,
    /// Folders a plugin may be granted read-only (`read-only-dir`).
    pub read_only_dirs: Vec<PathBuf>,
    /// How often the watcher looks at the folder and the policy file.
    pub poll_interval: Duration,
}

impl RegistrySettings {
    /// A registry for `dir` that trusts no keys and allows no capability.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RegistrySettings {
            dir: dir.into(),
            trusted_keys: Vec::new(),
            allow_clocks: false,
            allow_random: false,
            read_only_dirs: Vec::new(),
            poll_interval: Duration::from_secs(1),
        }
    }

    /// The grants for `requested`, or the first capability not allowed.
    pub fn grant(&self, requested: &[Capability]) -> Result<Grants, Capability> {
        for c in requested {
            let allowed = match c {
                Capability::Clocks => self.allow_clocks,
                Capability::Random => self.allow_random,
                Capability::ReadOnlyDir(dir) => {
                    let dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
                    self.read_only_dirs
                        .iter()
                        .any(|allowed| allowed.canonicalize().ok().as_ref() == Some(&dir))
                }
            };
            if !allowed {
                return Err(c.clone());
            }
        }
        Ok(Grants::from_capabilities(requested))
    }
}

/// Why a plugin candidate was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Manifest, digest or signature.
    #[error("{0}")]
    Manifest(#[from] ManifestError),
    /// It requests a capability the policy does not allow.
    #[error(
        "plugin manifest {manifest}: requests `{capability}`, which the policy's [registry] does not allow; {hint}, or remove the request"
    )]
    CapabilityNotAllowed {
        /// The manifest.
        manifest: String,
        /// The capability.
        capability: Capability,
        /// How to allow it.
        hint: String,
    },
    /// The component does not load (compile, world, imports, link, info).
    #[error("plugin manifest {manifest}: {error}")]
    Load {
        /// The manifest.
        manifest: String,
        /// Why.
        error: LoadError,
    },
    /// The component is not what the manifest says.
    #[error("plugin manifest {manifest}: {problem}")]
    Mismatch {
        /// The manifest.
        manifest: String,
        /// What differs.
        problem: String,
    },
    /// Two manifests, or a manifest and the policy, use one name.
    #[error("plugin manifest {manifest}: the name {name:?} is already used by {other}")]
    DuplicateName {
        /// The manifest.
        manifest: String,
        /// The name.
        name: String,
        /// Who has it.
        other: String,
    },
    /// The component fails the conformance smoke test.
    #[error(
        "plugin manifest {manifest}: fails the conformance smoke test: {failures}; run `railyard conformance {component}` for the full report"
    )]
    SmokeTest {
        /// The manifest.
        manifest: String,
        /// The component.
        component: String,
        /// What failed.
        failures: String,
    },
}

impl RegistryError {
    /// The step that refused, as recorded in the refusal metric.
    pub fn step(&self) -> &'static str {
        match self {
            RegistryError::Manifest(ManifestError::DigestMismatch { .. }) => "digest",
            RegistryError::Manifest(
                ManifestError::Unsigned { .. } | ManifestError::BadSignature { .. },
            ) => "signature",
            RegistryError::Manifest(_) => "manifest",
            RegistryError::CapabilityNotAllowed { .. } => "capabilities",
            RegistryError::Load { .. } => "load",
            RegistryError::Mismatch { .. } => "info",
            RegistryError::DuplicateName { .. } => "name",
            RegistryError::SmokeTest { .. } => "smoke-test",
        }
    }
}

/// The manifests in `dir` (`*.toml`, not recursive), sorted by file name.
/// A missing folder has none.
pub fn manifests(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// A candidate whose manifest, digest and signature check out: the exact
/// bytes to compile.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The manifest.
    pub manifest: Manifest,
    /// The component bytes, whose digest is the manifest's.
    pub wasm: Vec<u8>,
    /// SHA-256 of the manifest file: a changed limit or capability is a
    /// new version even when the component is the same.
    pub manifest_digest: PluginDigest,
    /// What the plugin will be linked against.
    pub grants: Grants,
}

/// Steps 1 to 4: reads the manifest at `path` and its component, checking
/// digest, signature and capabilities.
pub fn verify(path: &Path, settings: &RegistrySettings) -> Result<Verified, RegistryError> {
    let text = std::fs::read(path).map_err(|error| ManifestError::Read {
        path: path.display().to_string(),
        what: "the manifest".into(),
        error,
    })?;
    let manifest_digest = PluginDigest::of(&text);
    let text = String::from_utf8(text).map_err(|e| ManifestError::Syntax {
        path: path.display().to_string(),
        message: format!(
            "not UTF-8 text (first bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })?;
    let manifest = Manifest::parse(&text, path)?;
    let wasm = manifest.read_component()?;
    manifest.verify_signature(&settings.trusted_keys)?;
    let grants = settings.grant(&manifest.capabilities).map_err(|c| {
        RegistryError::CapabilityNotAllowed {
            manifest: path.display().to_string(),
            hint: match &c {
                Capability::ReadOnlyDir(dir) => format!(
                    "list the folder in `registry.read-only-dirs` (it resolves to {})",
                    dir.display()
                ),
                other => format!("add it to `registry.allow = [\"{}\"]`", other.name()),
            },
            capability: c,
        }
    })?;
    Ok(Verified {
        manifest,
        wasm,
        manifest_digest,
        grants,
    })
}

/// Steps 5 and 6: compiles and links the verified component and checks it
/// is what its manifest says.
pub fn load(loader: &PluginLoader, v: &Verified) -> Result<LoadedPlugin, RegistryError> {
    let m = &v.manifest;
    let manifest = m.path.display().to_string();
    let plugin = loader
        .load_granted(&m.name, &v.wasm, &v.grants)
        .map_err(|error| RegistryError::Load {
            manifest: manifest.clone(),
            error,
        })?;
    let mismatch = |problem: String| RegistryError::Mismatch {
        manifest: manifest.clone(),
        problem,
    };
    if plugin.kind != m.kind {
        return Err(mismatch(format!(
            "the manifest says kind = \"{}\" but the component is a {}",
            m.kind, plugin.kind
        )));
    }
    if plugin.info.name != m.name {
        return Err(mismatch(format!(
            "the manifest says name = {:?} but the component's info() says {:?}",
            m.name, plugin.info.name
        )));
    }
    if plugin.info.version != m.version {
        return Err(mismatch(format!(
            "the manifest says version = {:?} but the component's info() says {:?}; was the manifest written for another build?",
            m.version, plugin.info.version
        )));
    }
    if let Some(stage) = m.stages.iter().find(|s| !plugin.info.stages.contains(s)) {
        return Err(mismatch(format!(
            "the manifest runs it at the {stage} stage, but its info() declares only [{}]",
            plugin
                .info
                .stages
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(plugin)
}
