//! Calls through the real `openai` Python client (`tests/openai_calls.py`),
//! and the key hashes `serve.toml` takes, for the access tests.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

/// `printf %s KEY | sha256sum`, as `serve.toml` takes a key.
pub fn sha256(s: &str) -> String {
    railyard::plugin::PluginDigest::of(s.as_bytes())
        .to_string()
        .trim_start_matches("sha256:")
        .to_string()
}

/// The client's view of each call in `calls` (see `tests/openai_calls.py`).
pub fn openai_calls(py: &Path, base: &str, calls: &Value) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/openai_calls.py");
    let mut child = Command::new(py)
        .arg(script)
        .arg(base)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(calls.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A policy that only flags what `default` redacts or blocks: the weaker
/// policy a caller must not be able to pick. Written as `lenient.toml`.
pub fn write_lenient_policy(dir: &Path) {
    std::fs::write(
        dir.join("lenient.toml"),
        "name = \"lenient\"\n[plugins.pii]\nbuiltin = \"pii\"\naction = \"flag\"\n[stages]\nrequest = [\"pii\"]\n",
    )
    .unwrap();
}

/// Writes `dir/NAME.toml` and starts `railyard serve --config` on it, with
/// the test binary's compile cache, a state folder of its own, and an
/// audit table in `dir/audit-NAME` (or `--no-audit`), plus `envs`.
pub fn serve_config(
    dir: &Path,
    name: &str,
    config: &str,
    audit: bool,
    envs: &[(&str, &Path)],
) -> super::http::Server {
    let cfg = dir.join(format!("{name}.toml"));
    std::fs::write(&cfg, config).unwrap();
    let cache = super::cache_dir();
    let state = dir.join(format!("state-{name}"));
    let audit_dir = dir.join(format!("audit-{name}"));
    let mut args = vec!["--config", cfg.to_str().unwrap()];
    if !audit {
        args.push("--no-audit");
    }
    let mut all: Vec<(&str, &Path)> = vec![
        ("RAILYARD_CACHE_DIR", cache.as_path()),
        ("RAILYARD_STATE_DIR", state.as_path()),
        ("RAILYARD_AUDIT_URL", audit_dir.as_path()),
    ];
    all.extend_from_slice(envs);
    super::http::Server::start(&args, &all)
}
