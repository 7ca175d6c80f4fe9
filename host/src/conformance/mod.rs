//! The conformance harness: does a plugin honour the contract?
//!
//! `railyard conformance PLUGIN.wasm` loads the component on a metered
//! engine (fuel counts executed operations, so a budget fails the same way
//! on every machine) and runs every applicable vector (`vectors`) at every
//! stage the plugin declares. Checks, each reported on its own:
//!
//! - `load`: the component compiles and instantiates against the world it
//!   exports (and the one `--kind` names), importing nothing ungranted;
//! - `info`: a usable name, a semantic version, at least one stage;
//! - `manifest`: when `PLUGIN.toml` sits beside it, the manifest matches
//!   (digest, kind, name, version, stages);
//! - `contract`: per vector and stage, no trap, timeout, error or output
//!   that breaks the contract (spans inside their message on UTF-8
//!   boundaries, scores in 0..1), within the fuel and memory budgets;
//! - `determinism`: the same input in a fresh instance gives the same output;
//! - `redaction`: redacting what the plugin found and running it again
//!   changes nothing more (redaction is idempotent);
//! - `golden`: the vector's expected properties (a PII detector finds the
//!   obvious email, a guardrail does not block the benign set…);
//! - `stream`: for a plugin that exports the `scanning` interface, per
//!   vector, its scanner on the vector's longest message split many ways
//!   agrees with the whole-text answer and keeps its settled promise
//!   (`stream` module).
//!
//! The hot-reload path runs [`smoke_test`]: the `smoke` vectors for the
//! plugin's kind, on the serving engine, before a new version goes live.
//!
//! Which vectors: `--vectors PATH` (a file or folder) replaces them all;
//! otherwise the built-in ones, fitted to the categories the plugin's
//! manifest says it `finds`, plus the manifest's own `vectors`
//! ([`vectors::for_manifest`]).

mod report;
mod stream;
mod vector_run;
use vector_run::{VectorRun, findings_of, summarize};
pub mod vectors;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::engine::{EngineSettings, RailyardEngine};
use crate::payload::Stage;
use crate::plugin::manifest::Manifest;
use crate::plugin::{
    CallFault, Grants, LoadedPlugin, PluginDigest, PluginInfo, PluginKind, PluginLoader, StageInput,
};
use crate::policy::{PluginLimits, RedactionOperator, RedactionPolicy};

pub use report::Format;
pub use vectors::Vector;

/// Fuel every call may burn regardless of input: instantiation and a
/// language runtime's start-up fit many times over.
pub const FUEL_BASE: u64 = 20_000_000;
/// Fuel per byte of input on top of [`FUEL_BASE`]: a few passes of
/// pattern matching over the text, with room to spare. A plugin that needs
/// more is doing super-linear work on its input.
pub const FUEL_PER_BYTE: u64 = 1_000;
/// Default memory budget: the policy default for a plugin instance.
pub const DEFAULT_MEMORY_MIB: u64 = 64;
/// Wall-clock safety net per call; fuel is the real budget.
const WALL_CLOCK_LIMIT: Duration = Duration::from_secs(60);
/// Deadline of a smoke-test call: it checks the contract, not latency, and
/// must not refuse a good plugin because the machine is busy.
const SMOKE_TIMEOUT: Duration = Duration::from_secs(5);

/// How to run the harness.
#[derive(Debug, Clone)]
pub struct Options {
    /// The world the plugin must implement; default: the one it exports.
    pub kind: Option<PluginKind>,
    /// A folder of vector files instead of the embedded ones.
    pub vectors: Option<PathBuf>,
    /// The plugin's config (what a policy's `[plugins.X.config]` gives).
    pub config: Vec<(String, String)>,
    /// A fixed fuel budget per call, instead of
    /// `FUEL_BASE + FUEL_PER_BYTE × input bytes`.
    pub fuel: Option<u64>,
    /// Memory budget per instance, in MiB.
    pub memory_mib: u64,
    /// Compile cache folder (`None`: compile in memory).
    pub cache_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kind: None,
            vectors: None,
            config: Vec::new(),
            fuel: None,
            memory_mib: DEFAULT_MEMORY_MIB,
            cache_dir: EngineSettings::default().cache_dir,
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The check: `load`, `info`, `manifest`, `contract`, `determinism`,
    /// `redaction`, `golden`, `stream`.
    pub check: &'static str,
    /// What it ran on: `file.json#vector@stage`, or the plugin.
    pub case: String,
    /// Whether it passed.
    pub passed: bool,
    /// What failed and what to do, or a short note when it passed.
    pub message: String,
    /// Fuel burnt by the call, when one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// Peak linear memory of the call, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_memory: Option<u64>,
    /// Wall time of the check, in milliseconds.
    pub time_ms: f64,
}

