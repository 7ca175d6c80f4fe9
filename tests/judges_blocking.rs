//! Blocking judgements end to end (real server, upstream and judge, Delta
//! tables read back): a block verdict blocks the proxied call in every
//! table, and a judge past its budget applies the route's failure mode.
//! Helpers from `judges`.

use crate::common;
use crate::judges::{Env, Spec, chat, every_model_to, request_id, stop};

use common::http::Upstream;
use common::judge::Judge;

#[test]
fn a_blocking_block_verdict_blocks_the_proxied_request_in_every_table() {
    let env = Env::new();
    let judge = Judge::start();
    let upstream = Upstream::start();
    let routes = every_model_to(&upstream);
    let server = env.start(
        &judge,
        Spec {
            mode: "blocking",
            extra: &routes,
            ..Spec::default()
        },
    );
    let blocked = chat(&server, "fake-model", "please JUDGE:block this");
    assert_eq!(blocked.status, 400, "{}", blocked.text());
    assert_eq!(blocked.code(), "request_blocked");
    assert!(blocked.text().contains("judge `j`"), "{}", blocked.text());
    let blocked_id = request_id(&blocked);
    let passed = chat(&server, "fake-model", "JUDGE:flag harmless");
    assert_eq!(passed.status, 200, "{}", passed.text());
    let passed_id = request_id(&passed);
    // Each call is a trace; its judge call is a span of it, and the judge
    // is sent that span's `traceparent`.
    let trace_of = |a: &common::http::Answer| {
        let tp = a.header("traceparent").expect("a traceparent header");
        tp.split('-').nth(1).unwrap().to_string()
    };
    let (blocked_trace, passed_trace) = (trace_of(&blocked), trace_of(&passed));
    assert_ne!(blocked_trace, passed_trace);
    let asked = judge.asked();
    assert_eq!(asked.len(), 2, "{asked:?}");
    for (a, call) in asked.iter().zip([&blocked, &passed]) {
        let tp = a
            .traceparent
            .as_deref()
            .expect("the judge got a traceparent");
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts[1], trace_of(call), "{tp}");
        // A span of its own, not the call's.
        let call_span = call
            .header("traceparent")
            .unwrap()
            .split('-')
            .nth(2)
            .unwrap();
        assert_ne!(parts[2], call_span);
    }
    stop(server);
    // The blocked prompt never reached the model; the flagged one did.
    assert_eq!(upstream.prompts(), ["JUDGE:flag harmless"]);

    let rows = env.judgements();
    let of = |id: &str| rows.iter().find(|j| j.request_id == id).unwrap();
    let b = of(&blocked_id);
    assert_eq!((b.mode.as_str(), b.status.as_str()), ("blocking", "ok"));
    assert_eq!(
        (b.verdict.as_deref(), b.effect.as_str()),
        (Some("block"), "blocked")
    );
    assert_eq!(b.categories, ["TEST_BLOCK"]);
    assert_eq!(b.route, "fake-model");
    let f = of(&passed_id);
    assert_eq!(
        (f.verdict.as_deref(), f.effect.as_str()),
        (Some("flag"), "flagged")
    );

    let decisions = env.decisions();
    let router = decisions
        .iter()
        .find(|d| d.decision_id == b.decision_id)
        .unwrap();
    assert_eq!(router.action, "block");
    assert!(
        router.reason.contains("says block (score 0.97)"),
        "{}",
        router.reason
    );
    let inferences = env.inferences();
    let call = inferences
        .iter()
        .find(|i| i.request_id == blocked_id)
        .unwrap();
    assert_eq!(
        (call.action.as_str(), call.status_code),
        ("block", Some(400))
    );
    assert_eq!(call.trace_id.as_deref(), Some(blocked_trace.as_str()));
    let flagged = decisions
        .iter()
        .find(|d| d.decision_id == f.decision_id)
        .unwrap();
    assert_eq!(flagged.action, "flag");
}

#[test]
fn a_blocking_judge_past_its_budget_applies_the_route_failure_mode() {
    let env = Env::new();
    let judge = Judge::start();
    let upstream = Upstream::start();
    let routes = format!(
        "[judging]\nblocking-budget-ms = 300\n[upstreams.u]\nbase-url = \"{}\"\n\
         [[routes]]\nmodel = \"open-model\"\nupstream = \"u\"\njudge-failure-mode = \"fail-open\"\n\
         [[routes]]\nmodel = \"*\"\nupstream = \"u\"\n",
        upstream.base_url()
    );
    let server = env.start(
        &judge,
        Spec {
            mode: "blocking",
            extra: &routes,
            ..Spec::default()
        },
    );
    let closed = chat(&server, "closed-model", "JUDGE:slow=3000 closed");
    assert_eq!(closed.status, 400, "{}", closed.text());
    assert_eq!(closed.code(), "request_blocked");
    let open = chat(&server, "open-model", "JUDGE:slow=3000 open");
    assert_eq!(open.status, 200, "{}", open.text());
    // A judge that fails outright is no verdict either.
    let broken = chat(&server, "closed-model", "JUDGE:http500");
    assert_eq!(broken.status, 400, "{}", broken.text());
    let (closed_id, open_id, broken_id) =
        (request_id(&closed), request_id(&open), request_id(&broken));
    stop(server);
    assert_eq!(upstream.prompts(), ["JUDGE:slow=3000 open"]);

    let rows = env.judgements();
    let of = |id: &str| rows.iter().find(|j| j.request_id == id).unwrap();
    let c = of(&closed_id);
    assert_eq!(
        (c.status.as_str(), c.effect.as_str()),
        ("timeout", "fail-closed")
    );
    assert!(
        c.error.as_deref().unwrap().contains("blocking budget"),
        "{:?}",
        c.error
    );
    assert!(c.verdict.is_none());
    let o = of(&open_id);
    assert_eq!(
        (o.status.as_str(), o.effect.as_str()),
        ("timeout", "fail-open")
    );
    let e = of(&broken_id);
    assert_eq!(
        (e.status.as_str(), e.effect.as_str()),
        ("error", "fail-closed")
    );
    assert!(
        e.error.as_deref().unwrap().contains("HTTP 500"),
        "{:?}",
        e.error
    );
    assert_eq!(e.raw_answer.as_deref(), Some("judge exploded"));
    let decisions = env.decisions();
    let router = decisions
        .iter()
        .find(|d| d.decision_id == c.decision_id)
        .unwrap();
    assert_eq!(router.action, "block");
    assert!(
        router.reason.contains("gave no verdict (timeout"),
        "{}",
        router.reason
    );
}
