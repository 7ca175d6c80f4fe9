//! Unicode folding before matching.
//!
//! Evasions and copy-paste artefacts put PII in forms the byte scanners
//! would not see: full-width digits and `＠` (East Asian input methods),
//! non-breaking and other Unicode spaces as separators, zero-width
//! characters or soft hyphens inside a number, typographic dashes, and
//! digits of other scripts (Arabic-Indic, Devanagari, mathematical). Text
//! containing any of these is folded to its ASCII form (an NFKC-style
//! compatibility fold limited to what matters for these formats), scanned,
//! and every span is mapped back to the original bytes, so spans still
//! cover exactly the characters the user wrote and lie on UTF-8
//! boundaries. ASCII text, and non-ASCII text with nothing to fold, is
//! scanned as it is at no extra cost beyond one check.

/// What one character becomes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fold {
    /// Kept as it is.
    Keep,
    /// Removed (zero-width characters, soft hyphen).
    Drop,
    /// Replaced by one ASCII byte.
    Ascii(u8),
}

fn fold(c: char) -> Fold {
    let digit = |zero: u32| Fold::Ascii(b'0' + (c as u32 - zero) as u8);
    match c {
        // Full-width forms of ASCII `!`..`~`.
        '\u{FF01}'..='\u{FF5E}' => Fold::Ascii((c as u32 - 0xFF01 + 0x21) as u8),
        '\u{00A0}'
        | '\u{1680}'
        | '\u{2000}'..='\u{200A}'
        | '\u{202F}'
        | '\u{205F}'
        | '\u{3000}' => Fold::Ascii(b' '),
        '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => Fold::Drop,
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' => Fold::Ascii(b'-'),
        '\u{2024}' | '\u{FE52}' => Fold::Ascii(b'.'),
        '\u{FE6B}' => Fold::Ascii(b'@'),
        '\u{0660}'..='\u{0669}' => digit(0x0660),
        '\u{06F0}'..='\u{06F9}' => digit(0x06F0),
        '\u{0966}'..='\u{096F}' => digit(0x0966),
        // Mathematical bold, double-struck, sans-serif, … digits: five runs
        // of ten.
        '\u{1D7CE}'..='\u{1D7FF}' => Fold::Ascii(b'0' + ((c as u32 - 0x1D7CE) % 10) as u8),
        _ => Fold::Keep,
    }
}

/// A folded text and the way back to the original's byte offsets.
pub(crate) struct Folded {
    /// The folded text.
    pub(crate) text: String,
    /// For each folded byte, the original offset of the character it came
    /// from (or of itself, for kept characters).
    starts: Vec<u32>,
    /// For each folded byte, the original offset just past it (past its
    /// source character, for folded ones).
    ends: Vec<u32>,
}

impl Folded {
    /// The original byte range of the folded range `start..end` (both on
    /// character boundaries of the folded text, `start < end`).
    pub(crate) fn original(&self, start: usize, end: usize) -> (usize, usize) {
        (self.starts[start] as usize, self.ends[end - 1] as usize)
    }
}

/// Folds `text`, or `None` when folding would change nothing (every ASCII
/// text, most others) or the text is too long for 32-bit offsets.
pub(crate) fn fold_text(text: &str) -> Option<Folded> {
    if text.is_ascii() || text.len() > u32::MAX as usize {
        return None;
    }
    let first = text.char_indices().find(|(_, c)| fold(*c) != Fold::Keep)?.0;
    let mut folded = String::with_capacity(text.len());
    let mut starts = Vec::with_capacity(text.len());
    let mut ends = Vec::with_capacity(text.len());
    // Everything before the first folded character is copied as it is.
    folded.push_str(&text[..first]);
    starts.extend(0..first as u32);
    ends.extend(1..=first as u32);
    for (i, c) in text[first..].char_indices() {
        let i = i + first;
        let len = c.len_utf8();
        match fold(c) {
            Fold::Keep => {
                folded.push(c);
                starts.extend((i..i + len).map(|o| o as u32));
                ends.extend((i + 1..=i + len).map(|o| o as u32));
            }
            Fold::Drop => {}
            Fold::Ascii(b) => {
                folded.push(b as char);
                starts.push(i as u32);
                ends.push((i + len) as u32);
            }
        }
    }
    Some(Folded {
        text: folded,
        starts,
        ends,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_unfoldable_text_is_left_alone() {
        assert!(fold_text("call 415 555 0132").is_none());
        assert!(fold_text("café naïve 東京").is_none());
    }

    #[test]
    fn folds_and_maps_back_to_character_boundaries() {
        let text = "ｃａｒｄ ４１１１\u{200B}1111";
        let f = fold_text(text).unwrap();
        assert_eq!(f.text, "card 41111111");
        let start = f.text.find('4').unwrap();
        let (s, e) = f.original(start, f.text.len());
        assert_eq!(&text[s..e], "４１１１\u{200B}1111");
        assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
    }

    #[test]
    fn other_scripts_digits_and_spaces() {
        let f = fold_text("٤١٥\u{00A0}５５５\u{2013}𝟎𝟏𝟑𝟐").unwrap();
        assert_eq!(f.text, "415 555-0132");
    }
}
