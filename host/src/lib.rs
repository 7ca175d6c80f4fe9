//! railyard: a guardrail runtime for LLM traffic.
//!
//! The host loads sandboxed WebAssembly plugins — guardrails, PII detectors,
//! judge routers — through the WIT contract in `wit/`, runs them on every
//! inference payload, and records every decision.
//!
//! Data flows one way: a [`payload::Payload`] goes into a
//! [`pipeline::Pipeline`] (a validated [`policy::Policy`] with its plugins
//! loaded by a [`plugin::PluginLoader`] on the process's one
//! [`engine::RailyardEngine`]), which returns an [`pipeline::Evaluation`].
#![deny(missing_docs)]

pub mod audit;
mod base_url;
pub mod cli;
pub mod conformance;
pub mod engine;
pub mod evaluation;
mod heap;
pub mod judge;
pub mod live;
#[cfg(test)]
mod module_graph;
pub mod payload;
pub mod pipeline;
pub mod plugin;
pub mod policy;
pub mod replay;
pub mod serve;
pub mod telemetry;
pub mod verdict;

pub use engine::{EngineSettings, RailyardEngine};
pub use evaluation::Evaluation;
pub use payload::{Message, Payload, Stage};
pub use pipeline::Pipeline;
pub use plugin::PluginLoader;
pub use policy::Policy;
pub use verdict::{Action, Finding};

/// Builds the engine, loads `policy`'s plugins, and returns the pipeline:
/// the one call most embedders need.
pub fn load_pipeline(settings: EngineSettings, policy: Policy) -> anyhow::Result<Pipeline> {
    let engine = RailyardEngine::new(settings)?;
    let loader = PluginLoader::new(engine)?;
    Ok(Pipeline::load(&loader, policy)?)
}
