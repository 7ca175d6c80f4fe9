//! Character folding: the text a detector scans, with the way back.
//!
//! Evasions and copy-paste artefacts put an entity in forms byte scanners
//! would not see: full-width digits and `＠` (East Asian input methods),
//! non-breaking and other Unicode spaces as separators, zero-width,
//! bidi-control, tag and other invisible characters inside a number or a
//! key, typographic dashes, digits of other scripts, Cyrillic and Greek
//! letters that render like Latin ones (`АKIA…` with a Cyrillic `А`), and
//! digit groups joined by dots or underscores (`4111.1111.1111.1111`).
//! [`fold_text`] rewrites them to their ASCII form and keeps, for every
//! byte of the folded text, the byte range of the character it came from,
//! so a detection in the folded text maps back to exactly the characters
//! the user wrote, on UTF-8 boundaries.
//!
//! Look-alike letters are folded only inside a word that also has an ASCII
//! letter or digit: a mixed-script word is a disguise, a Russian or Greek
//! word is not, and folding it could make up Latin words nobody wrote.

/// What one character becomes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fold {
    /// Kept as it is.
    Keep,
    /// Removed (invisible characters).
    Drop,
    /// Replaced by one ASCII byte.
    Ascii(u8),
    /// A Cyrillic or Greek look-alike of this ASCII letter: replaced only
    /// inside a mixed-script word.
    Confusable(u8),
}

/// Whether `c` is invisible: zero-width characters, joiners, the soft
/// hyphen, bidi controls, invisible operators, the combining grapheme
/// joiner, variation selectors and tag characters. None of them can be
/// part of a number, an address or a key, so they are dropped.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// The ASCII letter a Cyrillic or Greek letter is drawn like, with its
/// case, or `None`. Shared with the prompt-injection scanner (which
/// compares lower-cased), so both see the same disguises.
pub fn confusable(c: char) -> Option<u8> {
    Some(match c as u32 {
        0x430 | 0x3B1 => b'a',
        0x410 | 0x391 => b'A',
        0x432 => b'b',
        0x412 | 0x392 => b'B',
        0x441 | 0x3F2 => b'c',
        0x421 => b'C',
        0x501 => b'd',
        0x435 | 0x3B5 => b'e',
        0x415 | 0x395 => b'E',
        0x4BB => b'h',
        0x41D | 0x397 => b'H',
        0x456 | 0x3B9 | 0x4CF => b'i',
        0x406 | 0x399 => b'I',
        0x458 => b'j',
        0x408 => b'J',
        0x43A | 0x3BA => b'k',
        0x41A | 0x39A => b'K',
        0x43C => b'm',
        0x41C | 0x39C => b'M',
        0x3B7 => b'n',
        0x39D => b'N',
        0x43E | 0x3BF | 0x3C3 => b'o',
        0x41E | 0x39F => b'O',
        0x440 | 0x3C1 => b'p',
        0x420 | 0x3A1 => b'P',
        0x51B => b'q',
        0x433 => b'r',
        0x455 => b's',
        0x405 => b'S',
        0x3C4 | 0x442 => b't',
        0x422 | 0x3A4 => b'T',
        0x3C5 | 0x3C2 => b'u',
        0x3BD | 0x475 => b'v',
        0x51D | 0x3C9 => b'w',
        0x445 | 0x3C7 => b'x',
        0x425 | 0x3A7 => b'X',
        0x443 | 0x3B3 => b'y',
        0x423 | 0x3A5 => b'Y',
        0x396 => b'Z',
        _ => return None,
    })
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
        c if is_invisible(c) => Fold::Drop,
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' => Fold::Ascii(b'-'),
        '\u{2024}' | '\u{FE52}' => Fold::Ascii(b'.'),
        '\u{FE6B}' => Fold::Ascii(b'@'),
        '\u{0660}'..='\u{0669}' => digit(0x0660),
        '\u{06F0}'..='\u{06F9}' => digit(0x06F0),
        '\u{0966}'..='\u{096F}' => digit(0x0966),
        // Mathematical bold, italic, script, … letters: runs of 52 (A-Z,
        // a-z); nobody writes prose in them.
        '\u{1D400}'..='\u{1D6A3}' => {
            let k = ((c as u32 - 0x1D400) % 52) as u8;
            Fold::Ascii(if k < 26 { b'A' + k } else { b'a' + k - 26 })
        }
        // Mathematical bold, double-struck, sans-serif, … digits: five runs
        // of ten.
        '\u{1D7CE}'..='\u{1D7FF}' => Fold::Ascii(b'0' + ((c as u32 - 0x1D7CE) % 10) as u8),
        '\u{0370}'..='\u{052F}' => match confusable(c) {
            Some(a) => Fold::Confusable(a),
            None => Fold::Keep,
        },
        _ => Fold::Keep,
    }
}

