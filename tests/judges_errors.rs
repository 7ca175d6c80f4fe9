//! Judgements that give no verdict, recorded with why (real server and
//! judge, the `judgements` table read back): malformed answers, unknown
//! judges and rubrics, and calls over a judge's budget. Helpers from
//! `judges`.

use crate::common;
use crate::judges::{Env, Spec, guard, request_id, stop, wait_for_metric};

use common::judge::Judge;

#[test]
fn malformed_answers_unknown_judges_and_rubrics_are_recorded_as_errors() {
    let env = Env::new();
    let judge = Judge::start();
    let server = env.start(&judge, Spec::default());
    let prose = guard(&server, "JUDGE:prose");
    let fenced = guard(&server, "JUDGE:fenced");
    assert_eq!((prose.status, fenced.status), (200, 200));
    wait_for_metric(
        &server,
        "railyard_judgements_total{judge=\"j\",mode=\"async\",status=\"error\"} 1",
    );
    wait_for_metric(
        &server,
        "railyard_judgements_total{judge=\"j\",mode=\"async\",status=\"ok\"} 1",
    );
    stop(server);
    let rows = env.judgements();
    let of = |a: &common::http::Answer| {
        let id = request_id(a);
        rows.iter().find(|j| j.request_id == id).unwrap().clone()
    };
    let p = of(&prose);
    assert_eq!(p.status, "error");
    assert!(
        p.error.as_deref().unwrap().contains("malformed verdict"),
        "{:?}",
        p.error
    );
    assert_eq!(
        p.raw_answer.as_deref(),
        Some("I think this is fine, nothing to worry about.")
    );
    let f = of(&fenced);
    assert_eq!(
        (f.status.as_str(), f.verdict.as_deref()),
        ("ok", Some("allow"))
    );

    // A router naming a judge or a rubric the server does not have.
    let other = "[judges.k]\nbase-url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\n";
    let unknown = |judge_name: &str, rubric: &str| {
        let env = Env::new();
        let server = env.start(
            &judge,
            Spec {
                judge: judge_name,
                rubric,
                extra: other,
                ..Spec::default()
            },
        );
        let a = guard(&server, "hello");
        assert_eq!(a.status, 200, "{}", a.text());
        wait_for_metric(
            &server,
            &format!(
                "railyard_judgements_total{{judge=\"{judge_name}\",mode=\"async\",status=\"error\"}} 1"
            ),
        );
        stop(server);
        let rows = env.judgements();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].request_id, request_id(&a));
        assert_eq!(rows[0].status, "error");
        rows[0].clone()
    };
    let u = unknown("nobody", "strict");
    let err = u.error.unwrap();
    assert!(
        err.contains("no judge named `nobody`") && err.contains("j, k"),
        "{err}"
    );
    let r = unknown("k", "missing");
    assert!(
        r.error
            .as_deref()
            .unwrap()
            .contains("has no rubric `missing`"),
        "{:?}",
        r.error
    );
    assert_eq!(r.model, "m");
}

#[test]
fn judgements_over_a_judges_budget_are_recorded_as_skipped() {
    let env = Env::new();
    let judge = Judge::start();
    let server = env.start(
        &judge,
        Spec {
            judge_options: "timeout-ms = 20000\nmax-in-flight = 1\nqueue = 1",
            ..Spec::default()
        },
    );
    judge.hold();
    let ids: Vec<String> = (0..4)
        .map(|i| {
            let a = guard(&server, &format!("payload {i}"));
            assert_eq!(
                a.status, 200,
                "the caller is answered whatever the judge's budget"
            );
            request_id(&a)
        })
        .collect();
    // One call holds the slot, one waits, two are refused at once.
    wait_for_metric(
        &server,
        "railyard_judgements_total{judge=\"j\",mode=\"async\",status=\"skipped\"} 2",
    );
    wait_for_metric(&server, "railyard_judge_in_flight{judge=\"j\"} 1");
    wait_for_metric(&server, "railyard_judge_queued{judge=\"j\"} 1");
    judge.release();
    wait_for_metric(
        &server,
        "railyard_judgements_total{judge=\"j\",mode=\"async\",status=\"ok\"} 2",
    );
    stop(server);
    let rows = env.judgements();
    assert_eq!(rows.len(), 4, "one row per request, none lost: {rows:?}");
    for id in &ids {
        assert_eq!(rows.iter().filter(|j| &j.request_id == id).count(), 1);
    }
    let skipped: Vec<_> = rows.iter().filter(|j| j.status == "skipped").collect();
    assert_eq!(skipped.len(), 2);
    for s in skipped {
        let e = s.error.as_deref().unwrap();
        assert!(
            e.contains("over its budget") && e.contains("queue 1"),
            "{e}"
        );
        assert!(s.verdict.is_none());
    }
    assert_eq!(rows.iter().filter(|j| j.status == "ok").count(), 2);
}
