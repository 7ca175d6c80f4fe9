//! IP_ADDRESS: strict IPv4 dotted quads and RFC 4291 IPv6 text forms (full,
//! `::`-compressed, embedded IPv4, `%zone`).

use crate::scan::{Keywords, at, is_digit, keywords, negative, next_is_word, p, w};

const IPV4_SCORE: f32 = 0.85;
/// Keywords that make a dotted quad a version or a section number.
const NOT_AN_ADDRESS: &Keywords = &keywords(&[
    p("appendix"),
    p("article"),
    p("build"),
    p("chapter"),
    p("clause"),
    w("fig"),
    p("figure"),
    p("firmware"),
    w("item"),
    w("oid"),
    w("para"),
    p("paragraph"),
    p("release"),
    w("rule"),
    w("sec"),
    p("section"),
    w("step"),
    p("table"),
    w("v"),
    w("ver"),
    p("version"),
]);

/// One octet: `0` or 1-3 digits without a leading zero, at most 255.
/// Returns the byte after it.
fn octet(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    let mut v = 0u32;
    while is_digit(at(b, j)) {
        if j - i == 3 {
            return None;
        }
        v = v * 10 + (b[j] - b'0') as u32;
        j += 1;
    }
    let len = j - i;
    if len == 0 || v > 255 || (len > 1 && b[i] == b'0') {
        return None;
    }
    Some(j)
}

/// A dotted quad at `i`; returns its end. No boundary checks.
fn quad(b: &[u8], i: usize) -> Option<usize> {
    let mut j = octet(b, i)?;
    for _ in 0..3 {
        if at(b, j) != b'.' {
            return None;
        }
        j = octet(b, j + 1)?;
    }
    Some(j)
}

/// An IPv4 address starting at `s` (a digit at a numeric start), as
/// `(end, score)`.
pub(crate) fn ipv4_at(text: &str, s: usize) -> Option<(usize, f32)> {
    let b = text.as_bytes();
    let e = quad(b, s)?;
    // 1.2.3.4.5 is not an address, nor is the version 1.2.3.4-beta;
    // 1.2.3.4. ends a sentence.
    let (n1, n2) = (at(b, e), at(b, e + 1));
    if next_is_word(text, e)
        || (n1 == b'.' && n2.is_ascii_alphanumeric())
        || (n1 == b'-' && n2.is_ascii_alphabetic())
    {
        return None;
    }
    let score = if negative(b, s, 16, NOT_AN_ADDRESS) {
        0.3
    } else {
        IPV4_SCORE
    };
    Some((e, score))
}

#[inline]
fn v6_byte(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b':' || c == b'.'
}

/// An IPv6 address starting at `s` (a hex digit at a word start, or the
/// first colon of a leading `::`), as `(end, score)`.
pub(crate) fn ipv6_at(text: &str, s: usize) -> Option<(usize, f32)> {
    let b = text.as_bytes();
    let lim = (s + 64).min(b.len());
    let mut j = s;
    while j < lim && v6_byte(b[j]) {
        j += 1;
    }
    if j == lim && j < b.len() && v6_byte(b[j]) {
        return None;
    }
    let mut e = j;
    while e > s && b[e - 1] == b'.' {
        e -= 1;
    }
    let mut groups = validate_v6(&b[s..e]);
    if groups.is_none() && e >= s + 2 && b[e - 1] == b':' && b[e - 2] != b':' {
        // "... fe80::1: next clause"
        e -= 1;
        groups = validate_v6(&b[s..e]);
    }
    let (full, has_digit) = groups?;
    // Hex words joined by colons (`dead::beef`) need a digit to count.
    if !full && !has_digit {
        return None;
    }
    // Optional zone index, e.g. %eth0.
    if e == j && at(b, e) == b'%' {
        let zs = e + 1;
        let mut z = zs;
        while z < zs + 16
            && (at(b, z).is_ascii_alphanumeric() || matches!(at(b, z), b'_' | b'.' | b'-'))
        {
            z += 1;
        }
        while z > zs && matches!(b[z - 1], b'.' | b'-') {
            z -= 1;
        }
        if z > zs {
            e = z;
        }
    }
    if next_is_word(text, e) {
        return None;
    }
    Some((e, if full { 0.85 } else { 0.8 }))
}

/// Validates an IPv6 text form. Returns `(is_full_8_groups,
/// contains_a_decimal_digit)`.
fn validate_v6(a: &[u8]) -> Option<(bool, bool)> {
    if a.len() < 2 {
        return None;
    }
    let dc = a.windows(2).position(|w| w == b"::");
    let (left, right) = match dc {
        Some(p) => {
            let rest = &a[p + 2..];
            if rest.first() == Some(&b':') || rest.windows(2).any(|w| w == b"::") {
                return None;
            }
            (&a[..p], Some(rest))
        }
        None => (a, None),
    };
    // Only the last group of the whole address may be a dotted quad.
    let mut count = groups(left, right.is_none())?;
    if let Some(r) = right {
        count += groups(r, true)?;
    }
    let has_digit = a.iter().any(u8::is_ascii_digit);
    match dc {
        None if count == 8 => Some((true, has_digit)),
        Some(_) if (1..=7).contains(&count) => Some((false, has_digit)),
        _ => None,
    }
}

/// Counts the colon-separated groups of one side of `::` (an empty side
/// has none). With `last_may_be_v4`, the final group may be a dotted quad
/// worth two groups.
fn groups(part: &[u8], last_may_be_v4: bool) -> Option<usize> {
    if part.is_empty() {
        return Some(0);
    }
    let mut count = 0;
    let mut it = part.split(|&c| c == b':').peekable();
    while let Some(g) = it.next() {
        let is_last = it.peek().is_none();
        if g.contains(&b'.') {
            if !(is_last && last_may_be_v4) || quad(g, 0) != Some(g.len()) {
                return None;
            }
            count += 2;
        } else {
            if g.is_empty() || g.len() > 4 || !g.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            count += 1;
        }
    }
    Some(count)
}
