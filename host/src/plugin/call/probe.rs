//! The config probe: one call on an empty payload when a policy is loaded,
//! so a plugin that refuses its config says so then, as a policy mistake,
//! instead of failing every call once the policy is live.

use std::sync::Arc;

use super::{CallFault, StageInput};
use crate::payload::{Payload, Stage};
use crate::plugin::{LoadedPlugin, PluginLimits};

impl LoadedPlugin {
    /// Calls the plugin once at `stage` with `config` on a payload with no
    /// messages, and returns its `Err` when that names its config (the
    /// message mentions `config`, as every first-party plugin's does:
    /// "config key `entities`: …"). A plugin has nothing to object to in an
    /// empty payload but its config. Any other outcome (a verdict, a trap,
    /// a timeout, an `Err` about something else) is left to the calls and
    /// the failure mode, as before. The probe's instance is not counted in
    /// [`LoadedPlugin::stores_created`].
    pub fn config_refusal(
        &self,
        stage: Stage,
        config: &Arc<[(String, String)]>,
        limits: &PluginLimits,
    ) -> Option<String> {
        let payload = Payload {
            request_id: "config-probe".into(),
            stage,
            route: String::new(),
            caller: String::new(),
            messages: Vec::new(),
            attributes: Vec::new(),
        };
        let mut store = self.uncounted_store(config.clone(), limits.memory_bytes);
        match self.run(&mut store, &StageInput::new(&payload), &[], limits, None) {
            Err(CallFault::PluginError(message)) if names_config(&message) => Some(message),
            _ => None,
        }
    }
}

fn names_config(message: &str) -> bool {
    message.to_ascii_lowercase().contains("config")
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_errors_about_config_are_refusals() {
        assert!(super::names_config("config key `entities`: unknown entity"));
        assert!(super::names_config("bad Config: x"));
        assert!(!super::names_config("hostile fixture refuses on purpose"));
    }
}
