//! Responses streams through the server's relay (one lane of the stream
//! guard per output item's text), a message's text and a function call's
//! arguments each split at every character boundary: what a client
//! assembles from the deltas equals the unstreamed redaction of each
//! value, every `.done` event and the final `response.completed` carry
//! exactly that, no event carries a value the unstreamed verdict redacts,
//! and the stream is blocked exactly when the unstreamed answer is.

use serde_json::{Value, json};

use crate::responses_upstream::assemble;
use crate::stream_equivalence::{TEXTS, cases};
use railyard::pipeline::lanes::StreamLanes;
use railyard::serve::responses::Echo;
use railyard::serve::responses::relay::{Relay, Step};
use railyard::verdict::Action;
use railyard::{Payload, Stage};

/// Runs `events` through a relay; returns the body sent and, unless
/// blocked, the assembled (text, arguments).
fn run(
    pipeline: &std::sync::Arc<railyard::Pipeline>,
    events: &[Value],
) -> (String, Option<(String, String)>) {
    let lanes = StreamLanes::new(pipeline.clone(), Payload::text(Stage::Response, ""), 64);
    let mut relay = Relay::new(lanes, Echo::none());
    let mut sent: Vec<Value> = Vec::new();
    for e in events {
        match relay.event(e.clone()) {
            Step::Send(out) => sent.extend(out),
            Step::Complete => break,
            Step::UpstreamError(e) | Step::Invalid(e) => panic!("{e}"),
        }
    }
    let (end, closing, next) = relay.finish(true);
    let body = |sent: &[Value]| {
        sent.iter()
            .map(|e| format!("data: {e}\n\n"))
            .collect::<String>()
    };
    let Some(closing) = closing else {
        assert_eq!(end.evaluation.action, Action::Block);
        assert_eq!(next as usize, sent.len());
        return (body(&sent), None);
    };
    sent.extend(closing);
    assert_eq!(next as usize, sent.len());
    let a = assemble(&sent);
    assert_eq!(sent.last().unwrap()["type"], "response.completed");
    assert_eq!(a.items.len(), 2, "{sent:?}");
    let text = a.items[0].1[0].clone();
    let args = a.items[1].1[0].clone();
    // The final response is what was streamed.
    let done = a.completed.unwrap();
    assert_eq!(done["output"][0]["content"][0]["text"], text.as_str());
    assert_eq!(done["output"][1]["arguments"], args.as_str());
    assert_eq!(done["output"][1]["call_id"], "call_1");
    assert_eq!(a.dones, [text.clone(), args.clone()]);
    (body(&sent), Some((text, args)))
}

fn events(text: (&str, &str), args: (&str, &str)) -> Vec<Value> {
    let full_text = format!("{}{}", text.0, text.1);
    let full_args = format!("{}{}", args.0, args.1);
    let message = json!({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
        "content": [{"type": "output_text", "text": full_text, "annotations": []}]});
    let call = json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "lookup",
        "arguments": full_args, "status": "completed"});
    let response = json!({"id": "resp_1", "object": "response", "status": "completed", "model": "m",
        "output": [message, call], "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}});
    vec![
        json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1", "object": "response", "status": "in_progress", "model": "m", "output": []}}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress", "content": []}}),
        json!({"type": "response.content_part.added", "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
        json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": text.0, "logprobs": []}),
        json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": text.1, "logprobs": []}),
        json!({"type": "response.output_text.done", "item_id": "msg_1", "output_index": 0, "content_index": 0, "text": full_text}),
        json!({"type": "response.content_part.done", "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": message["content"][0]}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": message}),
        json!({"type": "response.output_item.added", "output_index": 1, "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "lookup", "arguments": "", "status": "in_progress"}}),
        json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 1, "delta": args.0}),
        json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 1, "delta": args.1}),
        json!({"type": "response.function_call_arguments.done", "item_id": "fc_1", "output_index": 1, "arguments": full_args}),
        json!({"type": "response.output_item.done", "output_index": 1, "item": call}),
        json!({"type": "response.completed", "response": response}),
    ]
}

#[test]
fn text_and_function_call_arguments_split_at_every_character_boundary() {
    let cases = cases();
    for case in [&cases[0], &cases[2], &cases[3]] {
        for text in [TEXTS[1], TEXTS[2], TEXTS[3], TEXTS[5]] {
            let args = json!({"note": text, "n": 1}).to_string();
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
            let (args_eval, args_out) = redacted(&args);
            let blocked = text_eval.action == Action::Block || args_eval.action == Action::Block;
            let secrets: Vec<String> = [(&text_eval, text), (&args_eval, args.as_str())]
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
            for i in (0..=args.len()).filter(|&i| args.is_char_boundary(i)) {
                let j = (i * text.len() / args.len()).min(text.len());
                let j = (j..=text.len())
                    .find(|&j| text.is_char_boundary(j))
                    .unwrap();
                let evs = events((&text[..j], &text[j..]), (&args[..i], &args[i..]));
                let (body, assembled) = run(&case.pipeline, &evs);
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
                    Some((t, a)) => {
                        assert!(!blocked, "{}: not blocked at split {i}", case.name);
                        assert_eq!(t, text_out, "{}: split {j}", case.name);
                        assert_eq!(a, args_out, "{}: split {i}", case.name);
                    }
                }
            }
        }
    }
}
