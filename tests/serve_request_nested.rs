//! Request texts below the top level, through a real `railyard serve` and
//! fake upstreams on 127.0.0.1: a `document` inside an Anthropic
//! `tool_result` is guarded as tool output; a key the format does not
//! define inside a known object (a content part, a block, `stream_options`,
//! `cache_control`, `thinking`, …) is walked in all three formats, and
//! refused naming its path under `[payload] unknown-fields = "refuse"`;
//! `safety_identifier`, `prompt_cache_key` and a Responses `tool_choice`
//! are text, like `user`.

use serde_json::{Value, json};

use crate::anthropic_upstream::{self, CARD};
use crate::common;
use crate::serve_payload_coverage::INJECTION;
use common::http::{Answer, Server, Upstream, post};
use common::serve_env::ServeEnv as Env;

const EMAIL: &str = "john.doe@example.com";

/// The fake upstreams (chat; Responses and Messages) and a server routing
/// `gpt-*` to chat, `resp-*` to Responses, `claude-*` to Messages, each
/// also as `strict-…` under a policy that refuses unknown fields.
struct Setup {
    env: Env,
    chat: Upstream,
    other: anthropic_upstream::Upstream,
    server: Server,
}

impl Setup {
    fn start() -> Setup {
        let env = Env::new();
        let chat = Upstream::start();
        let other = anthropic_upstream::Upstream::start();
        let strict = env.path("strict.toml");
        std::fs::write(
            &strict,
            "name = \"strict\"\n[defaults]\ntimeout-ms = 20000\n[payload]\nunknown-fields = \"refuse\"\n[stages]\nrequest = [\"pii\"]\n",
        )
        .unwrap();
        let cfg = env.config(&format!(
            "[policies]\nstrict = \"{0}\"\n\
             [upstreams.chat]\nbase-url = \"{1}\"\n\
             [upstreams.resp]\nbase-url = \"{2}\"\n\
             [upstreams.claude]\nbase-url = \"{2}\"\napi = \"anthropic\"\n\
             [[routes]]\nmodel = \"strict-gpt\"\nupstream = \"chat\"\npolicy = \"strict\"\n\
             [[routes]]\nmodel = \"strict-resp\"\nupstream = \"resp\"\npolicy = \"strict\"\n\
             [[routes]]\nmodel = \"strict-claude\"\nupstream = \"claude\"\npolicy = \"strict\"\n\
             [[routes]]\nmodel = \"resp-*\"\nupstream = \"resp\"\n\
             [[routes]]\nmodel = \"claude-*\"\nupstream = \"claude\"\n\
             [[routes]]\nmodel = \"*\"\nupstream = \"chat\"\n",
            strict.display(),
            chat.base_url(),
            other.base_url(),
        ));
        let server = env.start_patient(&["--config", cfg.to_str().unwrap()]);
        Setup {
            env,
            chat,
            other,
            server,
        }
    }

    /// The path for `body`'s model.
    fn path(body: &Value) -> &'static str {
        let model = body["model"].as_str().unwrap();
        if model.ends_with("resp") || model.starts_with("resp-") {
            "/v1/responses"
        } else if model.contains("claude") {
            "/v1/messages"
        } else {
            "/v1/chat/completions"
        }
    }

    fn send(&self, body: &Value) -> Answer {
        post(self.server.addr, Self::path(body), &[], &body.to_string())
    }

    /// Every body the upstreams received, as text.
    fn received(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .chat
            .received
            .lock()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect();
        all.extend(self.other.bodies());
        all
    }

    /// Sends `body` and returns what the upstream received for it.
    fn sent(&self, body: &Value, what: &str) -> String {
        let before = self.received().len();
        let a = self.send(body);
        assert_eq!(a.status, 200, "{what}: {}", a.text());
        let got = self.received();
        assert_eq!(got.len(), before + 1, "{what}: nothing went upstream");
        let mut last = got[before..].to_vec();
        last.pop().unwrap()
    }
}

fn assert_guarded(sent: &str, what: &str) {
    assert!(
        !sent.contains("1111") && !sent.contains(EMAIL),
        "{what}: the card or email reached the model: {sent}"
    );
    assert!(sent.contains("<CREDIT_CARD>"), "{what}: {sent}");
}

fn claude(messages: Value) -> Value {
    json!({"model": "claude-x", "max_tokens": 10, "messages": messages})
}

