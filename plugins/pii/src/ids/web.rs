//! URL: addresses with a scheme (`http`, `https`, `ftp`, `ftps`), with
//! `www.`, or bare host names whose last label is a common top-level
//! domain, with their port, path, query and fragment.
//!
//! A bare name needs a known top-level domain, and the ones that are also
//! common file extensions (`.py`, `.rs`, `.sh`, `.md`, `.zip`, …) are left
//! out: `config.py` is a file. Trailing sentence punctuation and a closing
//! bracket without its opening one are not part of the URL.

use crate::scan::at;
use crate::{Scan, URL};

/// Top-level domains a bare host name may end with.
const TLDS: &[&str] = &[
    "ai", "app", "at", "au", "be", "biz", "br", "ca", "ch", "cl", "cn", "co", "com", "cz", "de",
    "dev", "dk", "edu", "es", "eu", "fi", "fr", "gov", "gr", "hk", "hu", "ie", "il", "in", "info",
    "int", "io", "jp", "kr", "mil", "mx", "net", "nl", "no", "nz", "org", "pt", "ro", "ru", "se",
    "sg", "tv", "tw", "ua", "uk", "us", "vn", "xyz", "za",
];

/// A word starting at `i` (end `j`).
pub(crate) fn word(s: &mut Scan, i: usize, j: usize) {
    let b = s.text.as_bytes();
    let w = &b[i..j];
    let prev = at(b, i.wrapping_sub(1));
    if matches!(prev, b'@' | b'/' | b'.' | b':' | b'-') {
        return;
    }
    let scheme = [&b"https"[..], b"http", b"ftps", b"ftp"]
        .iter()
        .any(|sch| w.eq_ignore_ascii_case(sch))
        && b[j..].starts_with(b"://");
    let (host_start, score) = if scheme {
        (j + 3, 0.95)
    } else if w.eq_ignore_ascii_case(b"www") && at(b, j) == b'.' {
        (i, 0.9)
    } else if at(b, j) == b'.' && w[0].is_ascii_alphanumeric() {
        (i, 0.7)
    } else {
        return;
    };
    let Some((host_end, tld)) = host(b, host_start) else {
        return;
    };
    if !scheme && !TLDS.iter().any(|t| tld.eq_ignore_ascii_case(t.as_bytes())) {
        return;
    }
    // A bare name right before `@` is an e-mail's local part.
    if at(b, host_end) == b'@' {
        return;
    }
    let end = rest(b, host_end);
    s.push(URL, "pii.url", i, end, score);
}

/// A host name (labels of letters, digits and hyphens, at least two for a
/// name) or an IPv4 address from `i`: its end and last label.
fn host(b: &[u8], i: usize) -> Option<(usize, &[u8])> {
    let mut k = i;
    let mut labels = 0;
    let mut last;
    loop {
        let ls = k;
        while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'-') {
            k += 1;
        }
        if k == ls {
            return None;
        }
        labels += 1;
        last = ls;
        if at(b, k) == b'.' && at(b, k + 1).is_ascii_alphanumeric() {
            k += 1;
        } else {
            break;
        }
    }
    (labels >= 2).then_some((k, &b[last..k]))
}

/// The port, path, query and fragment after a host ending at `i`, without
/// trailing punctuation.
fn rest(b: &[u8], i: usize) -> usize {
    let mut k = i;
    if at(b, k) == b':' && at(b, k + 1).is_ascii_digit() {
        k += 1;
        while at(b, k).is_ascii_digit() {
            k += 1;
        }
    }
    if matches!(at(b, k), b'/' | b'?' | b'#') {
        let mut depth = 0i32;
        while k < b.len() {
            match b[k] {
                c if c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'<' | b'>' | b'`') => {
                    break;
                }
                b'(' => depth += 1,
                b')' if depth == 0 => break,
                b')' => depth -= 1,
                _ => {}
            }
            k += 1;
        }
    }
    while k > i && matches!(b[k - 1], b'.' | b',' | b';' | b':' | b'!' | b'?') {
        k -= 1;
    }
    k
}
