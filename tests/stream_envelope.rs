//! Streamed answers carry the same guarantees as unstreamed ones outside
//! their text lanes too, through a real `railyard serve` in front of an
//! upstream that replays exact event streams (`common::replay`):
//! - strings in a stream's envelope (a chat chunk's unknown fields and
//!   `usage`'s, an Anthropic message's, a Responses output item's) are
//!   judged whole and redacted in place, and a blocking finding in one
//!   stops the stream;
//! - a chat tool call's name sent in fragments is assembled and judged
//!   whole; streamed `annotations` and custom tool calls are passed on,
//!   their strings judged;
//! - an Anthropic `server_tool_use` keeps its type and its result block
//!   is passed on, its strings judged.
//!
//! Where nothing needs redacting, what the `openai` and `anthropic`
//! clients assemble through railyard equals what they assemble from the
//! upstream directly.

use std::path::Path;

use serde_json::{Value, json};

use crate::common;
use common::http::{Server, post, sse_events};
use common::replay::{Answer, Replay, chat_sse, named_sse};
use common::serve_env::ServeEnv;

const CARD: &str = "4111 1111 1111 1111";
const EMAIL: &str = "john.doe@example.com";
const AWS: &str = "AKIAZ7VRSQ5TJN2EXMPL";

/// The three planted values, in one string.
fn planted() -> String {
    format!("card {CARD}, mail {EMAIL}, key {AWS}")
}

fn assert_clean(body: &str, what: &str) {
    for s in [CARD, "4111", EMAIL, "john.doe", AWS] {
        assert!(!body.contains(s), "{what}: `{s}` left in {body}");
    }
}

/// A server routing `claude-*` to the replay as Anthropic and everything
/// else to it as OpenAI, on the default policy or `policy`.
fn start(env: &ServeEnv, replay: &Replay, policy: Option<&Path>) -> Server {
    let cfg = env.config(&format!(
        "[upstreams.claude]\nbase-url = \"{0}/v1\"\napi = \"anthropic\"\n\
         [upstreams.oai]\nbase-url = \"{0}/v1\"\n\
         [[routes]]\nmodel = \"claude-*\"\nupstream = \"claude\"\n\
         [[routes]]\nmodel = \"*\"\nupstream = \"oai\"\n",
        replay.base()
    ));
    let mut args = vec!["--config", cfg.to_str().unwrap()];
    if let Some(p) = policy {
        args.extend(["--policy", p.to_str().unwrap()]);
    }
    env.start_patient(&args)
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-test",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn with(mut v: Value, key: &str, x: Value) -> Value {
    v[key] = x;
    v
}

fn ask_chat(server: &Server, name: &str) -> String {
    let a = post(
        server.addr,
        "/v1/chat/completions",
        &[],
        &json!({"model": "gpt-test", "stream": true,
                "messages": [{"role": "user", "content": format!("REPLAY:{name}")}]})
        .to_string(),
    );
    assert_eq!(a.status, 200, "{name}: {}", a.text());
    a.text()
}

fn ask(server: &Server, path: &str, body: Value) -> String {
    let a = post(server.addr, path, &[], &body.to_string());
    assert_eq!(a.status, 200, "{path}: {}", a.text());
    a.text()
}

