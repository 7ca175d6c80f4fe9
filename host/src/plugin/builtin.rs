//! The first-party plugins embedded in the binary.
//!
//! host/build.rs compiles each crate under `plugins/` to a component (for
//! `wasm32-unknown-unknown`, componentised by `wasm-component-ld`: they use
//! no WASI) and this module embeds the bytes, so the default policy works
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The first-party plugins are built without WASI (host/build.rs,
    /// issue 19): each import is one more function to lower and wire into
    /// every fresh instance. Only railyard's own host interface remains.
    #[test]
    fn first_party_components_import_only_the_host_interface() {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        let engine = wasmtime::Engine::new(&config).expect("engine");
        assert!(!BUILTIN_COMPONENTS.is_empty());
        for (name, bytes) in BUILTIN_COMPONENTS {
            let component =
                wasmtime::component::Component::new(&engine, bytes).expect("built-in compiles");
            let imports: Vec<String> = component
                .component_type()
                .imports(&engine)
                .map(|(import, _)| import.to_string())
                .collect();
            let foreign: Vec<&String> = imports
                .iter()
                .filter(|i| !i.starts_with("railyard:plugin/"))
                .collect();
            assert!(
                foreign.is_empty(),
                "built-in {name} imports {foreign:?} (all imports: {imports:?})"
            );
        }
    }
}