/// An Anthropic conversation whose last turn is a `tool_result` holding
/// `content`.
fn tool_result(content: Value) -> Value {
    claude(json!([
        {"role": "user", "content": "fetch the page"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "tu1", "name": "fetch", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu1", "content": content}]}]))
}

fn text_document(data: &str) -> Value {
    json!({"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": data}})
}

#[test]
fn a_document_in_a_tool_result_is_guarded_as_tool_output() {
    let mut s = Setup::start();
    let x = format!("pay with {CARD} or mail {EMAIL}");
    let cases = [
        ("source.data", json!([text_document(&x)])),
        (
            "title and context",
            json!([{"type": "document", "title": x, "context": x,
                "source": {"type": "text", "media_type": "text/plain", "data": "fine"}}]),
        ),
        (
            "a content source's text blocks",
            json!([{"type": "document", "source": {"type": "content",
                "content": [{"type": "text", "text": x}]}}]),
        ),
        (
            "a text block beside an image",
            json!([{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "text", "text": x}]),
        ),
        (
            "a tool_reference",
            json!([{"type": "tool_reference", "tool_name": x}]),
        ),
    ];
    for (what, content) in cases {
        let sent = s.sent(&tool_result(content), what);
        assert_guarded(&sent, what);
    }
    // The image goes on as it came.
    let bodies = s.other.bodies();
    assert!(
        bodies.iter().any(|b| b.contains("iVBORw0KGgo=")),
        "{bodies:?}"
    );

    // An injection in the document blocks the call, as tool output.
    let before = s.received().len();
    let a = s.send(&tool_result(json!([text_document(INJECTION)])));
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "request_blocked"),
        "{}",
        a.text()
    );
    assert_eq!(s.received().len(), before, "the injection went upstream");
    let id = a.header("x-railyard-request-id").unwrap().to_string();
    assert!(s.server.stop(), "{}", s.server.stderr.lock().unwrap());
    let calls = s.env.rows("inferences", &[]);
    let call = calls
        .iter()
        .find(|c| c["request_id"] == id.as_str())
        .unwrap();
    let request: Vec<Value> = serde_json::from_str(call["request"].as_str().unwrap()).unwrap();
    let doc = request
        .iter()
        .find(|m| m["field"] == "messages[2].content[0].content[0].source.data")
        .unwrap_or_else(|| panic!("{request:?}"));
    assert_eq!(doc["role"], "tool", "{doc}");
}

/// A request with `x` in a key its format does not define, inside a known
/// object.
fn nested_unknown_cases(x: &str) -> Vec<(&'static str, Value)> {
    let gpt = |messages: Value, extra: Value| {
        let mut b = json!({"model": "gpt-x", "messages": messages});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let hi = json!([{"role": "user", "content": "hi"}]);
    let resp = |input: Value, extra: Value| {
        let mut b = json!({"model": "resp-x", "input": input});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let image = "data:image/png;base64,iVBORw0KGgo=";
    vec![
        (
            "chat messages[0].content[0].x_new (text part)",
            gpt(
                json!([{"role": "user", "content": [{"type": "text", "text": "hi", "x_new": x}]}]),
                json!({}),
            ),
        ),
        (
            "chat messages[0].content[0].x_new (image part)",
            gpt(
                json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": image}, "x_new": {"note": x}}]}]),
                json!({}),
            ),
        ),
        (
            "chat messages[0].content[0].image_url.x_new",
            gpt(
                json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": image, "x_new": x}}]}]),
                json!({}),
            ),
        ),
        (
            "chat stream_options.x_new",
            gpt(hi.clone(), json!({"stream_options": {"x_new": x}})),
        ),
        (
            "chat tools[0].function.parameters.properties.type.description",
            gpt(
                hi.clone(),
                json!({"tools": [{"type": "function", "function": {"name": "f", "parameters":
                    {"type": "object", "properties": {"type": {"type": "string", "description": x}}}}}]}),
            ),
        ),
        (
            "responses input[0].content[0].x_new (input_text)",
            resp(
                json!([{"role": "user", "content": [{"type": "input_text", "text": "hi", "x_new": x}]}]),
                json!({}),
            ),
        ),
        (
            "responses input[0].content[0].x_new (input_image)",
            resp(
                json!([{"role": "user", "content": [{"type": "input_image", "image_url": image, "detail": "low", "x_new": x}]}]),
                json!({}),
            ),
        ),
        (
            "responses input[0].x_new (message item)",
            resp(
                json!([{"role": "user", "content": "hi", "x_new": x}]),
                json!({}),
            ),
        ),
        (
            "responses input[0].x_new (reasoning item)",
            resp(
                json!([{"type": "reasoning", "id": "rs_1", "summary": [], "x_new": x}, {"role": "user", "content": "hi"}]),
                json!({}),
            ),
        ),
        (
            "responses reasoning.x_new",
            resp(
                json!("hi"),
                json!({"reasoning": {"effort": "low", "x_new": x}}),
            ),
        ),
        (
            "anthropic messages[0].content[0].x_new (text block)",
            claude(
                json!([{"role": "user", "content": [{"type": "text", "text": "hi", "x_new": x}]}]),
            ),
        ),
        (
            "anthropic messages[0].content[0].x_new (image block)",
            claude(
                json!([{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo=", "x_new": x}}]}]),
            ),
        ),
        ("anthropic system[0].cache_control.x_new", {
            let mut b = claude(json!([{"role": "user", "content": "hi"}]));
            b["system"] = json!([{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "x_new": x}}]);
            b
        }),
        ("anthropic thinking.x_new", {
            let mut b = claude(json!([{"role": "user", "content": "hi"}]));
            b["thinking"] = json!({"type": "enabled", "budget_tokens": 1024, "x_new": x});
            b
        }),
        (
            "anthropic tool_result x_new",
            claude(json!([
                {"role": "assistant", "content": [{"type": "tool_use", "id": "tu1", "name": "f", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu1", "content": "ok", "x_new": x}]}])),
        ),
        (
            "anthropic document x_new",
            claude(json!([{"role": "user", "content": [
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "d"}, "x_new": x}]}])),
        ),
    ]
}

#[test]
fn unknown_keys_inside_known_objects_are_walked_in_every_format() {
    let s = Setup::start();
    let x = format!("card {CARD} mail {EMAIL}");
    for (what, body) in nested_unknown_cases(&x) {
        let sent = s.sent(&body, what);
        assert_guarded(&sent, what);
    }
}

#[test]
fn the_refuse_policy_names_an_unknown_key_inside_a_known_object() {
    let s = Setup::start();
    let strict = |mut body: Value| {
        let model = body["model"].as_str().unwrap();
        body["model"] = json!(match model {
            m if m.starts_with("resp") => "strict-resp",
            m if m.starts_with("claude") => "strict-claude",
            _ => "strict-gpt",
        });
        body
    };
    let names = [
        "messages[0].content[0].x_new",
        "messages[0].content[0].x_new",
        "messages[0].content[0].image_url.x_new",
        "stream_options.x_new",
        // Walked, as every string of a tool's schema is: not refused.
        "",
        "input[0].content[0].x_new",
        "input[0].content[0].x_new",
        "input[0].x_new",
        "input[0].x_new",
        "reasoning.x_new",
        "messages[0].content[0].x_new",
        "messages[0].content[0].source.x_new",
        "system[0].cache_control.x_new",
        "thinking.x_new",
        "messages[1].content[0].x_new",
        "messages[0].content[0].x_new",
    ];
    let cases = nested_unknown_cases("hello");
    assert_eq!(cases.len(), names.len());
    for ((what, body), name) in cases.into_iter().zip(names) {
        let before = s.received().len();
        let a = s.send(&strict(body));
        if name.is_empty() {
            assert_eq!(a.status, 200, "{what}: {}", a.text());
            continue;
        }
        assert_eq!(a.status, 400, "{what}: {}", a.text());
        assert!(a.text().contains("unknown_field"), "{what}: {}", a.text());
        assert!(
            a.text().contains(&format!("`{name}`")),
            "{what}: {}",
            a.text()
        );
        assert_eq!(s.received().len(), before, "{what} went upstream");
    }
    // The settings the formats define are not refused.
    for body in [
        json!({"model": "strict-gpt", "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi",
                "prompt_cache_breakpoint": {"mode": "explicit", "ttl": "30m"}},
                {"type": "image_url", "image_url": {"url": "data:,", "detail": "low"}}]}]}),
        json!({"model": "strict-resp", "reasoning": {"effort": "low", "summary": "auto"},
            "include": ["reasoning.encrypted_content"], "conversation": {"id": "conv_1"},
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"},
                {"type": "input_image", "image_url": "data:,", "detail": "low"}]}]}),
        json!({"model": "strict-claude", "max_tokens": 10,
            "thinking": {"type": "enabled", "budget_tokens": 1024, "display": "summarized"},
            "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "ttl": "5m"}}],
            "messages": [{"role": "user", "content": [
                {"type": "document", "title": "t", "citations": {"enabled": true},
                    "source": {"type": "text", "media_type": "text/plain", "data": "d"}},
                {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]}),
    ] {
        let a = s.send(&body);
        assert_eq!(a.status, 200, "{body}: {}", a.text());
    }
}

#[test]
fn safety_identifier_prompt_cache_key_and_a_responses_tool_choice_are_text() {
    let s = Setup::start();
    let chat = json!({"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]});
    let resp = json!({"model": "resp-x", "input": "hi"});
    for base in [chat, resp] {
        for field in ["user", "safety_identifier", "prompt_cache_key"] {
            let mut body = base.clone();
            body[field] = json!(format!("{EMAIL} {CARD}"));
            let what = format!("{} {field}", base["model"]);
            assert_guarded(&s.sent(&body, &what), &what);
        }
    }
    let body = json!({"model": "resp-x", "input": "hi",
        "tools": [{"type": "function", "name": "f", "parameters": {}}],
        "tool_choice": {"type": "function", "name": format!("{EMAIL} {CARD}")}});
    assert_guarded(&s.sent(&body, "tool_choice.name"), "tool_choice.name");
}
