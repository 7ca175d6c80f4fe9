//! The verdict on a stream equals the verdict on the same text sent
//! unstreamed, whatever the pieces: every text is split at every character
//! boundary (two pieces), and into runs of 1..=7 bytes, through the real
//! first-party plugins and the default policy's response stage. Where the
//! answer is not blocked, the released pieces concatenated equal the
//! unstreamed redacted text, and no piece ever carries the unredacted
//! value.

mod common;

use std::sync::Arc;

use railyard::serve::stream::StreamGuard;
use railyard::verdict::Action;
use railyard::{Payload, Pipeline, Policy, Stage};

fn pipelines() -> Vec<(&'static str, Arc<Pipeline>)> {
    let default = Pipeline::load(common::loader(), Policy::embedded_default()).unwrap();
    let blocking = common::pipeline(
        "name = \"blocking\"\n[plugins.secrets]\nbuiltin = \"secrets\"\naction = \"block\"\n[plugins.pii]\nbuiltin = \"pii\"\n[stages]\nresponse = [\"pii\", \"secrets\"]\n",
    );
    vec![
        ("default", Arc::new(default)),
        ("blocking", Arc::new(blocking)),
    ]
}

const TEXTS: &[&str] = &[
    "Nothing sensitive here, just a plain answer about the weather.",
    "Write to maria.gonzalez@example.com or call +1 415 555 0132.",
    "Card 4111 1111 1111 1111, exp 12/27.",
    "The AWS key is AKIAZ3MXQ7R4TWPLK2VN, keep it safe.",
    "ssn: 078-05-1120 and IBAN DE89 3704 0044 0532 0130 00 end",
    "Server 10.1.2.3 and fe80::1ff:fe23:4567:890a answered — ok ✓ 東京",
    "token ghp_16C7e42F292c6912E7710c838347Ae178B4a and then more words",
];

struct Run {
    action: Action,
    released: String,
    tail: Option<String>,
}

fn stream(pipeline: &Arc<Pipeline>, pieces: &[&str], holdback: usize) -> Run {
    let template = Payload::text(Stage::Response, "");
    let mut guard = StreamGuard::new(pipeline.clone(), template, holdback);
    let mut released = String::new();
    for p in pieces {
        released.push_str(&guard.push(p));
    }
    let end = guard.finish();
    Run {
        action: end.evaluation.action,
        released,
        tail: end.tail,
    }
}

fn check(name: &str, pipeline: &Arc<Pipeline>, text: &str, pieces: &[&str]) {
    let whole = pipeline.evaluate(&Payload::text(Stage::Response, text));
    let expected = whole
        .redacted
        .as_ref()
        .map(|m| m[0].content.clone())
        .unwrap_or_else(|| text.to_string());
    let run = stream(pipeline, pieces, 64);
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
    match run.tail {
        None => assert_eq!(whole.action, Action::Block),
        Some(tail) => assert_eq!(
            format!("{}{tail}", run.released),
            expected,
            "{name}: streamed text differs for {pieces:?}"
        ),
    }
}

#[test]
fn split_at_every_character_boundary() {
    for (name, pipeline) in pipelines() {
        for text in TEXTS {
            for i in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                check(name, &pipeline, text, &[&text[..i], &text[i..]]);
            }
        }
    }
}

#[test]
fn split_into_small_runs() {
    for (name, pipeline) in pipelines() {
        for text in TEXTS {
            for size in 1..=7 {
                let mut pieces = Vec::new();
                let mut rest = *text;
                while !rest.is_empty() {
                    let mut cut = size.min(rest.len());
                    while !rest.is_char_boundary(cut) {
                        cut += 1;
                    }
                    let (a, b) = rest.split_at(cut);
                    pieces.push(a);
                    rest = b;
                }
                check(name, &pipeline, text, &pieces);
            }
        }
    }
}
