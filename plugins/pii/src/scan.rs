//! Byte-level helpers shared by the scanners: character classes, word
//! boundaries that understand non-ASCII neighbours, and keyword context.
//!
//! Every span the scanners produce starts and ends on an ASCII byte, so it
//! always lies on a UTF-8 character boundary; these helpers only decode a
//! neighbouring character when it is not ASCII.

/// ASCII digit.
pub(crate) const DIGIT: u8 = 1;
/// ASCII letter.
pub(crate) const ALPHA: u8 = 2;
/// ASCII hex digit (digit or a-f / A-F).
pub(crate) const HEX: u8 = 4;
/// Word byte: ASCII alphanumeric or `_`.
pub(crate) const WORD: u8 = 8;
/// A byte that can start a match although it is not a word byte.
pub(crate) const TRIGGER: u8 = 16;

/// Class bits for every byte value.
pub(crate) const CLASS: [u8; 256] = build_class();

const fn build_class() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_digit() {
            c |= DIGIT | HEX | WORD;
        }
        if b.is_ascii_alphabetic() {
            c |= ALPHA | WORD;
        }
        if b.is_ascii_hexdigit() {
            c |= HEX;
        }
        if b == b'_' {
            c |= WORD;
        }
        if b == b'+' || b == b'(' || b == b':' || b == b'@' {
            c |= TRIGGER;
        }
        t[i] = c;
        i += 1;
    }
    t
}

#[inline]
pub(crate) fn is_digit(b: u8) -> bool {
    b.is_ascii_digit()
}

/// The byte at `i`, or 0 past the end (0 never matches anything we look for).
#[inline]
pub(crate) fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// Whether the character ending at byte `i` is alphanumeric (or `_`), i.e.
/// a match starting at `i` would be glued to the preceding word.
/// `i` must be a char boundary.
pub(crate) fn prev_is_word(text: &str, i: usize) -> bool {
    if i == 0 {
        return false;
    }
    let b = text.as_bytes()[i - 1];
    if b < 0x80 {
        return CLASS[b as usize] & WORD != 0;
    }
    text.get(..i)
        .and_then(|s| s.chars().next_back())
        .is_some_and(glues)
}

/// Whether the character starting at byte `i` is alphanumeric (or `_`).
/// `i` must be a char boundary.
pub(crate) fn next_is_word(text: &str, i: usize) -> bool {
    let Some(&b) = text.as_bytes().get(i) else {
        return false;
    };
    if b < 0x80 {
        return CLASS[b as usize] & WORD != 0;
    }
    text.get(i..)
        .and_then(|s| s.chars().next())
        .is_some_and(glues)
}

/// Whether a non-ASCII character next to a match makes it part of a longer
/// word. Letters and digits do, except in scripts written without spaces
/// between words (CJK, kana, Thai, Lao, Myanmar, Khmer), where an address
/// or number commonly sits right against the surrounding text.
fn glues(c: char) -> bool {
    c.is_alphanumeric()
        && !matches!(c as u32,
            0x0E00..=0x0EFF
            | 0x1000..=0x109F
            | 0x1780..=0x17FF
            | 0x3040..=0x30FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xF900..=0xFAFF
            | 0xFF66..=0xFF9F
            | 0x20000..=0x3FFFF)
}

/// A numeric entity may start at `s`: not glued to a word, and not the
/// continuation of a longer number or hyphenated token (`12.`, `4/`, `5,`,
/// `X-`). A digit followed by a single space also counts as a longer number
/// (the tail of `4111 1111 1111 1111` is not a number of its own).
pub(crate) fn numeric_start_ok(text: &str, s: usize) -> bool {
    if prev_is_word(text, s) {
        return false;
    }
    let b = text.as_bytes();
    if s >= 2 {
        let pp = b[s - 2];
        match b[s - 1] {
            b'-' if pp.is_ascii_alphanumeric() => return false,
            b'.' | b'/' | b',' if is_digit(pp) => return false,
            b' ' if is_digit(pp) => return false,
            _ => {}
        }
    }
    true
}

/// A numeric entity may end at `e`: not glued to a following word, not
/// continued by `.7`, `/7`, `,7` or a hyphenated `-7` / `-X`, and not the
/// local part of an email.
pub(crate) fn numeric_end_ok(text: &str, e: usize) -> bool {
    if next_is_word(text, e) {
        return false;
    }
    let b = text.as_bytes();
    match at(b, e) {
        b'-' => !at(b, e + 1).is_ascii_alphanumeric(),
        b'.' | b'/' | b',' => !is_digit(at(b, e + 1)),
        b'@' => false,
        _ => true,
    }
}

/// A context keyword. `prefix` keywords also match longer words
/// (`call` matches `called`); others must be a whole word.
pub(crate) struct Kw {
    pub word: &'static [u8],
    pub prefix: bool,
}

/// Shorthand for a whole-word keyword.
pub(crate) const fn w(word: &'static str) -> Kw {
    Kw {
        word: word.as_bytes(),
        prefix: false,
    }
}

/// Shorthand for a prefix keyword.
pub(crate) const fn p(word: &'static str) -> Kw {
    Kw {
        word: word.as_bytes(),
        prefix: true,
    }
}

/// How far before a match keywords are looked for, in bytes.
pub(crate) const CTX_BEFORE: usize = 40;
/// How far after a match keywords are looked for, in bytes.
pub(crate) const CTX_AFTER: usize = 24;

/// Whether any keyword occurs as an ASCII word in `b[lo..hi]`
/// (case-insensitive). Words cut by the window edge are still compared.
fn window_has(b: &[u8], lo: usize, hi: usize, kws: &[Kw]) -> bool {
    let hi = hi.min(b.len());
    let mut i = lo;
    while i < hi {
        if !b[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let ws = i;
        while i < hi && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let word = &b[ws..i];
        for kw in kws {
            let k = kw.word;
            let hit = if kw.prefix {
                word.len() >= k.len() && word[..k.len()].eq_ignore_ascii_case(k)
            } else {
                word.eq_ignore_ascii_case(k)
            };
            if hit {
                return true;
            }
        }
    }
    false
}

/// Whether a keyword occurs near the match `start..end`: in the
/// [`CTX_BEFORE`] bytes before it or the [`CTX_AFTER`] bytes after it.
pub(crate) fn context_has(b: &[u8], start: usize, end: usize, kws: &[Kw]) -> bool {
    window_has(b, start.saturating_sub(CTX_BEFORE), start, kws)
        || window_has(b, end, end + CTX_AFTER, kws)
}

/// Whether a keyword occurs shortly before `start` (a narrower window, for
/// labels such as `version 1.2.3.4` that only ever precede the value).
pub(crate) fn context_before(b: &[u8], start: usize, span: usize, kws: &[Kw]) -> bool {
    window_has(b, start.saturating_sub(span), start, kws)
}

/// Clamps a score into 0..=1.
#[inline]
pub(crate) fn clamp(s: f32) -> f32 {
    s.clamp(0.0, 1.0)
}
