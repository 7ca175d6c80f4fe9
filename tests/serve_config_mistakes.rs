//! `serve.toml` mistakes that used to start silently are refused at start,
//! naming the key: a route no call can reach (after a catch-all, or a
//! duplicate model), a `*` before the end of a model pattern, an empty
//! model, and an `api-key-env` naming an unset variable. (Config reload
//! refuses the same: serve_config_reload.)

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `railyard serve` on `config`; it must exit with an error whose
/// text contains every one of `expected`.
fn refused(config: &str, expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("strict.toml"),
        "[stages]\nrequest = [\"pii\"]\n",
    )
    .unwrap();
    let path = tmp.path().join("serve.toml");
    let config = format!(
        "[policies]\nstrict = \"strict.toml\"\n[upstreams.up]\nbase-url = \"http://127.0.0.1:9/v1\"\n[upstreams.claude]\nbase-url = \"http://127.0.0.1:9/v1\"\napi = \"anthropic\"\n{config}"
    );
    std::fs::write(&path, &config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(["serve", "--no-audit", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .env("RAILYARD_CACHE_DIR", common::cache_dir())
        .env("RAILYARD_STATE_DIR", tmp.path())
        .env_remove("RY_TEST_UNSET_UPSTREAM_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A refusal comes before anything is loaded; a server still running
    // after this long has started with the mistake.
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("railyard serve started instead of refusing:\n{config}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{config}\n{err}");
    for e in expected {
        assert!(err.contains(e), "{config}\nexpected {e:?} in: {err}");
    }
}

#[test]
fn a_route_no_call_can_reach_is_refused_naming_both_routes() {
    let route = |model: &str, upstream: &str, policy: &str| {
        format!(
            "[[routes]]\nmodel = \"{model}\"\nupstream = \"{upstream}\"\npolicy = \"{policy}\"\n"
        )
    };
    // After a catch-all of the same API.
    refused(
        &(route("*", "up", "default") + &route("gpt-4o", "up", "strict")),
        &[
            "routes[1].model",
            "routes[1] (model `gpt-4o`) can never be used",
            "routes[0] (model `*`)",
        ],
    );
    // A duplicate model, and a prefix inside an earlier prefix.
    refused(
        &(route("gpt-4o", "up", "default") + &route("gpt-4o", "up", "strict")),
        &["routes[1] (model `gpt-4o`)", "routes[0] (model `gpt-4o`)"],
    );
    refused(
        &(route("claude-*", "claude", "default")
            + &route("gpt-*", "up", "default")
            + &route("gpt-4o*", "up", "strict")),
        &["routes[2] (model `gpt-4o*`)", "routes[1] (model `gpt-*`)"],
    );
}

#[test]
fn a_star_before_the_end_and_an_empty_model_are_refused() {
    refused(
        "[[routes]]\nmodel = \"gpt-*-mini\"\nupstream = \"up\"\n",
        &["routes[0].model", "`gpt-*-mini` has a `*` before its end"],
    );
    refused(
        "[[routes]]\nmodel = \"\"\nupstream = \"up\"\n",
        &["routes[0].model", "must not be empty"],
    );
    refused(
        "[[routes]]\nmodel = \"*\"\nupstream = \"up\"\n\
         [[callers]]\nname = \"a\"\nkey-sha256 = \"2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b\"\nmodels = [\"gpt-4o\", \"gpt-*-mini\"]\n",
        &[
            "callers[0].models[1]",
            "`gpt-*-mini` has a `*` before its end",
        ],
    );
}

#[test]
fn an_api_key_env_naming_an_unset_variable_is_refused() {
    refused(
        "[upstreams.keyed]\nbase-url = \"http://127.0.0.1:9/v1\"\napi-key-env = \"RY_TEST_UNSET_UPSTREAM_KEY\"\n",
        &[
            "upstreams.keyed.api-key-env",
            "`RY_TEST_UNSET_UPSTREAM_KEY` is not set",
        ],
    );
}
