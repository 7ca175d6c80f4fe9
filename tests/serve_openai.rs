//! The real `openai` Python client (from PyPI, installed by
//! `scripts/test`) against `railyard serve` in front of a real upstream on
//! 127.0.0.1: a normal call, a blocked call and streamed calls.

use crate::common;

use common::http::{Server, Upstream};
use common::python;
use std::path::Path;

#[test]
fn the_openai_client_gets_answers_errors_and_streams() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let upstream = Upstream::start();
    let cache = common::cache_dir();
    let state = tmp.path().join("state");
    let audit = tmp.path().join("audit");
    let server = Server::start(
        &["--upstream", &upstream.base_url()],
        &[
            ("RAILYARD_CACHE_DIR", cache.as_path()),
            ("RAILYARD_STATE_DIR", state.as_path()),
            ("RAILYARD_AUDIT_URL", audit.as_path()),
        ],
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/openai_client.py");
    let out = std::process::Command::new(py)
        .arg(script)
        .arg(format!("http://{}/v1", server.addr))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.stderr.lock().unwrap()
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("openai client {}", v["version"]);
    assert_eq!(v["normal"]["content"], "echo: hello from the openai client");
    assert_eq!(v["normal"]["total_tokens"], 12);
    assert_eq!(v["blocked"]["raised"], "BadRequestError", "{v}");
    assert_eq!(v["blocked"]["status"], 400);
    assert_eq!(v["blocked"]["code"], "request_blocked");
    assert_eq!(
        v["streamed"]["text"],
        "streamed words arrive one piece at a time"
    );
    assert!(v["streamed"]["chunks"].as_u64().unwrap() > 1, "{v}");
    assert_eq!(
        v["streamed_redacted"]["text"],
        "your card <CREDIT_CARD> is on file"
    );
    // The prompt the client sent never reached the upstream when blocked.
    assert!(
        upstream
            .prompts()
            .iter()
            .all(|p| !p.contains("Ignore all previous instructions"))
    );
}
