//! EMAIL_ADDRESS: triggered by `@`, expanded left over the local part and
//! right over the domain, then validated label by label.

use crate::scan::{CLASS, WORD, at, next_is_word, prev_is_word};

/// Longest local part accepted (RFC 5321).
const MAX_LOCAL: usize = 64;
/// Longest domain accepted (RFC 1035).
const MAX_DOMAIN: usize = 253;

/// Score of a structurally valid address.
pub(crate) const SCORE: f32 = 0.9;

/// Extensions that follow `@` in file names (`icon@2x.png`) but are not
/// top-level domains.
const FILE_EXTS: &[&[u8]] = &[
    b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"bmp", b"tif", b"tiff", b"ico", b"heic",
    b"avif",
];

#[inline]
fn is_local(b: u8) -> bool {
    CLASS[b as usize] & WORD != 0 || matches!(b, b'.' | b'+' | b'-' | b'%' | b'\'')
}

#[inline]
fn is_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'.'
}

/// The address around the `@` at byte `at_pos`, as `(start, end)`.
pub(crate) fn at_sign(text: &str, at_pos: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    // Local part: expand left, at most MAX_LOCAL (+1 to detect overflow).
    let lim = at_pos.saturating_sub(MAX_LOCAL + 1);
    let mut ls = at_pos;
    while ls > lim && is_local(b[ls - 1]) {
        ls -= 1;
    }
    if at_pos - ls > MAX_LOCAL {
        return None;
    }
    let run_start = ls;
    // Quotes, dots and signs in front are punctuation, not the address.
    while ls < at_pos && matches!(b[ls], b'.' | b'+' | b'-' | b'%' | b'\'') {
        ls += 1;
    }
    if ls == at_pos || (ls == run_start && prev_is_word(text, ls)) {
        return None;
    }
    let local = &b[ls..at_pos];
    if local.last() == Some(&b'.') || local.windows(2).any(|w| w == b"..") {
        return None;
    }

    // Domain: expand right, then drop trailing sentence punctuation.
    let ds = at_pos + 1;
    let lim = (ds + MAX_DOMAIN + 1).min(b.len());
    let mut de = ds;
    while de < lim && is_domain(b[de]) {
        de += 1;
    }
    if de == ds + MAX_DOMAIN + 1 {
        return None;
    }
    while de > ds && matches!(b[de - 1], b'.' | b'-') {
        de -= 1;
    }
    if !valid_domain(&b[ds..de]) || next_is_word(text, de) || at(b, de) == b'@' {
        return None;
    }
    Some((ls, de))
}

/// At least two labels, each 1..=63 alphanumerics/hyphens not starting or
/// ending with a hyphen, and an alphabetic (or punycode) TLD.
fn valid_domain(d: &[u8]) -> bool {
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in d.split(|&c| c == b'.') {
        if label.is_empty()
            || label.len() > 63
            || label[0] == b'-'
            || label[label.len() - 1] == b'-'
        {
            return false;
        }
        labels += 1;
        last = label;
    }
    if labels < 2 {
        return false;
    }
    let tld_ok = if last.len() > 4 && last[..4].eq_ignore_ascii_case(b"xn--") {
        last[4..].iter().all(u8::is_ascii_alphanumeric)
    } else {
        last.len() >= 2 && last.len() <= 24 && last.iter().all(u8::is_ascii_alphabetic)
    };
    tld_ok && !FILE_EXTS.iter().any(|e| last.eq_ignore_ascii_case(e))
}
