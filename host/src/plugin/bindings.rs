//! Host bindings generated from `wit/`, one module per world.
//!
//! The three worlds share the `types` and `host` interfaces; `with` maps
//! them to the guardrail world's modules so every kind uses the same Rust
//! types and one `Host` implementation serves all of them.

#![allow(missing_docs)]

pub mod guardrail {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "guardrail",
    });
}

pub mod pii_detector {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "pii-detector",
        with: {
            "railyard:plugin/types": super::guardrail::railyard::plugin::types,
            "railyard:plugin/host": super::guardrail::railyard::plugin::host,
        },
    });
}

pub mod judge_router {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "judge-router",
        with: {
            "railyard:plugin/types": super::guardrail::railyard::plugin::types,
            "railyard:plugin/host": super::guardrail::railyard::plugin::host,
        },
    });
}

pub use guardrail::railyard::plugin::host as wit_host;
pub use guardrail::railyard::plugin::types as wit;

/// A guardrail or detector that also scans streams: only the `scanning`
/// interface is used from these bindings (the world's other exports are
/// the guardrail's, and a streaming detector has `detect` instead).
pub mod streaming {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "streaming-guardrail",
        with: {
            "railyard:plugin/types": super::guardrail::railyard::plugin::types,
            "railyard:plugin/host": super::guardrail::railyard::plugin::host,
        },
    });
}

pub use streaming::exports::railyard::plugin::scanning;
