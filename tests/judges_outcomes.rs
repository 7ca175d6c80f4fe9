//! Judge outcomes told straight (a child of `judges`, sharing its real
//! server, judge and upstream helpers): a blocking judgement that gave no
//! verdict says so in the router's `decisions` row, the router's reason
//! names the rule and finding, `queued_us` is waiting and `latency_us` is
//! the judge call, and a saturated judge is refused with its own code.

use super::*;

/// A policy whose router sends each payload to judge `j` twice: `first`
/// blocking, `second` in the background.
fn start_two_rules(env: &Env, judge: &Judge, extra: &str) -> Server {
    std::fs::write(
        env.path("policy.toml"),
        r#"
name = "judged"
[plugins.router]
builtin = "judge-router"
[plugins.router.config]
rules = ["first", "second"]
first.judge = "j"
first.rubric = "strict"
first.mode = "blocking"
second.judge = "j"
second.rubric = "strict"
second.mode = "background"
[stages]
request = ["router"]
"#,
    )
    .unwrap();
    std::fs::write(
        env.path("serve.toml"),
        format!(
            "[policies]\ndefault = \"policy.toml\"\n[judges.j]\nbase-url = \"{}\"\nmodel = \"judge-model\"\n\
             timeout-ms = 10000\n[judges.j.rubrics]\nstrict = \"Judge: {{payload}}\"\n{extra}",
            judge.base_url()
        ),
    )
    .unwrap();
    let cfg = env.path("serve.toml");
    let envs = [
        ("RAILYARD_CACHE_DIR", common::cache_dir()),
        ("RAILYARD_AUDIT_URL", env.path("audit")),
        ("RAILYARD_STATE_DIR", env.path("state")),
    ];
    let envs: Vec<(&str, &Path)> = envs.iter().map(|(k, v)| (*k, v.as_path())).collect();
    Server::start(&["--config", cfg.to_str().unwrap()], &envs)
}

#[test]
fn a_blocking_judgement_without_a_verdict_marks_the_routers_decision_row() {
    let env = Env::new();
    let judge = Judge::start();
    let upstream = Upstream::start();
    let routes = format!(
        "[judging]\nblocking-budget-ms = 300\nfailure-mode = \"fail-open\"\n{}",
        every_model_to(&upstream)
    );
    let server = env.start(
        &judge,
        Spec {
            mode: "blocking",
            extra: &routes,
            ..Spec::default()
        },
    );
    let slow = chat(&server, "m", "JUDGE:slow=3000 late");
    let broken = chat(&server, "m", "JUDGE:http500");
    let prose = chat(&server, "m", "JUDGE:prose");
    let fine = chat(&server, "m", "mail ana@example.org");
    for a in [&slow, &broken, &prose, &fine] {
        assert_eq!(
            a.status,
            200,
            "fail-open lets the call through: {}",
            a.text()
        );
    }
    let ids: Vec<String> = [&slow, &broken, &prose, &fine]
        .iter()
        .map(|a| request_id(a))
        .collect();
    stop(server);
    let decisions = env.decisions();
    let router = |id: &str| {
        decisions
            .iter()
            .find(|d| d.request_id == id && d.plugin == "router")
            .unwrap()
            .clone()
    };
    for (id, outcome, said) in [
        (&ids[0], "judge-timeout", "timeout"),
        (&ids[1], "judge-error", "HTTP 500"),
        (&ids[2], "judge-error", "malformed verdict"),
    ] {
        let r = router(id);
        assert_eq!(r.action, "allow");
        assert_eq!(r.outcome, outcome, "{r:?}");
        assert_eq!(r.failure_mode.as_deref(), Some("fail-open"), "{r:?}");
        let error = r.error.as_deref().unwrap();
        assert!(
            error.starts_with("judge `j`") && error.contains(said),
            "{error}"
        );
        assert!(r.reason.contains("fail-open: allowed"), "{}", r.reason);
        // The rule (and why it fired), not just the judge's name.
        assert!(
            r.reason.contains(
                "routed to j (rubric strict, blocking): rule everything: applies to every payload"
            ),
            "{}",
            r.reason
        );
    }
    // A judgement that gave its verdict leaves the row as the router made it.
    let ok = router(&ids[3]);
    assert_eq!((ok.outcome.as_str(), ok.failure_mode), ("ok", None));
    assert!(ok.error.is_none());
}

