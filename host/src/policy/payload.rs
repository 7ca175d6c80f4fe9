//! The policy's `[payload]` table: what the server does with the parts of
//! a request body that are not plain, known text.
//!
//! ```toml
//! [payload]
//! unknown-fields = "walk"   # or "refuse"
//! non-text = "allow"        # or "flag", "block"
//! ```

/// What to do with a request field the wire format (as railyard knows it)
/// does not define.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownFields {
    /// Show every string in it to the rails, like any text (the default:
    /// a field a newer SDK sends is guarded from the day it appears, and
    /// clients keep working).
    #[default]
    Walk,
    /// Refuse the request with a 400 naming the field: for deployments
    /// that would rather break a client than forward a field nobody
    /// reviewed.
    Refuse,
}

/// What to do with a non-text content part (`image_url`, `input_audio`,
/// `file`): the rails cannot read it; it is described to the plugins by
/// type, size and hash either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NonText {
    /// Forward it (the default: images and audio are ordinary traffic).
    #[default]
    Allow,
    /// Forward it, and raise the call's recorded action to `flag`.
    Flag,
    /// Refuse the request (`request_blocked`, naming the part).
    Block,
}

/// The `[payload]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PayloadPolicy {
    /// `unknown-fields`.
    pub unknown_fields: UnknownFields,
    /// `non-text`.
    pub non_text: NonText,
}

impl UnknownFields {
    /// Parses a policy-file value.
    pub fn parse(s: &str) -> Option<UnknownFields> {
        match s {
            "walk" => Some(UnknownFields::Walk),
            "refuse" => Some(UnknownFields::Refuse),
            _ => None,
        }
    }
}

impl NonText {
    /// Parses a policy-file value.
    pub fn parse(s: &str) -> Option<NonText> {
        match s {
            "allow" => Some(NonText::Allow),
            "flag" => Some(NonText::Flag),
            "block" => Some(NonText::Block),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::{NonText, Policy, UnknownFields};

    #[test]
    fn the_payload_table_is_read_and_checked_with_the_key_named() {
        let p = Policy::from_toml(
            "[payload]\nunknown-fields = \"refuse\"\nnon-text = \"flag\"\n[plugins.pii]\nbuiltin = \"pii\"\n[stages]\nrequest = [\"pii\"]\n",
            None,
        )
        .unwrap();
        assert_eq!(p.payload.unknown_fields, UnknownFields::Refuse);
        assert_eq!(p.payload.non_text, NonText::Flag);
        let d = Policy::embedded_default();
        assert_eq!(d.payload.unknown_fields, UnknownFields::Walk);
        assert_eq!(d.payload.non_text, NonText::Allow);
        let e = Policy::from_toml("[payload]\nnon-text = \"maybe\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("payload.non-text"), "{e}");
    }
}
