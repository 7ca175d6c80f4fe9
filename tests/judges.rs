//! Judge routing end to end: a real `railyard serve` process, a real
//! upstream and a real (deterministic) judge HTTP server on 127.0.0.1, and
//! the `judgements`, `decisions` and `inferences` Delta tables read back
//! through the Delta log after the server stopped.
//!
//! Shared by `judges_blocking` (blocking judgements hold the call) and
//! `judges_errors` (judgements with no verdict, recorded with why).

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::http::{Server, Upstream, get, post};
use common::judge::Judge;
use railyard::audit::{self, DecisionRow, InferenceRow, JudgementRow};
use railyard::cli::log::{read_decisions, read_inferences, read_judgements};
use serde_json::json;

pub(crate) struct Env {
    dir: tempfile::TempDir,
}

/// What a test's server and policy look like.
pub(crate) struct Spec<'a> {
    /// The router rule's `mode`: `background` or `blocking`.
    pub(crate) mode: &'a str,
    /// The judge and rubric the router names.
    pub(crate) judge: &'a str,
    pub(crate) rubric: &'a str,
    /// The policy's `[stages]` lines.
    pub(crate) stages: &'a str,
    /// More keys of `[judges.j]`.
    pub(crate) judge_options: &'a str,
    /// More serve config (tables after the judge).
    pub(crate) extra: &'a str,
    pub(crate) grace_ms: u64,
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Spec {
            mode: "background",
            judge: "j",
            rubric: "strict",
            stages: "request = [\"pii\", \"router\"]",
            judge_options: "timeout-ms = 5000",
            extra: "",
            grace_ms: 5000,
        }
    }
}

impl Env {
    pub(crate) fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Writes the serve config (with `[judges.j]` pointing at `judge`) and
    /// a policy whose router sends every payload of `spec.stages` to one
    /// judge; starts the server.
    pub(crate) fn start(&self, judge: &Judge, spec: Spec) -> Server {
        std::fs::write(
            self.path("policy.toml"),
            format!(
                r#"
name = "judged"
[plugins.pii]
builtin = "pii"
action = "redact"
[plugins.router]
builtin = "judge-router"
[plugins.router.config]
rules = ["everything"]
everything.judge = "{}"
everything.rubric = "{}"
everything.mode = "{}"
everything.priority = 3
[stages]
{}
"#,
                spec.judge, spec.rubric, spec.mode, spec.stages
            ),
        )
        .unwrap();
        std::fs::write(
            self.path("serve.toml"),
            format!(
                r#"
[policies]
default = "policy.toml"
[limits]
shutdown-grace-ms = {}
[judges.j]
base-url = "{}"
model = "judge-model"
api-key-env = "TEST_JUDGE_KEY"
{}
[judges.j.rubrics]
strict = "Rubric strict for the {{stage}} of {{route}}. Findings: {{findings}}. Text: {{payload}}"
{}
"#,
                spec.grace_ms,
                judge.base_url(),
                spec.judge_options,
                spec.extra
            ),
        )
        .unwrap();
        let cfg = self.path("serve.toml");
        let envs = [
            ("RAILYARD_CACHE_DIR", common::cache_dir()),
            ("RAILYARD_AUDIT_URL", self.path("audit")),
            ("RAILYARD_STATE_DIR", self.path("state")),
            ("TEST_JUDGE_KEY", PathBuf::from("judge-secret")),
        ];
        let envs: Vec<(&str, &Path)> = envs.iter().map(|(k, v)| (*k, v.as_path())).collect();
        Server::start(&["--config", cfg.to_str().unwrap()], &envs)
    }

    fn root(&self) -> url::Url {
        audit::root_url(&self.path("audit").display().to_string()).unwrap()
    }

    pub(crate) fn judgements(&self) -> Vec<JudgementRow> {
        rt().block_on(read_judgements(&self.root(), &Default::default()))
            .unwrap()
    }

    pub(crate) fn decisions(&self) -> Vec<DecisionRow> {
        rt().block_on(read_decisions(&self.root(), &Default::default()))
            .unwrap()
    }

    pub(crate) fn inferences(&self) -> Vec<InferenceRow> {
        rt().block_on(read_inferences(&self.root(), &Default::default()))
            .unwrap()
    }
}

