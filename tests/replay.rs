//! `railyard replay` over a table written by a real `railyard serve` (in
//! front of the fake upstream) and by `railyard check`: the candidate's
//! changed decisions are exactly the known ones, by request id; `--fail-on`
//! gates; calls without their text are listed as not replayable; the HTML
//! report and the Delta table of changes are written and read back.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::http::{Server, Upstream, post};
use serde_json::{Value, json};

/// The live policy: PII is only flagged, on both sides of the call, and
/// the text is kept (nothing is redacted, so `redacted` capture keeps it
/// as it was).
pub const LIVE_POLICY: &str = r#"
name = "live"
[defaults]
timeout-ms = 20000
[plugins.pii]
builtin = "pii"
action = "flag"
[plugins.prompt-injection]
builtin = "prompt-injection"
[stages]
request = ["pii", "prompt-injection"]
response = ["pii"]
"#;

/// The candidate: PII blocks.
pub const CANDIDATE_POLICY: &str = r#"
name = "candidate"
[defaults]
timeout-ms = 20000
[plugins.pii]
builtin = "pii"
action = "block"
[plugins.prompt-injection]
builtin = "prompt-injection"
[stages]
request = ["pii", "prompt-injection"]
response = ["pii"]
"#;

/// Writes `dir/NAME` with `text`; returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Starts `railyard serve` with `policy` in front of `upstream`, writing
/// to the audit table `audit` with a state folder (so a host id) of its
/// own.
pub fn serve(dir: &Path, audit: &Path, host: &str, policy: &Path, upstream: &Upstream) -> Server {
    let state = dir.join(format!("state-{host}"));
    let cache = common::cache_dir();
    Server::start(
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--upstream",
            &upstream.base_url(),
        ],
        &[
            ("RAILYARD_CACHE_DIR", cache.as_path()),
            ("RAILYARD_AUDIT_URL", audit),
            ("RAILYARD_STATE_DIR", state.as_path()),
        ],
    )
}

/// Sends one chat call per text; returns each call's request id.
pub fn chat(server: &Server, texts: &[String]) -> Vec<String> {
    texts
        .iter()
        .map(|t| {
            let body = json!({"model": "fake-model", "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": t}]});
            let a = post(server.addr, "/v1/chat/completions", &[], &body.to_string());
            assert_eq!(a.status, 200, "{t}: {}", a.text());
            a.header("x-railyard-request-id")
                .expect("every answer names its request id")
                .to_string()
        })
        .collect()
}

/// `railyard ARGS` with the test binary's compile cache and a state folder
/// under `dir`.
pub fn railyard(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(args)
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .env("RAILYARD_STATE_DIR", dir.join("state-cli"))
        .output()
        .expect("run railyard")
}

/// `railyard check --json` of `text` under `policy`, recorded in `audit`;
/// returns the request id.
fn check(dir: &Path, audit: &Path, policy: &Path, text: &str) -> String {
    let out = railyard(
        dir,
        &[
            "check",
            "--json",
            "--policy",
            policy.to_str().unwrap(),
            "--audit",
            audit.to_str().unwrap(),
            text,
        ],
    );
    assert!(
        out.status.code() == Some(0),
        "check: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["request_id"].as_str().unwrap().to_string()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn replay_json(dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["replay", "--json"];
    all.extend_from_slice(args);
    let out = railyard(dir, &all);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "replay {args:?}: {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "replay --json printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        }),
    )
}

