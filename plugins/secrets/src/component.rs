//! The `streaming-pii-detector` component of the secrets detector: adapts
//! the core to the WIT world.

railyard_plugin_sdk::detector_component! {
    name: "secrets",
    settings: crate::Settings,
    detect: crate::detect,
    reach: crate::STREAM_REACH,
    hold: crate::unterminated_key,
}
