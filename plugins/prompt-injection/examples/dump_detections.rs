//! Prints every detection of the native core, exactly, on a fixed corpus,
//! one line per text: the payload's score bits, then each detection's
//! rule, score bits and byte span. Built at two commits, the two outputs
//! must be byte-identical for a change meant to keep behaviour (a speed
//! change): `diff` them.
//!
//! The corpus: every `text` of the JSON-lines files in the folders given
//! (e.g. `tests/data ../shared/data`), the SDK's sample prose from 0 B to
//! 4 KiB in steps of 37 bytes and at 8 and 64 KiB, and 6,000 texts drawn
//! from fragments that exercise the scanner's obfuscation paths
//! (leetspeak, spelled-out and hyphenated words, invisible and
//! look-alike characters, chat markup, escapes), by a fixed seed.
//!
//! `cargo run --release -p railyard-plugin-prompt-injection --example
//! dump_detections -- tests/data ../shared/data > before.txt`
use std::io::Write;

use railyard_plugin_prompt_injection::{Config, Settings, assess};

/// Pieces the generated texts are made of.
const FRAGMENTS: &[&str] = &[
    "ignore",
    "Ignore",
    "IGNORE",
    "previous",
    "instructions",
    "1gn0re",
    "pr3v10us",
    "i g n o r e",
    "i.g.n.o.r.e",
    "ig\u{200B}nore",
    "\u{200D}",
    "\u{202E}",
    "\u{E0041}",
    "<|im_start|>",
    "[INST]",
    "system",
    "prompt",
    "You",
    "are",
    "now",
    "DAN",
    "assistant",
    "AI",
    "the",
    "a",
    "of",
    "and",
    " ",
    "  ",
    "\n",
    "\\n",
    ",",
    ".",
    ":",
    "\"",
    "'",
    "-",
    "_",
    "/",
    "#",
    "*",
    "é",
    "ｉｇｎｏｒｅ",
    "іgnоrе",
    "olvida",
    "instrucciones",
    "vorherigen",
    "Anweisungen",
    "系统",
    "提示",
    "مرحبا",
    "x1",
    "42",
    "in-struc-tions",
    "don't",
    "l'assistant",
    "reveal",
    "your",
    "rules",
    "Note:",
    "AI:",
    "bot",
    "modus",
    "abcdefghijklmnopqrstuvwxyz0123",
    "admin",
    "mode",
    "@",
    "%41",
    "aWdub3Jl",
    "\t",
    "!",
    "?",
];

fn corpus(folders: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for folder in folders {
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .unwrap_or_else(|e| panic!("reading {folder}: {e}"))
            .map(|e| e.expect("folder entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            for line in text.lines() {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(line)
                    && let Some(t) = v.get("text").and_then(|t| t.as_str())
                {
                    out.push(t.to_string());
                }
            }
        }
    }
    for n in (0..4096).step_by(37).chain([8192, 65536]) {
        out.push(railyard_plugin_sdk::sample::prose(n));
    }
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..6000 {
        let mut t = String::new();
        for _ in 0..next() % 120 {
            t.push_str(FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize]);
            if next() % 3 != 0 {
                t.push(' ');
            }
        }
        out.push(t);
    }
    out
}

fn main() {
    let folders: Vec<String> = std::env::args().skip(1).collect();
    let settings = Settings::from_config(&Config::default()).expect("default settings");
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    for (k, text) in corpus(&folders).iter().enumerate() {
        let a = assess(&[text.as_str()], &settings);
        write!(
            w,
            "{k} {:08x} {:08x}",
            a.score.to_bits(),
            a.untrusted_score.to_bits()
        )
        .expect("stdout");
        for (i, d) in &a.detections {
            write!(
                w,
                " {i}:{}:{:08x}:{}-{}",
                d.rule_id,
                d.score.to_bits(),
                d.start,
                d.end
            )
            .expect("stdout");
        }
        writeln!(w).expect("stdout");
    }
}
