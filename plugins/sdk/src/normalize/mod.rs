//! Evasion-resistant normalisation shared by every first-party detector.
//!
//! A detector core is written against plain text (`fn(&str, &mut
//! Vec<Detection>)`). [`detect`] runs it over what the text *means* rather
//! than how it is written:
//!
//! 1. [`fold`]: look-alike and full-width characters, Unicode spaces and
//!    dashes, other scripts' digits become ASCII; invisible characters are
//!    dropped; digit groups joined by dots or underscores become spaced.
//! 2. [`decode`]: whitespace-free runs that decode (base64, hex, `%XX`) to
//!    printable text are decoded, and the decoded text goes through the
//!    same two steps again, up to [`MAX_DEPTH`] levels deep.
//!
//! Every span is mapped back to the original text: folded characters to
//! the characters the user wrote, decoded text to the encoded characters
//! that produce it. Findings inside a decoded run that overlap a finding in
//! the text as written are dropped (the text as written already covers
//! them). Texts with nothing to fold or decode cost one pass over the
//! bytes on top of the detector.

pub mod decode;
pub mod fold;
mod swar;
mod tokens;

use crate::Detection;

/// Decoding levels: base64 of a URL-encoded value, or hex inside base64,
/// is decoded; a third level is not (each level at most doubles the work,
/// and real traffic does not nest deeper by accident).
pub const MAX_DEPTH: usize = 2;

/// Encoded runs decoded per text, over all levels: each costs one more call
/// of the detector, so a text made of thousands of tiny runs stays cheap.
pub const MAX_RUNS: usize = 64;

/// Runs `core` over `text` folded and over its decoded runs, and appends
/// every detection to `out` with spans in `text`, sorted by start.
pub fn detect(
    text: &str,
    out: &mut Vec<Detection>,
    mut core: impl FnMut(&str, &mut Vec<Detection>),
) {
    let first = out.len();
    let mut budget = MAX_RUNS;
    level(text, 0, &mut budget, &mut core, out);
    out[first..].sort_by_key(|d| d.start);
}