/// The data of each event of a body, parsed (`[DONE]` left out).
fn events(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

#[test]
fn chat_chunk_and_usage_fields_are_judged_and_a_block_stops_the_stream() {
    let env = ServeEnv::new();
    let replay = Replay::start();
    let sse = |x: &str| {
        chat_sse(&[
            with(
                chunk(json!({"role": "assistant", "content": "Hello"}), None),
                "x_new",
                json!({"note": x, "ids": ["plain"]}),
            ),
            with(
                chunk(json!({"content": " there."}), None),
                "x_new",
                json!({"note": x, "ids": ["plain"]}),
            ),
            chunk(json!({}), Some("stop")),
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-test",
                   "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "x_usage": x}}),
        ])
    };
    replay.set(
        "planted",
        Answer {
            sse: sse(&planted()),
            json: None,
        },
    );
    replay.set(
        "plain",
        Answer {
            sse: sse("nothing to see"),
            json: None,
        },
    );
    let mut server = start(&env, &replay, None);

    let body = ask_chat(&server, "planted");
    assert_clean(&body, "chat envelope");
    let evs = events(&body);
    let want = "card <CREDIT_CARD>, mail <EMAIL_ADDRESS>, key <AWS_ACCESS_KEY>";
    let notes: Vec<&Value> = evs
        .iter()
        .filter_map(|e| e.pointer("/x_new/note"))
        .collect();
    assert!(!notes.is_empty(), "{body}");
    assert!(notes.iter().all(|n| *n == want), "{notes:?}");
    let usage = evs
        .iter()
        .find_map(|e| e.get("usage").filter(|u| !u.is_null()))
        .unwrap();
    assert_eq!(usage["x_usage"], want, "{body}");
    assert_eq!(usage["total_tokens"], 3);
    assert_eq!(common::http::streamed_text(&body).0, "Hello there.");

    // Nothing to redact: the fields go on as they came.
    let body = ask_chat(&server, "plain");
    let evs = events(&body);
    assert!(
        evs.iter()
            .any(|e| e["x_new"] == json!({"note": "nothing to see", "ids": ["plain"]})),
        "{body}"
    );
    let usage = evs
        .iter()
        .find_map(|e| e.get("usage").filter(|u| !u.is_null()))
        .unwrap();
    assert_eq!(usage["x_usage"], "nothing to see");
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());

    // A blocking finding in an envelope field stops the stream as a
    // lane's does.
    let policy = env.path("blocking.toml");
    std::fs::write(
        &policy,
        "name = \"blocking\"\n[defaults]\ntimeout-ms = 20000\n[plugins.secrets]\nbuiltin = \"secrets\"\naction = \"block\"\n[stages]\nresponse = [\"secrets\"]\n",
    )
    .unwrap();
    let server = start(&env, &replay, Some(&policy));
    let body = ask_chat(&server, "planted");
    assert!(!body.contains(AWS), "{body}");
    assert!(!body.contains("Hello"), "{body}");
    let last = sse_events(&body);
    let error: Value = serde_json::from_str(&last[last.len() - 2]).unwrap();
    assert_eq!(error["error"]["code"], "response_blocked", "{body}");
}

fn message_events(blocks: &[Value], extra: Value) -> Vec<Value> {
    let mut message = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 0}});
    for (k, v) in extra.as_object().unwrap() {
        message[k] = v.clone();
    }
    let mut ev = vec![json!({"type": "message_start", "message": message})];
    for (i, b) in blocks.iter().enumerate() {
        match b["type"].as_str().unwrap() {
            "text" => {
                ev.push(json!({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}));
                ev.push(json!({"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": b["text"]}}));
                for c in b["citations"].as_array().into_iter().flatten() {
                    ev.push(json!({"type": "content_block_delta", "index": i, "delta": {"type": "citations_delta", "citation": c}}));
                }
            }
            "server_tool_use" | "tool_use" => {
                ev.push(json!({"type": "content_block_start", "index": i, "content_block": with(b.clone(), "input", json!({}))}));
                ev.push(json!({"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": b["input"].to_string()}}));
            }
            _ => ev.push(json!({"type": "content_block_start", "index": i, "content_block": b})),
        }
        ev.push(json!({"type": "content_block_stop", "index": i}));
    }
    ev.push(json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null, "x_delta": extra.get("x_new")}, "usage": {"output_tokens": 9}}));
    ev.push(json!({"type": "message_stop"}));
    ev
}

