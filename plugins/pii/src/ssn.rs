//! US_SSN: `AAA-GG-SSSS` (or with spaces / dots), and nine bare digits only
//! next to an SSN keyword. Numbers the SSA never issues are rejected.

use crate::scan::{
    CTX_BEFORE, Keywords, at, clamp, is_digit, keywords, negative, numeric_end_ok, p, positive, w,
};

const POSITIVE: &Keywords = &keywords(&[
    p("social"),
    w("ss"),
    w("ssa"),
    p("ssn"),
    p("taxpayer"),
    w("tin"),
]);

const NEGATIVE: &Keywords = &keywords(&[
    p("call"),
    p("invoice"),
    w("isbn"),
    p("model"),
    p("order"),
    w("part"),
    p("phone"),
    w("ref"),
    p("serial"),
    w("sku"),
    w("tel"),
    p("ticket"),
    p("tracking"),
    p("zip"),
]);

fn digits_run(b: &[u8], i: usize) -> usize {
    let mut j = i;
    while is_digit(at(b, j)) {
        j += 1;
    }
    j - i
}

fn num(b: &[u8]) -> u32 {
    b.iter().fold(0, |a, &c| a * 10 + (c - b'0') as u32)
}

/// Area 001-665 / 667-899, group 01-99, serial 0001-9999, and not one
/// digit repeated nine times.
fn valid(area: &[u8], group: &[u8], serial: &[u8]) -> bool {
    let a = num(area);
    if a == 0 || a == 666 || a >= 900 || num(group) == 0 || num(serial) == 0 {
        return false;
    }
    let first = area[0];
    !(area.iter().chain(group).chain(serial).all(|&c| c == first))
}

/// An SSN starting at `s` (a digit at a numeric start), as `(end, score)`.
pub(crate) fn at_digit(text: &str, s: usize) -> Option<(usize, f32)> {
    let b = text.as_bytes();
    let run = digits_run(b, s);
    if run == 9 {
        let e = s + 9;
        if !numeric_end_ok(text, e) || !valid(&b[s..s + 3], &b[s + 3..s + 5], &b[s + 5..e]) {
            return None;
        }
        // Bare nine digits are only an SSN when labelled as one.
        let score = if positive(b, s, e, POSITIVE) {
            0.8
        } else {
            0.1
        };
        return Some((e, score));
    }
    if run != 3 {
        return None;
    }
    let sep = at(b, s + 3);
    if !matches!(sep, b'-' | b' ' | b'.') || digits_run(b, s + 4) != 2 || at(b, s + 6) != sep {
        return None;
    }
    if digits_run(b, s + 7) != 4 {
        return None;
    }
    let e = s + 11;
    if !numeric_end_ok(text, e) || !valid(&b[s..s + 3], &b[s + 4..s + 6], &b[s + 7..e]) {
        return None;
    }
    let mut score: f32 = match sep {
        b'-' => 0.65,
        b' ' => 0.5,
        _ => 0.3,
    };
    if positive(b, s, e, POSITIVE) {
        score += 0.3;
    } else if negative(b, s, CTX_BEFORE, NEGATIVE) {
        score -= 0.3;
    }
    Some((e, clamp(score)))
}
