//! The payload is the whole call in the Responses and Messages formats too
//! (`serve_payload_coverage` does chat and completions): a canary card and
//! an injection in every text-bearing field of a `/v1/responses` request,
//! and in every text of its answers, unstreamed and streamed; a card in a
//! `/v1/messages` request and answer and an injection in each text of its
//! answers, through a real `railyard serve` and the fake upstreams on
//! 127.0.0.1. Under the default policy no card reaches the upstream or the
//! client and no injection reaches the upstream; with the injection rail
//! on answers, an answer with one is blocked, streamed or not, and none of
//! it reaches the client. The audit rows, read back through the Delta log,
//! name the field of each finding.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::anthropic_upstream::{CARD, Upstream};
use crate::common;
use crate::responses_upstream::{EVERYTHING_FIELDS, INJECTION};
use crate::serve_payload_coverage::finding_fields;
use common::http::{Server, post};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// A server with both formats on the fake upstream: models `*-answers`
    /// run a policy with the injection rail on answers too.
    fn start(&self, upstream: &Upstream) -> Server {
        let answers = self.path("answers.toml");
        std::fs::write(
            &answers,
            "name = \"answers\"\n[defaults]\ntimeout-ms = 20000\n[plugins.prompt-injection]\nbuiltin = \"prompt-injection\"\n[stages]\nrequest = [\"pii\"]\nresponse = [\"pii\", \"secrets\", \"prompt-injection\"]\n",
        )
        .unwrap();
        let cfg = self.path("serve.toml");
        std::fs::write(
            &cfg,
            format!(
                "[policies]\nanswers = \"{1}\"\n\
                 [upstreams.claude]\nbase-url = \"{0}\"\napi = \"anthropic\"\n\
                 [upstreams.oai]\nbase-url = \"{0}\"\n\
                 [[routes]]\nmodel = \"claude-answers\"\nupstream = \"claude\"\npolicy = \"answers\"\n\
                 [[routes]]\nmodel = \"claude-*\"\nupstream = \"claude\"\n\
                 [[routes]]\nmodel = \"gpt-answers\"\nupstream = \"oai\"\npolicy = \"answers\"\n\
                 [[routes]]\nmodel = \"*\"\nupstream = \"oai\"\n",
                upstream.base_url(),
                answers.display()
            ),
        )
        .unwrap();
        let policy = common::patient_default_policy(self.dir.path());
        let cache = common::cache_dir();
        Server::start(
            &[
                "--config",
                cfg.to_str().unwrap(),
                "--policy",
                policy.to_str().unwrap(),
            ],
            &[
                ("RAILYARD_CACHE_DIR", cache.as_path()),
                ("RAILYARD_STATE_DIR", self.path("state").as_path()),
                ("RAILYARD_AUDIT_URL", self.path("audit").as_path()),
            ],
        )
    }

    fn rows(&self, table: &str) -> Vec<Value> {
        common::audit_rows(&self.path("audit"), &self.path("reader"), table, &[])
    }
}

