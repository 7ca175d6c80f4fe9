//! `serve.toml` read and validated: the defaults, mistakes named by their
//! dotted key, judges and their budgets, route matching.

use super::*;

fn parse(text: &str) -> Result<ServeConfig, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("serve.toml");
    std::fs::write(&p, text).unwrap();
    ServeConfig::from_file(&p)
}

#[test]
fn empty_file_is_the_defaults() {
    let c = parse("").unwrap();
    assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
    assert!(c.callers.is_empty() && c.routes.is_empty());
}

#[test]
fn mistakes_name_the_key() {
    let e = parse("[limits]\nmax-body-kib = 0\n").unwrap_err();
    assert_eq!(e.key, "limits.max-body-kib");
    let e = parse("[[routes]]\nmodel = \"*\"\nupstream = \"nope\"\n").unwrap_err();
    assert_eq!(e.key, "routes[0].upstream");
    let e = parse("[[callers]]\nname = \"a\"\nkey-sha256 = \"short\"\n").unwrap_err();
    assert_eq!(e.key, "callers[0].key-sha256");
    let e = parse("[limits]\nmax-bodykib = 1\n").unwrap_err();
    assert!(e.message.contains("unknown field"), "{e}");
    let e = parse("listen = \"here\"\n").unwrap_err();
    assert_eq!(e.key, "listen");
}

#[test]
fn judges_and_their_budgets_are_validated_with_the_key_named() {
    let c = parse(
        "[judging]\nblocking-budget-ms = 500\n[judges.j]\nbase-url = \"http://127.0.0.1:1/v1/\"\nmodel = \"m\"\nmax-in-flight = 2\nqueue = 3\n[judges.j.rubrics]\nr = \"Judge {payload}\"\n[upstreams.a]\nbase-url = \"http://127.0.0.1:1/v1\"\n[[routes]]\nmodel = \"risky\"\nupstream = \"a\"\njudge-failure-mode = \"fail-open\"\n[[routes]]\nmodel = \"*\"\nupstream = \"a\"\n",
    )
    .unwrap();
    let j = &c.judges["j"];
    assert_eq!(j.base_url, "http://127.0.0.1:1/v1");
    assert_eq!((j.max_in_flight, j.queue), (2, 3));
    assert_eq!(j.rubric("r"), Some("Judge {payload}"));
    assert!(j.rubric("default").is_some() && j.rubric("nope").is_none());
    assert_eq!(
        c.judging("risky").failure_mode,
        crate::policy::FailureMode::FailOpen
    );
    assert_eq!(c.judging("risky").budget, Duration::from_millis(500));
    assert_eq!(
        c.judging("other").failure_mode,
        crate::policy::FailureMode::FailClosed
    );
    for (text, key) in [
        (
            "[judges.j]\nbase-url = \"ftp://x\"\nmodel = \"m\"\n",
            "judges.j.base-url",
        ),
        (
            "[judges.j]\nbase-url = \"http://x\"\nmodel = \" \"\n",
            "judges.j.model",
        ),
        (
            "[judges.j]\nbase-url = \"http://x\"\nmodel = \"m\"\nmax-in-flight = 0\n",
            "judges.j.max-in-flight",
        ),
        (
            "[judges.j]\nbase-url = \"http://x\"\nmodel = \"m\"\nmax-per-second = -1.0\n",
            "judges.j.max-per-second",
        ),
        (
            "[judging]\nfailure-mode = \"disabled\"\n",
            "judging.failure-mode",
        ),
        (
            "[judging]\nblocking-budget-ms = 0\n",
            "judging.blocking-budget-ms",
        ),
    ] {
        let e = parse(text).unwrap_err();
        assert_eq!(e.key, key, "{text}: {e}");
    }
    let e = parse("[judges.j]\nbase-url = \"http://x\"\nmodel = \"m\"\nmodle = 1\n").unwrap_err();
    assert!(e.message.contains("unknown field"), "{e}");
}

#[test]
fn routes_match_exactly_or_by_prefix() {
    let c = parse(
        "[upstreams.a]\nbase-url = \"http://127.0.0.1:1/v1\"\n[[routes]]\nmodel = \"gpt-4*\"\nupstream = \"a\"\n[[routes]]\nmodel = \"small\"\nupstream = \"a\"\n",
    )
    .unwrap();
    assert!(c.route("gpt-4o").is_some());
    assert!(c.route("small").is_some());
    assert!(c.route("smaller").is_none());
}

#[test]
fn a_later_route_is_reachable_when_the_earlier_one_speaks_another_api() {
    let c = parse(
        "[upstreams.oai]\nbase-url = \"http://127.0.0.1:1/v1\"\n[upstreams.claude]\nbase-url = \"http://127.0.0.1:1/v1\"\napi = \"anthropic\"\n[[routes]]\nmodel = \"*\"\nupstream = \"claude\"\n[[routes]]\nmodel = \"gpt-4o\"\nupstream = \"oai\"\n[[routes]]\nmodel = \"gpt-4o*\"\nupstream = \"oai\"\n",
    )
    .unwrap();
    assert_eq!(c.route_for("gpt-4o", Api::OpenAi).unwrap().upstream, "oai");
    let e = parse(
        "[upstreams.oai]\nbase-url = \"http://127.0.0.1:1/v1\"\n[[routes]]\nmodel = \"gpt-4o*\"\nupstream = \"oai\"\n[[routes]]\nmodel = \"gpt-4o-mini\"\nupstream = \"oai\"\n",
    )
    .unwrap_err();
    assert_eq!(e.key, "routes[1].model");
    assert!(e.message.contains("routes[0] (model `gpt-4o*`)"), "{e}");
}