/// A folded text and the way back to the original's byte offsets.
#[derive(Debug, Clone)]
pub struct Folded {
    /// The folded text.
    pub text: String,
    /// Per folded byte, the original range of the character it came from;
    /// `None` when folding replaced ASCII bytes one for one only (offsets
    /// are unchanged).
    map: Option<(Vec<u32>, Vec<u32>)>,
}

impl Folded {
    /// The original byte range of the folded range `start..end` (both on
    /// character boundaries of the folded text, `start < end`).
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        match &self.map {
            None => (start, end),
            Some((starts, ends)) => (starts[start] as usize, ends[end - 1] as usize),
        }
    }
}

/// Folds `text`, or `None` when folding would change nothing (most texts)
/// or the text is too long for 32-bit offsets.
pub fn fold_text(text: &str) -> Option<Folded> {
    if text.len() > u32::MAX as usize {
        return None;
    }
    let folded = if text.is_ascii() {
        None
    } else {
        fold_chars(text)
    };
    let base = folded.as_ref().map_or(text, |f| f.text.as_str());
    let runs = digit_group_runs(base.as_bytes());
    with_groups_spaced(text, folded, runs)
}

/// `folded` (or `text` when `None`) with the separators of the digit-group
/// `runs` of its text replaced by spaces.
pub(crate) fn with_groups_spaced(
    text: &str,
    folded: Option<Folded>,
    runs: Vec<(usize, usize, u8)>,
) -> Option<Folded> {
    if runs.is_empty() {
        return folded;
    }
    let mut f = folded.unwrap_or_else(|| Folded {
        text: text.to_owned(),
        map: None,
    });
    let mut bytes = std::mem::take(&mut f.text).into_bytes();
    for (start, end, sep) in runs {
        for x in &mut bytes[start..end] {
            if *x == sep {
                *x = b' ';
            }
        }
    }
    f.text = String::from_utf8(bytes).expect("ASCII separators replaced by ASCII spaces");
    Some(f)
}

/// Character folding proper (see the module docs), word by word.
fn fold_chars(text: &str) -> Option<Folded> {
    let mut out = String::with_capacity(text.len());
    let mut starts: Vec<u32> = Vec::with_capacity(text.len());
    let mut ends: Vec<u32> = Vec::with_capacity(text.len());
    let mut changed = false;
    let mut pos = 0;
    for word in text.split_inclusive(|c: char| c.is_ascii_whitespace()) {
        let mixed = word.bytes().any(|b| b.is_ascii_alphanumeric());
        for (i, c) in word.char_indices() {
            let i = pos + i;
            let len = c.len_utf8();
            let f = match fold(c) {
                Fold::Confusable(_) if !mixed => Fold::Keep,
                Fold::Confusable(b) => Fold::Ascii(b),
                f => f,
            };
            match f {
                Fold::Drop => changed = true,
                Fold::Ascii(b) => {
                    changed = true;
                    out.push(b as char);
                    starts.push(i as u32);
                    ends.push((i + len) as u32);
                }
                _ => {
                    out.push(c);
                    starts.extend((i..i + len).map(|o| o as u32));
                    ends.extend((i + 1..=i + len).map(|o| o as u32));
                }
            }
        }
        pos += word.len();
    }
    changed.then_some(Folded {
        text: out,
        map: Some((starts, ends)),
    })
}

/// The separator of digit groups that [`digit_group_runs`] finds.
fn group_separator(b: u8) -> bool {
    b == b'.' || b == b'_'
}

