//! Compiled components on disk, so a restart (or a second `railyard check`)
//! does not pay for Cranelift again.
//!
//! Entries are keyed by the component's SHA-256 digest and a digest of the
//! engine's compatibility hash (wasmtime version, target, every setting that
//! changes generated code), so a changed plugin or a changed engine misses
//! instead of loading stale code.
//!
//! Loading a compiled artifact runs native code without verification, so
//! each entry carries a SHA-256 of its own bytes, checked before use: a
//! torn write or a flipped bit is a miss (and the entry is rewritten), never
//! undefined behaviour. The cache folder must be writable only by the user
//! railyard runs as — anyone who can write there can run code in the host.

use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::RailyardEngine;

/// What the cache did for one load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from disk; nothing compiled.
    Hit,
    /// Compiled and written to disk.
    Miss,
    /// An entry existed but failed its checksum or did not load; recompiled.
    Corrupt,
    /// No cache configured; compiled in memory.
    Disabled,
}

/// A folder of compiled components.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    engine_key: String,
}

/// Feeds `Hash` output into SHA-256 so the key is stable across processes
/// (std's hashers are not guaranteed to be).
pub(super) struct Sha256Hasher(pub(super) Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        0
    }
}

impl CompileCache {
    /// A cache in `dir` for components compiled by `engine`. The folder is
    /// created on first write.
    pub fn open(dir: PathBuf, engine: &Engine) -> Self {
        let engine_key = hex::encode(&super::compile::compatibility_digest(engine)[..8]);
        CompileCache { dir, engine_key }
    }

    /// The folder entries are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the entry for a component with `digest`.
    pub fn entry_path(&self, digest: &[u8; 32]) -> PathBuf {
        self.dir
            .join(format!("{}-{}.cwasm", hex::encode(digest), self.engine_key))
    }

    /// Loads the compiled form of `wasm` (whose SHA-256 is `digest`) into
    /// `engine`, or compiles it (on a short-lived compile engine,
    /// [`RailyardEngine::precompile_component`]) and stores it.
    pub fn load_or_compile(
        &self,
        engine: &RailyardEngine,
        wasm: &[u8],
        digest: &[u8; 32],
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let path = self.entry_path(digest);
        let mut outcome = CacheOutcome::Miss;
        if let Ok(stored) = std::fs::read(&path) {
            match verify(&stored) {
                Some(artifact) => {
                    // SAFETY: the artifact was produced by `precompile_component`
                    // on an engine with the same compatibility hash (it is in
                    // the file name) and its checksum matches what we wrote.
                    match unsafe { engine.deserialize(artifact) } {
                        Ok(component) => return Ok((component, CacheOutcome::Hit)),
                        Err(e) => {
                            tracing::warn!(path = %path.display(), error = %e, "compiled plugin in cache does not load; recompiling");
                            outcome = CacheOutcome::Corrupt;
                        }
                    }
                }
                None => {
                    tracing::warn!(path = %path.display(), "compiled plugin in cache fails its checksum; recompiling");
                    outcome = CacheOutcome::Corrupt;
                }
            }
        }

        let artifact = engine.precompile_component(wasm)?;
        // SAFETY: produced just now by a compile engine whose compatibility
        // hash equals `engine`'s (checked when `engine` was built).
        let component = unsafe { engine.deserialize(&artifact)? };
        if let Err(e) = self.store(&path, &artifact) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "could not write the compile cache; plugins will be recompiled on the next start");
        }
        Ok((component, outcome))
    }

    fn store(&self, path: &Path, artifact: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&Sha256::digest(artifact))?;
        file.write_all(artifact)?;
        file.sync_all()?;
        // Rename is atomic: a reader sees the old entry, no entry, or the
        // whole new one.
        std::fs::rename(&tmp, path)
    }
}

/// The artifact inside a stored entry, if its checksum holds.
fn verify(stored: &[u8]) -> Option<&[u8]> {
    if stored.len() < 32 {
        return None;
    }
    let (sum, artifact) = stored.split_at(32);
    (Sha256::digest(artifact).as_slice() == sum).then_some(artifact)
}
