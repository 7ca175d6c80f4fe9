//! The `guardrail` component: adapts the core to the WIT world.
//!
//! System messages are written by the application, not the caller, so they
//! are not assessed: an injection arrives in user, tool or retrieved
//! content, and a system prompt full of "### SYSTEM:" headers is not one.

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
        let settings = crate::Settings::from_config(&crate::Config::new(config()))?;
        let assessed: Vec<usize> = payload
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.role != "system")
            .map(|(i, _)| i)
            .collect();
        let texts: Vec<&str> = assessed
            .iter()
            .map(|&i| payload.messages[i].content.as_str())
            .collect();
        let assessment = crate::assess(&texts, &settings);
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
