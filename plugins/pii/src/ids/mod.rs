//! The recognizer set: Presidio's predefined pattern types beyond the six
//! byte scanners (URL, crypto wallet, date/time, and national identifiers
//! of the US, UK, Spain, Italy, India, Singapore, Australia, Poland,
//! Finland and Korea), one family per file, each with its issuer's check
//! digit or layout rule (`checks`).
//!
//! Precision first: where a format has no checksum, or its checksum passes
//! one random number in ten, the value is reported only next to its
//! context words ("passport", "NHS", "tax file number", …, in several
//! languages) read on the same line, as the other scanners read theirs.
//! Formats with a distinctive layout and a check character (a codice
//! fiscale, a NIF letter, a Finnish or Korean code with its birth date)
//! need none.
//!
//! Words that start with a digit or an upper-case letter come from the
//! byte scanners' main loop (which skips eight bytes of lower-case prose
//! at a time); a second pass over lower-case words runs only for URLs and
//! `bc1…` addresses. Each word start is dispatched on its first byte and
//! length.

mod checks;
mod crypto;
mod date;
mod letters;
mod numbers;
mod web;

use crate::scan::{Keywords, at, contains, next_is_word, positive, prev_is_word};
use crate::{CRYPTO, DATE_TIME, Scan, URL};

/// The words that start with a digit or an upper-case letter reach the
/// recognizers through the byte scanners' main loop, which already stops
/// at exactly those word starts (`word_at`); only URLs (`https`, `www`,
/// bare host names) and SegWit addresses (`bc1…`) start in lower case,
/// and this pass looks for those alone, when they are asked for.
pub(crate) fn scan_lower(s: &mut Scan) {
    let text = s.text;
    let b = text.as_bytes();
    let url = s.run & URL != 0;
    // Without URLs the pass below is needed only where a SegWit prefix
    // occurs at all. (`str::contains` runs a byte-by-byte two-way search
    // on wasm32, where core has no SIMD path for it: 15 % of pii's time
    // on 64 KiB of prose.)
    let needed = url || (s.run & CRYPTO != 0 && contains(b, b"bc1"));
    if !needed {
        return;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !c.is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        let glued = prev_is_word(text, i) || at(b, i.wrapping_sub(1)) == b'_';
        if !glued && c.is_ascii_lowercase() {
            if url {
                web::word(s, i, j);
            }
            if s.run & CRYPTO != 0 && b[i..j].starts_with(b"bc1") {
                crypto::word(s, i, j);
            }
        }
        i = j;
    }
}

/// A word starting with a digit or an upper-case letter at `i`, not glued
/// to the word before it (the main loop checked); `i..end` is the main
/// loop's word (ASCII alphanumerics and `_`), so this word ends at its
/// first `_`, or with it.
pub(crate) fn word_at(s: &mut Scan, i: usize, end: usize) {
    let b = s.text.as_bytes();
    if at(b, i.wrapping_sub(1)) == b'_' {
        return;
    }
    let j = b[i + 1..end]
        .iter()
        .position(|&c| c == b'_')
        .map_or(end, |k| i + 1 + k);
    word(s, i, j);
}

/// A word `i..j` not glued to the one before it.
fn word(s: &mut Scan, i: usize, j: usize) {
    let c = s.text.as_bytes()[i];
    if c.is_ascii_digit() {
        numbers::word(s, i, j);
    } else {
        letters::word(s, i, j);
    }
    if s.run & URL != 0 {
        web::word(s, i, j);
    }
    if s.run & DATE_TIME != 0 {
        date::word(s, i, j);
    }
    if s.run & CRYPTO != 0 {
        crypto::word(s, i, j);
    }
}

/// An identifier may end at `e`: not glued to a following word, and not
/// continued by a hyphen, slash, dot or `@` joined to more letters or
/// digits (`X1234567L-2`, `…/path`, `…@host`).
pub(crate) fn end_ok(text: &str, e: usize) -> bool {
    let b = text.as_bytes();
    let joined = matches!(at(b, e), b'-' | b'/' | b'.' | b'@' | b'_')
        && at(b, e + 1).is_ascii_alphanumeric();
    !next_is_word(text, e) && !joined
}

/// An identifier may start at `s`: not the continuation of a hyphenated,
/// dotted or slashed token (`AB-`, `v1.`, `/`).
pub(crate) fn start_ok(text: &str, s: usize) -> bool {
    let b = text.as_bytes();
    !(s >= 2
        && matches!(b[s - 1], b'-' | b'/' | b'.' | b'@' | b'_' | b'+')
        && b[s - 2].is_ascii_alphanumeric())
}

/// Whether a context word of `kws` labels `start..end`.
pub(crate) fn context(s: &Scan, start: usize, end: usize, kws: &Keywords) -> bool {
    positive(s.text.as_bytes(), start, end, kws)
}

/// Score of a value whose check digit or layout holds, without and with
/// its context words.
pub(crate) fn checked_score(ctx: bool) -> f32 {
    if ctx { 0.95 } else { 0.8 }
}

/// Score of a value with no checksum, reported because of its context.
pub(crate) const CONTEXT_SCORE: f32 = 0.6;

#[cfg(test)]
mod tests;
