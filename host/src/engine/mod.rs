//! The one wasmtime [`Engine`] of a railyard process that serves, and
//! every knob on it.
//!
//! All engine settings live here so their reasons sit next to them: the
//! pooling allocator and copy-on-write memory images (fast fresh instances,
//! one per payload per plugin), epoch interruption (wall-clock deadlines),
//! the on-disk compile cache (a restart does not recompile plugins), and
//! the short-lived engines that compile (`compile`: the serving engine
//! never compiles, so it does not keep Cranelift's scratch).

mod cache;
mod compile;
mod limits;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::{Config, Engine, EngineWeak, InstanceAllocationStrategy, PoolingAllocationConfig};

pub use cache::{CacheOutcome, CompileCache};
pub(crate) use limits::MemoryLimiter;

/// How often the epoch advances. Plugin deadlines are counted in these
/// ticks, so a timeout is honoured to within one tick. One millisecond keeps
/// that error small against the tens of milliseconds a plugin is given, and
/// a thread waking 1,000 times a second costs nothing measurable.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Settings for the process-wide engine. [`EngineSettings::default`] reads
/// the `RAILYARD_*` environment variables documented on each field.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Component instances that may be alive at once across all plugins
    /// (`RAILYARD_POOL_INSTANCES`, default 512). Each evaluation holds one
    /// per plugin for the duration of its call, so this bounds concurrency
    /// times plugins per stage; beyond it instantiation fails and the
    /// plugin's failure mode applies.
    pub pool_instances: u32,
    /// Upper bound on any plugin's linear memory (`RAILYARD_MAX_PLUGIN_MEMORY_MIB`,
    /// default 512 MiB). A policy may give a plugin less, never more.
    pub max_plugin_memory: u64,
    /// Where compiled components are cached (`RAILYARD_CACHE_DIR`, default
    /// `$XDG_CACHE_HOME/railyard` or `~/.cache/railyard`); `None` disables it
    /// (`RAILYARD_CACHE_DIR=off`).
    pub cache_dir: Option<PathBuf>,
    /// Bytes of each linear memory kept mapped between instances and reset
    /// in place (`RAILYARD_POOL_KEEP_RESIDENT_KIB`, default 2048).
    pub keep_resident: usize,
    /// Write `/tmp/perf-<pid>.map` naming every compiled guest function,
    /// so that `perf report` shows plugins' functions instead of bare
    /// addresses (`RAILYARD_WASM_PROFILER=perfmap`; off by default).
    pub perf_map: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        let env_u64 = |key: &str, default: u64| {
            std::env::var(key)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(default)
        };
        let cache_dir = match std::env::var_os("RAILYARD_CACHE_DIR") {
            Some(v) if v == "off" => None,
            Some(v) => Some(PathBuf::from(v)),
            None => default_cache_dir(),
        };
        EngineSettings {
            pool_instances: env_u64("RAILYARD_POOL_INSTANCES", 512).clamp(1, 1 << 20) as u32,
            max_plugin_memory: env_u64("RAILYARD_MAX_PLUGIN_MEMORY_MIB", 512).clamp(1, 4096) << 20,
            cache_dir,
            keep_resident: (env_u64("RAILYARD_POOL_KEEP_RESIDENT_KIB", 2048).min(1 << 20) << 10)
                as usize,
            perf_map: perf_map_requested(std::env::var("RAILYARD_WASM_PROFILER").ok().as_deref()),
        }
    }
}

/// Whether `RAILYARD_WASM_PROFILER` asks for wasmtime's perf map; any
/// value but `perfmap` (or none) is warned about and ignored.
fn perf_map_requested(value: Option<&str>) -> bool {
    match value.map(str::trim) {
        None | Some("") | Some("off") => false,
        Some("perfmap") => true,
        Some(other) => {
            tracing::warn!(
                value = other,
                "RAILYARD_WASM_PROFILER: only `perfmap` (or `off`) is known; profiling stays off"
            );
            false
        }
    }
}

