//! The `pii-detector` component of the secrets detector: adapts the core to the WIT world.

wit_bindgen::generate!({ path: "../../wit", world: "pii-detector" });

use railyard::plugin::host::config;
use railyard::plugin::types::{Span, Stage};

struct Secrets;

impl Guest for Secrets {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "secrets".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            stages: vec![Stage::Request, Stage::Response, Stage::StreamChunk],
        }
    }

    fn detect(payload: Payload) -> Result<Vec<Finding>, String> {
        let settings = crate::Settings::from_config(&crate::Config::new(config()))?;
        let mut findings = Vec::new();
        let mut found = Vec::new();
        for (index, message) in payload.messages.iter().enumerate() {
            found.clear();
            crate::detect(&message.content, &settings, &mut found);
            findings.extend(found.drain(..).map(|d| Finding {
                rule_id: d.rule_id.into(),
                category: d.category.into(),
                score: d.score,
                span: Some(Span {
                    message: index as u32,
                    start: d.start as u32,
                    end: d.end as u32,
                }),
                replacement: None,
            }));
        }
        Ok(findings)
    }
}

export!(Secrets);
