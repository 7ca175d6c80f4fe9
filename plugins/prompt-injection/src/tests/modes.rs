//! What the round tests share: whether a text blocks, in both modes.
use crate::{Settings, score};

pub(super) fn blocks(text: &str, s: &Settings) -> bool {
    score(text, s) >= s.threshold
}

/// The default settings (rules and model) and the rules alone.
pub(super) fn both() -> [Settings; 2] {
    [
        Settings::default(),
        Settings {
            model: false,
            ..Settings::default()
        },
    ]
}
