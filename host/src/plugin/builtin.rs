//! The first-party plugins embedded in the binary.
//!
//! host/build.rs compiles each crate under `plugins/` to a `wasm32-wasip2`
//! component and this module embeds the bytes, so the default policy works
//! with no files on disk.

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// The component bytes of built-in plugin `name`.
pub fn component(name: &str) -> Option<&'static [u8]> {
    BUILTIN_COMPONENTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

/// Names of every built-in plugin.
pub fn names() -> Vec<&'static str> {
    BUILTIN_COMPONENTS.iter().map(|(n, _)| *n).collect()
}

/// Folder holding every component host/build.rs built (first-party plugins
/// and test fixtures), for tests and benchmarks.
pub const WASM_DIR: &str = env!("RAILYARD_PLUGIN_WASM_DIR");
