//! The verdict on a stream equals the verdict on the same text sent
//! unstreamed, whatever the pieces: every text is split at every character
//! boundary (two pieces), and into runs of 1..=7 bytes, through the real
//! first-party plugins and the default policy's response stage, with the
//! detectors' own stream scanners (the WIT `scanning` interface), with the
//! host buffering for them (`scanner = false`), and with one of each. Where
//! the answer is not blocked, the released pieces concatenated equal the
//! unstreamed redacted text, no piece ever carries the unredacted value,
//! and no finding of the final verdict lies in text released before it was
//! known. Every decision record says how its plugin saw the stream.

use crate::common;

use std::sync::Arc;

use railyard::pipeline::stream::{DEFAULT_SCAN_BATCH, StreamGuard};
use railyard::verdict::Action;
use railyard::{Payload, Pipeline, Policy, Stage};

/// A pipeline under test, and which of its plugins scan streams.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) pipeline: Arc<Pipeline>,
    scanning: &'static [&'static str],
    /// Bytes per push to the scanners.
    batch: usize,
}

/// Per-call deadline of the pipelines under test: generous, because the
/// equivalence is about the text, and a plugin call that overruns a tight
/// deadline on a busy machine is a (fail-closed) block that the other side
/// of the comparison did not see.
const TIMEOUT: &str = "[defaults]\ntimeout-ms = 20000\n";

fn response_policy(name: &str, pii: &str, secrets: &str) -> Arc<Pipeline> {
    Arc::new(common::pipeline(&format!(
        "name = \"{name}\"\n{TIMEOUT}[plugins.pii]\nbuiltin = \"pii\"\n{pii}\n[plugins.secrets]\nbuiltin = \"secrets\"\n{secrets}\n[stages]\nresponse = [\"pii\", \"secrets\"]\n"
    )))
}

/// The embedded default policy, with [`TIMEOUT`].
fn default_policy() -> Policy {
    let text =
        railyard::policy::DEFAULT_POLICY_TOML.replace("timeout-ms = 50 ", "timeout-ms = 20000 ");
    assert_ne!(
        text,
        railyard::policy::DEFAULT_POLICY_TOML,
        "the default policy's timeout moved"
    );
    Policy::from_toml(&text, None).unwrap()
}

pub(crate) fn cases() -> Vec<Case> {
    let default = Arc::new(Pipeline::load(common::loader(), default_policy()).unwrap());
    vec![
        Case {
            name: "default (scanners)",
            pipeline: default.clone(),
            scanning: &["pii", "secrets"],
            batch: DEFAULT_SCAN_BATCH,
        },
        Case {
            name: "default, every piece pushed",
            pipeline: default,
            scanning: &["pii", "secrets"],
            batch: 1,
        },
        Case {
            name: "blocking secrets (scanners)",
            pipeline: response_policy("blocking", "", "action = \"block\""),
            scanning: &["pii", "secrets"],
            batch: DEFAULT_SCAN_BATCH,
        },
        Case {
            name: "host-buffered",
            pipeline: response_policy("buffered", "scanner = false", "scanner = false"),
            scanning: &[],
            batch: DEFAULT_SCAN_BATCH,
        },
        Case {
            name: "blocking secrets, host-buffered pii",
            pipeline: response_policy("mixed", "scanner = false", "action = \"block\""),
            scanning: &["secrets"],
            batch: 1,
        },
    ]
}

const PEM: &str = "Here is the key you asked for:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----\nStore it somewhere safe.";

pub(crate) const TEXTS: &[&str] = &[
    "Nothing sensitive here, just a plain answer about the weather.",
    "Write to maria.gonzalez@example.com or call +1 415 555 0132.",
    "Card 4111 1111 1111 1111, exp 12/27.",
    "The AWS key is AKIAZ3MXQ7R4TWPLK2VN, keep it safe.",
    "ssn: 078-05-1120 and IBAN DE89 3704 0044 0532 0130 00 end",
    "Server 10.1.2.3 and fe80::1ff:fe23:4567:890a answered — ok ✓ 東京",
    "token ghp_16C7e42F292c6912E7710c838347Ae178B4a and then more words",
    PEM,
    "Your session token is eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U for now.",
    "A longer answer. It begins with some prose that says nothing in particular, \
     so that text is released before the first finding: the office can be reached \
     at support@example.org during the week, and the card on file is \
     4111 1111 1111 1111. After that, more prose follows for a while, long enough \
     that the scanners settle past it, and then the deploy key AKIAZ3MXQ7R4TWPLK2VN \
     turns up near the end, followed by a closing sentence.",
];

struct Run {
    action: Action,
    released: String,
    tail: Option<String>,
    reasons: Vec<(String, String)>,
    late: u32,
    prefix_checks: u32,
}

