//! What can be wrong with a manifest, or with a component against it:
//! each error names the manifest, the key or the file, and what to do.

use crate::plugin::PluginDigest;

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