#[test]
fn replay_lists_exactly_the_decisions_a_pii_blocking_candidate_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let audit = dir.join("audit");
    let live = write(dir, "live.toml", LIVE_POLICY);
    let candidate = write(dir, "candidate.toml", CANDIDATE_POLICY);

    // Live traffic: three calls with an e-mail address (flagged, and the
    // fake model echoes it, so the answer is flagged too), four clean ones.
    let upstream = Upstream::start();
    let mut server = serve(dir, &audit, "a", &live, &upstream);
    let with_pii: Vec<String> = (0..3)
        .map(|i| format!("please write to ana{i}@example.com today"))
        .collect();
    let clean: Vec<String> = (0..4).map(|i| format!("hello number {i}")).collect();
    let pii_ids = chat(&server, &with_pii);
    let clean_ids = chat(&server, &clean);
    assert!(server.stop(), "serve did not stop cleanly");

    // Calls the table holds without their text: one under `capture =
    // none`, one whose PII a live plugin redacted before it was kept.
    let none = write(
        dir,
        "none.toml",
        &format!("{LIVE_POLICY}\n[audit]\ncapture = \"none\"\n").replace("\"live\"", "\"none\""),
    );
    let redacting = write(
        dir,
        "redacting.toml",
        &LIVE_POLICY
            .replace("action = \"flag\"", "action = \"redact\"")
            .replace("\"live\"", "\"redacting\""),
    );
    let no_text = check(dir, &audit, &none, "mail bob@example.com");
    let redacted = check(dir, &audit, &redacting, "mail eve@example.com");

    let audit_s = audit.to_str().unwrap();
    let candidate_s = candidate.to_str().unwrap();
    let (code, report) = replay_json(
        dir,
        &[
            "--audit",
            audit_s,
            "--since",
            "1h",
            "--until",
            "2999-01-01T00:00:00Z",
            "--policy",
            candidate_s,
        ],
    );
    assert_eq!(code, Some(0), "no --fail-on: exit 0");
    assert_eq!(report["calls"], 9, "{report:#}");
    assert_eq!(report["replayed"], 7);
    assert_eq!(report["changed_calls"], 3);
    // Exactly the e-mail calls changed, at both stages, pii flag → block.
    let changes = report["changes"].as_array().unwrap();
    let mut seen: Vec<String> = changes
        .iter()
        .map(|c| {
            assert_eq!(c["plugin"], "pii", "{c}");
            assert_eq!(
                (c["live_action"].as_str(), c["candidate_action"].as_str()),
                (Some("flag"), Some("block")),
                "{c}"
            );
            format!("{} {}", c["request_id"].as_str().unwrap(), c["stage"])
        })
        .collect();
    seen.sort();
    let mut expected: Vec<String> = pii_ids
        .iter()
        .flat_map(|id| [format!("{id} \"request\""), format!("{id} \"response\"")])
        .collect();
    expected.sort();
    assert_eq!(seen, expected, "changed decisions");
    for id in &clean_ids {
        assert!(!report["changes"].to_string().contains(id.as_str()));
    }
    // The matrix says the same: request pii had 3 flag → block, 4 allow → allow.
    let request_pii = report["matrices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["stage"] == "request" && m["plugin"] == "pii")
        .unwrap();
    assert_eq!(request_pii["changed"], 3);
    assert_eq!(request_pii["total"], 7);
    // The two calls without their text are listed, with why.
    let unreplayable: Vec<(String, String)> = report["unreplayable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["request_id"].as_str().unwrap().to_string(),
                u["reasons"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        sorted(unreplayable.iter().map(|u| u.0.clone()).collect()),
        sorted(vec![no_text.clone(), redacted.clone()])
    );
    for (id, why) in &unreplayable {
        if *id == no_text {
            assert!(why.contains("text not captured (capture = none)"), "{why}");
        } else {
            assert!(why.contains("text captured redacted"), "{why}");
        }
    }

    // The terminal report names the same request ids.
    let out = railyard(
        dir,
        &["replay", "--audit", audit_s, "--policy", candidate_s],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for id in pii_ids.iter().chain([&no_text, &redacted]) {
        assert!(text.contains(id.as_str()), "{id} missing from:\n{text}");
    }

    // --fail-on gates: 3 changed calls of 7.
    for (threshold, code) in [("2", 1), ("3", 0), ("40%", 1), ("50%", 0), ("0", 1)] {
        let (got, report) = replay_json(
            dir,
            &[
                "--audit",
                audit_s,
                "--policy",
                candidate_s,
                "--fail-on",
                threshold,
            ],
        );
        assert_eq!(got, Some(code), "--fail-on {threshold}");
        assert_eq!(report["failed"], code == 1);
    }

    // A substituted plugin: the live policy with `pii` replaced by the
    // secrets detector's component finds no e-mail, so exactly the flagged
    // decisions become allow.
    let secrets = common::wasm("railyard_plugin_secrets");
    let (_, report) = replay_json(
        dir,
        &[
            "--audit",
            audit_s,
            "--policy",
            live.to_str().unwrap(),
            "--plugin",
            &format!("pii={}", secrets.display()),
        ],
    );
    let mut seen: Vec<String> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(
                (c["live_action"].as_str(), c["candidate_action"].as_str()),
                (Some("flag"), Some("allow")),
                "{c}"
            );
            assert_ne!(c["live_plugin_digest"], c["candidate_plugin_digest"]);
            format!("{} {}", c["request_id"].as_str().unwrap(), c["stage"])
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen, expected,
        "changed decisions with the substituted plugin"
    );

    // The HTML report is one self-contained file with charts, and the
    // changes go to a Delta table an independent reader reads back.
    let html = dir.join("report.html");
    let changes_table = dir.join("changes");
    let out = railyard(
        dir,
        &[
            "replay",
            "--audit",
            audit_s,
            "--policy",
            candidate_s,
            "--html",
            html.to_str().unwrap(),
            "--out-table",
            changes_table.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg"), "no chart in the report");
    for id in &pii_ids {
        assert!(page.contains(id.as_str()));
    }
    for fetch in ["src=", "href=", "@import", "url("] {
        assert!(
            !page.contains(fetch),
            "the report fetches something: {fetch}"
        );
    }
    let Some(py) = common::python() else { return };
    let mut rows: Vec<String> = common::delta_py::delta_rows(&py, &changes_table)
        .iter()
        .map(|v| {
            assert_eq!(v["candidate_policy"], "candidate");
            format!(
                "{} \"{}\"",
                v["request_id"].as_str().unwrap(),
                v["stage"].as_str().unwrap()
            )
        })
        .collect();
    rows.sort();
    assert_eq!(rows, expected, "rows of the --out-table");
}

#[test]
fn replay_stdin_answers_each_line_in_order_and_fails_on_a_bad_one() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let candidate = write(dir, "candidate.toml", CANDIDATE_POLICY);
    let call = |id: &str, text: &str, live: &str| {
        json!({
            "request_id": id, "capture": "full", "stage": "request",
            "request": json!([{"role": "user", "content": text}]).to_string(),
            "decision_count": 1,
            "decisions": [{"stage": "request", "plugin": "pii", "action": live,
                           "outcome": "ok", "unknown_column": 1}],
            "a_column_of_the_engine": true,
        })
        .to_string()
    };
    let input = format!(
        "{}\nnot a call\n{}\n",
        call("with-pii", "write to zed@example.com", "flag"),
        call("clean", "hello", "allow")
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["replay", "--stdin", "--policy", candidate.to_str().unwrap()])
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a bad line fails the run");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["request_id"], "with-pii");
    let pii = lines[0]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["plugin"] == "pii")
        .unwrap();
    assert_eq!(pii["changed"], true);
    assert_eq!(pii["candidate"]["action"], "block");
    assert_eq!(lines[1]["line"], 2);
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("not a logged call")
    );
    assert_eq!(lines[2]["request_id"], "clean");
    assert_eq!(lines[2]["candidate_action"], "allow");
    assert!(
        lines[2]["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["changed"] == false)
    );

    // A substitution for a plugin the policy does not have is refused by name.
    let out = railyard(
        dir,
        &[
            "replay",
            "--stdin",
            "--policy",
            candidate.to_str().unwrap(),
            "--plugin",
            "nope=x.wasm",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has no plugin `nope`"), "{err}");
}