/// The first `.` or `_` at or after `i`, skipping eight bytes at a time.
fn next_separator(b: &[u8], mut i: usize) -> Option<usize> {
    while i + 8 <= b.len() {
        let x = super::swar::word(b, i);
        if super::swar::has_byte(x, b'.') || super::swar::has_byte(x, b'_') {
            break;
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&x| group_separator(x))
        .map(|k| i + k)
}

/// The runs of digit groups whose dots or underscores become spaces, as
/// `(start, end, separator)`: at least three groups of 2 to 6 digits, 13
/// to 19 digits in all (an IPv4 address with three-digit octets has 12),
/// one separator kind throughout, the run not glued to
/// a letter, a digit or a further separator. Card, account and IBAN
/// numbers are written in such groups; version numbers, dates, IPv4
/// addresses and decimals have fewer digits or shorter groups and are left
/// alone. The rewrite is one ASCII byte for another, so offsets stay.
pub(crate) fn digit_group_runs(b: &[u8]) -> Vec<(usize, usize, u8)> {
    let n = b.len();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < n {
        // Cheap skip to the next separator between two digits.
        let Some(at) = next_separator(b, i) else {
            break;
        };
        i = at + 1;
        if at == 0 || !b[at - 1].is_ascii_digit() || !b.get(at + 1).is_some_and(u8::is_ascii_digit)
        {
            continue;
        }
        // Back to the start of the first group.
        let mut s = at;
        while s > 0 && b[s - 1].is_ascii_digit() {
            s -= 1;
        }
        if s > 0 && (b[s - 1].is_ascii_alphanumeric() || group_separator(b[s - 1])) {
            continue;
        }
        let sep = b[at];
        let (mut j, mut groups, mut digits, mut ok) = (s, 0, 0, true);
        loop {
            let g = j;
            while j < n && b[j].is_ascii_digit() {
                j += 1;
            }
            groups += 1;
            digits += j - g;
            ok &= (2..=6).contains(&(j - g));
            if j + 1 < n && b[j] == sep && b[j + 1].is_ascii_digit() {
                j += 1;
            } else {
                break;
            }
        }
        i = j;
        let glued = j < n
            && (b[j].is_ascii_alphanumeric()
                || (group_separator(b[j]) && b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)));
        if ok && !glued && groups >= 3 && (13..=19).contains(&digits) {
            runs.push((s, j, sep));
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_left_alone() {
        assert!(fold_text("call 415 555 0132").is_none());
        assert!(fold_text("café naïve 東京").is_none());
        assert!(fold_text("v10.0.19041.1, 192.168.100.200, 2024.01.02, 3.14159").is_none());
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

    #[test]
    fn dotted_and_underscored_digit_groups_become_spaced() {
        let f = fold_text("card 4111.1111.1111.1111, amex 3782_822463_10005.").unwrap();
        assert_eq!(f.text, "card 4111 1111 1111 1111, amex 3782 822463 10005.");
        assert_eq!(f.original(5, 24), (5, 24));
        // Mixed separators, identifiers and short runs stay.
        assert!(fold_text("4111.1111_1111.1111").is_none());
        assert!(fold_text("id_4111_1111_1111_1111").is_none());
        assert!(fold_text("build 4111.1111.1111.1111a").is_none());
    }

    #[test]
    fn look_alike_letters_fold_only_in_mixed_words() {
        // Cyrillic А and О inside an otherwise Latin key.
        let key = "key \u{0410}KIAI\u{041E}SFODNN7EXAMPLE end";
        let f = fold_text(key).unwrap();
        assert_eq!(f.text, "key AKIAIOSFODNN7EXAMPLE end");
        let s = f.text.find('A').unwrap();
        let (a, b) = f.original(s, s + 20);
        assert_eq!(&key[a..b], "\u{0410}KIAI\u{041E}SFODNN7EXAMPLE");
        // Russian and Greek words are not rewritten.
        assert!(fold_text("Привет, как дела? Καλημέρα").is_none());
    }

    #[test]
    fn invisible_characters_are_dropped() {
        for c in [
            '\u{200B}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{202E}',
            '\u{E0041}',
            '\u{00AD}',
        ] {
            let t = format!("AKIA{c}IOSFODNN7EXAMPLE");
            assert_eq!(fold_text(&t).unwrap().text, "AKIAIOSFODNN7EXAMPLE");
        }
    }
}
