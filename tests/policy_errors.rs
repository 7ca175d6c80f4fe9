//! A policy with mistakes gets an error that names the file, the key and
//! what is expected.

use std::path::PathBuf;

use railyard::Policy;
use railyard::policy::PolicyError;

/// Writes `text` to a policy file and loads it; returns the error text.
fn error_for(text: &str) -> (PathBuf, String) {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    let err = Policy::from_file(&path).expect_err("the policy has a mistake");
    (path, err.to_string())
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for p in parts {
        assert!(
            message.contains(p),
            "error {message:?} should mention {p:?}"
        );
    }
}

#[test]
fn embedded_default_policy_is_valid() {
    let p = Policy::embedded_default();
    assert_eq!(p.name, "default");
    assert_eq!(
        p.stage(railyard::Stage::Request),
        ["pii", "secrets", "prompt-injection"]
    );
}

#[test]
fn missing_file_names_the_file() {
    let err = Policy::from_file("/nonexistent/railyard/policy.toml").unwrap_err();
    assert!(matches!(err, PolicyError::Read { .. }));
    assert_mentions(
        &err.to_string(),
        &["/nonexistent/railyard/policy.toml", "cannot read"],
    );
}

#[test]
fn toml_syntax_error_names_file_and_line() {
    let (path, msg) = error_for("[stages]\nrequest = [\"pii\"\n");
    assert_mentions(&msg, &[&path.display().to_string(), "line 2"]);
}

#[test]
fn unknown_key_names_its_path_and_the_expected_keys() {
    let (path, msg) = error_for("[plugins.pii]\nbuiltin = \"pii\"\ntimout-ms = 5\n");
    assert_mentions(
        &msg,
        &[
            &path.display().to_string(),
            "plugins.pii",
            "unknown field `timout-ms`",
            "timeout-ms",
        ],
    );
}

#[test]
fn wrong_type_names_the_key() {
    let (_, msg) = error_for("[plugins.pii]\nbuiltin = \"pii\"\ntimeout-ms = \"fast\"\n");
    assert_mentions(&msg, &["plugins.pii.timeout-ms", "invalid type"]);
}

#[test]
fn out_of_range_value_names_key_and_range() {
    let (_, msg) = error_for(
        "[plugins.pii]\nbuiltin = \"pii\"\ntimeout-ms = 0\n[stages]\nrequest = [\"pii\"]\n",
    );
    assert_mentions(
        &msg,
        &[
            "`plugins.pii.timeout-ms`",
            "0 is out of range",
            "from 1 to 60000",
        ],
    );
    let (_, msg) = error_for("[plugins.pii]\nbuiltin = \"pii\"\nmin-score = 1.5\n");
    assert_mentions(&msg, &["`plugins.pii.min-score`", "from 0 to 1"]);
    let (_, msg) = error_for("[defaults]\nmemory-mib = 999999\n");
    assert_mentions(&msg, &["`defaults.memory-mib`", "MiB"]);
}

#[test]
fn unknown_plugin_in_a_stage_lists_what_exists() {
    let (_, msg) = error_for("[stages]\nrequest = [\"pii\", \"piii\"]\n");
    assert_mentions(
        &msg,
        &[
            "`stages.request[1]`",
            "unknown plugin \"piii\"",
            "pii, secrets, prompt-injection, judge-router",
        ],
    );
}

#[test]
fn unknown_builtin_and_missing_component_file_are_named() {
    let (_, msg) = error_for("[plugins.x]\nbuiltin = \"nope\"\n");
    assert_mentions(
        &msg,
        &["`plugins.x.builtin`", "unknown built-in plugin \"nope\""],
    );
    let (path, msg) = error_for("[plugins.x]\npath = \"missing.wasm\"\n");
    let expected = path.parent().unwrap().join("missing.wasm");
    assert_mentions(
        &msg,
        &[
            "`plugins.x.path`",
            &expected.display().to_string(),
            "does not exist",
        ],
    );
    let (_, msg) = error_for("[plugins.x]\n");
    assert_mentions(&msg, &["`plugins.x`", "neither `builtin` nor `path`"]);
}

#[test]
fn bad_enumerated_values_list_the_choices() {
    let (_, msg) = error_for("[plugins.pii]\nbuiltin = \"pii\"\nfailure-mode = \"fail-safe\"\n");
    assert_mentions(
        &msg,
        &[
            "`plugins.pii.failure-mode`",
            "`fail-closed`, `fail-open` or `disabled`",
        ],
    );
    let (_, msg) = error_for("[plugins.pii]\nbuiltin = \"pii\"\naction = \"quarantine\"\n");
    assert_mentions(
        &msg,
        &[
            "`plugins.pii.action`",
            "`allow`, `flag`, `redact` or `block`",
        ],
    );
    let (_, msg) = error_for("[stages]\npreflight = [\"pii\"]\n");
    assert_mentions(&msg, &["`stages.preflight`", "`request` or `response`"]);
    let (_, msg) = error_for("[redaction]\noperator = \"shred\"\n");
    assert_mentions(
        &msg,
        &[
            "`redaction.operator`",
            "`tag`, `mask`, `hash`, `drop` or `plugin`",
        ],
    );
    let (_, msg) = error_for("[stages]\nrequest = [\"pii\", \"pii\"]\n");
    assert_mentions(&msg, &["`stages.request[1]`", "listed twice"]);
}

#[test]
fn hash_operator_without_a_key_in_the_environment_is_refused() {
    let (_, msg) = error_for(
        "[redaction]\noperator = \"hash\"\nhash-key-env = \"RAILYARD_TEST_KEY_THAT_IS_NOT_SET\"\n",
    );
    assert_mentions(
        &msg,
        &[
            "`redaction.hash-key-env`",
            "RAILYARD_TEST_KEY_THAT_IS_NOT_SET is not set",
        ],
    );
}

#[test]
fn nested_plugin_config_flattens_to_dotted_and_repeated_keys() {
    let p = Policy::from_toml(
        "[plugins.pii]\nbuiltin = \"pii\"\n[plugins.pii.config]\nallow = [\"a\", \"b\"]\nmin-score = 0.7\n[plugins.pii.config.thresholds]\nphone = 0.9\n",
        None,
    )
    .unwrap();
    let config = &p.plugins["pii"].config;
    assert_eq!(
        config,
        &[
            ("allow".to_string(), "a".to_string()),
            ("allow".to_string(), "b".to_string()),
            ("min-score".to_string(), "0.7".to_string()),
            ("thresholds.phone".to_string(), "0.9".to_string()),
        ]
    );
}
