//! The Responses relay on the shapes an upstream may take besides the
//! usual one, through the default policy's real plugins: a response that
//! ends `response.incomplete`; values given only whole in `.done` and
//! `output_item.done` events (no deltas); a response that names items only
//! in `response.completed`; an answer blocked in one lane after another
//! item went out; and events before `response.created` or not shaped as
//! the API shapes them. In each, what the client assembles is coherent
//! (consecutive sequence numbers, items and parts at the positions the
//! events name, every `.done` equal to its deltas) and no card leaves.

use serde_json::{Value, json};

use crate::responses_upstream::{CARD, assemble, events_of};
use crate::stream_equivalence::cases;
use railyard::pipeline::lanes::StreamLanes;
use railyard::serve::responses::Echo;
use railyard::serve::responses::relay::{Relay, Step};
use railyard::verdict::Action;
use railyard::{Payload, Stage};

/// Runs `events` through a relay with the default policy (or the
/// blocking one); returns what was sent (with the closing events) and
/// whether the verdict blocked.
fn run(events: &[Value], blocking: bool) -> (Vec<Value>, Action, Option<Step>) {
    let cases = cases();
    let pipeline = cases[if blocking { 2 } else { 0 }].pipeline.clone();
    let lanes = StreamLanes::new(pipeline, Payload::text(Stage::Response, ""), 64);
    let mut relay = Relay::new(lanes, Echo::none());
    let mut sent = Vec::new();
    let mut stop = None;
    for e in events {
        match relay.event(e.clone()) {
            Step::Send(out) => sent.extend(out),
            other => {
                stop = Some(other);
                break;
            }
        }
    }
    let complete = matches!(stop, Some(Step::Complete));
    let (end, closing, next) = relay.finish(complete);
    if complete {
        sent.extend(closing.unwrap_or_default());
    }
    assert_eq!(next as usize, sent.len());
    (sent, end.evaluation.action, stop)
}

fn response(output: Value, status: &str) -> Value {
    json!({"id": "resp_1", "object": "response", "status": status, "model": "m", "output": output,
        "incomplete_details": if status == "incomplete" { json!({"reason": "max_output_tokens"}) } else { Value::Null },
        "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}})
}

fn message(text: &str) -> Value {
    json!({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}]})
}

#[test]
fn an_incomplete_response_ends_incomplete_with_its_output_as_released() {
    let r = response(
        json!([message(&format!("my card {CARD} and then"))]),
        "incomplete",
    );
    let mut events = events_of(&r, 3);
    let last = events.last_mut().unwrap();
    last["type"] = json!("response.incomplete");
    let (sent, action, stop) = run(&events, false);
    assert!(matches!(stop, Some(Step::Complete)));
    assert_ne!(action, Action::Block);
    let text = serde_json::to_string(&sent).unwrap();
    assert!(!text.contains("1111"), "{text}");
    let a = assemble(&sent);
    assert_eq!(a.items[0].1[0], "my card <CREDIT_CARD> and then");
    let end = sent.last().unwrap();
    assert_eq!(end["type"], "response.incomplete", "{end}");
    assert_eq!(
        end["response"]["incomplete_details"]["reason"],
        "max_output_tokens"
    );
    assert_eq!(
        end["response"]["output"][0]["content"][0]["text"],
        a.items[0].1[0]
    );
}

