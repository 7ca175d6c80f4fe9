//! The `streaming-pii-detector` component: adapts the core to the WIT world.

railyard_plugin_sdk::detector_component! {
    name: "pii",
    settings: crate::Settings,
    detect: crate::detect,
    reach: crate::STREAM_REACH,
    hold: |_: &str| None,
}
