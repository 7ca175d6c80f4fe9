//! The name recognizer over an evaluation corpus, natively, for
//! `benches/compare/ner.py` (ignored: it needs a prepared input file).
//!
//! `NER_EVAL_IN` holds texts separated by the byte 0x1e; the test writes
//! `NER_EVAL_OUT`: one line `index<TAB>type<TAB>start<TAB>end` per
//! detection (UTF-8 byte offsets), then `timing<TAB>calls<TAB>busy_ns<TAB>bytes`
//! of passes over the whole corpus (each call timed on its own) until
//! `NER_EVAL_SECS` seconds of calls (default 2).

use crate::{Config, Detection, Settings, detect};
use std::fmt::Write as _;
use std::time::Instant;

#[test]
#[ignore = "run by benches/compare/ner.py"]
fn ner_eval() {
    let input = std::env::var("NER_EVAL_IN").expect("NER_EVAL_IN");
    let output = std::env::var("NER_EVAL_OUT").expect("NER_EVAL_OUT");
    let secs: f64 =
        std::env::var("NER_EVAL_SECS").map_or(2.0, |s| s.parse().expect("NER_EVAL_SECS"));
    let all = std::fs::read_to_string(&input).expect("reading NER_EVAL_IN");
    let texts: Vec<&str> = all.split('\u{1e}').collect();
    let settings = Settings::from_config(&Config::new(vec![(
        "entities".into(),
        "PERSON,LOCATION,ORGANIZATION".into(),
    )]))
    .unwrap();
    let mut out = String::new();
    let mut found: Vec<Detection> = Vec::new();
    for (k, t) in texts.iter().enumerate() {
        found.clear();
        detect(t, &settings, &mut found);
        for d in &found {
            writeln!(out, "{k}\t{}\t{}\t{}", d.category, d.start, d.end).unwrap();
        }
    }
    let (mut calls, mut busy, mut bytes) = (0u64, 0u128, 0usize);
    let cpu_before = thread_cpu_ns();
    while busy < (secs * 1e9) as u128 || calls == 0 {
        for t in &texts {
            found.clear();
            let start = Instant::now();
            detect(t, &settings, &mut found);
            busy += start.elapsed().as_nanos();
            calls += 1;
            bytes += t.len();
        }
    }
    let cpu = thread_cpu_ns().zip(cpu_before).map_or(0, |(a, b)| a - b);
    writeln!(out, "timing\t{calls}\t{busy}\t{bytes}\t{cpu}").unwrap();
    std::fs::write(&output, out).expect("writing NER_EVAL_OUT");
}

/// This thread's time on a CPU (Linux: the first field of
/// /proc/thread-self/schedstat), robust to other load on the machine.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
