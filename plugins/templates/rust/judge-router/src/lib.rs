//! {{name}}: a railyard judge router that asks for a judge when another
//! plugin is fairly sure it found something.
//!
//! Judge routers run last in a stage and see every finding the stage's
//! other plugins produced. If any finding scores 0.5 or more, this one asks
//! the host to send the payload to one judge, in the background (the caller
//! is answered at once; the judgement is logged later), with the reason
//! "finding <category> scored <score>" for the first such finding.
//! Otherwise it asks for nothing.
//!
//! Config (from the policy's `[plugins.{{name}}.config]` table or the
//! manifest's `[config]`):
//!
//! ```toml
//! judge = "privacy-judge"   # which judge, as the host names it; default "default"
//! rubric = "pii-leak"       # what it should judge by; default "default"
//! ```

/// The Rust types and export glue generated from `wit/railyard.wit` for the
/// `judge-router` world.
#[allow(clippy::too_many_arguments)] // the generated glue takes records field by field
mod bindings {
    wit_bindgen::generate!({ path: "wit", world: "judge-router" });
}

use bindings::railyard::plugin::host::config;
use bindings::railyard::plugin::types::{Finding, JudgeMode, JudgeRequest, Stage};
use bindings::{Guest, Payload, PluginInfo};

/// A finding at least this sure triggers the judge.
const MIN_SCORE: f32 = 0.5;

struct Plugin;

impl Guest for Plugin {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            stages: vec![Stage::Request, Stage::Response],
        }
    }

    fn route(_payload: Payload, findings: Vec<Finding>) -> Result<Vec<JudgeRequest>, String> {
        let Some(finding) = findings.iter().find(|f| f.score >= MIN_SCORE) else {
            return Ok(Vec::new());
        };
        let config = config();
        // The last value wins when a key is given more than once.
        let setting = |key: &str| {
            config
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map_or("default".to_string(), |(_, v)| v.clone())
        };
        Ok(vec![JudgeRequest {
            judge: setting("judge"),
            rubric: setting("rubric"),
            mode: JudgeMode::Background,
            priority: 0,
            sample_rate: 1.0,
            reason: format!("finding {} scored {}", finding.category, finding.score),
        }])
    }
}

bindings::export!(Plugin with_types_in bindings);
