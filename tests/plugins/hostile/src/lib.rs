//! A guardrail that misbehaves on purpose, to prove the host contains it.
//!
//! The `behave` config key picks the misbehaviour; any other value (or none)
//! makes it a well-behaved guardrail that flags the word "hostile".
//!
//! It also exports a stream scanner. Well-behaved, it settles nothing
//! before `finish` (which answers as `check` does). `scanner-lies`: `check`
//! redacts the first word, but the scanner reports nothing while it
//! settles everything it has seen. `scanner-settles-back`: the
//! settled point jumps to the end, then back to 0.
#![cfg(target_arch = "wasm32")]
// The bindings wit-bindgen generates at the crate root have long signatures.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "streaming-guardrail" });

use railyard::plugin::host::{LogLevel, config, log};
use railyard::plugin::types::{Action, Finding, Span, Stage};

struct Hostile;

fn behaviour() -> String {
    config()
        .into_iter()
        .find(|(k, _)| k == "behave")
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn finding(span: Option<Span>, score: f32) -> Finding {
    Finding {
        rule_id: "hostile.test".into(),
        category: "HOSTILE".into(),
        score,
        span,
        replacement: None,
    }
}

impl Guest for Hostile {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "hostile".into(),
            version: "0.1.0".into(),
            stages: vec![Stage::Request, Stage::Response],
        }
    }

    fn check(payload: Payload) -> Result<Verdict, String> {
        let first_len = payload
            .messages
            .first()
            .map(|m| m.content.len())
            .unwrap_or(0) as u32;
        let verdict = |findings| Verdict {
            action: Action::Flag,
            reason: "hostile fixture".into(),
            findings,
        };
        match behaviour().as_str() {
            "loop" => {
                log(LogLevel::Warn, "about to spin forever");
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "grow" => {
                // Keep every allocation alive so memory only grows.
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "trap" => std::process::abort(),
            "panic" => panic!("hostile fixture panics on purpose"),
            "error" => Err("hostile fixture refuses on purpose".into()),
            // A third-party plugin refusing its config (no SDK): the host's
            // load-time probe must refuse the policy.
            "bad-config" => Err("config key `behave`: refused on purpose".into()),
            "span-out-of-bounds" => Ok(verdict(vec![finding(
                Some(Span {
                    message: 0,
                    start: 0,
                    end: first_len + 100,
                }),
                0.9,
            )])),
            "span-bad-message" => Ok(verdict(vec![finding(
                Some(Span {
                    message: 99,
                    start: 0,
                    end: 1,
                }),
                0.9,
            )])),
            "span-not-char-boundary" => {
                // Ends one byte into the first multi-byte character.
                let content = payload
                    .messages
                    .first()
                    .map(|m| m.content.as_str())
                    .unwrap_or("");
                let cut = content
                    .char_indices()
                    .find(|(_, c)| c.len_utf8() > 1)
                    .map(|(i, _)| i as u32 + 1)
                    .unwrap_or(1);
                Ok(verdict(vec![finding(
                    Some(Span {
                        message: 0,
                        start: 0,
                        end: cut,
                    }),
                    0.9,
                )]))
            }
            "score-out-of-range" => Ok(verdict(vec![finding(None, 7.5)])),
            "scanner-lies" => {
                // Redacts the first word of the first message.
                let text = payload
                    .messages
                    .first()
                    .map(|m| m.content.as_str())
                    .unwrap_or("");
                let word = text.split(char::is_whitespace).next().unwrap_or("");
                let findings = if word.is_empty() {
                    vec![]
                } else {
                    vec![finding(
                        Some(Span {
                            message: 0,
                            start: 0,
                            end: word.len() as u32,
                        }),
                        0.9,
                    )]
                };
                Ok(Verdict {
                    action: if findings.is_empty() {
                        Action::Allow
                    } else {
                        Action::Redact
                    },
                    reason: String::new(),
                    findings,
                })
            }
            "block" => Ok(Verdict {
                action: Action::Block,
                reason: "hostile fixture blocks everything".into(),
                findings: vec![],
            }),
            _ => {
                let hit = payload
                    .messages
                    .iter()
                    .any(|m| m.content.contains("hostile"));
                Ok(Verdict {
                    action: if hit { Action::Flag } else { Action::Allow },
                    reason: if hit {
                        "mentions hostile".into()
                    } else {
                        String::new()
                    },
                    findings: vec![],
                })
            }
        }
    }
}

/// One streamed answer: the text so far and how many pushes came.
struct Scan {
    text: std::cell::RefCell<String>,
    pushes: std::cell::Cell<u32>,
}

impl exports::railyard::plugin::scanning::Guest for Hostile {
    type Scanner = Scan;

    fn start(_payload: Payload) -> Result<exports::railyard::plugin::scanning::Scanner, String> {
        Ok(exports::railyard::plugin::scanning::Scanner::new(Scan {
            text: Default::default(),
            pushes: Default::default(),
        }))
    }
}

impl exports::railyard::plugin::scanning::GuestScanner for Scan {
    fn push(&self, chunk: String) -> Result<exports::railyard::plugin::scanning::Progress, String> {
        self.text.borrow_mut().push_str(&chunk);
        self.pushes.set(self.pushes.get() + 1);
        let len = self.text.borrow().len() as u32;
        let settled = match behaviour().as_str() {
            "scanner-lies" => len,
            "scanner-settles-back" if self.pushes.get() == 1 => len,
            _ => 0,
        };
        Ok(exports::railyard::plugin::scanning::Progress {
            findings: vec![],
            action: Action::Allow,
            reason: String::new(),
            settled,
        })
    }

    fn finish(&self) -> Result<Verdict, String> {
        let text = self.text.borrow().clone();
        <Hostile as Guest>::check(Payload {
            request_id: String::new(),
            stage: Stage::Response,
            route: String::new(),
            caller: String::new(),
            messages: vec![railyard::plugin::types::Message {
                role: "assistant".into(),
                content: text,
            }],
            attributes: vec![],
        })
    }
}

export!(Hostile);
