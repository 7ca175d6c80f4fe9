//! The ed25519 key that signs chain heads, and the public keys `verify`
//! trusts.
//!
//! Signing key: `RAILYARD_AUDIT_SIGNING_KEY` (64 hex digits, the 32-byte
//! seed) or `RAILYARD_AUDIT_SIGNING_KEY_FILE` (a file holding the same hex,
//! as `railyard log keygen` writes it). Key id: `ed25519:` and the first
//! 16 hex digits of the SHA-256 of the public key.

use std::collections::HashMap;
use std::sync::OnceLock;

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// A loaded signing key.
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    id: String,
}

impl Signer {
    /// From a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(&key.verifying_key());
        Signer { key, id }
    }

    /// From 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Signer, String> {
        let bytes = hex::decode(text.trim())
            .map_err(|e| format!("the audit signing key is not hex: {e}"))?;
        let seed: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "the audit signing key must be 32 bytes (64 hex digits), not {}",
                b.len()
            )
        })?;
        Ok(Signer::from_seed(seed))
    }

    /// The key id recorded beside each signature.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The public key, hex.
    pub fn public_hex(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }

    /// (key id, hex signature) of a hex entry hash.
    pub fn sign_hash(&self, hash_hex: &str) -> (String, String) {
        let bytes = hex::decode(hash_hex).unwrap_or_else(|_| hash_hex.as_bytes().to_vec());
        (
            self.id.clone(),
            hex::encode(self.key.sign(&bytes).to_bytes()),
        )
    }

    /// Signs arbitrary bytes (an evidence manifest).
    pub fn sign_bytes(&self, bytes: &[u8]) -> String {
        hex::encode(self.key.sign(bytes).to_bytes())
    }
}

/// `ed25519:<first 16 hex digits of sha256(public key)>`.
pub fn key_id(key: &VerifyingKey) -> String {
    format!(
        "ed25519:{}",
        &hex::encode(Sha256::digest(key.as_bytes()))[..16]
    )
}

/// The signing key from the environment, read once per process.
pub fn signing_key_from_env() -> Result<Option<Signer>, String> {
    static KEY: OnceLock<Result<Option<Signer>, String>> = OnceLock::new();
    KEY.get_or_init(|| {
        if let Ok(hex) = std::env::var("RAILYARD_AUDIT_SIGNING_KEY")
            && !hex.trim().is_empty()
        {
            return Signer::from_hex(&hex)
                .map(Some)
                .map_err(|e| format!("RAILYARD_AUDIT_SIGNING_KEY: {e}"));
        }
        if let Ok(path) = std::env::var("RAILYARD_AUDIT_SIGNING_KEY_FILE")
            && !path.trim().is_empty()
        {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("RAILYARD_AUDIT_SIGNING_KEY_FILE {path}: {e}"))?;
            return Signer::from_hex(&text)
                .map(Some)
                .map_err(|e| format!("RAILYARD_AUDIT_SIGNING_KEY_FILE {path}: {e}"));
        }
        Ok(None)
    })
    .clone()
}

/// Public keys trusted by `verify`, by key id.
#[derive(Debug, Clone, Default)]
pub struct VerifyingKeys {
    keys: HashMap<String, VerifyingKey>,
}

impl VerifyingKeys {
    /// Adds a public key given as 64 hex digits, or a file holding them.
    pub fn add(&mut self, spec: &str) -> Result<(), String> {
        let text = if std::path::Path::new(spec).is_file() {
            std::fs::read_to_string(spec).map_err(|e| format!("{spec}: {e}"))?
        } else {
            spec.to_string()
        };
        let bytes =
            hex::decode(text.trim()).map_err(|e| format!("public key {spec:?}: not hex ({e})"))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("public key {spec:?}: must be 32 bytes (64 hex digits)"))?;
        let key =
            VerifyingKey::from_bytes(&bytes).map_err(|e| format!("public key {spec:?}: {e}"))?;
        self.keys.insert(key_id(&key), key);
        Ok(())
    }

    /// Adds the public half of a signing key.
    pub fn add_signer(&mut self, signer: &Signer) {
        let key = signer.key.verifying_key();
        self.keys.insert(key_id(&key), key);
    }

    /// Whether no key is trusted (signatures cannot be checked).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The trusted key ids.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<_> = self.keys.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// `Ok` if `sig_hex` is a valid signature of `message` by the key `id`.
    pub fn check(&self, id: &str, message: &[u8], sig_hex: &str) -> Result<(), SigError> {
        let key = self.keys.get(id).ok_or(SigError::UnknownKey)?;
        let sig = hex::decode(sig_hex)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| Signature::from_bytes(&b))
            .ok_or(SigError::Invalid)?;
        key.verify(message, &sig).map_err(|_| SigError::Invalid)
    }

    /// Checks a signature over a hex entry hash.
    pub fn check_hash(&self, id: &str, hash_hex: &str, sig_hex: &str) -> Result<(), SigError> {
        let bytes = hex::decode(hash_hex).map_err(|_| SigError::Invalid)?;
        self.check(id, &bytes, sig_hex)
    }
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigError {
    /// The key id is not among the trusted keys.
    UnknownKey,
    /// The signature does not verify.
    Invalid,
}