#[test]
fn values_given_only_whole_go_through_their_lanes_and_out_as_deltas() {
    // No content_part or delta events: each value only in its item's
    // `done`; and a second message only in `response.completed`.
    let call = json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "pay",
        "arguments": json!({"card": CARD}).to_string(), "status": "completed"});
    let mut second = message(&format!("again {CARD}"));
    second["id"] = json!("msg_2");
    let r = response(
        json!([message(&format!("card {CARD}")), call, second]),
        "completed",
    );
    let mut added = message("");
    added["content"] = json!([]);
    let events = vec![
        json!({"type": "response.created", "response": response(json!([]), "in_progress")}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": added}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": r["output"][0]}),
        json!({"type": "response.output_item.added", "output_index": 1, "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "pay", "arguments": "", "status": "in_progress"}}),
        json!({"type": "response.output_item.done", "output_index": 1, "item": r["output"][1]}),
        json!({"type": "response.completed", "response": r}),
    ];
    let (sent, _, _) = run(&events, false);
    let text = serde_json::to_string(&sent).unwrap();
    assert!(!text.contains("1111"), "{text}");
    let a = assemble(&sent);
    assert_eq!(a.items.len(), 3, "{text}");
    assert_eq!(a.items[0].1, ["card <CREDIT_CARD>"]);
    assert_eq!(a.items[1].1, [json!({"card": "<CREDIT_CARD>"}).to_string()]);
    assert_eq!(a.items[2].1, ["again <CREDIT_CARD>"]);
    let done = a.completed.unwrap();
    assert_eq!(done["output"][2]["id"], "msg_2");
    assert_eq!(
        done["output"][2]["content"][0]["text"],
        "again <CREDIT_CARD>"
    );
}

#[test]
fn a_block_in_a_later_item_stops_the_answer_after_what_went_out() {
    // The blocking policy blocks secrets: the first item goes out, the
    // key in the second holds everything, and nothing of it leaves.
    let key = "AKIAZ3MXQ7R4TWPLK2VN";
    let mut second = message(&format!("use key {key} for that"));
    second["id"] = json!("msg_2");
    let r = response(json!([message("first answer"), second]), "completed");
    let (sent, action, _) = run(&events_of(&r, 3), true);
    assert_eq!(action, Action::Block);
    let text = serde_json::to_string(&sent).unwrap();
    assert!(!text.contains(key), "{text}");
    assert!(!text.contains("response.completed"), "{text}");
    let a = assemble(&sent);
    assert_eq!(a.items[0].1, ["first answer"], "{text}");
}

#[test]
fn events_out_of_order_or_out_of_shape_end_the_stream() {
    let r = response(json!([message("hi")]), "completed");
    let events = events_of(&r, 3);
    let (sent, _, stop) = run(&events[2..], false);
    assert!(sent.is_empty());
    assert!(matches!(stop, Some(Step::Invalid(why)) if why.contains("before `response.created`")));
    let bad = vec![
        events[0].clone(),
        json!({"type": "response.output_text.delta", "output_index": "4111 1111 1111 1111", "content_index": 0, "delta": "x"}),
    ];
    let (_, _, stop) = run(&bad, false);
    let Some(Step::Invalid(why)) = stop else {
        panic!("not invalid")
    };
    assert!(
        !why.contains("1111"),
        "the reason quotes upstream text: {why}"
    );
    let failed = vec![
        events[0].clone(),
        json!({"type": "response.failed", "response": {"error": {"code": "server_error", "message": format!("card {CARD}")}}}),
    ];
    let (_, _, stop) = run(&failed, false);
    assert!(matches!(stop, Some(Step::UpstreamError(code)) if code == "server_error"));
}

/// What a stream's verdict judged: the texts of the items, not their ids,
/// types, roles or statuses (each of which would cost a judgement per
/// stream for nothing).
#[test]
fn a_streamed_items_ids_types_and_statuses_are_not_judged() {
    let r = response(
        json!([message("Let me check."),
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
             "arguments": "{\"city\": \"Paris\"}", "status": "completed"}]),
        "completed",
    );
    let cases = cases();
    let lanes = StreamLanes::new(
        cases[0].pipeline.clone(),
        Payload::text(Stage::Response, ""),
        64,
    );
    let mut relay = Relay::new(lanes, Echo::none());
    for e in events_of(&r, 3) {
        assert!(matches!(relay.event(e), Step::Send(_) | Step::Complete));
    }
    let (end, _, _) = relay.finish(true);
    let fields: Vec<String> = end
        .payload
        .messages
        .iter()
        .map(|m| m.field.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        fields,
        [
            "output[0].content[0].text",
            "output[1].name",
            "output[1].arguments"
        ]
    );
}