/// Everything the harness found about one plugin.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The component file.
    pub plugin: String,
    /// Its digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<PluginDigest>,
    /// Its world, when it loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<PluginKind>,
    /// What it says about itself, when it loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<PluginInfo>,
    /// Memory budget per instance, in bytes.
    pub memory_budget: u64,
    /// Every check, in the order run.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        report::render(self, format)
    }
}

/// Runs the harness on the component at `path`. `Err` is a harness problem
/// (unreadable file or vectors); everything about the plugin is in the
/// report.
pub fn run(path: &Path, opts: &Options) -> Result<Report, String> {
    let wasm = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let manifest_path = path.with_extension("toml");
    let manifest = manifest_path.is_file().then_some(manifest_path);
    run_bytes(
        &path.display().to_string(),
        &wasm,
        manifest.as_deref(),
        opts,
    )
}

/// Runs the harness on component bytes; `manifest` is checked when given.
pub fn run_bytes(
    label: &str,
    wasm: &[u8],
    manifest: Option<&Path>,
    opts: &Options,
) -> Result<Report, String> {
    // A manifest's capabilities are what the plugin will be granted in a
    // plugins folder; without one, what a policy-named plugin gets. Its
    // `finds` and `vectors` choose the vectors.
    let parsed_manifest = manifest.map(Manifest::from_file);
    let vectors = match &opts.vectors {
        Some(dir) => vectors::from_path(dir)?,
        None => vectors::for_manifest(parsed_manifest.as_ref().and_then(|m| m.as_ref().ok()))?,
    };
    let memory_budget = opts.memory_mib.clamp(1, 4096) << 20;
    let mut report = Report {
        plugin: label.to_string(),
        digest: Some(PluginDigest::of(wasm)),
        kind: None,
        info: None,
        memory_budget,
        checks: Vec::new(),
    };

    let engine = RailyardEngine::metered(EngineSettings {
        pool_instances: 4,
        max_plugin_memory: memory_budget,
        cache_dir: opts.cache_dir.clone(),
        ..EngineSettings::default()
    })
    .map_err(|e| format!("cannot build the metered engine: {e:#}"))?;
    let loader =
        PluginLoader::new(engine).map_err(|e| format!("cannot build the linker: {e:#}"))?;

    let grants = match &parsed_manifest {
        Some(Ok(m)) => Grants::from_capabilities(&m.capabilities),
        _ => Grants::policy_plugin(),
    };

    let started = Instant::now();
    let plugin = match loader.load_granted(label, wasm, &grants) {
        Ok(p) => p,
        Err(e) => {
            report.checks.push(Check::fail(
                "load",
                label,
                format!("does not instantiate against a railyard world: {e}"),
                started,
            ));
            return Ok(report);
        }
    };
    report.kind = Some(plugin.kind);
    report.info = Some(plugin.info.clone());
    match opts.kind {
        Some(k) if k != plugin.kind => {
            report.checks.push(Check::fail(
                "load",
                label,
                format!(
                    "exports the {} world, but --kind {k} was asked for; build it against world `{k}` of railyard:plugin@0.1.0",
                    plugin.kind
                ),
                started,
            ));
            return Ok(report);
        }
        _ => {
            let cache = format!("{:?}", plugin.cache).to_lowercase();
            report.checks.push(Check::pass(
                "load",
                label,
                format!("instantiates as a {} (compile cache: {cache})", plugin.kind),
                started,
            ))
        }
    }
    report.checks.push(check_info(&plugin.info, label));
    if let (Some(path), Some(parsed)) = (manifest, parsed_manifest) {
        report
            .checks
            .push(check_manifest(path, parsed, &plugin, wasm));
    }

    let config: Arc<[(String, String)]> = Arc::from(opts.config.clone());
    let limits = PluginLimits {
        timeout: WALL_CLOCK_LIMIT,
        memory_bytes: memory_budget,
        max_input_bytes: usize::MAX,
    };
    let redaction = RedactionPolicy {
        operator: RedactionOperator::Tag,
        categories: Default::default(),
        mask_char: '*',
        hash_key: None,
    };
    for v in vectors.iter().filter(|v| v.applies_to(plugin.kind)) {
        for &stage in &plugin.info.stages {
            let run = VectorRun {
                plugin: &plugin,
                vector: v,
                stage,
                config: &config,
                limits: &limits,
                fuel: opts.fuel,
                redaction: &redaction,
            };
            run.checks(&mut report.checks);
        }
    }
    if plugin.scans_streams() {
        for v in vectors.iter().filter(|v| v.applies_to(plugin.kind)) {
            report
                .checks
                .extend(stream::check(&plugin, v, &config, &limits));
        }
    }
    Ok(report)
}

