//! {{name}}: a railyard guardrail that blocks messages containing banned words.
//!
//! Every message of the payload is searched for every banned word, ignoring
//! ASCII case. Each hit is a finding (`{{name}}.banned`, category
//! `BANNED_WORD`, score 1.0) whose span is the hit's byte range in that
//! message. Any hit blocks the payload with the reason "banned word".
//!
//! Config (from the policy's `[plugins.{{name}}.config]` table or the
//! manifest's `[config]`):
//!
//! ```toml
//! banned = ["forbidden-word", "another one"]   # default: ["forbidden-word"]
//! ```
//!
//! An array arrives from the host as one `("banned", word)` pair per element.

/// The Rust types and export glue generated from `wit/railyard.wit` for the
/// `guardrail` world.
#[allow(clippy::too_many_arguments)] // the generated glue takes records field by field
mod bindings {
    wit_bindgen::generate!({ path: "wit", world: "guardrail" });
}

use bindings::railyard::plugin::host::config;
use bindings::railyard::plugin::types::{Action, Finding, Span, Stage};
use bindings::{Guest, Payload, PluginInfo, Verdict};

/// Banned when the config names none.
const DEFAULT_BANNED: &str = "forbidden-word";

struct Plugin;

impl Guest for Plugin {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            stages: vec![Stage::Request, Stage::Response],
        }
    }

    fn check(payload: Payload) -> Result<Verdict, String> {
        let mut banned: Vec<String> = config()
            .into_iter()
            .filter(|(key, _)| key == "banned")
            .map(|(_, word)| word)
            .collect();
        if banned.is_empty() {
            banned.push(DEFAULT_BANNED.into());
        }

        let mut findings = Vec::new();
        for (index, message) in payload.messages.iter().enumerate() {
            for word in &banned {
                for start in find_ignore_ascii_case(&message.content, word) {
                    findings.push(Finding {
                        rule_id: "{{name}}.banned".into(),
                        category: "BANNED_WORD".into(),
                        score: 1.0,
                        span: Some(Span {
                            message: index as u32,
                            start: start as u32,
                            end: (start + word.len()) as u32,
                        }),
                        replacement: None,
                    });
                }
            }
        }

        Ok(if findings.is_empty() {
            Verdict {
                action: Action::Allow,
                reason: String::new(),
                findings,
            }
        } else {
            Verdict {
                action: Action::Block,
                reason: "banned word".into(),
                findings,
            }
        })
    }
}

/// Byte offsets of the non-overlapping occurrences of `word` in `text`,
/// ignoring ASCII case. Every hit starts and ends on a character boundary:
/// it matches `word`'s bytes exactly except for ASCII letters, and a valid
/// UTF-8 `word` starts and ends on one. An empty word matches nothing.
fn find_ignore_ascii_case(text: &str, word: &str) -> Vec<usize> {
    let (text, word) = (text.as_bytes(), word.as_bytes());
    let mut hits = Vec::new();
    if word.is_empty() {
        return hits;
    }
    let mut at = 0;
    while at + word.len() <= text.len() {
        if text[at..at + word.len()].eq_ignore_ascii_case(word) {
            hits.push(at);
            at += word.len();
        } else {
            at += 1;
        }
    }
    hits
}

bindings::export!(Plugin with_types_in bindings);
