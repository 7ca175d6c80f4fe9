//! What routing to an async judge costs the request path.
//!
//! Three policies, measured side by side on one 2 KiB-ish prompt with a
//! real judge HTTP server on 127.0.0.1 that answers at once:
//!
//! - `judge-routing/no-router` — the default request chain (pii, secrets,
//!   prompt-injection);
//! - `judge-routing/router-routes-nothing` — the same chain plus the
//!   judge-router, whose rule listens for a category that never occurs:
//!   the router plugin's own call, no judge request;
//! - `judge-routing/router-async` — the same chain plus the router sending
//!   every payload to an async judge: evaluate, `Dispatcher::judge` (no
//!   blocking request: returns at once) and `Dispatcher::settle`, which
//!   starts the judgement in a task of its own. The judge call, its answer
//!   and the row run on the runtime's worker thread, off the measured
//!   path (on this 2-core machine they do compete for the second core);
//! - `judge-routing/router-async-judge-saturated` — the same dispatch to a
//!   judge whose one slot is taken and whose queue is 0: every judgement is
//!   refused at once in its task, so almost no background work competes
//!   and what is left is the dispatch on the request path.
//!
//! The target: `router-async` indistinguishable from
//! `router-routes-nothing` at the median (the dispatch itself is free);
//! the router plugin's own cost is the difference to `no-router`.
//!
//! Run: `cargo bench -p railyard --bench judge_routing`.

#[path = "../tests/common/judge.rs"]
mod judge_server;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use railyard::engine::{EngineSettings, RailyardEngine};
use railyard::judge::Dispatcher;
use railyard::judge::config::{BlockingPolicy, JudgeConfig};
use railyard::plugin::PluginLoader;
use railyard::policy::Capture;
use railyard::{Payload, Pipeline, Policy, Stage};

const CHAIN: &str = r#"
name = "bench"
[plugins.pii]
builtin = "pii"
action = "redact"
[plugins.secrets]
builtin = "secrets"
action = "redact"
[plugins.prompt-injection]
builtin = "prompt-injection"
[plugins.router]
builtin = "judge-router"
[plugins.router.config]
rules = ["r"]
r.judge = "j"
r.mode = "background"
"#;

fn policy(router: Option<&str>) -> Policy {
    let text = match router {
        None => format!(
            "{}\n[stages]\nrequest = [\"pii\", \"secrets\", \"prompt-injection\"]\n",
            CHAIN.split("[plugins.router]").next().unwrap()
        ),
        Some(rule_extra) => format!(
            "{CHAIN}{rule_extra}\n[stages]\nrequest = [\"pii\", \"secrets\", \"prompt-injection\", \"router\"]\n"
        ),
    };
    Policy::from_toml(&text, None).unwrap()
}

fn bench(c: &mut Criterion) {
    let judge = judge_server::Judge::start();
    let engine = RailyardEngine::new(EngineSettings {
        pool_instances: 64,
        cache_dir: Some(tempfile::tempdir().unwrap().keep()),
        ..EngineSettings::default()
    })
    .unwrap();
    let loader = PluginLoader::new(engine).unwrap();
    let pipelines = [
        ("no-router", Pipeline::load(&loader, policy(None)).unwrap()),
        (
            "router-routes-nothing",
            Pipeline::load(&loader, policy(Some("r.categories = [\"NEVER_SEEN\"]"))).unwrap(),
        ),
        (
            "router-async",
            Pipeline::load(&loader, policy(Some(""))).unwrap(),
        ),
    ];
    let judges = BTreeMap::from([(
        "j".to_string(),
        JudgeConfig {
            name: "j".into(),
            base_url: judge.base_url(),
            model: "judge-model".into(),
            api_key_env: None,
            timeout: Duration::from_secs(5),
            max_in_flight: 16,
            max_per_second: None,
            queue: 100_000,
            rubrics: BTreeMap::new(),
        },
    )]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let _in_runtime = rt.enter();
    let dispatcher = Arc::new(Dispatcher::new(&judges, None).unwrap());
    let text = "Please summarise the attached quarterly report for the board. ".repeat(32);
    let mut payload = Payload::text(Stage::Request, text);
    payload.route = "bench".into();
    for (_, p) in &pipelines[1..] {
        let e = p.evaluate(&payload);
        assert_eq!(e.decisions.len(), 4);
    }
    assert!(pipelines[1].1.evaluate(&payload).judge_requests.is_empty());
    assert_eq!(pipelines[2].1.evaluate(&payload).judge_requests.len(), 1);

    // The same dispatch with the judge saturated: one held call fills its
    // only slot and its queue is 0, so every judgement is refused at once
    // in its task (`skipped`). Nearly no background work: what is left is
    // the dispatch on the request path.
    let held = judge_server::Judge::start();
    held.hold();
    let mut saturated_cfg = judges.clone();
    let j = saturated_cfg.get_mut("j").unwrap();
    j.base_url = held.base_url();
    j.max_in_flight = 1;
    j.queue = 0;
    let saturated = Arc::new(Dispatcher::new(&saturated_cfg, None).unwrap());

    let mut g = c.benchmark_group("judge-routing");
    g.measurement_time(Duration::from_secs(8));
    let variants = [
        (pipelines[0].0, &pipelines[0].1, &dispatcher),
        (pipelines[1].0, &pipelines[1].1, &dispatcher),
        (pipelines[2].0, &pipelines[2].1, &dispatcher),
        ("router-async-judge-saturated", &pipelines[2].1, &saturated),
    ];
    for (name, pipeline, dispatcher) in variants {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut e = pipeline.evaluate(black_box(&payload));
                let judged = rt.block_on(dispatcher.judge(
                    &mut e,
                    &payload,
                    BlockingPolicy::default(),
                    Capture::Redacted,
                    true,
                ));
                dispatcher.settle(judged, &[]).unwrap();
                black_box(e.action)
            })
        });
    }
    g.finish();
    held.release();
    rt.block_on(saturated.drain(Duration::from_secs(30)));
    // Every async judgement started was answered and recorded.
    rt.block_on(dispatcher.drain(Duration::from_secs(30)));
    assert_eq!(dispatcher.pending(), 0);
}

criterion_group!(benches, bench);
criterion_main!(benches);