/// Instances `railyard serve` budgets per call in flight when
/// `RAILYARD_POOL_INSTANCES` is not set: a stage's plugins run one at a
/// time (fanned out, `pipeline::fanout`, they hold at most one instance per
/// fan-out worker more, process-wide, and a call that finds the pool full
/// then runs again alone), but a streamed answer holds an instance of each stream scanner
/// per lane (each text of the answer: content, each tool call's
/// arguments) for its whole life, and a shadow policy doubles that.
pub const SERVE_INSTANCES_PER_CALL: u64 = 8;

/// The most component instances the serve sizing asks for: each one
/// reserves address space for its linear memories (two slots of 4 GiB and
/// a guard each), so 2,048 instances reserve about 16 TiB of the 128 TiB a
/// 64-bit Linux process has; 4,096 left too little for a second engine in
/// the same process. `RAILYARD_POOL_INSTANCES` may go past it.
pub const SERVE_MAX_POOL_INSTANCES: u64 = 2048;

/// The pool `railyard serve` sizes for `max_concurrency` calls at once.
pub fn serve_pool_instances(max_concurrency: usize) -> u32 {
    (max_concurrency as u64)
        .saturating_mul(SERVE_INSTANCES_PER_CALL)
        .clamp(512, SERVE_MAX_POOL_INSTANCES) as u32
}

impl EngineSettings {
    /// The settings for `railyard serve` with at most `max_concurrency`
    /// calls at once: as [`EngineSettings::default`], but unless
    /// `RAILYARD_POOL_INSTANCES` is set the pool is sized for the calls
    /// ([`serve_pool_instances`]). A fixed 512 let only ~255 guarded
    /// streams run at once on the default policy (two stream scanners per
    /// stream); the rest failed closed.
    pub fn for_serve(max_concurrency: usize) -> Self {
        let mut settings = EngineSettings::default();
        if std::env::var_os("RAILYARD_POOL_INSTANCES").is_none() {
            settings.pool_instances = serve_pool_instances(max_concurrency);
        }
        settings
    }
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("railyard"))
}

