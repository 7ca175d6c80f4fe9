//! `reuse = true`: instances kept between calls give the same answers as
//! fresh ones, and an instance that faulted is never used again.

use crate::common;

use common::{hostile_path, pipeline, request, shared_data};
use railyard::pipeline::Outcome;

/// The default detectors, with a deadline no busy machine reaches: a
/// timeout would be a fail-closed block on one side only.
fn detectors(reuse: bool) -> railyard::Pipeline {
    pipeline(&format!(
        "name = \"reuse-{reuse}\"\n[plugins.pii]\nbuiltin = \"pii\"\nreuse = {reuse}\n[plugins.secrets]\nbuiltin = \"secrets\"\nreuse = {reuse}\n[plugins.prompt-injection]\nbuiltin = \"prompt-injection\"\nreuse = {reuse}\n[stages]\nrequest = [\"pii\", \"secrets\", \"prompt-injection\"]\n[defaults]\ntimeout-ms = 20000\n"
    ))
}

#[test]
fn reused_instances_answer_exactly_as_fresh_ones() {
    let (fresh, reused) = (detectors(false), detectors(true));
    let text = std::fs::read_to_string(shared_data("pii-dev.jsonl")).unwrap();
    let mut compared = 0;
    for line in text.lines().take(400) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let p = request(v["text"].as_str().unwrap());
        let (a, b) = (fresh.evaluate(&p), reused.evaluate(&p));
        assert_eq!(a.action, b.action, "{line}");
        assert_eq!(a.redacted, b.redacted, "{line}");
        for (x, y) in a.decisions.iter().zip(&b.decisions) {
            assert_eq!(x.findings, y.findings, "{line}");
            assert_eq!(y.outcome, Outcome::Ok);
        }
        compared += 1;
    }
    assert_eq!(compared, 400);
}

#[test]
fn a_faulted_instance_is_dropped_not_reused() {
    for (behave, fault) in [
        ("loop", "timed-out"),
        ("grow", "memory-limit"),
        ("panic", "trapped"),
        ("error", "plugin-error"),
        ("span-out-of-bounds", "invalid-output"),
    ] {
        let p = pipeline(&format!(
            "[defaults]\ntimeout-ms = {}\nmemory-mib = 16\n[plugins.hostile]\npath = \"{}\"\nreuse = true\n[plugins.hostile.config]\nbehave = \"{behave}\"\n[stages]\nrequest = [\"hostile\"]\n",
            if behave == "loop" { 20 } else { 2000 },
            hostile_path()
        ));
        // Had the faulted instance been put back, the second call would
        // fail differently (a trapped instance cannot be entered again).
        for round in 0..3 {
            let e = p.evaluate(&request("hello"));
            let d = &e.decisions[0];
            assert_eq!(d.outcome.as_str(), fault, "{behave}, call {round}: {d:?}");
        }
    }
}

#[test]
fn reuse_must_be_a_boolean() {
    let err = railyard::Policy::from_toml(
        "[plugins.pii]\nbuiltin = \"pii\"\nreuse = \"yes\"\n[stages]\nrequest = [\"pii\"]\n",
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("plugins.pii.reuse"), "{err}");
}