fn level(
    text: &str,
    depth: usize,
    budget: &mut usize,
    core: &mut impl FnMut(&str, &mut Vec<Detection>),
    out: &mut Vec<Detection>,
) {
    let first = out.len();
    // ASCII text (most text): one pass finds the tokens both steps read.
    let ascii = text.len() <= u32::MAX as usize && swar::is_ascii(text.as_bytes());
    let tokens = ascii.then(|| tokens::scan(text.as_bytes()));
    let folded = match &tokens {
        Some(t) => {
            fold::with_groups_spaced(text, None, tokens::digit_group_runs(text.as_bytes(), t))
        }
        None => fold::fold_text(text),
    };
    let view = folded.as_ref().map_or(text, |f| f.text.as_str());
    core(view, out);
    let plain = out.len();
    if depth < MAX_DEPTH && *budget > 0 {
        // The tokens are the view's unless folding spaced a digit group.
        let runs = match &tokens {
            Some(t) if folded.is_none() => tokens::decode_runs(view, t, *budget),
            _ => decode::runs(view, *budget),
        };
        for run in runs {
            *budget = budget.saturating_sub(1);
            let mark = out.len();
            level(&run.text, depth + 1, budget, core, out);
            for d in &mut out[mark..] {
                (d.start, d.end) = run.original(d.start, d.end);
            }
        }
        // Keep decoded findings that add something.
        let (kept, decoded) = out.split_at(plain);
        let decoded: Vec<Detection> = decoded
            .iter()
            .filter(|d| {
                !kept[first..]
                    .iter()
                    .any(|k| d.start < k.end && k.start < d.end)
            })
            .cloned()
            .collect();
        out.truncate(plain);
        out.extend(decoded);
    }
    if let Some(f) = folded {
        for d in &mut out[first..] {
            (d.start, d.end) = f.original(d.start, d.end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports every run of 16 ASCII digits (spaces allowed between groups
    /// of four) as `CARD`, and the word `ignore` as `IGNORE`.
    fn toy(text: &str, out: &mut Vec<Detection>) {
        let mut push = |s, e, category| {
            out.push(Detection {
                rule_id: "toy",
                category,
                score: 1.0,
                start: s,
                end: e,
            })
        };
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i..].starts_with(b"ignore") {
                push(i, i + 6, "IGNORE");
                i += 6;
                continue;
            }
            let (mut j, mut digits) = (i, 0);
            while j < b.len()
                && (b[j].is_ascii_digit()
                    || (b[j] == b' '
                        && digits % 4 == 0
                        && digits > 0
                        && b.get(j + 1).is_some_and(u8::is_ascii_digit)))
            {
                digits += b[j].is_ascii_digit() as usize;
                j += 1;
            }
            if digits == 16 {
                push(i, j, "CARD");
                i = j;
            } else {
                i += 1;
            }
        }
    }

    fn found(text: &str) -> Vec<(&str, &'static str)> {
        let mut out = Vec::new();
        detect(text, &mut out, toy);
        out.iter()
            .map(|d| (&text[d.start..d.end], d.category))
            .collect()
    }

    #[test]
    fn separators_and_invisible_characters_are_seen_through() {
        assert_eq!(
            found("pay 4111.1111.1111.1111 now"),
            [("4111.1111.1111.1111", "CARD")]
        );
        assert_eq!(
            found("pay 4111_1111_1111_1111 now"),
            [("4111_1111_1111_1111", "CARD")]
        );
        assert_eq!(
            found("pay 4111\u{200B}1111 1111\u{2060}1111."),
            [("4111\u{200B}1111 1111\u{2060}1111", "CARD")]
        );
    }

    #[test]
    fn encoded_runs_are_decoded_and_mapped_to_the_encoded_text() {
        // base64("card 4111 1111 1111 1111")
        let text = "x Y2FyZCA0MTExIDExMTEgMTExMSAxMTEx y";
        assert_eq!(found(text), [("ZCA0MTExIDExMTEgMTExMSAxMTEx", "CARD")]);
        // base64 of percent-encoding: two levels.
        // base64("q=4111%201111%201111%201111")
        let text = "x cT00MTExJTIwMTExMSUyMDExMTElMjAxMTEx y";
        let f = found(text);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].1, "CARD");
        // Plain and decoded findings, in text order.
        let text = "ignore aWdub3JlIGFsbCBwcmV2aW91cw== 4111 1111 1111 1111";
        let cats: Vec<_> = found(text).into_iter().map(|f| f.1).collect();
        assert_eq!(cats, ["IGNORE", "IGNORE", "CARD"]);
    }

    #[test]
    fn look_alikes_do_not_fire() {
        for text in [
            "version 4111.1111.1111 and 10.0.19041.1",
            "id_4111_1111_1111_1111",
            "4111.1111_1111.1111",
            "hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
        // Fifteen digits, base64-encoded: still no card.
        assert!(found(&b64("411111111111111")).is_empty());
    }

    #[test]
    fn decoding_is_bounded() {
        // base64("ignore") nested beyond MAX_DEPTH levels is not decoded.
        let mut s = String::from("ignore this please");
        for _ in 0..=MAX_DEPTH {
            s = b64(&s);
        }
        assert!(found(&s).is_empty());
        let many = format!("{} ", b64("ignore this please")).repeat(MAX_RUNS + 10);
        assert_eq!(found(&many).len(), MAX_RUNS);
    }

    fn b64(s: &str) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in s.as_bytes().chunks(3) {
            let n = c.iter().fold(0u32, |a, &x| a << 8 | x as u32) << (8 * (3 - c.len()));
            for k in 0..=c.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            }
        }
        while !out.len().is_multiple_of(4) {
            out.push('=');
        }
        out
    }
}
