//! Plugins: loading a component, checking what it is and what it imports,
//! and calling it under bounds.
//!
//! Loading does the expensive, fallible work once: digest, compile (through
//! the cache), world detection, import check, link (`InstancePre`), and one
//! `info()` call. A call then only creates a store and a fresh instance from
//! the pre-linked component, so nothing a payload contains can outlive it.

mod bindings;
pub mod builtin;
mod call;
pub mod capability;
mod limits;
pub mod manifest;
pub mod registry;
mod scan;
mod state;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::Store;
use wasmtime::component::Linker;

use crate::engine::{CacheOutcome, RailyardEngine};
use crate::payload::Stage;

pub use call::{CallCost, CallFault, CallOutput, InstancePool, StageInput};
pub use capability::{Capability, Grants};
pub use limits::PluginLimits;
pub use scan::{ScanProgress, ScanSession};
pub(crate) use state::PluginState;

/// Which world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    /// `check(payload) -> verdict`.
    Guardrail,
    /// `detect(payload) -> findings`; the host redacts.
    PiiDetector,
    /// `route(payload, findings) -> judge requests`.
    JudgeRouter,
}

impl PluginKind {
    /// The world's name.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Guardrail => "guardrail",
            PluginKind::PiiDetector => "pii-detector",
            PluginKind::JudgeRouter => "judge-router",
        }
    }

    /// Parses a world name.
    pub fn parse(s: &str) -> Option<PluginKind> {
        match s {
            "guardrail" => Some(PluginKind::Guardrail),
            "pii-detector" => Some(PluginKind::PiiDetector),
            "judge-router" => Some(PluginKind::JudgeRouter),
            _ => None,
        }
    }

    /// The export that tells this world apart from the others.
    fn entry_export(self) -> &'static str {
        match self {
            PluginKind::Guardrail => "check",
            PluginKind::PiiDetector => "detect",
            PluginKind::JudgeRouter => "route",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SHA-256 of a component's bytes: the identity recorded with every
/// decision the component makes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PluginDigest(pub [u8; 32]);

impl PluginDigest {
    /// Digest of `wasm`.
    pub fn of(wasm: &[u8]) -> Self {
        PluginDigest(Sha256::digest(wasm).into())
    }
}

impl fmt::Display for PluginDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for PluginDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for PluginDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a plugin says about itself, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginInfo {
    /// The plugin's own name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The stages it declares it handles.
    pub stages: Vec<Stage>,
}

/// Why a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not a component at all (e.g. a core module).
    #[error(
        "{plugin}: not a WebAssembly component ({detail}); build it as a component (e.g. `cargo build --target wasm32-wasip2`, or `wasm-tools component new`)"
    )]
    NotAComponent {
        /// The plugin.
        plugin: String,
        /// What was found.
        detail: String,
    },
    /// Cranelift refused it, or it is malformed.
    #[error("{plugin}: does not compile: {detail}")]
    Compile {
        /// The plugin.
        plugin: String,
        /// The compiler's message.
        detail: String,
    },
    /// It exports none, or more than one, of the railyard worlds.
    #[error(
        "{plugin}: implements no railyard world (exports: {exports}); expected `check` (guardrail), `detect` (pii-detector) or `route` (judge-router) from railyard:plugin@0.1.0"
    )]
    UnknownWorld {
        /// The plugin.
        plugin: String,
        /// What it does export.
        exports: String,
    },
    /// The policy expected another kind.
    #[error("{plugin}: is a {found} but the policy says kind = \"{expected}\"")]
    WrongKind {
        /// The plugin.
        plugin: String,
        /// What the policy said.
        expected: PluginKind,
        /// What the component is.
        found: PluginKind,
    },
    /// It imports something it was not granted.
    #[error(
        "{plugin}: imports `{}`, which is not granted: {reason}{}{}",
        imports[0],
        if imports.len() > 1 { format!(" (also not granted: {})", imports[1..].join(", ")) } else { String::new() },
        capability::needs_note(imports)
    )]
    ForbiddenImport {
        /// The plugin.
        plugin: String,
        /// Every refused import; the first is one no capability grants,
        /// if there is one, and `reason` is about it.
        imports: Vec<String>,
        /// Which capability would grant the first, if any.
        reason: capability::Denial,
    },
    /// Its imports or exports do not type-check against the WIT world.
    #[error("{plugin}: does not match the {kind} world of railyard:plugin@0.1.0: {detail}")]
    Link {
        /// The plugin.
        plugin: String,
        /// Its kind.
        kind: PluginKind,
        /// wasmtime's message.
        detail: String,
    },
    /// `info()` failed or returned nonsense.
    #[error("{plugin}: info() {detail}")]
    Info {
        /// The plugin.
        plugin: String,
        /// What went wrong.
        detail: String,
    },
    /// The file could not be read.
    #[error("{plugin}: cannot read {path}: {error}")]
    Read {
        /// The plugin.
        plugin: String,
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

/// A loaded, linked plugin, ready to be called any number of times.
pub struct LoadedPlugin {
    /// What the plugin says about itself.
    pub info: PluginInfo,
    /// Its world.
    pub kind: PluginKind,
    /// SHA-256 of its component bytes.
    pub digest: PluginDigest,
    /// Whether compiling it hit the cache.
    pub cache: CacheOutcome,
    /// What it was linked against.
    pub grants: Grants,
    pre: call::KindPre,
    /// The `scanning` export, when the plugin scans streams.
    scanner: Option<scan::ScannerPre>,
    engine: RailyardEngine,
    /// Stores created for this plugin: one per fresh instance (a call, a
    /// pool miss, a stream's scanner). A call refused before it could run
    /// (input too large, disabled) creates none.
    stores: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("info", &self.info)
            .field("kind", &self.kind)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

/// Loads plugins against one engine, with one linker per grant set.
#[derive(Clone)]
pub struct PluginLoader {
    engine: RailyardEngine,
    linkers: Arc<Mutex<HashMap<Grants, Arc<Linker<PluginState>>>>>,
}

impl PluginLoader {
    /// A loader for `engine`.
    pub fn new(engine: RailyardEngine) -> wasmtime::Result<Self> {
        let loader = PluginLoader {
            engine,
            linkers: Arc::default(),
        };
        // Build the common linker now, so a linker bug shows at start-up.
        loader.linker(&Grants::policy_plugin())?;
        Ok(loader)
    }

    /// The linker for `grants`, built on first use.
    fn linker(&self, grants: &Grants) -> wasmtime::Result<Arc<Linker<PluginState>>> {
        let mut linkers = self.linkers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = linkers.get(grants) {
            return Ok(l.clone());
        }
        let linker = Arc::new(state::linker(self.engine.wasmtime(), grants)?);
        linkers.insert(grants.clone(), linker.clone());
        Ok(linker)
    }

    /// The engine plugins are loaded into.
    pub fn engine(&self) -> &RailyardEngine {
        &self.engine
    }

    /// Loads a component file.
    pub fn load_file(
        &self,
        label: &str,
        path: &std::path::Path,
    ) -> Result<LoadedPlugin, LoadError> {
        let wasm = std::fs::read(path).map_err(|source| LoadError::Read {
            plugin: label.to_string(),
            path: path.display().to_string(),
            error: source,
        })?;
        self.load(label, &wasm)
    }

    /// Loads a component from bytes (binary, or WAT text). `label` names it
    /// in errors (the policy's plugin name, or the file). It is linked with
    /// the grants of a plugin named by a policy ([`Grants::policy_plugin`]).
    pub fn load(&self, label: &str, wasm: &[u8]) -> Result<LoadedPlugin, LoadError> {
        self.load_granted(label, wasm, &Grants::policy_plugin())
    }

    /// Loads a component linked with exactly `grants`: an import they do not
    /// cover is refused, naming the import.
    pub fn load_granted(
        &self,
        label: &str,
        wasm: &[u8],
        grants: &Grants,
    ) -> Result<LoadedPlugin, LoadError> {
        let plugin = label.to_string();
        // A core module starts with version 1; a component with 0x0d and
        // layer 1. Say which it is instead of a parser error.
        if wasm.len() >= 8 && wasm.starts_with(b"\0asm") && wasm[4..8] == [1, 0, 0, 0] {
            return Err(LoadError::NotAComponent {
                plugin,
                detail: "found a core WebAssembly module".into(),
            });
        }
        let digest = PluginDigest::of(wasm);
        let engine = self.engine.wasmtime();
        let compiled = match self.engine.cache() {
            Some(cache) => cache.load_or_compile(&self.engine, wasm, &digest.0),
            None => self
                .engine
                .compile(wasm)
                .map(|c| (c, CacheOutcome::Disabled)),
        };
        let (component, cache) = compiled.map_err(|e| {
            let detail = format!("{e:#}");
            if detail.contains("expected a WebAssembly component")
                || detail.contains("with a component parser")
                || detail.contains("unknown binary version")
            {
                LoadError::NotAComponent {
                    plugin: plugin.clone(),
                    detail,
                }
            } else {
                LoadError::Compile {
                    plugin: plugin.clone(),
                    detail,
                }
            }
        })?;

        let ty = component.component_type();
        let exports: Vec<String> = ty
            .exports(engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let kinds: Vec<PluginKind> = [
            PluginKind::Guardrail,
            PluginKind::PiiDetector,
            PluginKind::JudgeRouter,
        ]
        .into_iter()
        .filter(|k| exports.iter().any(|e| e == k.entry_export()))
        .collect();
        let kind = match kinds.as_slice() {
            [k] => *k,
            _ => {
                return Err(LoadError::UnknownWorld {
                    plugin,
                    exports: if exports.is_empty() {
                        "none".into()
                    } else {
                        exports.join(", ")
                    },
                });
            }
        };

        // Every refused import is named; the one no capability could grant
        // (sockets, HTTP, …) leads, since granting capabilities will not fix it.
        let mut denied: Vec<(String, capability::Denial)> = ty
            .imports(engine)
            .filter_map(|(import, _)| grants.check(import).err().map(|d| (import.to_string(), d)))
            .collect();
        // Among the grantable, the capability that explains the others
        // leads: a plugin reading a file imports wasi:filesystem, which
        // pulls in wasi:clocks; "needs clocks" would mislead.
        denied.sort_by_key(|(_, d)| match d {
            capability::Denial::Never => 0,
            capability::Denial::NotGranted(cap) => 1 + capability::rank(cap),
        });
        if !denied.is_empty() {
            let reason = denied[0].1.clone();
            return Err(LoadError::ForbiddenImport {
                plugin,
                imports: denied.into_iter().map(|(i, _)| i).collect(),
                reason,
            });
        }

        let linker = self.linker(grants).map_err(|e| LoadError::Link {
            plugin: plugin.clone(),
            kind,
            detail: format!("cannot build the linker for its grants: {e:#}"),
        })?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link {
                plugin: plugin.clone(),
                kind,
                detail: format!("{e:#}"),
            })?;
        let scanner = if kind != PluginKind::JudgeRouter
            && exports.iter().any(|e| e == scan::SCANNING_EXPORT)
        {
            let link = |e: wasmtime::Error| LoadError::Link {
                plugin: plugin.clone(),
                kind,
                detail: format!("its {} export: {e:#}", scan::SCANNING_EXPORT),
            };
            let indices = bindings::scanning::GuestIndices::new(&instance_pre).map_err(link)?;
            Some(scan::ScannerPre {
                pre: instance_pre.clone(),
                indices,
            })
        } else {
            None
        };
        let pre = call::KindPre::new(kind, instance_pre).map_err(|e| LoadError::Link {
            plugin: plugin.clone(),
            kind,
            detail: format!("{e:#}"),
        })?;
        let info = call::call_info(&self.engine, &pre, &plugin)?;
        if let Some(sp) = &scanner {
            // Type-check the scanning export now, not on the first stream.
            scan::check_types(&self.engine, sp).map_err(|e| LoadError::Link {
                plugin: plugin.clone(),
                kind,
                detail: format!("its {} export: {e:#}", scan::SCANNING_EXPORT),
            })?;
        }
        Ok(LoadedPlugin {
            info,
            kind,
            digest,
            cache,
            grants: grants.clone(),
            pre,
            scanner,
            engine: self.engine.clone(),
            stores: Default::default(),
        })
    }
}

impl LoadedPlugin {
    /// How many stores (each the home of one fresh instance) this plugin
    /// has been given so far.
    pub fn stores_created(&self) -> u64 {
        self.stores.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn new_store(
        &self,
        config: Arc<[(String, String)]>,
        memory_bytes: u64,
    ) -> Store<PluginState> {
        self.stores
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.uncounted_store(config, memory_bytes)
    }

    /// A store as [`LoadedPlugin::new_store`] makes, not counted (the
    /// host's own config probe).
    fn uncounted_store(
        &self,
        config: Arc<[(String, String)]>,
        memory_bytes: u64,
    ) -> Store<PluginState> {
        let state = PluginState::new(Arc::from(self.info.name.as_str()), config, memory_bytes)
            .with_read_only_dir(self.grants.read_only_dir.clone());
        let mut store = Store::new(self.engine.wasmtime(), state);
        store.limiter(|s| &mut s.limiter);
        if self.engine.is_metered() {
            // A metered store starts empty; `call_metered` sets the budget.
            let _ = store.set_fuel(u64::MAX);
        }
        store
    }
}
