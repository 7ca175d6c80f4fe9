//! One pass over an ASCII text for both normalisation steps.
//!
//! On ASCII text folding rewrites only digit groups joined by dots or
//! underscores, and decoding reads only whitespace-free tokens of at least
//! 16 bytes or with a `%`. [`scan`] finds, eight bytes at a time, the
//! tokens [`super::decode::walk`] would visit and keeps those either step
//! can use (at least 15 bytes long, or holding a `%`); both steps then read
//! those tokens alone instead of making a pass each over the whole text.
//!
//! Why nothing is missed:
//! - A digit-group run has at least 13 digits and two separators, 15 bytes
//!   without a byte below `0x21`, so it covers an aligned eight-byte block
//!   without one, which is where `runs` stops; the token around it is
//!   kept. Runs never cross whitespace, so finding them token by token
//!   finds the same runs as over the whole text.
//! - The tokens are those `runs` visits, in its order; a token shorter than
//!   16 bytes without a `%` decodes to nothing (`MIN_BASE64`, `MIN_HEX`),
//!   so dropping it changes nothing.

use super::decode::{self, Decoded};
use super::swar;

/// Tokens kept without allocating; more go to a vector.
const INLINE: usize = 8;

/// The tokens of an ASCII text that the normalisation steps read, as
/// `decode::walk` visits them, and where that function's tail starts.
pub(crate) struct Tokens {
    inline: [(u32, u32); INLINE],
    len: usize,
    more: Vec<(u32, u32)>,
    /// `(k, s)`: the first byte after the last whole block, and the start
    /// of the token holding it (`runs` re-reads `s..` at the end).
    tail: Option<(u32, u32)>,
}

impl Tokens {
    fn push(&mut self, s: usize, e: usize) {
        if self.len < INLINE {
            self.inline[self.len] = (s as u32, e as u32);
        } else {
            self.more.push((s as u32, e as u32));
        }
        self.len += 1;
    }

    fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.inline[..self.len.min(INLINE)]
            .iter()
            .chain(&self.more)
            .map(|&(s, e)| (s as usize, e as usize))
    }
}

/// The tokens of `b` (ASCII, shorter than 4 GiB) that folding or decoding
/// can use, found by `decode::walk`'s own walk.
pub(crate) fn scan(b: &[u8]) -> Tokens {
    // Most texts have no `%` (one search says so): then a block is read
    // only when it has no whitespace, one test per eight bytes.
    if swar::contains_byte(b, b'%') {
        scan_blocks::<true>(b)
    } else {
        scan_blocks::<false>(b)
    }
}

/// [`scan`], where `PCT` says whether the text holds a `%` at all.
fn scan_blocks<const PCT: bool>(b: &[u8]) -> Tokens {
    let mut t = Tokens {
        inline: [(0, 0); INLINE],
        len: 0,
        more: Vec::new(),
        tail: None,
    };
    let n = b.len();
    let mut k = 0;
    while k + 8 <= n {
        let x = swar::word(b, k);
        if swar::has_less(x, 0x21) && !(PCT && swar::has_byte(x, b'%')) {
            k += 8;
            continue;
        }
        // Without a `%`, a token is kept only from 15 bytes: the words on
        // either side tell whether this one can be that long.
        if !PCT && let Some(e) = short_token_end(b, k) {
            k = e.next_multiple_of(8).max(k + 8);
            continue;
        }
        let mut pct = false;
        let mut s = k;
        while s > 0 && !b[s - 1].is_ascii_whitespace() {
            s -= 1;
            pct |= PCT && b[s] == b'%';
        }
        let mut e = k;
        while e < n && !b[e].is_ascii_whitespace() {
            pct |= PCT && b[e] == b'%';
            e += 1;
        }
        if e - s >= 15 || pct {
            t.push(s, e);
        }
        k = e.next_multiple_of(8).max(k + 8);
    }
    if k < n {
        let mut s = k;
        while s > 0 && !b[s - 1].is_ascii_whitespace() {
            s -= 1;
        }
        t.tail = Some((k as u32, s as u32));
    }
    t
}