#[test]
fn a_background_judgement_behind_a_blocking_one_records_the_wait_as_queueing() {
    let env = Env::new();
    let judge = Judge::start();
    let server = start_two_rules(&env, &judge, "[judging]\nblocking-budget-ms = 5000\n");
    let a = guard(&server, "JUDGE:slow=600 take your time");
    assert_eq!(a.status, 200, "{}", a.text());
    wait_for_metric(
        &server,
        "railyard_judgements_total{judge=\"j\",mode=\"async\",status=\"ok\"} 1",
    );
    stop(server);
    let rows = env.judgements();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let of = |mode: &str| rows.iter().find(|j| j.mode == mode).unwrap();
    let (blocking, background) = (of("blocking"), of("async"));
    // Both were asked for at once; the background one started only after
    // the blocking one ended: that wait is queueing, its call is latency.
    assert_eq!(blocking.requested_at_us, background.requested_at_us);
    assert!(blocking.latency_us >= 600_000, "{blocking:?}");
    assert!(
        background.queued_us >= blocking.queued_us + blocking.latency_us,
        "{background:?} vs {blocking:?}"
    );
    assert!(background.latency_us >= 600_000, "{background:?}");
    for j in [blocking, background] {
        assert!(j.requested_at_us + j.queued_us + j.latency_us <= j.timestamp_us + 1_000);
    }
}

#[test]
fn shutdown_splits_an_unfinished_judgement_into_queueing_and_latency() {
    let env = Env::new();
    let judge = Judge::start();
    let server = env.start(
        &judge,
        Spec {
            grace_ms: 300,
            ..Spec::default()
        },
    );
    judge.hold();
    let a = guard(&server, "never judged");
    assert_eq!(a.status, 200);
    // The call is with the judge (it was asked), not waiting for a slot.
    let until = Instant::now() + Duration::from_secs(20);
    while judge.asked().is_empty() {
        assert!(Instant::now() < until, "the judge was never asked");
        std::thread::sleep(Duration::from_millis(10));
    }
    stop(server);
    let rows = env.judgements();
    assert_eq!(rows.len(), 1);
    let j = &rows[0];
    assert_eq!(j.status, "error");
    assert!(
        j.latency_us >= 300_000,
        "the grace was spent in the call: {j:?}"
    );
    assert!(j.queued_us < j.latency_us, "{j:?}");
}

#[test]
fn a_saturated_blocking_judge_refuses_with_its_own_code() {
    let env = Env::new();
    let judge = Judge::start();
    let upstream = Upstream::start();
    let routes = format!(
        "[judging]\nblocking-budget-ms = 20000\n{}",
        every_model_to(&upstream)
    );
    let server = env.start(
        &judge,
        Spec {
            mode: "blocking",
            judge_options: "timeout-ms = 20000\nmax-in-flight = 1\nqueue = 0",
            extra: &routes,
            ..Spec::default()
        },
    );
    judge.hold();
    let addr = server.addr;
    let first = std::thread::spawn(move || {
        post(
            addr,
            "/v1/chat/completions",
            &[],
            &json!({"model": "m", "messages": [{"role": "user", "content": "first"}]}).to_string(),
        )
    });
    wait_for_metric(&server, "railyard_judge_in_flight{judge=\"j\"} 1");
    let second = chat(&server, "m", "second");
    assert_eq!(second.status, 503, "{}", second.text());
    assert_eq!(second.code(), "judge_saturated");
    assert!(second.header("retry-after").is_some());
    judge.release();
    let first = first.join().unwrap();
    assert_eq!(first.status, 200, "{}", first.text());
    let id = request_id(&second);
    stop(server);
    let router = env
        .decisions()
        .into_iter()
        .find(|d| d.request_id == id && d.plugin == "router")
        .unwrap();
    assert_eq!(router.outcome, "judge-saturated");
    assert_eq!(router.failure_mode.as_deref(), Some("fail-closed"));
    assert_eq!(router.action, "block");
    let call = env
        .inferences()
        .into_iter()
        .find(|i| i.request_id == id)
        .unwrap();
    assert_eq!(call.status_code, Some(503));
    let j = env
        .judgements()
        .into_iter()
        .find(|j| j.request_id == id)
        .unwrap();
    assert_eq!(
        (j.status.as_str(), j.effect.as_str()),
        ("skipped", "fail-closed")
    );
}