/// The process-wide wasmtime engine with its epoch ticker and compile cache.
///
/// Clone it freely: clones share the engine, the ticker and the cache.
#[derive(Clone)]
pub struct RailyardEngine {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    /// `engine`'s configuration without the pooling allocator: what the
    /// short-lived compile engines are built from (`compile`).
    compile_config: Config,
    /// The last compile engine, to show it is gone once a compile returns.
    last_compile_engine: Mutex<Option<EngineWeak>>,
    cache: Option<CompileCache>,
    max_plugin_memory: u64,
    pool_instances: u32,
    metered: bool,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl RailyardEngine {
    /// Builds the engine and starts its epoch ticker.
    pub fn new(settings: EngineSettings) -> wasmtime::Result<Self> {
        Self::build(settings, false)
    }

    /// An engine that counts fuel (executed WebAssembly operations), for the
    /// conformance harness only.
    ///
    /// Fuel makes a budget repeatable: the same plugin on the same input
    /// burns the same fuel on any machine under any load, where a wall-clock
    /// deadline depends on both. It costs every compiled function a counter
    /// update, and changes generated code, so it is never enabled on the
    /// engine that serves traffic (which keeps epoch deadlines) — the
    /// harness compiles the plugin under test a second time on this engine
    /// (the compile cache keys the two apart by engine configuration).
    /// Every store of a metered engine must be given fuel before it runs:
    /// `LoadedPlugin` does that from the budget passed to its call.
    pub fn metered(settings: EngineSettings) -> wasmtime::Result<Self> {
        Self::build(settings, true)
    }

    fn build(settings: EngineSettings, metered: bool) -> wasmtime::Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        // A Rust or C component has a handful of core instances, memories
        // and tables (the module plus shims); interpreted-language
        // components (Python, JS) have a few more. Sizing the totals as
        // multiples of the component count keeps every kind instantiable
        // without reserving address space for worst cases nobody runs.
        let n = settings.pool_instances;
        pool.total_component_instances(n)
            .total_core_instances(n.saturating_mul(8))
            .total_memories(n.saturating_mul(2))
            .total_tables(n.saturating_mul(4))
            .max_memory_size(settings.max_plugin_memory as usize)
            // A fresh instance per call must not pay for page faults: in a
            // VM each fault costs microseconds, and a Rust plugin touches
            // dozens of pages (its 1 MiB stack sits below its data). With
            // PAGEMAP_SCAN (Linux 6.7+; `Auto` falls back elsewhere) the
            // pool resets only the pages a call dirtied, with memset, and
            // keeps them mapped for the next instance; without it the same
            // setting memsets the low addresses. 2 MiB covers the stack,
            // data and heap of a typical call (`RAILYARD_POOL_KEEP_RESIDENT_KIB`).
            .pagemap_scan(wasmtime::Enabled::Auto)
            .linear_memory_keep_resident(settings.keep_resident)
            .table_keep_resident(64 << 10);

        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            // Initial memory comes from the compiled image, mapped
            // copy-on-write: instantiation does not copy data segments.
            .memory_init_cow(true)
            .epoch_interruption(true)
            .consume_fuel(metered)
            .cranelift_opt_level(wasmtime::OptLevel::Speed);
        if settings.perf_map {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }

        let compile_config = compile::compile_config(&config);
        let engine = Engine::new(&config)?;
        compile::check_compatible(&engine, &compile_config)?;
        let cache = settings
            .cache_dir
            .map(|dir| CompileCache::open(dir, &engine));

        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(engine.clone(), ticker_stop.clone());

        Ok(RailyardEngine {
            inner: Arc::new(Inner {
                engine,
                compile_config,
                last_compile_engine: Mutex::new(None),
                cache,
                max_plugin_memory: settings.max_plugin_memory,
                pool_instances: settings.pool_instances,
                metered,
                ticker_stop,
            }),
        })
    }

    /// The wasmtime engine.
    pub fn wasmtime(&self) -> &Engine {
        &self.inner.engine
    }

    /// The compile cache, when enabled.
    pub fn cache(&self) -> Option<&CompileCache> {
        self.inner.cache.as_ref()
    }

    /// Compiles `wasm` (a component, binary or WAT) to an artifact that
    /// [`RailyardEngine::deserialize`] loads, on a compile engine built for
    /// this call and dropped before it returns, so Cranelift's scratch
    /// (which an engine keeps for reuse, ~16 MiB after compiling the
    /// default policy) is freed instead of held by the serving engine for
    /// the life of the process (BENCHMARKS.md, issue 19). The freed pages
    /// are then handed back to the system (`malloc_trim`), or glibc keeps
    /// them resident in its arenas.
    pub fn precompile_component(&self, wasm: &[u8]) -> wasmtime::Result<Vec<u8>> {
        let artifact = {
            let compiler = Engine::new(&self.inner.compile_config)?;
            *self
                .inner
                .last_compile_engine
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(compiler.weak());
            compiler.precompile_component(wasm)
        };
        // The compiler and its contexts are freed: give their pages back to
        // the system, or glibc keeps them in its arenas (resident, unused).
        crate::heap::release_free();
        artifact
    }

    /// Loads an artifact made by [`RailyardEngine::precompile_component`]
    /// (or read back from the compile cache) into the serving engine.
    ///
    /// # Safety
    ///
    /// As [`Component::deserialize`]: `artifact` must come from
    /// `precompile_component` of an engine with this engine's compatibility
    /// hash, unaltered. (wasmtime checks the hash, the version and the
    /// settings itself and refuses a mismatch with an error; what it cannot
    /// check is that the code is what the compiler wrote.)
    pub unsafe fn deserialize(&self, artifact: &[u8]) -> wasmtime::Result<Component> {
        // SAFETY: passed on to the caller.
        unsafe { Component::deserialize(&self.inner.engine, artifact) }
    }

