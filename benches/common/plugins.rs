//! What the plugin benches share: the request they send and where a
//! baseline folder keeps a component.

use railyard::{Message, Payload, Stage};

/// A request of `bytes` of the SDK's sample prose as one user message,
/// after a short system message.
pub fn payload(bytes: usize) -> Payload {
    Payload {
        request_id: "bench".into(),
        stage: Stage::Request,
        route: "bench-model".into(),
        caller: "bench".into(),
        messages: vec![
            Message::new("system", "You are a helpful assistant."),
            Message::new("user", railyard_plugin_sdk::sample::prose(bytes)),
        ],
        attributes: vec![],
    }
}

/// The file host/build.rs writes for plugin package `package` in `dir`.
pub fn component_file(dir: &std::path::Path, package: &str) -> std::path::PathBuf {
    dir.join(format!("{}.wasm", package.replace('-', "_")))
}
