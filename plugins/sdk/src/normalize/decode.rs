//! Bounded decoding of encoded runs: base64 (standard and URL-safe), hex
//! and percent-encoding.
//!
//! A card number or an instruction sent as `NDExMSAxMTEx…` passes every
//! scanner that reads the text as written. [`runs`] finds the whitespace-
//! free runs that decode, under one of these encodings, to printable UTF-8
//! text, and returns that text with the way back: a span in the decoded
//! text maps to the encoded characters that produce it (whole base64
//! quanta, hex pairs, `%XX` escapes), so a redaction covers the encoded
//! form.
//!
//! Bounds, so hostile input cannot make decoding expensive: a run shorter
//! than [`MIN_BASE64`] / [`MIN_HEX`] characters is not decoded (too short
//! to hold an entity, and short words would decode by chance), nor one
//! longer than [`MAX_RUN`]; each decoded text is at most as long as its
//! run, so a level of decoding costs at most one more pass over the text.
//! Random or binary data almost never decodes to printable UTF-8 (12
//! random bytes are all printable ASCII with probability about 10⁻⁵), so
//! hashes, keys and ordinary words are tried and dropped.

/// Shortest base64 run decoded: 12 bytes, enough for a short address and
/// below the 24 characters a card number takes.
pub const MIN_BASE64: usize = 16;
/// Shortest hex run decoded (8 bytes).
pub const MIN_HEX: usize = 16;
/// Longest run decoded. Equal to the first-party detectors' streaming
/// `Reach::max_token`: a run that long is held back whole while it
/// arrives, so a streamed answer and the whole answer decode the same
/// runs (a longer run could be cut by the streaming window).
pub const MAX_RUN: usize = 4096;

/// How a run was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// RFC 4648 base64, standard or URL-safe alphabet, padding optional.
    Base64,
    /// Two hex digits per byte.
    Hex,
    /// `%XX` escapes among plain characters.
    Percent,
}

/// The text one encoded run decodes to.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The decoded text.
    pub text: String,
    /// The encoding.
    pub encoding: Encoding,
    /// Byte range of the run in the scanned text.
    pub start: usize,
    /// End of the run (exclusive).
    pub end: usize,
    /// Percent-encoding only: per decoded byte, the end of its source in
    /// the run (relative to `start`); its start is the previous entry.
    ends: Vec<u32>,
}

impl Decoded {
    /// The range of the run, in the scanned text, that encodes the decoded
    /// range `s..e` (`s < e`).
    pub fn original(&self, s: usize, e: usize) -> (usize, usize) {
        let (a, b) = match self.encoding {
            Encoding::Base64 => ((s / 3) * 4, e.div_ceil(3) * 4),
            Encoding::Hex => (2 * s, 2 * e),
            Encoding::Percent => (
                if s == 0 { 0 } else { self.ends[s - 1] as usize },
                self.ends[e - 1] as usize,
            ),
        };
        (self.start + a, (self.start + b).min(self.end))
    }
}

fn is_b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_')
}

/// Characters that end a percent-encoded run besides whitespace: quotes
/// and brackets around a URL in prose or markup.
fn ends_url(c: u8) -> bool {
    c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'<' | b'>' | b'(' | b')' | b'`')
}

/// The encoded runs of `text` that decode to printable text, in text
/// order, at most `limit` of them.
pub fn runs(text: &str, limit: usize) -> Vec<Decoded> {
    // ASCII text (most text): the tokens that can hold a run are found
    // eight bytes at a time, the same runs as the walk below (the tokens
    // module's tests compare them).
    if text.len() <= u32::MAX as usize && text.is_ascii() {
        let tokens = super::tokens::scan(text.as_bytes());
        return super::tokens::decode_runs(text, &tokens, limit);
    }
    walk(text, limit)
}

