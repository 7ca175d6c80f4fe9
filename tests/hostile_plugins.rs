//! Misbehaving plugins are contained: each gets the right outcome, the
//! failure mode decides the action, and the host keeps serving.

use crate::common;

use common::{hostile_path, loader, pipeline, request, wasm};
use railyard::Action;
use railyard::Policy;
use railyard::pipeline::{Evaluation, Outcome};
use railyard::plugin::LoadError;
use railyard::policy::FailureMode;

/// A policy running the hostile fixture with `behave`, then the real pii
/// plugin (to prove the stage goes on after the failure).
fn hostile_policy(behave: &str, failure_mode: &str) -> String {
    // Growing to the cap takes a few milliseconds; give that case room so
    // it cannot lose the race to the deadline on a loaded machine.
    let timeout_ms = if behave == "grow" { 5_000 } else { 25 };
    format!(
        r#"
[plugins.hostile]
path = "{}"
timeout-ms = {timeout_ms}
memory-mib = 16
failure-mode = "{failure_mode}"
[plugins.hostile.config]
behave = "{behave}"

[stages]
request = ["hostile", "pii"]
"#,
        hostile_path()
    )
}

fn run(behave: &str, failure_mode: &str, text: &str) -> Evaluation {
    pipeline(&hostile_policy(behave, failure_mode)).evaluate(&request(text))
}

fn assert_contained(e: &Evaluation, fault: &str, mode: FailureMode) {
    let hostile = &e.decisions[0];
    assert_eq!(hostile.plugin, "hostile");
    assert_eq!(
        hostile.outcome,
        Outcome::Failed {
            fault: match fault {
                "timed-out" => "timed-out",
                "memory-limit" => "memory-limit",
                "trapped" => "trapped",
                "invalid-output" => "invalid-output",
                "plugin-error" => "plugin-error",
                "input-too-large" => "input-too-large",
                other => panic!("unknown fault {other}"),
            },
            handled: mode
        },
        "{hostile:?}"
    );
    assert!(hostile.error.is_some());
    // The rest of the stage still ran.
    assert_eq!(e.decisions[1].plugin, "pii");
    assert_eq!(e.decisions[1].outcome, Outcome::Ok);
}

#[test]
fn plugin_that_loops_forever_times_out_and_blocks_when_fail_closed() {
    let e = run("loop", "fail-closed", "hello");
    assert_contained(&e, "timed-out", FailureMode::FailClosed);
    assert_eq!(e.action, Action::Block);
    // The loop never ends by itself: that the call returned at all, as
    // timed out, is the deadline's doing (no wall-clock bound is asserted;
    // a loaded machine may be slow to deliver the interrupt).
    assert!(e.decisions[0].error.as_deref().unwrap().contains("25 ms"));
}

#[test]
fn plugin_that_loops_forever_is_allowed_past_when_fail_open() {
    let e = run("loop", "fail-open", "mail a@example.com");
    assert_contained(&e, "timed-out", FailureMode::FailOpen);
    // fail-open: the hostile plugin allows; pii still redacts.
    assert_eq!(e.decisions[0].action, Action::Allow);
    assert_eq!(e.action, Action::Redact);
}

#[test]
fn plugin_that_grows_memory_without_bound_hits_its_limit() {
    let e = run("grow", "fail-closed", "hello");
    assert_contained(&e, "memory-limit", FailureMode::FailClosed);
    assert_eq!(e.action, Action::Block);
    assert!(
        e.decisions[0].error.as_deref().unwrap().contains("limit"),
        "{:?}",
        e.decisions[0].error
    );
}

#[test]
fn plugin_that_traps_or_panics_is_trapped_and_the_panic_message_is_kept() {
    let e = run("trap", "fail-closed", "hello");
    assert_contained(&e, "trapped", FailureMode::FailClosed);
    let e = run("panic", "fail-closed", "hello");
    assert_contained(&e, "trapped", FailureMode::FailClosed);
    let error = e.decisions[0].error.as_deref().unwrap();
    assert!(
        error.contains("panics on purpose"),
        "stderr of the plugin is in the fault: {error}"
    );
}

#[test]
fn plugin_returning_err_is_a_plugin_error() {
    let e = run("error", "fail-closed", "hello");
    assert_contained(&e, "plugin-error", FailureMode::FailClosed);
    assert!(
        e.decisions[0]
            .error
            .as_deref()
            .unwrap()
            .contains("refuses on purpose")
    );
}

#[test]
fn spans_out_of_bounds_or_off_utf8_boundaries_are_invalid_output() {
    for behave in [
        "span-out-of-bounds",
        "span-bad-message",
        "span-not-char-boundary",
        "score-out-of-range",
    ] {
        let e = run(behave, "fail-closed", "naïve café ☕");
        assert_contained(&e, "invalid-output", FailureMode::FailClosed);
        assert_eq!(e.action, Action::Block, "{behave}");
        // The bad span never reaches redaction.
        assert!(e.redacted.is_none(), "{behave}");
    }
}