fn stream(pipeline: &Arc<Pipeline>, pieces: &[&str], batch: usize) -> Run {
    let template = Payload::text(Stage::Response, "");
    let mut guard = StreamGuard::new(pipeline.clone(), template, 64).scan_batch(batch);
    let mut released = String::new();
    for p in pieces {
        released.push_str(&guard.push(p));
    }
    let end = guard.finish();
    Run {
        action: end.evaluation.action,
        released,
        tail: end.tail,
        reasons: end
            .evaluation
            .decisions
            .iter()
            .map(|d| (d.plugin.clone(), d.reason.clone()))
            .collect(),
        late: end.late_findings,
        prefix_checks: end.prefix_checks,
    }
}

fn check(case: &Case, text: &str, pieces: &[&str]) -> Run {
    let name = case.name;
    let pipeline = &case.pipeline;
    let whole = pipeline.evaluate(&Payload::text(Stage::Response, text));
    let expected = whole
        .redacted
        .as_ref()
        .map(|m| m[0].content.clone())
        .unwrap_or_else(|| text.to_string());
    let run = stream(pipeline, pieces, case.batch);
    assert_eq!(
        run.action, whole.action,
        "{name}: verdict differs for {pieces:?}"
    );
    // Sensitive values never appear in what was released.
    for f in whole.redacting_findings() {
        let s = f.span.unwrap();
        let value = &text[s.start as usize..s.end as usize];
        assert!(
            !run.released.contains(value),
            "{name}: released `{value}` for {pieces:?}: {:?}",
            run.released
        );
    }
    assert_eq!(run.late, 0, "{name}: late findings for {pieces:?}");
    match &run.tail {
        None => assert_eq!(whole.action, Action::Block),
        Some(tail) => assert_eq!(
            format!("{}{tail}", run.released),
            expected,
            "{name}: streamed text differs for {pieces:?}"
        ),
    }
    for (plugin, reason) in &run.reasons {
        let how = if case.scanning.contains(&plugin.as_str()) {
            "[stream: scanner, "
        } else {
            "[stream: host-buffered whole-text check"
        };
        assert!(
            reason.contains(how),
            "{name}: {plugin}'s reason does not say `{how}`: {reason}"
        );
    }
    run
}

/// `text` cut into runs of `size` bytes (widened to character boundaries).
fn runs(text: &str, size: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = size.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (a, b) = rest.split_at(cut);
        pieces.push(a);
        rest = b;
    }
    pieces
}

#[test]
fn first_party_detectors_scan_streams_and_the_injection_guardrail_does_not() {
    let default = Pipeline::load(common::loader(), default_policy()).unwrap();
    let scans: Vec<(&str, bool)> = default
        .plugins()
        .map(|(name, p)| (name, p.scans_streams()))
        .collect();
    assert!(scans.contains(&("pii", true)), "{scans:?}");
    assert!(scans.contains(&("secrets", true)), "{scans:?}");
    assert!(scans.contains(&("prompt-injection", false)), "{scans:?}");
}

#[test]
fn split_at_every_character_boundary() {
    for case in cases() {
        for text in TEXTS {
            for i in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                check(&case, text, &[&text[..i], &text[i..]]);
            }
        }
    }
}

#[test]
fn split_into_small_runs() {
    for case in cases() {
        for text in TEXTS {
            for size in 1..=7 {
                check(&case, text, &runs(text, size));
            }
        }
    }
}

/// The shared PII corpus, 25 records to an answer, in runs of several
/// sizes: real texts next to each other, so findings sit close together
/// and across every kind of piece boundary.
#[test]
fn corpus_answers_in_runs() {
    let corpus = std::fs::read_to_string(common::shared_data("pii-dev.jsonl")).unwrap();
    let texts: Vec<String> = corpus
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    let answers: Vec<String> = texts.chunks(25).map(|c| c.join("\n")).collect();
    let cases = cases();
    for (k, answer) in answers.iter().enumerate() {
        // Every case on a quarter of the answers, the default on all.
        for case in cases.iter().filter(|_| k % 4 == 0).chain(&cases[..1]) {
            for size in [1, 5, 16, 61] {
                check(case, answer, &runs(answer, size));
            }
        }
    }
}

/// Scanners let most of a long answer out while it streams, without
/// re-reading it; the host-buffered path re-checks prefixes.
#[test]
fn scanners_release_as_they_go_without_prefix_checks() {
    let answer = TEXTS[TEXTS.len() - 1].repeat(8);
    let cases = cases();
    // What stays unreleased at the end is the scanners' trailing context
    // (80 bytes for pii), one batch and the last finding still settling.
    for case in &cases[..2] {
        let scanned = check(case, &answer, &runs(&answer, 16));
        assert_eq!(scanned.prefix_checks, 0);
        assert!(
            scanned.released.len() + 256 > answer.len(),
            "{}: released only {} of {} bytes before the end",
            case.name,
            scanned.released.len(),
            answer.len()
        );
    }
    let buffered = check(&cases[3], &answer, &runs(&answer, 16));
    assert!(buffered.prefix_checks > 10, "{}", buffered.prefix_checks);
    assert!(buffered.released.len() + 200 > answer.len());
}