/// [`runs`] of any text, by a walk over its whitespace-free tokens.
pub(crate) fn walk(text: &str, limit: usize) -> Vec<Decoded> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    // Every run is inside a whitespace-free token. One that can decode is
    // at least 16 bytes long, so it covers an aligned eight-byte block
    // without whitespace, or it holds a `%`: only the tokens around such
    // blocks are read byte by byte.
    let mut k = 0;
    while k + 8 <= b.len() && out.len() < limit {
        let x = super::swar::word(b, k);
        if super::swar::has_less(x, 0x21) && !super::swar::has_byte(x, b'%') {
            k += 8;
            continue;
        }
        let mut s = k;
        while s > 0 && !b[s - 1].is_ascii_whitespace() {
            s -= 1;
        }
        let mut e = k;
        while e < b.len() && !b[e].is_ascii_whitespace() {
            e += 1;
        }
        token_runs(text, s, e, limit, &mut out);
        k = e.next_multiple_of(8).max(k + 8);
    }
    // The tail after the last whole block.
    if out.len() < limit && k < b.len() {
        let mut s = k;
        while s > 0 && !b[s - 1].is_ascii_whitespace() {
            s -= 1;
        }
        // Tokens reaching back into checked blocks were read already
        // unless they were skipped: re-read the last token whole.
        if out.last().is_none_or(|r: &Decoded| r.end <= s) {
            token_runs(text, s, b.len(), limit, &mut out);
        }
    }
    out
}

/// The runs of the whitespace-free token `text[from..to]` (whole tokens:
/// `from` and `to` are at whitespace or the text's ends).
pub(crate) fn token_runs(text: &str, from: usize, to: usize, limit: usize, out: &mut Vec<Decoded>) {
    // A base64 or hex run is a stretch of the token at least
    // `MIN_BASE64` / `MIN_HEX` long, and a percent-encoded one starts at a
    // `%` in it: a shorter token without `%` (a long word of prose) has
    // none, and is not read byte by byte.
    if to - from < MIN_BASE64.min(MIN_HEX) && !text.as_bytes()[from..to].contains(&b'%') {
        return;
    }
    let b = &text.as_bytes()[..to];
    let text = &text[..to];
    let mut i = from;
    while i < b.len() && out.len() < limit {
        let c = b[i];
        if c == b'%' || is_b64(c) {
            // A percent-encoded run: the whitespace-free stretch around a
            // `%XX` escape.
            if c == b'%' && hex_val(at(b, i + 1)).is_some() && hex_val(at(b, i + 2)).is_some() {
                let mut s = i;
                while s > 0 && !ends_url(b[s - 1]) && b[s - 1] < 0x80 {
                    s -= 1;
                }
                let mut e = i;
                while e < b.len() && !ends_url(b[e]) && b[e] < 0x80 {
                    e += 1;
                }
                if e - s <= MAX_RUN
                    && let Some(d) = percent(&text[s..e], s)
                {
                    // A run found here may start before runs already
                    // returned (base64 words before the `%`): keep order.
                    out.retain(|r: &Decoded| r.end <= s);
                    out.push(d);
                }
                i = e;
                continue;
            }
            if c == b'%' {
                i += 1;
                continue;
            }
            let s = i;
            while i < b.len() && is_b64(b[i]) {
                i += 1;
            }
            let mut e = i;
            while e < b.len() && e - i < 2 && b[e] == b'=' {
                e += 1;
            }
            // Glued to other characters of a longer token (a `%`, a
            // non-ASCII letter): not a run of its own.
            if (s > 0 && b[s - 1] >= 0x80) || (e < b.len() && (b[e] >= 0x80 || b[e] == b'%')) {
                i = e;
                continue;
            }
            let len = i - s;
            if len <= MAX_RUN
                && let Some(d) = (len >= MIN_HEX && len.is_multiple_of(2))
                    .then(|| hex(&text[s..i], s))
                    .flatten()
                    .or_else(|| {
                        (len >= MIN_BASE64)
                            .then(|| base64(&text[s..i], s, e))
                            .flatten()
                    })
            {
                out.push(d);
            }
            i = e.max(s + 1);
        } else {
            i += 1;
        }
    }
}

#[inline]
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Printable text: valid UTF-8 without control characters other than
/// tab and line breaks.
fn printable(bytes: Vec<u8>) -> Option<String> {
    let s = String::from_utf8(bytes).ok()?;
    (!s.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')))
    .then_some(s)
}

fn hex(run: &str, start: usize) -> Option<Decoded> {
    let b = run.as_bytes();
    let mut bytes = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks_exact(2) {
        bytes.push(hex_val(pair[0])? << 4 | hex_val(pair[1])?);
    }
    Some(Decoded {
        text: printable(bytes)?,
        encoding: Encoding::Hex,
        start,
        end: start + b.len(),
        ends: Vec::new(),
    })
}

fn b64_val(c: u8, url: bool) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' if !url => 62,
        b'/' if !url => 63,
        b'-' if url => 62,
        b'_' if url => 63,
        _ => return None,
    } as u32)
}