    /// Compiles `wasm` on a short-lived compile engine and loads it into
    /// this one (no compile cache).
    pub fn compile(&self, wasm: &[u8]) -> wasmtime::Result<Component> {
        let artifact = self.precompile_component(wasm)?;
        // SAFETY: compiled just now by an engine whose compatibility hash
        // equals this engine's (`compile::check_compatible` at build).
        unsafe { self.deserialize(&artifact) }
    }

    /// Whether the engine of the last compile is still alive. It is not
    /// once [`RailyardEngine::precompile_component`] has returned: nothing
    /// keeps it (a test holds the host to that).
    pub fn last_compile_engine_alive(&self) -> bool {
        self.inner
            .last_compile_engine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|weak| weak.upgrade().is_some())
    }

    /// Whether an engine has compiled since this one was built.
    pub fn has_compiled(&self) -> bool {
        self.inner
            .last_compile_engine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// The largest memory any plugin may be given.
    pub fn max_plugin_memory(&self) -> u64 {
        self.inner.max_plugin_memory
    }

    /// Component instances the pool holds at most.
    pub fn pool_instances(&self) -> u32 {
        self.inner.pool_instances
    }

    /// Whether this engine counts fuel (see [`RailyardEngine::metered`]).
    pub fn is_metered(&self) -> bool {
        self.inner.metered
    }

    /// Epoch ticks that cover `timeout`, rounded up, at least one.
    pub fn ticks_for(timeout: Duration) -> u64 {
        let tick = EPOCH_TICK.as_nanos().max(1);
        (timeout.as_nanos().div_ceil(tick) as u64).max(1)
    }
}

fn spawn_epoch_ticker(engine: Engine, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("railyard-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .expect("spawn the epoch ticker thread");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_sizes_the_pool_for_its_calls_within_bounds() {
        assert_eq!(serve_pool_instances(1), 512);
        assert_eq!(serve_pool_instances(100), 800);
        assert_eq!(serve_pool_instances(256), 2048);
        assert_eq!(serve_pool_instances(512), 2048);
        assert_eq!(serve_pool_instances(1_000_000), 2048);
    }

    /// The largest pool the serve sizing asks for can be reserved (its
    /// memories' address space is the limit).
    #[test]
    fn the_largest_serve_pool_builds() {
        let settings = EngineSettings {
            pool_instances: SERVE_MAX_POOL_INSTANCES as u32,
            cache_dir: None,
            ..EngineSettings::default()
        };
        RailyardEngine::new(settings).expect("engine with the largest serve pool");
    }

    #[test]
    fn the_profiler_setting_takes_perfmap_or_nothing() {
        assert!(perf_map_requested(Some("perfmap")));
        assert!(perf_map_requested(Some(" perfmap\n")));
        for off in [None, Some(""), Some("off"), Some("jitdump"), Some("yes")] {
            assert!(!perf_map_requested(off), "{off:?}");
        }
    }

    /// With the perf map on, compiling a component names its functions in
    /// `/tmp/perf-<pid>.map`, where `perf report` looks for them.
    #[test]
    fn the_perf_map_names_compiled_guest_functions() {
        let map = PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()));
        let engine = RailyardEngine::new(EngineSettings {
            pool_instances: 4,
            cache_dir: None,
            perf_map: true,
            ..EngineSettings::default()
        })
        .expect("engine with the perf map");
        wasmtime::component::Component::new(
            engine.wasmtime(),
            r#"(component (core module (func $railyard_probe (export "probe") (result i32) i32.const 7)))"#,
        )
        .expect("component compiles");
        let text = std::fs::read_to_string(&map).unwrap_or_default();
        let _ = std::fs::remove_file(&map);
        assert!(
            text.lines().any(|l| l.contains("railyard_probe")),
            "no line names the guest function in {}: {text:?}",
            map.display()
        );
    }
}