fn hostile_stream(behave: &str, failure_mode: &str, pieces: &[&str]) -> Run {
    let pipeline = Arc::new(common::pipeline(&format!(
        "[plugins.hostile]\npath = \"{}\"\nfailure-mode = \"{failure_mode}\"\n[plugins.hostile.config]\nbehave = \"{behave}\"\n[stages]\nresponse = [\"hostile\"]\n",
        common::hostile_path()
    )));
    stream(&pipeline, pieces, 1)
}

/// A scanner that settles text it has not judged gets it released; the
/// final verdict still redacts it, and the record counts the late finding.
#[test]
fn a_lying_scanner_is_caught_out_in_the_record() {
    let pieces = ["hostile answer ", "that goes on ", "for a while"];
    let run = hostile_stream("scanner-lies", "fail-closed", &pieces);
    assert_eq!(run.action, Action::Redact);
    assert!(run.released.contains("hostile"), "{:?}", run.released);
    assert_eq!(run.late, 1);
    let (_, reason) = &run.reasons[0];
    assert!(
        reason.contains("[stream: 1 findings were in text already released]"),
        "{reason}"
    );
}

/// A scanner that breaks the contract mid-stream is a failed call: under
/// fail-closed nothing more is released and the answer is blocked.
#[test]
fn a_scanner_that_breaks_the_contract_holds_the_stream_under_fail_closed() {
    let pieces = ["first piece, ", "second piece, ", "third piece."];
    let run = hostile_stream("scanner-settles-back", "fail-closed", &pieces);
    assert_eq!(run.action, Action::Block);
    assert!(run.tail.is_none());
    let (_, reason) = &run.reasons[0];
    assert!(reason.contains("settled point moved back"), "{reason}");
    assert!(
        reason.contains("[stream: scanner failed after 2 pushes]"),
        "{reason}"
    );
    // Fail-open: the plugin is out of the verdict, the text goes out whole.
    let run = hostile_stream("scanner-settles-back", "fail-open", &pieces);
    assert_eq!(run.action, Action::Allow);
    assert_eq!(
        format!("{}{}", run.released, run.tail.unwrap()),
        pieces.concat()
    );
}

/// A streamed chat answer with a tool call and a refusal, through the
/// server's relay (the lanes of the stream guard behind the SSE deltas),
/// assembled the way the `openai` client assembles it.
fn relay_run(pipeline: &Arc<Pipeline>, events: &[serde_json::Value]) -> (String, Option<String>) {
    use railyard::pipeline::lanes::StreamLanes;
    use railyard::serve::stream::Relay;
    use railyard::serve::wire::chunk::Chunk;
    let lanes = StreamLanes::new(pipeline.clone(), Payload::text(Stage::Response, ""), 64);
    let mut relay = Relay::new(lanes, true);
    let mut body = String::new();
    for e in events {
        let chunk: Chunk = serde_json::from_value(e.clone()).unwrap();
        if let Some(out) = relay.chunk(chunk) {
            body.push_str(&format!("data: {out}\n\n"));
        }
    }
    let (end, closing) = relay.finish(true);
    let Some(closing) = closing else {
        assert_eq!(end.evaluation.action, Action::Block);
        return (body, None);
    };
    for c in closing {
        body.push_str(&format!("data: {c}\n\n"));
    }
    let assembled = common::script::assemble(&body);
    (body, Some(assembled.messages[&0].to_string()))
}

fn delta(d: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                       "choices": [{"index": 0, "delta": d, "finish_reason": null}]})
}