/// Serve config sending every model to `upstream`.
pub(crate) fn every_model_to(upstream: &Upstream) -> String {
    format!(
        "[upstreams.u]\nbase-url = \"{}\"\n[[routes]]\nmodel = \"*\"\nupstream = \"u\"\n",
        upstream.base_url()
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub(crate) fn guard(server: &Server, text: &str) -> common::http::Answer {
    post(
        server.addr,
        "/v1/guard",
        &[],
        &json!({"stage": "request", "route": "app", "text": text}).to_string(),
    )
}

pub(crate) fn chat(server: &Server, model: &str, text: &str) -> common::http::Answer {
    post(
        server.addr,
        "/v1/chat/completions",
        &[],
        &json!({"model": model, "messages": [{"role": "user", "content": text}]}).to_string(),
    )
}

pub(crate) fn request_id(a: &common::http::Answer) -> String {
    a.header("x-railyard-request-id").unwrap().to_string()
}

/// Polls `/metrics` until `line` appears (bounded), so a test waits for a
/// state instead of sleeping for a guessed time.
pub(crate) fn wait_for_metric(server: &Server, line: &str) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let m = get(server.addr, "/metrics", &[]).text();
        if m.lines().any(|l| l == line) {
            return;
        }
        assert!(Instant::now() < until, "`{line}` never appeared in:\n{m}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn stop(mut server: Server) {
    let stderr = server.stderr.clone();
    assert!(
        server.stop(),
        "server did not stop cleanly: {}",
        stderr.lock().unwrap()
    );
}

#[test]
fn async_judgement_answers_the_caller_first_and_joins_its_decision_and_inference() {
    let env = Env::new();
    let judge = Judge::start();
    let server = env.start(&judge, Spec::default());
    // The judge answers nothing until released: the caller's answer below
    // can only have come before the judgement.
    judge.hold();
    let a = guard(&server, "mail ana@example.org about the launch");
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["action"], "redact");
    let id = request_id(&a);
    wait_for_metric(&server, "railyard_judgements_pending 1");
    assert!(judge.asked().len() <= 1);
    judge.release();
    wait_for_metric(
        &server,
        "railyard_judgements_total{judge=\"j\",mode=\"async\",status=\"ok\"} 1",
    );
    stop(server);

    // What the judge was shown: the redacted text, the rubric, the key.
    let asked = judge.asked();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].body["model"], "judge-model");
    assert_eq!(
        asked[0].authorization.as_deref(),
        Some("Bearer judge-secret")
    );
    let prompt = asked[0].prompt();
    assert!(
        prompt.starts_with("Rubric strict for the request of app."),
        "{prompt}"
    );
    assert!(prompt.contains("<EMAIL_ADDRESS>"), "{prompt}");
    assert!(
        !prompt.contains("ana@example.org"),
        "PII reached the judge: {prompt}"
    );
    assert!(prompt.contains("EMAIL_ADDRESS (score"), "{prompt}");

    let rows = env.judgements();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let j = &rows[0];
    assert_eq!(j.request_id, id);
    assert_eq!(
        (j.judge.as_str(), j.model.as_str(), j.rubric.as_str()),
        ("j", "judge-model", "strict")
    );
    assert_eq!((j.mode.as_str(), j.status.as_str()), ("async", "ok"));
    assert_eq!(j.verdict.as_deref(), Some("allow"));
    assert_eq!(j.score, Some(0.05));
    assert_eq!(j.reasoning.as_deref(), Some("nothing wrong"));
    assert_eq!((j.effect.as_str(), j.priority), ("logged", 3));
    assert_eq!((j.stage.as_str(), j.route.as_str()), ("request", "app"));
    assert_eq!(j.caller, "anonymous");
    assert!(j.error.is_none() && j.raw_answer.is_none());
    // Queueing up to the call, then the call: together no longer than
    // from the request to the record.
    assert!(j.latency_us > 0 && j.timestamp_us >= j.requested_at_us);
    assert!(j.requested_at_us + j.queued_us + j.latency_us <= j.timestamp_us + 1_000);
    // Joinable: the router's decision row, and the call's inference row.
    let decisions = env.decisions();
    let router = decisions
        .iter()
        .find(|d| d.decision_id == j.decision_id)
        .expect("the judgement's decision_id names a decisions row");
    assert_eq!(
        (router.plugin.as_str(), router.request_id.as_str()),
        ("router", id.as_str())
    );
    assert_eq!(router.plugin_digest, j.router_digest);
    assert_eq!(j.router, "router");
    assert!(router.reason.contains("routed to j"), "{}", router.reason);
    assert!(env.inferences().iter().any(|i| i.request_id == id));
}

#[test]
fn shutdown_records_async_judgements_that_never_got_an_answer() {
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
    wait_for_metric(&server, "railyard_judgements_pending 1");
    stop(server);
    let rows = env.judgements();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].request_id, request_id(&a));
    assert_eq!(rows[0].status, "error");
    assert!(
        rows[0]
            .error
            .as_deref()
            .unwrap()
            .contains("shut down before the judge answered"),
        "{:?}",
        rows[0].error
    );
}

#[test]
fn a_streamed_answer_is_judged_after_it_is_released() {
    let env = Env::new();
    let judge = Judge::start();
    let upstream = Upstream::start();
    let routes = every_model_to(&upstream);
    let server = env.start(
        &judge,
        Spec {
            mode: "blocking",
            stages: "response = [\"router\"]",
            extra: &routes,
            ..Spec::default()
        },
    );
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &[],
        &json!({"model": "fake-model", "stream": true, "messages": [{"role": "user", "content": "SAY: JUDGE:block streamed"}]}).to_string(),
    );
    assert_eq!(a.status, 200);
    let (text, error) = common::http::streamed_text(&a.text());
    assert_eq!(text, "JUDGE:block streamed");
    assert!(error.is_none());
    wait_for_metric(
        &server,
        "railyard_judgements_total{judge=\"j\",mode=\"blocking\",status=\"ok\"} 1",
    );
    stop(server);
    let rows = env.judgements();
    assert_eq!(rows.len(), 1);
    let j = &rows[0];
    assert_eq!(
        (j.stage.as_str(), j.mode.as_str()),
        ("response", "blocking")
    );
    assert_eq!(
        (j.verdict.as_deref(), j.effect.as_str()),
        (Some("block"), "streamed")
    );
    assert!(
        env.decisions()
            .iter()
            .any(|d| d.decision_id == j.decision_id)
    );
}

#[path = "judges_outcomes.rs"]
mod outcomes;