/// Decodes the base64 characters `run` (padding excluded) starting at
/// `start`; `end` is past the padding.
fn base64(run: &str, start: usize, end: usize) -> Option<Decoded> {
    let b = run.as_bytes();
    if b.len() % 4 == 1 {
        return None;
    }
    // One alphabet per run: `+`/`/` or `-`/`_`, never both.
    let url = b.iter().any(|&c| c == b'-' || c == b'_');
    let mut bytes = Vec::with_capacity(b.len() / 4 * 3 + 2);
    for quad in b.chunks(4) {
        let mut acc = 0u32;
        for &c in quad {
            acc = acc << 6 | b64_val(c, url)?;
        }
        match quad.len() {
            4 => bytes.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => bytes.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
            _ => bytes.push((acc >> 4) as u8),
        }
    }
    Some(Decoded {
        text: printable(bytes)?,
        encoding: Encoding::Base64,
        start,
        end,
        ends: Vec::new(),
    })
}

fn percent(run: &str, start: usize) -> Option<Decoded> {
    let b = run.as_bytes();
    let mut bytes = Vec::with_capacity(b.len());
    let mut ends = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (hex_val(at(b, i + 1)), hex_val(at(b, i + 2)))
        {
            bytes.push(h << 4 | l);
            i += 3;
        } else {
            bytes.push(b[i]);
            i += 1;
        }
        ends.push(i as u32);
    }
    Some(Decoded {
        text: printable(bytes)?,
        encoding: Encoding::Percent,
        start,
        end: start + b.len(),
        ends,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Decoded {
        let mut r = runs(text, 8);
        assert_eq!(r.len(), 1, "{text}: {r:?}");
        r.remove(0)
    }

    #[test]
    fn base64_decodes_and_maps_back_by_quanta() {
        // "card 4111 1111 1111 1111"
        let text = "see Y2FyZCA0MTExIDExMTEgMTExMSAxMTEx ok";
        let d = one(text);
        assert_eq!(d.text, "card 4111 1111 1111 1111");
        assert_eq!(d.encoding, Encoding::Base64);
        let (s, e) = d.original(5, d.text.len());
        assert_eq!((s, e), (4 + 4, 4 + 32));
        // Padding belongs to the run; URL-safe alphabet decodes too.
        let d = one("x aWdub3JlIGFsbCBwcmV2aW91cw== y");
        assert_eq!(d.text, "ignore all previous");
        assert_eq!(
            &"x aWdub3JlIGFsbCBwcmV2aW91cw== y"[d.start..d.end],
            "aWdub3JlIGFsbCBwcmV2aW91cw=="
        );
        assert_eq!(one("Pz8_Pz8-Pz8_Pz8-Pz8_").text, "?????>?????>???");
    }

    #[test]
    fn hex_and_percent_decode() {
        let d = one("hex 34313131313131313131313131313131 end");
        assert_eq!(d.text, "4111111111111111");
        assert_eq!(d.original(0, 4), (4, 12));
        let text = "GET /q?c=4111%201111%201111%201111&x=1";
        let d = one(text);
        assert_eq!(d.text, "/q?c=4111 1111 1111 1111&x=1");
        let s = d.text.find('4').unwrap();
        let (a, b) = d.original(s, s + 19);
        assert_eq!(&text[a..b], "4111%201111%201111%201111");
    }

    #[test]
    fn words_numbers_hashes_and_keys_are_not_decoded() {
        for text in [
            "internationalization and counterrevolutionaries",
            "card 4111111111111111 and 12345678901234567890",
            "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "https://example.com/path/to/SomethingLonger/and-a-slug-here",
            "ratio 50%, 100% sure",
            "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        ] {
            assert!(runs(text, 8).is_empty(), "{text}: {:?}", runs(text, 8));
        }
    }

    #[test]
    fn bounded() {
        let long = "QUFB".repeat(MAX_RUN / 4 + 1);
        assert!(runs(&long, 8).is_empty());
        let many = "aWdub3JlIGFsbCBwcmV2aW91cw== ".repeat(20);
        assert_eq!(runs(&many, 5).len(), 5);
    }
}
