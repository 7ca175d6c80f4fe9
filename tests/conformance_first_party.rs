//! `railyard conformance` passes every first-party plugin, through the
//! library and through the command line, in every report format.

use crate::common;

use std::process::Command;

use common::wasm;
use railyard::conformance::{self, Format, Options, Report};
use railyard::plugin::builtin;

fn options(config: &[(&str, &str)]) -> Options {
    Options {
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        cache_dir: Some(common::cache_dir()),
        ..Options::default()
    }
}

fn assert_passes(name: &str, report: &Report) {
    assert!(
        report.passed(),
        "{name} fails conformance:\n{}",
        report.render(Format::Text)
    );
    for check in ["load", "info", "contract", "determinism"] {
        assert!(
            report.checks.iter().any(|c| c.check == check),
            "{name}: no `{check}` check ran:\n{}",
            report.render(Format::Text)
        );
    }
}

#[test]
fn every_first_party_plugin_passes() {
    for name in builtin::names() {
        let bytes = builtin::component(name).unwrap();
        let config: &[(&str, &str)] = if name == "judge-router" {
            // Rules that fire on the vectors' findings, so routing runs.
            &[
                ("rules", "pii-review"),
                ("rules", "audit"),
                ("pii-review.judge", "privacy-judge"),
                ("pii-review.categories", "EMAIL_ADDRESS"),
                ("audit.judge", "quality-judge"),
                ("audit.sample-rate", "0.5"),
            ]
        } else {
            &[]
        };
        let report = conformance::run_bytes(name, bytes, None, &options(config)).unwrap();
        assert_passes(name, &report);
        let kind = report.kind.unwrap();
        let golden = report.checks.iter().filter(|c| c.check == "golden").count();
        if kind != railyard::plugin::PluginKind::JudgeRouter {
            assert!(golden > 0, "{name}: golden vectors for {kind} ran");
        }
        if kind == railyard::plugin::PluginKind::PiiDetector {
            assert!(
                report.checks.iter().any(|c| c.check == "redaction"),
                "{name}: redaction idempotence was checked"
            );
        }
        // The detectors' stream scanners are held to their whole-text
        // answers on every vector.
        let streamed = report.checks.iter().filter(|c| c.check == "stream").count();
        if name == "pii" || name == "secrets" {
            assert!(streamed >= 10, "{name}: {streamed} stream checks ran");
        } else {
            assert_eq!(streamed, 0, "{name} has no scanner");
        }
    }
}

fn railyard(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(args)
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .output()
        .expect("run railyard")
}

#[test]
fn cli_passes_a_first_party_plugin_with_exit_zero_in_every_format() {
    let path = wasm("railyard_plugin_pii");
    let path = path.to_str().unwrap();

    let text = railyard(&["conformance", path]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert_eq!(
        text.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&text.stderr)
    );
    assert!(out.contains("PASS"), "{out}");

    let json = railyard(&[
        "conformance",
        path,
        "--format",
        "json",
        "--kind",
        "pii-detector",
    ]);
    assert_eq!(json.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON object");
    assert_eq!(v["kind"], "pii-detector");
    assert!(v["checks"].as_array().unwrap().len() > 20);
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["passed"] == true)
    );

    let junit = railyard(&["conformance", path, "--format", "junit"]);
    assert_eq!(junit.status.code(), Some(0));
    let xml = String::from_utf8(junit.stdout).unwrap();
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"),
        "{xml}"
    );
    let cases = xml.matches("<testcase ").count();
    assert!(
        xml.contains(&format!("tests=\"{cases}\" failures=\"0\"")),
        "{xml}"
    );
    assert!(!xml.contains("<failure"));
    assert_eq!(
        xml.matches("<testsuite ").count(),
        xml.matches("</testsuite>").count()
    );
}

#[test]
fn vectors_can_come_from_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.json"),
        r#"{"kind": "pii-detector", "vectors": [
            {"id": "ssn", "payload": {"messages": [{"role": "user", "content": "ssn 123-45-6789"}]},
             "expect": {"finds_one_of": [{"text": "123-45-6789", "category": "US_SSN"}]}}]}"#,
    )
    .unwrap();
    let opts = Options {
        vectors: Some(dir.path().to_path_buf()),
        ..options(&[])
    };
    let report =
        conformance::run_bytes("pii", builtin::component("pii").unwrap(), None, &opts).unwrap();
    assert_passes("pii", &report);
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.case.starts_with("mine.json#ssn@"))
    );
    assert!(
        !report
            .checks
            .iter()
            .any(|c| c.case.starts_with("edge-cases.json"))
    );

    std::fs::write(
        dir.path().join("bad.json"),
        "{\"kind\": \"any\", \"vectors\": [{\"id\": 1}]}",
    )
    .unwrap();
    let err = conformance::run_bytes("pii", builtin::component("pii").unwrap(), None, &opts)
        .expect_err("a malformed vector file is a harness error");
    assert!(
        err.contains("bad.json") && err.contains("vectors[0]"),
        "{err}"
    );
}