#[test]
fn oversized_payload_is_not_shown_to_the_plugin() {
    let policy = format!(
        r#"
[plugins.hostile]
path = "{}"
max-input-kib = 1
[stages]
request = ["hostile"]
"#,
        hostile_path()
    );
    let p = pipeline(&policy);
    let e = p.evaluate(&request(&"x".repeat(4096)));
    assert_eq!(e.decisions[0].outcome.as_str(), "input-too-large");
    assert_eq!(e.action, Action::Block);
    let (_, plugin) = p.plugins().find(|(n, _)| *n == "hostile").unwrap();
    assert_eq!(
        plugin.stores_created(),
        0,
        "the plugin was never instantiated"
    );
    // The same plugin on a small input is instantiated: the counter counts.
    p.evaluate(&request("small"));
    assert_eq!(plugin.stores_created(), 1);
}

#[test]
fn disabled_plugin_does_not_run_and_is_recorded() {
    let e = run("loop", "disabled", "hello");
    assert_eq!(e.decisions[0].outcome, Outcome::Disabled);
    assert_eq!(e.decisions[0].action, Action::Allow);
    assert_eq!(e.action, Action::Allow);
}

#[test]
fn host_keeps_serving_after_every_kind_of_failure() {
    let good = pipeline(&hostile_policy("none", "fail-closed"));
    for behave in ["loop", "grow", "trap", "panic", "span-out-of-bounds"] {
        let bad = run(behave, "fail-closed", "hello");
        assert_eq!(bad.action, Action::Block, "{behave}");
        let after = good.evaluate(&request("a hostile word, and bob@example.com"));
        assert_eq!(after.decisions[0].outcome, Outcome::Ok, "after {behave}");
        assert_eq!(after.decisions[0].action, Action::Flag);
        assert_eq!(after.action, Action::Redact);
    }
}

#[test]
fn component_importing_sockets_is_refused_at_load_naming_the_import() {
    let err = loader()
        .load_file("hostile-net", &wasm("railyard_fixture_hostile_net"))
        .expect_err("a sockets import is not granted");
    match &err {
        LoadError::ForbiddenImport { imports, .. } => {
            assert!(imports[0].starts_with("wasi:sockets/"), "{imports:?}")
        }
        other => panic!("expected ForbiddenImport, got {other}"),
    }
    assert!(err.to_string().contains("wasi:sockets/"), "{err}");
}

#[test]
fn core_module_is_refused_as_not_a_component() {
    let err = loader()
        .load("core", b"(module (func (export \"check\")))")
        .expect_err("not a component");
    assert!(matches!(err, LoadError::NotAComponent { .. }), "{err}");
    let binary = [0u8, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
    assert!(matches!(
        loader().load("core", &binary),
        Err(LoadError::NotAComponent { .. })
    ));
}

#[test]
fn component_with_no_railyard_world_is_refused() {
    let err = loader()
        .load("empty", b"(component)")
        .expect_err("no world");
    assert!(matches!(err, LoadError::UnknownWorld { .. }), "{err}");
    let err = loader()
        .load("junk", b"\0asm\x0d\0\x01\0garbage")
        .expect_err("malformed");
    assert!(err.to_string().contains("junk"), "{err}");
}

/// A component exporting `check` with the wrong signature, importing `import`.
fn wat_check_component(import: &str) -> String {
    format!(
        r#"(component
  {import}
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (func $f (canon lift (core func $i "f")))
  (export "check" (func $f)))"#
    )
}

#[test]
fn component_importing_an_ungranted_interface_is_refused_naming_it() {
    let wat = wat_check_component(r#"(import "wasi:http/outgoing-handler@0.2.0" (instance))"#);
    let err = loader()
        .load("http", wat.as_bytes())
        .expect_err("not granted");
    match &err {
        LoadError::ForbiddenImport { imports, .. } => {
            assert_eq!(imports[0], "wasi:http/outgoing-handler@0.2.0")
        }
        other => panic!("expected ForbiddenImport, got {other}"),
    }
}

#[test]
fn component_whose_exports_do_not_match_its_world_is_refused() {
    let err = loader()
        .load("liar", wat_check_component("").as_bytes())
        .expect_err("wrong signature");
    assert!(matches!(err, LoadError::Link { .. }), "{err}");
    assert!(err.to_string().contains("guardrail world"), "{err}");
}

/// A plugin (here a third-party one, with no SDK) whose answer to an empty
/// payload is an `Err` naming its config is refused when its policy loads;
/// an `Err` about anything else is left to the calls and the failure mode.
#[test]
fn a_plugin_refusing_its_config_is_refused_at_load() {
    let policy = Policy::from_toml(&hostile_policy("bad-config", "fail-open"), None).unwrap();
    let error = match railyard::Pipeline::load(loader(), policy) {
        Ok(_) => panic!("a plugin refusing its config must not load"),
        Err(e) => e.to_string(),
    };
    assert!(
        error.contains("plugin `hostile`")
            && error.contains("plugins.hostile.config")
            && error.contains("config key `behave`: refused on purpose"),
        "{error}"
    );
    // A disabled plugin is not run, so not probed either.
    pipeline(&hostile_policy("bad-config", "disabled"));
    // Not about config: loads, and fails at call time as before.
    let e = run("error", "fail-open", "hello");
    assert_contained(&e, "plugin-error", FailureMode::FailOpen);
}