fn server_tool_blocks(title: &str) -> Vec<Value> {
    vec![
        json!({"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "weather paris"}}),
        json!({"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [
            {"type": "web_search_result", "title": title, "url": "https://w.example/paris", "encrypted_content": "EqgfCioIARgBIiQ3", "page_age": null}]}),
        json!({"type": "text", "text": "Sunny."}),
    ]
}

fn message(blocks: Vec<Value>) -> Value {
    json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test", "content": blocks,
           "stop_reason": "end_turn", "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 9}})
}

fn response_events(x: &str) -> Vec<Value> {
    let item = json!({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "x_new": {"note": x},
        "content": [{"type": "output_text", "text": "Hi.", "annotations": []}]});
    let added = json!({"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress", "x_new": {"note": x}, "content": []});
    let mut ev = vec![
        json!({"type": "response.created", "response": {"id": "resp_1", "object": "response", "status": "in_progress", "model": "gpt-test", "output": []}}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": added}),
        json!({"type": "response.content_part.added", "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
        json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "Hi."}),
        json!({"type": "response.output_text.done", "item_id": "msg_1", "output_index": 0, "content_index": 0, "text": "Hi."}),
        json!({"type": "response.content_part.done", "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": item["content"][0]}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
        json!({"type": "response.completed", "response": {"id": "resp_1", "object": "response", "status": "completed", "model": "gpt-test", "output": [item]}}),
    ];
    for (s, e) in ev.iter_mut().enumerate() {
        e["sequence_number"] = json!(s);
    }
    ev
}

#[test]
fn anthropic_and_responses_envelope_fields_are_judged() {
    let env = ServeEnv::new();
    let replay = Replay::start();
    let x = planted();
    let want = "card <CREDIT_CARD>, mail <EMAIL_ADDRESS>, key <AWS_ACCESS_KEY>";
    let text = [json!({"type": "text", "text": "Hello."})];
    replay.set(
        "message",
        Answer {
            sse: named_sse(&message_events(&text, json!({"x_new": x}))),
            json: None,
        },
    );
    replay.set(
        "response",
        Answer {
            sse: named_sse(&response_events(&x)),
            json: None,
        },
    );
    replay.set(
        "response_plain",
        Answer {
            sse: named_sse(&response_events("plain words")),
            json: None,
        },
    );
    let mut server = start(&env, &replay, None);

    let body = ask(
        &server,
        "/v1/messages",
        json!({"model": "claude-test", "max_tokens": 50, "stream": true,
        "messages": [{"role": "user", "content": "REPLAY:message"}]}),
    );
    assert_clean(&body, "message_start");
    let evs = events(&body);
    assert_eq!(evs[0]["message"]["x_new"], want, "{body}");
    let delta = evs.iter().find(|e| e["type"] == "message_delta").unwrap();
    assert_eq!(delta["delta"]["x_delta"], want, "{body}");
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");

    let req = |name: &str| json!({"model": "gpt-test", "stream": true, "input": format!("REPLAY:{name}")});
    let body = ask(&server, "/v1/responses", req("response"));
    assert_clean(&body, "output item");
    let evs = events(&body);
    for t in ["response.output_item.added", "response.output_item.done"] {
        let e = evs.iter().find(|e| e["type"] == t).unwrap();
        assert_eq!(e["item"]["x_new"]["note"], want, "{t}: {body}");
    }
    let done = evs
        .iter()
        .find(|e| e["type"] == "response.completed")
        .unwrap();
    assert_eq!(
        done["response"]["output"][0]["x_new"]["note"], want,
        "{body}"
    );
    assert_eq!(done["response"]["output"][0]["content"][0]["text"], "Hi.");

    // Nothing to redact: as the upstream sent it.
    let body = ask(&server, "/v1/responses", req("response_plain"));
    let done = events(&body)
        .into_iter()
        .find(|e| e["type"] == "response.completed")
        .unwrap();
    assert_eq!(
        done["response"]["output"][0],
        response_events("plain words")[6]["item"],
        "{body}"
    );
    assert!(server.stop(), "{}", server.stderr.lock().unwrap());
}

/// The `openai` and `anthropic` clients through railyard and directly.
#[test]
fn clients_assemble_split_names_annotations_and_server_tools() {
    let Some(py) = common::python() else { return };
    let env = ServeEnv::new();
    let replay = Replay::start();
    let call = |name: &str, args: &str| json!({"tool_calls": [{"index": 0, "function": {"name": name, "arguments": args}}]});
    let split = |first: &str, second: &str| {
        chat_sse(&[
            chunk(
                json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": first, "arguments": ""}}]}),
                None,
            ),
            chunk(call(second, ""), None),
            chunk(call("", "{\"city\": "), None),
            chunk(call("", "\"Paris\"}"), None),
            chunk(json!({}), Some("tool_calls")),
        ])
    };
    replay.set(
        "chat_name_split",
        Answer {
            sse: split("get_", "weather"),
            json: None,
        },
    );
    replay.set(
        "chat_name_email",
        Answer {
            sse: split("notify_john.doe@", "example.com"),
            json: None,
        },
    );
    let cited = |title: &str| {
        chat_sse(&[
            chunk(json!({"role": "assistant", "content": "See the "}), None),
            chunk(json!({"content": "forecast."}), None),
            chunk(
                json!({"annotations": [{"type": "url_citation", "url_citation": {"start_index": 8, "end_index": 16, "title": title, "url": "https://w.example/paris"}}]}),
                None,
            ),
            chunk(json!({}), Some("stop")),
        ])
    };
    replay.set(
        "chat_annotations",
        Answer {
            sse: cited("Paris forecast"),
            json: None,
        },
    );
    replay.set(
        "chat_annotations_card",
        Answer {
            sse: cited(&planted()),
            json: None,
        },
    );
    for (name, title) in [
        ("server_tool", "Paris weather".to_string()),
        ("server_tool_card", planted()),
    ] {
        let blocks = server_tool_blocks(&title);
        replay.set(
            name,
            Answer {
                sse: named_sse(&message_events(&blocks, json!({}))),
                json: Some(message(blocks)),
            },
        );
    }
    for (name, cited) in [
        ("citations", "Paris is sunny today".to_string()),
        ("citations_card", planted()),
    ] {
        let blocks = vec![
            json!({"type": "text", "text": "It is sunny.", "citations": [
            {"type": "char_location", "cited_text": cited, "document_index": 0,
             "document_title": "Forecast", "start_char_index": 0, "end_char_index": 20}]}),
        ];
        replay.set(
            name,
            Answer {
                sse: named_sse(&message_events(&blocks, json!({}))),
                json: Some(message(blocks)),
            },
        );
    }
    let server = start(&env, &replay, None);
    let out = std::process::Command::new(&py)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/stream_envelope_client.py"))
        .arg(format!("http://{}", server.addr))
        .arg(replay.base())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_clean(&stdout, "client view");
    let got: Value = serde_json::from_str(&stdout).unwrap();

    // B: the name assembled, and judged whole.
    let c = &got["chat_name_split"];
    assert_eq!(c["rail"], c["direct"], "{c}");
    assert_eq!(
        c["rail"]["tool_calls"][0]["function"]["name"], "get_weather",
        "{c}"
    );
    assert_eq!(
        c["rail"]["tool_calls"][0]["function"]["arguments"],
        "{\"city\": \"Paris\"}"
    );
    let c = &got["chat_name_email"];
    let name = c["rail"]["tool_calls"][0]["function"]["name"]
        .as_str()
        .unwrap();
    assert!(
        name.contains("<EMAIL_ADDRESS>") && !name.contains("example"),
        "{c}"
    );

    // C: annotations passed on, their strings judged.
    let c = &got["chat_annotations"];
    assert_eq!(c["rail"], c["direct"], "{c}");
    assert_eq!(
        c["rail"]["annotations"][0]["url_citation"]["title"], "Paris forecast",
        "{c}"
    );
    let c = &got["chat_annotations_card"];
    assert_eq!(
        c["rail"]["annotations"][0]["url_citation"]["title"],
        "card <CREDIT_CARD>, mail <EMAIL_ADDRESS>, key <AWS_ACCESS_KEY>",
        "{c}"
    );
    assert_eq!(c["rail"]["content"], "See the forecast.");

    // D: the server tool keeps its type, and its result goes on.
    let c = &got["server_tool"];
    assert_eq!(c["rail"], c["direct"], "{c}");
    let types = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|b| b["type"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        types(&c["rail"]),
        ["server_tool_use", "web_search_tool_result", "text"]
    );
    assert_eq!(types(&c["rail"]), types(&c["unstreamed"]));
    let c = &got["server_tool_card"];
    assert_eq!(c["rail"], c["unstreamed"], "{c}");
    assert_eq!(
        c["rail"][1]["content"][0]["title"],
        "card <CREDIT_CARD>, mail <EMAIL_ADDRESS>, key <AWS_ACCESS_KEY>",
        "{c}"
    );
    assert_eq!(
        c["rail"][1]["content"][0]["encrypted_content"],
        "EqgfCioIARgBIiQ3"
    );

    // Citations streamed as `citations_delta` go on, their strings judged,
    // as an unstreamed answer's do.
    let c = &got["citations"];
    assert_eq!(c["rail"], c["direct"], "{c}");
    assert_eq!(c["rail"], c["unstreamed"], "{c}");
    assert_eq!(
        c["rail"][0]["citations"][0]["cited_text"],
        "Paris is sunny today"
    );
    let c = &got["citations_card"];
    assert_eq!(c["rail"], c["unstreamed"], "{c}");
    assert_eq!(
        c["rail"][0]["citations"][0]["cited_text"],
        "card <CREDIT_CARD>, mail <EMAIL_ADDRESS>, key <AWS_ACCESS_KEY>",
        "{c}"
    );
}

/// A custom tool call streamed: its name and input go on (`custom`, not
/// an invented `function`), the input through a lane.
#[test]
fn custom_tool_calls_keep_their_name_and_input() {
    let env = ServeEnv::new();
    let replay = Replay::start();
    let custom = |c: Value| json!({"tool_calls": [{"index": 0, "custom": c}]});
    replay.set("custom", Answer { sse: chat_sse(&[
        chunk(json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_7", "type": "custom", "custom": {"name": "run", "input": ""}}]}), None),
        chunk(custom(json!({"input": "print('card 4111 1111 "})), None),
        chunk(custom(json!({"input": "1111 1111')"})), None),
        chunk(json!({}), Some("tool_calls")),
    ]), json: None });
    let server = start(&env, &replay, None);
    let body = ask_chat(&server, "custom");
    assert_clean(&body, "custom tool call");
    let got = common::script::assemble(&body);
    let call = &got.messages[&0]["tool_calls"][0];
    assert_eq!(call["type"], "custom", "{body}");
    assert_eq!(call["id"], "call_7");
    assert_eq!(
        call["custom"],
        json!({"name": "run", "input": "print('card <CREDIT_CARD>')"}),
        "{body}"
    );
    assert!(call.get("function").is_none(), "{body}");
}
