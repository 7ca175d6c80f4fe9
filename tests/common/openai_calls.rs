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