impl Check {
    fn pass(check: &'static str, case: &str, message: String, started: Instant) -> Check {
        Check {
            check,
            case: case.to_string(),
            passed: true,
            message,
            fuel: None,
            peak_memory: None,
            time_ms: started.elapsed().as_secs_f64() * 1e3,
        }
    }

    fn fail(check: &'static str, case: &str, message: String, started: Instant) -> Check {
        Check {
            passed: false,
            ..Check::pass(check, case, message, started)
        }
    }
}

fn check_info(info: &PluginInfo, label: &str) -> Check {
    let started = Instant::now();
    let mut problems = Vec::new();
    if !info
        .name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || info.name.len() > 64
    {
        problems.push(format!(
            "name {:?} should be 1 to 64 letters, digits, `-`, `_` or `.` (it names the plugin in decisions and manifests)",
            info.name
        ));
    }
    if !is_semver(&info.version) {
        problems.push(format!(
            "version {:?} is not a semantic version (MAJOR.MINOR.PATCH, e.g. \"0.1.0\")",
            info.version
        ));
    }
    if !info
        .stages
        .iter()
        .any(|s| matches!(s, Stage::Request | Stage::Response))
    {
        problems.push("declares no request or response stage, so no policy can run it".to_string());
    }
    if problems.is_empty() {
        Check::pass(
            "info",
            label,
            format!(
                "{} {} at [{}]",
                info.name,
                info.version,
                stage_list(&info.stages)
            ),
            started,
        )
    } else {
        Check::fail("info", label, problems.join("; "), started)
    }
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn stage_list(stages: &[Stage]) -> String {
    stages
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_manifest(
    path: &Path,
    parsed: Result<Manifest, crate::plugin::manifest::ManifestError>,
    plugin: &LoadedPlugin,
    wasm: &[u8],
) -> Check {
    let started = Instant::now();
    let case = path.display().to_string();
    let m = match parsed {
        Ok(m) => m,
        Err(e) => return Check::fail("manifest", &case, e.to_string(), started),
    };
    let mut problems = Vec::new();
    if let Err(e) = m.verify_digest(wasm) {
        problems.push(e.to_string());
    }
    if m.kind != plugin.kind {
        problems.push(format!(
            "kind = \"{}\" but the component is a {}",
            m.kind, plugin.kind
        ));
    }
    if m.name != plugin.info.name {
        problems.push(format!(
            "name = {:?} but info() says {:?}",
            m.name, plugin.info.name
        ));
    }
    if m.version != plugin.info.version {
        problems.push(format!(
            "version = {:?} but info() says {:?}",
            m.version, plugin.info.version
        ));
    }
    if let Some(s) = m.stages.iter().find(|s| !plugin.info.stages.contains(s)) {
        problems.push(format!("stages include {s}, which info() does not declare"));
    }
    if problems.is_empty() {
        Check::pass("manifest", &case, "matches the component".into(), started)
    } else {
        Check::fail("manifest", &case, problems.join("; "), started)
    }
}

/// Why a call failed, in words a plugin author can act on.
pub fn explain(fault: &CallFault, memory_budget: u64) -> String {
    match fault {
        CallFault::OutOfFuel { budget } => format!(
            "ran out of fuel: burnt more than its budget of {budget} WebAssembly operations ({FUEL_BASE} per call + {FUEL_PER_BYTE} per input byte) — an endless loop, or work that grows faster than the input. Fuel is counted, not timed, so this fails the same way on every machine"
        ),
        CallFault::TimedOut { timeout_ms } => {
            format!("did not finish within {timeout_ms} ms of wall-clock time")
        }
        CallFault::MemoryLimit(m) => format!(
            "tried to grow its memory past the budget of {} MiB ({m}); keep memory proportional to the input, or run with a larger --memory-mib if the plugin really needs it",
            memory_budget >> 20
        ),
        CallFault::Trapped(m) => format!(
            "trapped (a panic, abort, `unreachable` or out-of-bounds access) instead of answering: {m}"
        ),
        CallFault::PluginError(m) => format!(
            "returned an error on a well-formed payload: {m}; a plugin must answer every payload (allow, or no findings, when it has nothing to say)"
        ),
        CallFault::InvalidOutput(m) => format!(
            "returned output that breaks the contract: {m}; spans must name a message and lie inside it on UTF-8 character boundaries, scores must be in 0..1"
        ),
        CallFault::InputTooLarge { bytes, limit } => {
            format!("was not called: the payload is {bytes} bytes, over the {limit}-byte cap")
        }
        CallFault::PoolExhausted(m) => format!(
            "could not be instantiated because the host's instance pool is full ({m}); this is the host's capacity, not the plugin: rerun with fewer calls at once or a larger RAILYARD_POOL_INSTANCES"
        ),
    }
}

/// The hot-reload smoke test: the `smoke` vectors for `plugin`'s kind
/// (the built-in ones fitted to what its manifest says it finds, and the
/// manifest's own: [`vectors::for_manifest`]), at `stages`, on the serving
/// engine, with the plugin's memory and input caps and a generous
/// deadline. `Err` lists what failed.
pub fn smoke_test(
    plugin: &LoadedPlugin,
    manifest: Option<&Manifest>,
    config: &Arc<[(String, String)]>,
    limits: &PluginLimits,
    stages: &[Stage],
) -> Result<usize, String> {
    let vectors = vectors::for_manifest(manifest)?;
    let limits = PluginLimits {
        timeout: limits.timeout.max(SMOKE_TIMEOUT),
        ..*limits
    };
    let redaction = RedactionPolicy {
        operator: RedactionOperator::Tag,
        categories: Default::default(),
        mask_char: '*',
        hash_key: None,
    };
    let mut failures = Vec::new();
    let mut ran = 0;
    for v in vectors
        .iter()
        .filter(|v| v.smoke && v.applies_to(plugin.kind))
    {
        for &stage in stages {
            let mut payload = v.payload.clone();
            payload.stage = stage;
            let input = StageInput::new(&payload);
            if input.input_bytes() > limits.max_input_bytes {
                continue;
            }
            ran += 1;
            match plugin.call(&input, &v.findings, config, &limits) {
                Err(fault) => failures.push(format!(
                    "{}@{stage}: {}",
                    v.id,
                    explain(&fault, limits.memory_bytes)
                )),
                Ok(output) => {
                    let run = VectorRun {
                        plugin,
                        vector: v,
                        stage,
                        config,
                        limits: &limits,
                        fuel: None,
                        redaction: &redaction,
                    };
                    for p in run.golden_problems(&payload, &output) {
                        failures.push(format!("{}@{stage}: {p}", v.id));
                    }
                }
            }
        }
    }
    if failures.is_empty() {
        Ok(ran)
    } else {
        let n = failures.len();
        failures.truncate(3);
        Err(format!(
            "{n} of {ran} vector run(s) failed, e.g. {}",
            failures.join(" | ")
        ))
    }
}
