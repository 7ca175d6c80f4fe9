//! Signed plugins: the keys a host trusts, signing a digest, and checking
//! a manifest's signature against the trusted keys.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use super::{Manifest, ManifestError};
use crate::plugin::PluginDigest;

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

pub(super) fn parse_signature(s: &str) -> Option<Signature> {
    let bytes: [u8; 64] = hex::decode(s.strip_prefix("ed25519:")?)
        .ok()?
        .try_into()
        .ok()?;
    Some(Signature::from_bytes(&bytes))
}

impl Manifest {
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