/// Tool-call arguments and a refusal, each split at every character
/// boundary (the two splits interleaved): what the client assembles equals
/// the unstreamed redaction of each value, and no event carries a value
/// the unstreamed verdict redacts.
#[test]
fn tool_call_arguments_and_refusals_split_at_every_character_boundary() {
    use serde_json::json;
    let cases = cases();
    for case in [&cases[0], &cases[2], &cases[3]] {
        for text in [TEXTS[1], TEXTS[2], TEXTS[3], TEXTS[5]] {
            let args = json!({"note": text, "n": 1}).to_string();
            let refusal = format!("I cannot do that: {text}");
            let redacted = |t: &str| {
                let e = case.pipeline.evaluate(&Payload::text(Stage::Response, t));
                let out = e
                    .redacted
                    .as_ref()
                    .map(|m| m[0].content.clone())
                    .unwrap_or_else(|| t.to_string());
                (e, out)
            };
            let (args_eval, args_out) = redacted(&args);
            let (refusal_eval, refusal_out) = redacted(&refusal);
            let blocked = args_eval.action == Action::Block || refusal_eval.action == Action::Block;
            let secrets: Vec<String> = [(&args_eval, &args), (&refusal_eval, &refusal)]
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
                let j = (i * refusal.len() / args.len().max(1)).min(refusal.len());
                let j = (j..=refusal.len())
                    .find(|&j| refusal.is_char_boundary(j))
                    .unwrap();
                let events = [
                    delta(
                        json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": ""}}]}),
                    ),
                    delta(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": &args[..i]}}]}),
                    ),
                    delta(json!({"refusal": &refusal[..j]})),
                    delta(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": &args[i..]}}]}),
                    ),
                    delta(json!({"refusal": &refusal[j..]})),
                    json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                           "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
                ];
                let (body, message) = relay_run(&case.pipeline, &events);
                for s in &secrets {
                    // JSON-escaped in the events, as it would be on the wire.
                    let wire = serde_json::to_string(s).unwrap();
                    assert!(
                        !body.contains(wire.trim_matches('"')),
                        "{}: `{s}` left in {body}",
                        case.name
                    );
                }
                match message {
                    None => assert!(blocked, "{}: blocked at split {i}", case.name),
                    Some(m) => {
                        assert!(!blocked, "{}: not blocked at split {i}: {m}", case.name);
                        let m: serde_json::Value = serde_json::from_str(&m).unwrap();
                        assert_eq!(
                            m["tool_calls"][0]["function"]["arguments"], args_out,
                            "{}: split {i}",
                            case.name
                        );
                        assert_eq!(m["tool_calls"][0]["function"]["name"], "lookup");
                        assert_eq!(m["tool_calls"][0]["id"], "call_1");
                        assert_eq!(
                            m["refusal"],
                            refusal_out.as_str(),
                            "{}: split {j}",
                            case.name
                        );
                    }
                }
            }
        }
    }
}

/// Shapes other upstreams send: the deprecated `function_call`, a tool
/// call whose id comes first and whose name and arguments come later (and
/// arguments before the name), and a whole call in one delta. Each
/// assembles to the call, its card redacted.
#[test]
fn legacy_function_calls_late_names_and_whole_calls_assemble() {
    use serde_json::json;
    let pipeline = &cases()[0].pipeline;
    let card = "4111 1111 1111 1111";
    let args = json!({"card": card}).to_string();
    let redacted = json!({"card": "<CREDIT_CARD>"}).to_string();
    let finish = |reason: &str| {
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
    };
    let (mid, _) = args.split_at(10);
    let rest = &args[10..];

    let legacy = [
        delta(
            json!({"role": "assistant", "content": null, "function_call": {"name": "pay", "arguments": ""}}),
        ),
        delta(json!({"function_call": {"arguments": mid}})),
        delta(json!({"function_call": {"arguments": rest}})),
        finish("function_call"),
    ];
    let (body, m) = relay_run(pipeline, &legacy);
    let m: serde_json::Value = serde_json::from_str(&m.unwrap()).unwrap();
    assert_eq!(m["function_call"]["name"], "pay", "{body}");
    assert_eq!(m["function_call"]["arguments"], redacted.as_str(), "{body}");

    let late = [
        delta(
            json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_9", "type": "function"}]}),
        ),
        delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": mid}}]})),
        delta(json!({"tool_calls": [{"index": 0, "function": {"name": "pay"}}]})),
        delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": rest}}]})),
        finish("tool_calls"),
    ];
    let (body, m) = relay_run(pipeline, &late);
    let m: serde_json::Value = serde_json::from_str(&m.unwrap()).unwrap();
    let call = &m["tool_calls"][0];
    assert_eq!(
        (call["id"].as_str(), call["type"].as_str()),
        (Some("call_9"), Some("function")),
        "{body}"
    );
    assert_eq!(call["function"]["name"], "pay", "{body}");
    assert_eq!(call["function"]["arguments"], redacted.as_str(), "{body}");

    let whole = [
        delta(json!({"role": "assistant", "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "pay", "arguments": args}},
            {"index": 1, "id": "call_2", "type": "function", "function": {"name": "log", "arguments": "{}"}}]})),
        finish("tool_calls"),
    ];
    let (body, m) = relay_run(pipeline, &whole);
    assert!(!body.contains("1111"), "{body}");
    let m: serde_json::Value = serde_json::from_str(&m.unwrap()).unwrap();
    assert_eq!(
        m["tool_calls"][0]["function"]["arguments"],
        redacted.as_str(),
        "{body}"
    );
    assert_eq!(m["tool_calls"][1]["id"], "call_2", "{body}");
    assert_eq!(m["tool_calls"][1]["function"]["arguments"], "{}", "{body}");
}