/// The end of the token holding the whitespace-free block `b[k..k + 8]`
/// (ASCII text) when that token is shorter than 15 bytes, read from the
/// blocks on either side; `None` when it may be longer or the block is at
/// the text's edge (the caller then reads it byte by byte).
#[inline]
fn short_token_end(b: &[u8], k: usize) -> Option<usize> {
    if k + 16 > b.len() {
        return None;
    }
    let right = swar::below_ascii(swar::word(b, k + 8), 0x21);
    if right == 0 {
        return None;
    }
    let r = (right.trailing_zeros() / 8) as usize;
    if !b[k + 8 + r].is_ascii_whitespace() {
        return None;
    }
    let l = if k == 0 {
        0
    } else if k >= 8 {
        let left = swar::below_ascii(swar::word(b, k - 8), 0x21);
        if left == 0 {
            return None;
        }
        let l = (left.leading_zeros() / 8) as usize;
        if !b[k - 1 - l].is_ascii_whitespace() {
            return None;
        }
        l
    } else {
        return None;
    };
    (l + 8 + r < 15).then_some(k + 8 + r)
}

/// What `fold::digit_group_runs` finds in the whole text, from the kept
/// tokens alone: `(start, end, separator)` in text order.
pub(crate) fn digit_group_runs(b: &[u8], tokens: &Tokens) -> Vec<(usize, usize, u8)> {
    let mut runs = Vec::new();
    // `runs` can visit a token twice (a block starting with whitespace
    // reaches back into the token before it): read each once.
    let mut done = 0;
    for (s, e) in tokens.iter() {
        if e - s < 15 || s < done {
            continue;
        }
        done = e;
        for (a, z, sep) in super::fold::digit_group_runs(&b[s..e]) {
            runs.push((s + a, s + z, sep));
        }
    }
    runs
}

/// What `decode::walk(text, limit)` (and `decode::runs`) returns, reading the kept tokens alone.
/// `tokens` must come from [`scan`] of this very text.
pub(crate) fn decode_runs(text: &str, tokens: &Tokens, limit: usize) -> Vec<Decoded> {
    let mut out = Vec::new();
    for (s, e) in tokens.iter() {
        if out.len() >= limit {
            return out;
        }
        decode::token_runs(text, s, e, limit, &mut out);
    }
    if let Some((_, s)) = tokens.tail {
        let s = s as usize;
        if out.len() < limit && out.last().is_none_or(|r: &Decoded| r.end <= s) {
            decode::token_runs(text, s, text.len(), limit, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts built from the pieces that matter here: whitespace of every
    /// kind, control bytes, `%XX` escapes, base64 and hex words, digit
    /// groups with dots and underscores, prose, at every alignment.
    fn texts() -> Vec<String> {
        const PIECES: &[&str] = &[
            " ",
            "\n",
            "\t",
            "\x0b",
            "\x01",
            "%",
            "%41",
            "%2F%20",
            "50%",
            "the ",
            "quarterly ",
            "maria.gonzalez@example.com",
            "aWdub3JlIGFsbCBwcmV2aW91cw==",
            "Y2FyZCA0MTExIDExMTEgMTExMSAxMTEx",
            "34313131313131313131313131313131",
            "4111.1111.1111.1111",
            "3782_822463_10005",
            "4111.1111_1111.1111",
            "10.0.19041.1",
            ".",
            "_",
            "1234",
            "Pz8_Pz8-Pz8_Pz8-Pz8_",
            "/q?c=4111%201111%201111%201111&x=1",
            "é",
            "\"",
            "(",
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut out = Vec::new();
        for _ in 0..12000 {
            let mut t = String::new();
            for _ in 0..(next() % 24) {
                t.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            if t.is_ascii() {
                out.push(t);
            }
        }
        out
    }

    fn key(r: &[Decoded]) -> Vec<(String, usize, usize, (usize, usize))> {
        r.iter()
            .map(|d| {
                let whole = d.original(0, d.text.len());
                (d.text.clone(), d.start, d.end, whole)
            })
            .collect()
    }

    #[test]
    fn the_same_runs_as_the_passes_over_the_whole_text() {
        let all = texts();
        assert!(all.len() > 1000);
        for t in &all {
            let tokens = scan(t.as_bytes());
            assert_eq!(
                digit_group_runs(t.as_bytes(), &tokens),
                super::super::fold::digit_group_runs(t.as_bytes()),
                "{t:?}"
            );
            for limit in [1, 2, 64] {
                assert_eq!(
                    key(&decode_runs(t, &tokens, limit)),
                    key(&decode::walk(t, limit)),
                    "{t:?} limit {limit}"
                );
            }
        }
    }
}
