//! Anthropic Messages streams through the server's relay (one lane of the
//! stream guard per content block), a text block and a tool call's input
//! each split at every character boundary: what the `anthropic` client
//! assembles equals the unstreamed redaction of each value, no event
//! carries a value the unstreamed verdict redacts, and the stream is
//! blocked exactly when the unstreamed answer is.

use serde_json::{Value, json};

use crate::stream_equivalence::{TEXTS, cases};
use railyard::pipeline::lanes::StreamLanes;
use railyard::serve::anthropic::relay::{Relay, Step};
use railyard::serve::anthropic::wire::Event;
use railyard::verdict::Action;
use railyard::{Payload, Stage};

/// Runs `events` through a relay; returns the body sent and, unless
/// blocked, the assembled (text, tool input JSON text).
fn run(
    pipeline: &std::sync::Arc<railyard::Pipeline>,
    events: &[Value],
) -> (String, Option<(String, String)>) {
    let lanes = StreamLanes::new(pipeline.clone(), Payload::text(Stage::Response, ""), 64);
    let mut relay = Relay::new(lanes);
    let mut sent: Vec<Value> = Vec::new();
    for e in events {
        let event: Event = serde_json::from_value(e.clone()).unwrap();
        match relay.event(event) {
            Step::Send(out) => sent.extend(out),
            Step::Complete => break,
            Step::UpstreamError(e) => panic!("{e}"),
        }
    }
    let (end, closing) = relay.finish(true);
    let body = |sent: &[Value]| {
        sent.iter()
            .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
            .collect::<String>()
    };
    let Some(closing) = closing else {
        assert_eq!(end.evaluation.action, Action::Block);
        return (body(&sent), None);
    };
    sent.extend(closing);
    // As `anthropic`'s `accumulate_event`: blocks appended on start,
    // deltas to `content[index]`.
    let mut blocks: Vec<(String, String)> = Vec::new();
    for e in &sent {
        match e["type"].as_str().unwrap() {
            "content_block_start" => {
                assert_eq!(e["index"].as_u64().unwrap() as usize, blocks.len());
                blocks.push((
                    e["content_block"]["type"].as_str().unwrap().into(),
                    String::new(),
                ));
            }
            "content_block_delta" => {
                let d = &e["delta"];
                let piece = d["text"]
                    .as_str()
                    .or(d["partial_json"].as_str())
                    .unwrap_or("");
                blocks[e["index"].as_u64().unwrap() as usize]
                    .1
                    .push_str(piece);
            }
            _ => {}
        }
    }
    assert_eq!(sent.last().unwrap()["type"], "message_stop");
    assert_eq!(blocks.len(), 2, "{sent:?}");
    (
        body(&sent),
        Some((blocks[0].1.clone(), blocks[1].1.clone())),
    )
}

#[test]
fn text_and_tool_input_split_at_every_character_boundary() {
    let cases = cases();
    for case in [&cases[0], &cases[2], &cases[3]] {
        for text in [TEXTS[1], TEXTS[2], TEXTS[3], TEXTS[5]] {
            let input = json!({"note": text, "n": 1}).to_string();
            let redacted = |t: &str| {
                let e = case.pipeline.evaluate(&Payload::text(Stage::Response, t));
                let out = e
                    .redacted
                    .as_ref()
                    .map(|m| m[0].content.clone())
                    .unwrap_or_else(|| t.to_string());
                (e, out)
            };
            let (text_eval, text_out) = redacted(text);
            let (input_eval, input_out) = redacted(&input);
            let blocked = text_eval.action == Action::Block || input_eval.action == Action::Block;
            let secrets: Vec<String> = [(&text_eval, text), (&input_eval, input.as_str())]
                .iter()
                .flat_map(|(e, t)| {
                    e.redacting_findings()
                        .map(|f| {
                            let s = f.span.unwrap();
                            t[s.start as usize..s.end as usize].to_string()
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            for i in (0..=input.len()).filter(|&i| input.is_char_boundary(i)) {
                let j = (i * text.len() / input.len()).min(text.len());
                let j = (j..=text.len())
                    .find(|&j| text.is_char_boundary(j))
                    .unwrap();
                let events = [
                    json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [], "usage": {"input_tokens": 1, "output_tokens": 0}}}),
                    json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": &text[..j]}}),
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": &text[j..]}}),
                    json!({"type": "content_block_stop", "index": 0}),
                    json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}}),
                    json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": &input[..i]}}),
                    json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": &input[i..]}}),
                    json!({"type": "content_block_stop", "index": 1}),
                    json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 9}}),
                    json!({"type": "message_stop"}),
                ];
                let (body, assembled) = run(&case.pipeline, &events);
                for s in &secrets {
                    let wire = serde_json::to_string(s).unwrap();
                    assert!(
                        !body.contains(wire.trim_matches('"')),
                        "{}: `{s}` left in {body}",
                        case.name
                    );
                }
                match assembled {
                    None => assert!(blocked, "{}: blocked at split {i}", case.name),
                    Some((t, inp)) => {
                        assert!(!blocked, "{}: not blocked at split {i}", case.name);
                        assert_eq!(t, text_out, "{}: split {j}", case.name);
                        assert_eq!(inp, input_out, "{}: split {i}", case.name);
                    }
                }
            }
        }
    }
}
