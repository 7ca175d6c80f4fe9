//! The `judge-router` component: adapts the core to the WIT world.

wit_bindgen::generate!({ path: "../../wit", world: "judge-router" });

use railyard::plugin::host::config;
use railyard::plugin::types::{JudgeMode, Stage};

struct Router;

impl Guest for Router {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "judge-router".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            stages: vec![Stage::Request, Stage::Response],
        }
    }

    fn route(payload: Payload, findings: Vec<Finding>) -> Result<Vec<JudgeRequest>, String> {
        let settings = crate::Config::read(config(), crate::Settings::from_config)?;
        let views: Vec<crate::FindingView> = findings
            .iter()
            .map(|f| crate::FindingView {
                category: &f.category,
                score: f.score,
            })
            .collect();
        Ok(crate::route(&payload.request_id, &views, &settings)
            .into_iter()
            .map(|r| JudgeRequest {
                judge: r.judge,
                rubric: r.rubric,
                mode: if r.blocking {
                    JudgeMode::Blocking
                } else {
                    JudgeMode::Background
                },
                priority: r.priority,
                sample_rate: r.sample_rate,
                reason: r.reason,
            })
            .collect())
    }
}

export!(Router);
