//! The `guardrail` component: adapts the core to the WIT world.
//!
//! System messages are written by the application, not the caller, so they
//! are not assessed (unless `scan-system` is set): an injection arrives in
//! user, tool or retrieved content, and a system prompt full of "###
//! SYSTEM:" headers is not one.
//!
//! Tool results and retrieved content are untrusted: a message whose role
//! is `tool` or `function`, or whose attribute `message.<i>.origin` (set by
//! the host for every text it takes from a request body, or by an
//! application through `/v1/guard`) is `tool` or `retrieved`.

wit_bindgen::generate!({ path: "../../wit", world: "guardrail" });

use railyard::plugin::host::config;
use railyard::plugin::types::{Action, Finding, Span, Stage};

struct PromptInjection;

impl Guest for PromptInjection {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "prompt-injection".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            stages: vec![Stage::Request, Stage::Response],
        }
    }

    fn check(payload: Payload) -> Result<Verdict, String> {
        let settings = crate::Config::read(config(), crate::Settings::from_config)?;
        let origin = |i: usize| {
            let key = format!("message.{i}.origin");
            payload
                .attributes
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
        };
        let assessed: Vec<usize> = payload
            .messages
            .iter()
            .enumerate()
            .filter(|(i, m)| {
                settings.scan_system || (m.role != "system" && origin(*i) != Some("system"))
            })
            .map(|(i, _)| i)
            .collect();
        let texts: Vec<(&str, crate::Trust)> = assessed
            .iter()
            .map(|&i| {
                let m = &payload.messages[i];
                let untrusted = matches!(m.role.as_str(), "tool" | "function")
                    || matches!(origin(i), Some("tool" | "retrieved"));
                let trust = if untrusted {
                    crate::Trust::Untrusted
                } else {
                    crate::Trust::Trusted
                };
                (m.content.as_str(), trust)
            })
            .collect();
        let assessment = crate::assess_with_trust(&texts, &settings);
        let action = match assessment.decision(&settings) {
            crate::Decision::Allow => Action::Allow,
            crate::Decision::Flag => Action::Flag,
            crate::Decision::Block => Action::Block,
        };
        let findings: Vec<Finding> = assessment
            .detections
            .iter()
            .map(|(i, d)| Finding {
                rule_id: d.rule_id.into(),
                category: d.category.into(),
                score: d.score,
                span: Some(Span {
                    message: assessed[*i] as u32,
                    start: d.start as u32,
                    end: d.end as u32,
                }),
                replacement: None,
            })
            .collect();
        let reason = if action == Action::Allow {
            String::new()
        } else {
            let mut categories: Vec<&str> = findings.iter().map(|f| f.category.as_str()).collect();
            categories.sort_unstable();
            categories.dedup();
            format!(
                "injection score {:.2}: {}",
                assessment.score,
                categories.join(", ")
            )
        };
        Ok(Verdict {
            action,
            reason,
            findings,
        })
    }
}

export!(PromptInjection);
