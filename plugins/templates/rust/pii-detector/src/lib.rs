//! {{name}}: a railyard PII detector that finds e-mail addresses.
//!
//! For each `@` in a message, the address is extended left over
//! `[A-Za-z0-9._%+-]` (the local part) and right over `[A-Za-z0-9.-]` (the
//! domain, trailing dots dropped). It is reported when the local part is not
//! empty and the domain has a dot with a character on each side: a finding
//! `{{name}}.email`, category `EMAIL_ADDRESS`, score 0.9, whose span is the
//! address's byte range in the message. The host decides what to do with
//! findings (redact, block, flag) from the policy.
//!
//! No config.

/// The Rust types and export glue generated from `wit/railyard.wit` for the
/// `pii-detector` world.
#[allow(clippy::too_many_arguments)] // the generated glue takes records field by field
mod bindings {
    wit_bindgen::generate!({ path: "wit", world: "pii-detector" });
}

use bindings::railyard::plugin::types::{Finding, Span, Stage};
use bindings::{Guest, Payload, PluginInfo};

struct Plugin;

impl Guest for Plugin {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            stages: vec![Stage::Request, Stage::Response],
        }
    }

    fn detect(payload: Payload) -> Result<Vec<Finding>, String> {
        let mut findings = Vec::new();
        for (index, message) in payload.messages.iter().enumerate() {
            for (start, end) in emails(&message.content) {
                findings.push(Finding {
                    rule_id: "{{name}}.email".into(),
                    category: "EMAIL_ADDRESS".into(),
                    score: 0.9,
                    span: Some(Span {
                        message: index as u32,
                        start: start as u32,
                        end: end as u32,
                    }),
                    replacement: None,
                });
            }
        }
        Ok(findings)
    }
}

/// Byte ranges `(start, end)` of the e-mail addresses in `text`. Both ends
/// fall on ASCII bytes, so on character boundaries. Linear: each extension
/// stops at the next `@`.
fn emails(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let is_local = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
    let is_domain = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'-';

    let mut found = Vec::new();
    for (at, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'@') {
        let mut start = at;
        while start > 0 && is_local(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain(bytes[end]) {
            end += 1;
        }
        while end > at + 1 && bytes[end - 1] == b'.' {
            end -= 1;
        }
        let domain = &bytes[at + 1..end];
        let dotted = domain.len() >= 3 && domain[1..domain.len() - 1].contains(&b'.');
        if start < at && dotted {
            found.push((start, end));
        }
    }
    found
}

bindings::export!(Plugin with_types_in bindings);
