//! `railyard conformance` fails deliberately broken plugins, and each
//! failure says what broke and what to do.

use crate::common;

use std::process::Command;

use common::wasm;
use railyard::conformance::{self, Format, Options, Report};
use railyard::plugin::PluginKind;

/// Harness options with this test binary's compile cache.
fn opts() -> Options {
    Options {
        cache_dir: Some(common::cache_dir()),
        ..Options::default()
    }
}

fn hostile_with(behave: &str, opts: Options) -> Report {
    let bytes = std::fs::read(wasm("railyard_fixture_hostile")).unwrap();
    let opts = Options {
        config: vec![("behave".into(), behave.into())],
        ..opts
    };
    conformance::run_bytes("hostile", &bytes, None, &opts).unwrap()
}

fn hostile(behave: &str) -> Report {
    hostile_with(behave, opts())
}

/// The report fails, with at least one failure of `check` whose message
/// contains `says`.
fn assert_fails_with(report: &Report, check: &str, says: &str) {
    let text = report.render(Format::Text);
    assert!(!report.passed(), "expected a failure:\n{text}");
    assert!(
        report
            .failures()
            .any(|c| c.check == check && c.message.contains(says)),
        "expected a `{check}` failure saying {says:?}:\n{text}"
    );
    assert!(text.contains("FAIL"), "{text}");
}

#[test]
fn the_well_behaved_fixture_passes() {
    let report = hostile("none");
    assert!(report.passed(), "{}", report.render(Format::Text));
}

#[test]
fn a_scanner_that_settles_past_a_finding_it_did_not_report_fails_the_stream_check() {
    let report = hostile("scanner-lies");
    assert_fails_with(&report, "stream", "was only reported by finish");
    assert_fails_with(&report, "stream", "would already have released it");
}

#[test]
fn a_scanner_whose_settled_point_moves_back_fails_the_stream_check() {
    let report = hostile("scanner-settles-back");
    assert_fails_with(&report, "stream", "settled point moved back");
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    let report = hostile("loop");
    assert_fails_with(&report, "contract", "ran out of fuel");
    assert_fails_with(&report, "contract", "fails the same way on every machine");
    // Fuel, not time: every contract check failed the same way.
    assert!(
        report
            .failures()
            .filter(|c| c.check == "contract")
            .all(|c| c.message.contains("ran out of fuel"))
    );
}

#[test]
fn unbounded_memory_growth_exceeds_the_memory_budget() {
    // Plenty of fuel, so the memory budget is what stops it.
    let report = hostile_with(
        "grow",
        Options {
            fuel: Some(50_000_000_000),
            ..opts()
        },
    );
    assert_fails_with(&report, "contract", "memory past the budget of 64 MiB");
}

#[test]
fn traps_and_panics_are_reported_with_the_panic_message() {
    assert_fails_with(&hostile("trap"), "contract", "trapped");
    assert_fails_with(&hostile("panic"), "contract", "panics on purpose");
}

#[test]
fn an_error_on_a_well_formed_payload_fails() {
    assert_fails_with(&hostile("error"), "contract", "refuses on purpose");
}

#[test]
fn broken_spans_and_scores_break_the_contract() {
    assert_fails_with(&hostile("span-out-of-bounds"), "contract", "out of bounds");
    assert_fails_with(
        &hostile("span-bad-message"),
        "contract",
        "span names message 99",
    );
    assert_fails_with(
        &hostile("span-not-char-boundary"),
        "contract",
        "splits a UTF-8 character",
    );
    assert_fails_with(&hostile("score-out-of-range"), "contract", "outside 0..=1");
}

#[test]
fn a_guardrail_that_blocks_benign_traffic_fails_the_golden_vectors() {
    let report = hostile("block");
    assert_fails_with(&report, "golden", "decided block");
    // It still answers validly: only golden checks fail.
    assert!(report.failures().all(|c| c.check == "golden"));
}

#[test]
fn a_component_with_a_forbidden_import_fails_to_load_naming_it() {
    let bytes = std::fs::read(wasm("railyard_fixture_hostile_net")).unwrap();
    let report = conformance::run_bytes("hostile-net", &bytes, None, &opts()).unwrap();
    assert_fails_with(&report, "load", "wasi:sockets/");
    assert_eq!(report.checks.len(), 1, "nothing else can run");
}

#[test]
fn the_wrong_kind_or_not_a_component_fails_to_load() {
    let bytes = std::fs::read(wasm("railyard_fixture_hostile")).unwrap();
    let as_pii = Options {
        kind: Some(PluginKind::PiiDetector),
        ..opts()
    };
    let report = conformance::run_bytes("hostile", &bytes, None, &as_pii).unwrap();
    assert_fails_with(&report, "load", "--kind pii-detector");

    let report = conformance::run_bytes("core", b"(module)", None, &opts()).unwrap();
    assert_fails_with(&report, "load", "not a WebAssembly component");
}

#[test]
fn a_manifest_beside_the_component_must_match_it() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(wasm("railyard_fixture_hostile")).unwrap();
    let path = dir.path().join("hostile.wasm");
    std::fs::write(&path, &bytes).unwrap();
    std::fs::write(
        dir.path().join("hostile.toml"),
        railyard::plugin::manifest::render(
            "hostile",
            "0.2.0",
            PluginKind::Guardrail,
            &[railyard::Stage::Request],
            &railyard::plugin::PluginDigest::of(b"other bytes"),
            None,
            None,
        ),
    )
    .unwrap();
    let report = conformance::run(&path, &opts()).unwrap();
    assert_fails_with(&report, "manifest", "has digest");
    assert_fails_with(&report, "manifest", "version = \"0.2.0\"");
}

#[test]
fn cli_exits_one_and_junit_carries_each_failure() {
    let path = wasm("railyard_fixture_hostile");
    let o = Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args([
            "conformance",
            path.to_str().unwrap(),
            "--config",
            "behave=error",
            "--format",
            "junit",
        ])
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let xml = String::from_utf8(o.stdout).unwrap();
    let failures = xml.matches("<failure ").count();
    assert!(failures > 10, "{xml}");
    assert!(xml.contains(&format!("failures=\"{failures}\"")), "{xml}");
    assert!(xml.contains("refuses on purpose"), "{xml}");

    let o = Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["conformance", "/no/such/plugin.wasm"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such file"));

    let o = Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["conformance", path.to_str().unwrap(), "--config", "novalue"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("KEY=VALUE"));
}