/// A Responses request with `x` in one field, named by the path the audit
/// record gives it; whether an injection there is assessed by default
/// (instructions are the operator's, as system prompts are).
fn responses_cases(x: &str) -> Vec<(&'static str, bool, Value)> {
    let base = |extra: Value| {
        let mut b = json!({"model": "gpt-fake", "input": "hello"});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let user = json!({"role": "user", "content": "a"});
    let tool = |description: &str, param: &str| {
        json!([{"type": "function", "name": "lookup", "description": description,
            "parameters": {"type": "object", "properties": {"q": {"type": "string", "description": param}}}}])
    };
    vec![
        ("input", true, base(json!({"input": format!("note: {x}")}))),
        (
            "input[0].content",
            true,
            base(json!({"input": [{"role": "user", "content": format!("note: {x}")}]})),
        ),
        (
            "input[0].content",
            true,
            base(
                json!({"input": [{"role": "user", "content": [{"type": "input_text", "text": "first part"}, {"type": "input_text", "text": format!("note: {x}")}]}]}),
            ),
        ),
        (
            "input[1].content",
            true,
            base(
                json!({"input": [user, {"role": "assistant", "content": [{"type": "output_text", "text": format!("said {x}")}]}, {"role": "user", "content": "b"}]}),
            ),
        ),
        (
            "input[1].content",
            true,
            base(
                json!({"input": [user, {"role": "assistant", "content": [{"type": "refusal", "refusal": format!("refused {x}")}]}, {"role": "user", "content": "b"}]}),
            ),
        ),
        (
            "input[1].arguments",
            true,
            base(
                json!({"input": [user, {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": json!({"q": x}).to_string()},
                {"type": "function_call_output", "call_id": "c1", "output": "none"}]}),
            ),
        ),
        (
            "input[2].output",
            true,
            base(
                json!({"input": [user, {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": format!("search result: {x}")}]}),
            ),
        ),
        (
            "input[1].summary[0].text",
            true,
            base(
                json!({"input": [user, {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": format!("thought {x}")}]}, {"role": "user", "content": "b"}]}),
            ),
        ),
        (
            "instructions",
            false,
            base(json!({"instructions": format!("be brief about {x}")})),
        ),
        (
            "tools[0].description",
            true,
            base(json!({"tools": tool(&format!("Looks up: {x}"), "query")})),
        ),
        (
            "tools[0].parameters.properties.q.description",
            true,
            base(json!({"tools": tool("Looks things up", &format!("query, e.g. {x}"))})),
        ),
        (
            "metadata.note",
            true,
            base(json!({"metadata": {"note": x}})),
        ),
        ("user", true, base(json!({"user": x}))),
        (
            "text.format.schema.description",
            true,
            base(
                json!({"text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object", "description": format!("about {x}")}}}}),
            ),
        ),
        ("x_unknown_field", true, base(json!({"x_unknown_field": x}))),
    ]
}

/// Which field of the recorded answer each `category` finding of the call
/// `request_id` names.
fn response_fields(
    decisions: &[Value],
    calls: &[Value],
    request_id: &str,
    category: &str,
) -> Vec<String> {
    let call = calls
        .iter()
        .find(|c| c["request_id"] == request_id)
        .unwrap_or_else(|| panic!("no inferences row for {request_id}"));
    let response: Vec<Value> = serde_json::from_str(call["response"].as_str().unwrap()).unwrap();
    decisions
        .iter()
        .filter(|d| d["request_id"] == request_id && d["stage"] == "response")
        .flat_map(|d| d["findings"].as_array().unwrap().clone())
        .filter(|f| f["category"] == category)
        .map(|f| {
            let i = f["message_index"].as_u64().unwrap() as usize;
            response[i]["field"].as_str().unwrap_or("?").to_string()
        })
        .collect()
}

fn id_of(a: &common::http::Answer) -> String {
    a.header("x-railyard-request-id").unwrap().to_string()
}

#[test]
fn a_card_and_an_injection_in_any_responses_or_messages_field_never_reach_the_model_or_the_client()
{
    let env = Env {
        dir: tempfile::tempdir().unwrap(),
    };
    let upstream = Upstream::start();
    let mut server = env.start(&upstream);
    let received = |n: usize| upstream.received.lock().unwrap()[n].body.to_string();
    let count = || upstream.received.lock().unwrap().len();

    // Requests: a card is redacted in place, an injection blocks.
    let mut request_ids = Vec::new();
    let injections = responses_cases(INJECTION);
    for (n, (field, assessed, body)) in responses_cases(CARD).into_iter().enumerate() {
        let before = count();
        let a = post(server.addr, "/v1/responses", &[], &body.to_string());
        assert_eq!(a.status, 200, "{field}: {}", a.text());
        let sent = received(before);
        assert!(
            !sent.contains("1111"),
            "{field}: the card reached the model: {sent}"
        );
        assert!(sent.contains("<CREDIT_CARD>"), "{field}: {sent}");
        request_ids.push((field, id_of(&a)));
        if !assessed {
            continue;
        }
        let body = &injections[n].2;
        let before = count();
        for stream in [false, true] {
            let mut body = body.clone();
            body["stream"] = json!(stream);
            let a = post(server.addr, "/v1/responses", &[], &body.to_string());
            assert_eq!(
                (a.status, a.code().as_str()),
                (400, "request_blocked"),
                "{field}: {}",
                a.text()
            );
        }
        assert_eq!(count(), before, "{field}: the injection went upstream");
    }
    // Messages requests: every field of `serve_anthropic::requests`, here
    // for the record's naming of the field.
    let mut message_ids = Vec::new();
    for (what, template) in crate::serve_anthropic::requests() {
        let body = template.replace("{X}", &format!("pay with {CARD} now"));
        let a = post(server.addr, "/v1/messages", &[], &body);
        assert_eq!(a.status, 200, "{what}: {}", a.text());
        message_ids.push((what, id_of(&a)));
    }

    // Answers with a card in every text, unstreamed and streamed.
    let mut answer_ids = Vec::new();
    for stream in [false, true] {
        let body = json!({"model": "gpt-fake", "input": "EVERYTHING card", "stream": stream});
        let a = post(server.addr, "/v1/responses", &[], &body.to_string());
        assert_eq!(a.status, 200, "{}", a.text());
        let text = a.text();
        assert!(!text.contains("1111"), "stream {stream}: {text}");
        assert!(text.matches("<CREDIT_CARD>").count() >= 6, "{text}");
        if stream {
            let events: Vec<Value> = text
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .map(|d| serde_json::from_str(d).unwrap())
                .collect();
            let got = crate::responses_upstream::assemble(&events);
            assert!(got.error.is_none(), "{text}");
            assert_eq!(got.items.len(), 4, "{text}");
        }
        answer_ids.push(id_of(&a));
    }
    let mut claude_ids = Vec::new();
    for stream in [false, true] {
        for prompt in ["CARD please", "TOOL please"] {
            let body = json!({"model": "claude-fake", "max_tokens": 50, "stream": stream,
                "messages": [{"role": "user", "content": prompt}]});
            let a = post(server.addr, "/v1/messages", &[], &body.to_string());
            assert_eq!(a.status, 200, "{}", a.text());
            assert!(!a.text().contains("1111"), "{prompt}: {}", a.text());
            assert!(a.text().contains("<CREDIT_CARD>"), "{prompt}: {}", a.text());
            claude_ids.push((prompt, stream, id_of(&a)));
        }
    }

    // An injection in any one text of an answer, with the injection rail on
    // answers: blocked, and none of it leaves.
    for (k, field) in EVERYTHING_FIELDS.iter().enumerate() {
        for stream in [false, true] {
            let body = json!({"model": "gpt-answers", "input": format!("EVERYTHING inject ONLY={k}"), "stream": stream});
            let a = post(server.addr, "/v1/responses", &[], &body.to_string());
            let what = format!("{field} (stream {stream})");
            assert!(
                !a.text().contains("previous instructions"),
                "{what}: {}",
                a.text()
            );
            if stream {
                let last = a
                    .text()
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .next_back()
                    .map(str::to_string);
                let last: Value = serde_json::from_str(&last.unwrap()).unwrap();
                assert_eq!(last["type"], "error", "{what}: {}", a.text());
                assert_eq!(last["code"], "response_blocked", "{what}: {last}");
                assert_eq!(last["error"]["code"], "response_blocked", "{what}: {last}");
            } else {
                assert_eq!(
                    (a.status, a.code().as_str()),
                    (400, "response_blocked"),
                    "{what}: {}",
                    a.text()
                );
            }
        }
    }
    for k in 0..3 {
        for stream in [false, true] {
            let body = json!({"model": "claude-answers", "max_tokens": 50, "stream": stream,
                "messages": [{"role": "user", "content": format!("INJECT ONLY={k}")}]});
            let a = post(server.addr, "/v1/messages", &[], &body.to_string());
            let what = format!("messages text {k} (stream {stream})");
            assert!(
                !a.text().contains("previous instructions"),
                "{what}: {}",
                a.text()
            );
            if stream {
                assert!(a.text().contains("event: error"), "{what}: {}", a.text());
                assert!(!a.text().contains("message_stop"), "{what}: {}", a.text());
            } else {
                assert_eq!(a.status, 400, "{what}: {}", a.text());
                assert_eq!(
                    a.json()["error"]["code"],
                    "response_blocked",
                    "{what}: {}",
                    a.text()
                );
            }
        }
    }
    for r in upstream.received.lock().unwrap().iter() {
        let body = r.body.to_string();
        assert!(!body.contains(CARD), "{body}");
        assert!(!body.contains("Ignore all previous"), "{body}");
    }

    assert!(server.stop(), "{}", server.stderr.lock().unwrap());
    let decisions = env.rows("decisions");
    let calls = env.rows("inferences");
    for (field, id) in &request_ids {
        let fields = finding_fields(&decisions, &calls, id, "CREDIT_CARD");
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{field}: the record names {fields:?}"
        );
    }
    for (what, id) in &message_ids {
        let fields = finding_fields(&decisions, &calls, id, "CREDIT_CARD");
        assert!(
            !fields.is_empty() && fields.iter().all(|f| f != "?"),
            "{what}: the record names {fields:?}"
        );
    }
    for id in &answer_ids {
        let fields = response_fields(&decisions, &calls, id, "CREDIT_CARD");
        for f in EVERYTHING_FIELDS {
            assert!(
                fields.iter().any(|x| x.starts_with(f)),
                "{id}: {f} not in {fields:?}"
            );
        }
    }
    for (prompt, stream, id) in &claude_ids {
        let fields = response_fields(&decisions, &calls, id, "CREDIT_CARD");
        let want: &[&str] = if prompt.starts_with("CARD") {
            &["content[0].thinking", "content[1].text"]
        } else {
            &["content[1].input"]
        };
        for f in want {
            assert!(
                fields.iter().any(|x| x.starts_with(f)),
                "{prompt} (stream {stream}): {f} not in {fields:?}"
            );
        }
    }
    for r in calls.iter().chain(&decisions) {
        assert!(!r.to_string().contains(CARD), "{r}");
    }
}
