//! Shared set-up for the integration tests: one engine per test binary
//! (as in production: one per process), real components built from
//! `plugins/` and `tests/plugins/` by host/build.rs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use railyard::engine::{EngineSettings, RailyardEngine};
use railyard::plugin::{PluginLoader, builtin};
use railyard::{Payload, Pipeline, Policy, Stage};

/// The process's engine, with a compile cache in a temp dir that lives as
/// long as the test binary.
pub fn loader() -> &'static PluginLoader {
    static LOADER: OnceLock<PluginLoader> = OnceLock::new();
    LOADER.get_or_init(|| {
        let cache = cache_dir();
        let engine = RailyardEngine::new(EngineSettings {
            pool_instances: 64,
            max_plugin_memory: 256 << 20,
            cache_dir: Some(cache),
            ..EngineSettings::default()
        })
        .expect("engine");
        PluginLoader::new(engine).expect("loader")
    })
}

/// The compile cache folder of this test binary: a temp dir that lives as
/// long as the binary, shared by `loader()` and the conformance harness.
pub fn cache_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir").keep())
        .clone()
}

/// Path of a component built by host/build.rs, e.g. `railyard_fixture_hostile`.
pub fn wasm(crate_file_stem: &str) -> PathBuf {
    let p = PathBuf::from(builtin::WASM_DIR).join(format!("{crate_file_stem}.wasm"));
    assert!(p.is_file(), "{} was not built", p.display());
    p
}

/// The hostile fixture, as a TOML string literal path.
pub fn hostile_path() -> String {
    wasm("railyard_fixture_hostile").display().to_string()
}

/// A pipeline from policy text.
pub fn pipeline(toml: &str) -> Pipeline {
    let policy = Policy::from_toml(toml, None).unwrap_or_else(|e| panic!("policy: {e}"));
    Pipeline::load(loader(), policy).unwrap_or_else(|e| panic!("pipeline: {e}"))
}

/// Why a policy whose plugins load does not assemble into a pipeline
/// (a plugin refused its config at the load's probe, say).
pub fn pipeline_error(toml: &str) -> String {
    let policy = Policy::from_toml(toml, None).unwrap_or_else(|e| panic!("policy: {e}"));
    match Pipeline::load(loader(), policy) {
        Ok(_) => panic!("the policy loaded: {toml}"),
        Err(e) => format!("{e:#}"),
    }
}

/// A one-message request payload.
pub fn request(text: &str) -> Payload {
    Payload::text(Stage::Request, text)
}

/// Root of the shared data folder (`../shared/data` beside the clone).
pub fn shared_data(file: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(file);
    assert!(
        p.is_file(),
        "test data {} is missing: the shared/ folder must sit beside the repository",
        p.display()
    );
    p
}

/// The Python with the tools `./scripts/test` installs into `.venv`
/// (DuckDB and its delta extension, pyarrow, moto, boto3, openai):
/// `RAILYARD_TEST_PYTHON`, else the workspace's `.venv`. Missing, the tests
/// that need it fail (a skipped independent check proves nothing) unless
/// `RAILYARD_SKIP_PYTHON_TESTS=1` says to skip them.
pub fn python() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let chosen = std::env::var_os("RAILYARD_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or(venv);
    if chosen.is_file() {
        return Some(chosen);
    }
    let why = format!(
        "{} does not exist: run the suite with ./scripts/test, which installs the Python tools these tests need",
        chosen.display()
    );
    if std::env::var_os("RAILYARD_SKIP_PYTHON_TESTS").is_some_and(|v| v == "1") {
        eprintln!("\n!!! SKIPPED (RAILYARD_SKIP_PYTHON_TESTS=1): {why} !!!\n");
        return None;
    }
    panic!("{why} (or set RAILYARD_SKIP_PYTHON_TESTS=1 to skip)");
}

/// A first-party plugin written in another language (`plugins/<dir>/`),
/// built by its own `build.sh` (which is a no-op when the component is up
/// to date) into `target/lang-plugins/<dir>.wasm`. The toolchains come from
/// `scripts/toolchains/*.sh`, which `./scripts/test` runs first; a missing
/// toolchain fails the test with the build script's message.
pub fn lang_plugin(dir: &str) -> PathBuf {
    use std::sync::Mutex;
    static BUILD: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = root.join("target/lang-plugins").join(format!("{dir}.wasm"));
    let script = root.join("plugins").join(dir).join("build.sh");
    let output = std::process::Command::new(&script)
        .arg(&out)
        .current_dir(root.join("plugins").join(dir))
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(
        output.status.success() && out.is_file(),
        "{} failed ({}):\n{}{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

pub mod delta_py;
pub mod http;
pub mod judge;
pub mod old_table;
pub mod openai_calls;
pub mod redis;
pub mod replay;
pub mod script;
pub mod serve_env;

/// The embedded default policy with a generous per-call deadline, written
/// to `dir`: tests of what the rails see must not turn into timeouts (a
/// fail-closed block) when the machine is busy.
pub fn patient_default_policy(dir: &Path) -> PathBuf {
    let text =
        railyard::policy::DEFAULT_POLICY_TOML.replace("timeout-ms = 50 ", "timeout-ms = 20000 ");
    assert_ne!(
        text,
        railyard::policy::DEFAULT_POLICY_TOML,
        "the default policy's timeout moved"
    );
    let path = dir.join("default-patient.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The rows of one audit table as `railyard log query --json` prints them
/// (read back through the Delta log by a separate process), with `filters`
/// (`--caller X`, …). `reader_state` is the reading process's own state
/// folder, apart from any writer's.
pub fn audit_rows(
    audit: &Path,
    reader_state: &Path,
    table: &str,
    filters: &[&str],
) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["log", "query", "--json", "--table", table])
        .args(filters)
        .env("RAILYARD_AUDIT_URL", audit)
        .env("RAILYARD_STATE_DIR", reader_state)
        .output()
        .expect("run railyard log query");
    assert!(
        out.status.success(),
        "railyard log query --table {table}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("query output is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON row a line"))
        .collect()
}
