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
/// ASCII upper-case letter.
pub(crate) const UPPER: u8 = 32;
/// Bytes the main loop must stop at: digits, upper-case letters (IBAN
/// country codes, upper-case IPv6) and triggers. Words starting with a
/// lower-case letter can only matter through a trigger inside or after them
/// (`@`, the `:` of `fe80::1`).
pub(crate) const INTERESTING: u8 = DIGIT | UPPER | TRIGGER;

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
        if b.is_ascii_uppercase() {
            c |= UPPER;
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

/// Bytes of `x` strictly between `m` and `n` (both at most 128), as the
/// high bit of each such byte; bytes >= 0x80 never count. Exact, no
/// carries between bytes ("hasbetween" from Bit Twiddling Hacks).
#[inline]
const fn bytes_between(x: u64, m: u64, n: u64) -> u64 {
    const ONES: u64 = u64::MAX / 255;
    let low = x & (ONES * 127);
    (ONES * (127 + n)).wrapping_sub(low) & !x & (low + ONES * (127 - m)) & (ONES * 128)
}

/// Index (0..8) of the first byte of the little-endian word `x` that may
/// be interesting, or `None`. It covers `(`..`+`, `0`..`:` and `@`..`Z`, a
/// superset of [`INTERESTING`] (the few extra punctuation bytes are
/// filtered by the caller).
#[inline]
pub(crate) const fn first_interesting(x: u64) -> Option<usize> {
    let m =
        bytes_between(x, 0x27, 0x2C) | bytes_between(x, 0x2F, 0x3B) | bytes_between(x, 0x3F, 0x5B);
    if m == 0 {
        None
    } else {
        Some((m.trailing_zeros() / 8) as usize)
    }
}

/// Whether `hay` contains `needle` (not empty). Eight bytes at a time,
/// it looks for the needle's last byte (the "haszero" test of Bit
/// Twiddling Hacks, which may flag a byte after a real match but never
/// misses one) and compares the needle ending at each flagged byte.
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    const ONES: u64 = u64::MAX / 255;
    let n = needle.len();
    let last = needle[n - 1];
    let ends_here = |end: usize| end + 1 >= n && hay[end + 1 - n..=end] == *needle;
    let mut i = 0;
    while let Some(chunk) = hay.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let y = u64::from_le_bytes(w) ^ (ONES * last as u64);
        let mut m = y.wrapping_sub(ONES) & !y & (ONES * 0x80);
        while m != 0 {
            if ends_here(i + (m.trailing_zeros() / 8) as usize) {
                return true;
            }
            m &= m - 1;
        }
        i += 8;
    }
    (i..hay.len()).any(ends_here)
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
#[inline]
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
/// continuation of a longer number or hyphenated token (`12.`, `4/`, the
/// `234` of `1,234`, `X-`). A short digit group followed by a single space also counts as a
/// longer number when this one starts with a short group too (the tail of
/// `4111 1111 1111 1111` is not a number of its own).
#[inline]
pub(crate) fn numeric_start_ok(text: &str, s: usize) -> bool {
    if prev_is_word(text, s) {
        return false;
    }
    let b = text.as_bytes();
    if s >= 2 {
        let pp = b[s - 2];
        match b[s - 1] {
            b'-' if pp.is_ascii_alphanumeric() => return false,
            b'.' | b'/' if is_digit(pp) => return false,
            b',' if is_digit(pp) && thousands_group(b, s) => return false,
            b' ' if is_digit(pp) => {
                // Two short digit groups: the tail of a grouped number. A
                // long run on either side is a number of its own.
                let before = b[..s - 1]
                    .iter()
                    .rev()
                    .take(7)
                    .take_while(|c| is_digit(**c));
                let after = b[s..].iter().take(7).take_while(|c| is_digit(**c));
                if before.count() < 7 && after.count() < 7 {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

/// A numeric entity may end at `e`: not glued to a following word, not
/// continued by `.7`, `/7`, a thousands group `,234` or a hyphenated `-7` /
/// `-X`, and not the local part of an email.
pub(crate) fn numeric_end_ok(text: &str, e: usize) -> bool {
    if next_is_word(text, e) {
        return false;
    }
    let b = text.as_bytes();
    match at(b, e) {
        b'-' => !at(b, e + 1).is_ascii_alphanumeric(),
        b'.' | b'/' => !is_digit(at(b, e + 1)),
        b',' => {
            // `1,234,567` continues; `4111111111111111,12/25` does not.
            let last_run = b[..e].iter().rev().take(4).take_while(|c| is_digit(**c));
            !(last_run.count() <= 3 && thousands_group(b, e + 1))
        }
        b'@' => false,
        _ => true,
    }
}

/// Three digits at `i` that can be a thousands group after a comma
/// (`1,234` / `1,234.5` / `1,234 people`), not the start of a structured
/// number (`534-01-8910`, `746 35 1397`, `2461`).
fn thousands_group(b: &[u8], i: usize) -> bool {
    let after = at(b, i + 3);
    (i..i + 3).all(|k| is_digit(at(b, k)))
        && !is_digit(after)
        && after != b'-'
        && after != b'/'
        && !(after == b' ' && is_digit(at(b, i + 4)))
}

/// A context keyword. `prefix` keywords also match longer words
/// (`call` matches `called`); others must be a whole word.
pub(crate) struct Kw {
    word: &'static [u8],
    prefix: bool,
}

/// Shorthand for a whole-word keyword (lower-case ASCII letters).
pub(crate) const fn w(word: &'static str) -> Kw {
    Kw {
        word: word.as_bytes(),
        prefix: false,
    }
}

/// Shorthand for a prefix keyword (lower-case ASCII letters).
pub(crate) const fn p(word: &'static str) -> Kw {
    Kw {
        word: word.as_bytes(),
        prefix: true,
    }
}

/// A keyword list sorted by first letter, with a bit set of the keywords'
/// first two letters (so that almost every word of a context window is
/// rejected by one test) and the range of keywords per first letter.
pub(crate) struct Keywords {
    list: &'static [Kw],
    pairs: [u64; 12],
    /// Keywords starting with letter `c` are `list[start[c]..start[c + 1]]`.
    start: [u8; 27],
}

/// Index of a word's first two letters (lower-case) in [`Keywords::pairs`];
/// a one-letter word uses 26 as its second letter.
#[inline]
const fn pair_index(first: u8, second: Option<u8>) -> usize {
    let f = ((first | 0x20) - b'a') as usize;
    let s = match second {
        Some(c) => ((c | 0x20) - b'a') as usize,
        None => 26,
    };
    f * 27 + s
}

/// Builds a [`Keywords`] list at compile time. The list must be sorted by
/// first letter (checked at compile time).
pub(crate) const fn keywords(list: &'static [Kw]) -> Keywords {
    let mut pairs = [0u64; 12];
    let mut start = [0u8; 27];
    let mut i = 0;
    while i < list.len() {
        let word = list[i].word;
        assert!(
            i == 0 || list[i - 1].word[0] <= word[0],
            "keywords must be sorted"
        );
        let second = if word.len() > 1 { Some(word[1]) } else { None };
        let idx = pair_index(word[0], second);
        pairs[idx / 64] |= 1 << (idx % 64);
        i += 1;
    }
    // start[c] = number of keywords whose first letter is below c.
    let mut c = 0;
    while c < 27 {
        let mut n = 0;
        let mut j = 0;
        while j < list.len() {
            if ((list[j].word[0] - b'a') as usize) < c {
                n += 1;
            }
            j += 1;
        }
        start[c] = n;
        c += 1;
    }
    Keywords { list, pairs, start }
}

impl Keywords {
    /// Whether the ASCII-alphabetic `word` is one of the keywords.
    fn matches(&self, word: &[u8]) -> bool {
        let idx = pair_index(word[0], word.get(1).copied());
        if self.pairs[idx / 64] & (1 << (idx % 64)) == 0 {
            return false;
        }
        let f = ((word[0] | 0x20) - b'a') as usize;
        let range = self.start[f] as usize..self.start[f + 1] as usize;
        self.list[range].iter().any(|kw| {
            let k = kw.word;
            if kw.prefix {
                word.len() >= k.len() && word[..k.len()].eq_ignore_ascii_case(k)
            } else {
                word.eq_ignore_ascii_case(k)
            }
        })
    }
}

/// How far before a match keywords are looked for, in bytes.
pub(crate) const CTX_BEFORE: usize = 40;
/// How far after a match keywords are looked for, in bytes.
pub(crate) const CTX_AFTER: usize = 24;

/// Calls `f` on every ASCII-alphabetic word in `b[lo..hi]` until it
/// returns true. Words cut by the window edge are still passed.
pub(crate) fn any_word<'a>(
    b: &'a [u8],
    lo: usize,
    hi: usize,
    mut f: impl FnMut(&'a [u8]) -> bool,
) -> bool {
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
        if f(&b[ws..i]) {
            return true;
        }
    }
    false
}

/// Start of the context window before `start`: at most `max` bytes back.
/// With `clause`, the window ends at clause punctuation, a line break or a
/// table cell boundary (for negative keywords, which label the value right
/// before it). Otherwise only at a line break, except that a match
/// starting its own line may take its label from the line above
/// (`Phone:\n555-223-4567`).
fn window_start(b: &[u8], start: usize, max: usize, clause: bool) -> usize {
    let lim = start.saturating_sub(max);
    let mut k = start;
    let mut blank = true;
    let mut crossed = false;
    while k > lim {
        let c = b[k - 1];
        let stop = match c {
            b'\n' | b'\r' => clause || crossed || !blank,
            b'|' | b'\t' | b',' | b';' | b'!' | b'?' => clause,
            // A sentence end, but not the abbreviation labelling the
            // value right after it (`No. 12345`, `Tel. 555-0100`).
            b'.' => clause && at(b, k).is_ascii_whitespace() && !blank,
            _ => false,
        };
        if stop {
            break;
        }
        crossed |= c == b'\n';
        blank &= c.is_ascii_whitespace();
        k -= 1;
    }
    k
}

/// End of the context window after `end`: at most `max` bytes, not past
/// clause punctuation, a line break or a cell boundary (`X is my phone`,
/// `X (mobile)`).
fn window_end(b: &[u8], end: usize, max: usize) -> usize {
    let lim = (end + max).min(b.len());
    let mut k = end;
    while k < lim {
        match b[k] {
            b'\n' | b'\r' | b'|' | b'\t' | b',' | b';' | b'!' | b'?' => break,
            b'.' if at(b, k + 1).is_ascii_whitespace() || k + 1 == b.len() => break,
            _ => k += 1,
        }
    }
    k
}

/// Whether a keyword labels the match `start..end`: within [`CTX_BEFORE`]
/// bytes before it on its line (or the line above when the match starts
/// its line) or [`CTX_AFTER`] bytes after it in the same clause.
pub(crate) fn positive(b: &[u8], start: usize, end: usize, kws: &Keywords) -> bool {
    let f = |w: &[u8]| kws.matches(w);
    any_word(b, window_start(b, start, CTX_BEFORE, false), start, f)
        || any_word(b, end, window_end(b, end, CTX_AFTER), f)
}

/// Start of the window [`positive`] reads before `start`.
pub(crate) fn positive_window(b: &[u8], start: usize) -> usize {
    window_start(b, start, CTX_BEFORE, false)
}

/// Whether a keyword occurs in the same clause shortly before `start`
/// (`Order #3780113250`, `version 10.2.0.1`), within `max` bytes.
pub(crate) fn negative(b: &[u8], start: usize, max: usize, kws: &Keywords) -> bool {
    any_word(b, window_start(b, start, max, true), start, |w| {
        kws.matches(w)
    })
}

/// Clamps a score into 0..=1.
#[inline]
pub(crate) fn clamp(s: f32) -> f32 {
    s.clamp(0.0, 1.0)
}
