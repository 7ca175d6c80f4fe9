//! Character classes for the tokenizer: ASCII byte kinds and letter
//! classes, the eight-bytes-at-a-time word scanner, and what a non-ASCII
//! code point is (a folded letter, an invisible character, a separator).

use super::{Ctx, K_BIDI, K_JOINER, K_MARK, K_OVERRIDE, K_TAG, K_VS, K_ZW};

// ASCII byte kinds.
pub(super) const A_OTHER: u8 = 0;
pub(super) const A_LOWER: u8 = 1;
pub(super) const A_UPPER: u8 = 2;
pub(super) const A_DIGIT: u8 = 3;
pub(super) const A_SPACE: u8 = 4;
pub(super) const A_NEWLINE: u8 = 5;
pub(super) const A_STOP: u8 = 6; // . ! ?
pub(super) const A_QUOTE: u8 = 7; // " `
pub(super) const A_APOS: u8 = 8; // '
pub(super) const A_OPEN: u8 = 9; // < [
pub(super) const A_COLON: u8 = 10;
pub(super) const A_SEMI: u8 = 11;
pub(super) const A_COMMA: u8 = 12;
pub(super) const A_HASH: u8 = 13;
pub(super) const A_AT: u8 = 14;
pub(super) const A_TRAIL: u8 = 15; // * ) ] _ : may sit between a label and its colon
pub(super) const A_SLASH: u8 = 16;

/// Kind of each byte; every non-ASCII byte is `A_OTHER` (the decoder
/// handles those).
pub(super) const ASCII: [u8; 256] = {
    let mut t = [A_OTHER; 256];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = if b.is_ascii_lowercase() {
            A_LOWER
        } else if b.is_ascii_uppercase() {
            A_UPPER
        } else if b.is_ascii_digit() {
            A_DIGIT
        } else {
            match b {
                b' ' | b'\t' | 0x0b | 0x0c => A_SPACE,
                b'\n' | b'\r' => A_NEWLINE,
                b'.' | b'!' | b'?' => A_STOP,
                b'"' | b'`' => A_QUOTE,
                b'\'' => A_APOS,
                b'<' | b'[' => A_OPEN,
                b':' => A_COLON,
                b';' => A_SEMI,
                b',' => A_COMMA,
                b'#' => A_HASH,
                b'@' => A_AT,
                b'*' | b')' | b']' | b'_' => A_TRAIL,
                b'/' => A_SLASH,
                _ => A_OTHER,
            }
        };
        c += 1;
    }
    t
};

/// Letter-and-digit classes for the hot loop: what a byte adds to a
/// token's `seen` set (0: not part of a word).
pub(super) const S_LOWER: u8 = 1;
pub(super) const S_UPPER: u8 = 2;
pub(super) const S_DIGIT: u8 = 4;
pub(super) const WORD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = if b.is_ascii_lowercase() {
            S_LOWER
        } else if b.is_ascii_uppercase() {
            S_UPPER
        } else if b.is_ascii_digit() {
            S_DIGIT
        } else {
            0
        };
        c += 1;
    }
    t
};

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Per byte of `v` (all ASCII, high bits clear): 0x80 where the byte is in
/// `lo..=hi`. No carries cross bytes because every byte is below 0x80.
#[inline]
const fn in_range(v: u64, lo: u8, hi: u8) -> u64 {
    let a = v + LO * (0x80 - lo as u64);
    let b = v + LO * (0x7f - hi as u64);
    a & !b & HI
}

/// The eight bytes at `b[i..i + 8]`, little-endian.
#[inline(always)]
pub(super) fn word8(b: &[u8], i: usize) -> u64 {
    let mut chunk = [0u8; 8];
    chunk.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(chunk)
}

/// The leading run of ASCII letters and digits in the eight bytes `v`
/// (little-endian): the run lowercased and zero-padded, its length, and
/// its `S_*` classes.
#[inline]
pub(super) fn swar_word(v: u64) -> (u64, usize, u8) {
    let (lowered, n, m) = swar_run(v);
    (lowered, n, m.seen())
}

/// Which letters and digits a run holds, as the high bits of its bytes:
/// OR them over a word's blocks, then [`RunMasks::seen`] once.
#[derive(Clone, Copy, Default)]
pub(super) struct RunMasks {
    small: u64,
    upper: u64,
    digit: u64,
}

impl RunMasks {
    #[inline(always)]
    pub(super) fn or(self, o: RunMasks) -> RunMasks {
        RunMasks {
            small: self.small | o.small,
            upper: self.upper | o.upper,
            digit: self.digit | o.digit,
        }
    }

    /// The `S_*` classes.
    #[inline(always)]
    pub(super) fn seen(self) -> u8 {
        (u8::from(self.small != 0) * S_LOWER)
            | (u8::from(self.upper != 0) * S_UPPER)
            | (u8::from(self.digit != 0) * S_DIGIT)
    }
}

/// [`swar_word`], with the classes as masks ([`RunMasks`]).
#[inline(always)]
pub(super) fn swar_run(v: u64) -> (u64, usize, RunMasks) {
    let ascii = !v & HI;
    let v7 = v & !HI;
    // With the 0x20 bit set, capitals land on small letters, and no other
    // byte lands in `a..=z`: one range test for both cases.
    let letter = in_range(v7 | (LO * 0x20), b'a', b'z') & ascii;
    let digit = in_range(v7, b'0', b'9') & ascii;
    // Each byte's 0x20 bit moved to its high bit: a small letter's.
    let small = (v << 2) & HI;
    let stop = !(letter | digit) & HI;
    let n = (stop.trailing_zeros() / 8) as usize;
    // The bytes before the first stop (all of them without one): the
    // lowest stop bit, 1 << (8n + 7), shifted down to 1 << 8n, minus one.
    let keep = ((stop & stop.wrapping_neg()) >> 7).wrapping_sub(1);
    let upper = letter & !small & keep;
    // 0x80 >> 2 is 0x20: the lowercase bit.
    let lowered = (v | (upper >> 2)) & keep;
    let masks = RunMasks {
        small: letter & small & keep,
        upper,
        digit: digit & keep,
    };
    (lowered, n, masks)
}

/// Base letters for U+00C0..U+024F (Latin-1 Supplement, Latin Extended-A
/// and -B), from their compatibility decompositions; `.` for none.
const LATIN_FOLD: &[u8; 400] = b"aaaaaaaceeeeiiiidnooooo.ouuuuytsaaaaaaaceeeeiiiidnooooo.ouuuuyty\
aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkk.lllllll\
lllnnnnnnn..oooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs\
b.........................l.....oo.............uu...............\
....dddlllnnnaaiioouuuuuuuuuu.aaaa....ggkkoooo..jdddgg..nnaa....\
aaaaeeeeiiiioooorrrruuuusstt..hh......aaeeooooooooyy............\
................";

/// What one non-ASCII code point is to the tokenizer.
pub(super) enum Uni {
    /// A letter that folds to this ASCII letter (or digit).
    Letter(u8),
    /// Same as this ASCII byte (fullwidth forms).
    Ascii(u8),
    /// Invisible and reportable, of this kind.
    Invisible(u8),
    /// Invisible and harmless (combining marks, soft hyphen, emoji
    /// variation selectors): skipped inside words, never reported.
    Skip,
    Space,
    Newline,
    Quote,
    /// A right single quote: an apostrophe inside a word, else a quote.
    Apostrophe,
    /// Anything else: a separator, with its context class.
    Sep(Ctx),
}

pub(super) fn classify(cp: u32) -> Uni {
    match cp {
        0xC0..=0x24F => match LATIN_FOLD[(cp - 0xC0) as usize] {
            b'.' => Uni::Sep(Ctx::Other),
            c => Uni::Letter(c),
        },
        0xA0 | 0x1680 | 0x2000..=0x200A | 0x202F | 0x205F | 0x3000 => Uni::Space,
        0x85 | 0x2028 | 0x2029 => Uni::Newline,
        0xAD
        | 0x34F
        | 0x300..=0x36F
        | 0xFE00..=0xFE0F
        | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF
        | 0x20D0..=0x20FF => Uni::Skip,
        0x200B | 0x2060..=0x2064 | 0xFEFF | 0x180E | 0x115F | 0x1160 | 0x3164 | 0xFFA0 => {
            Uni::Invisible(K_ZW)
        }
        0x200C | 0x200D => Uni::Invisible(K_JOINER),
        0x200E | 0x200F | 0x61C => Uni::Invisible(K_MARK),
        0x202D | 0x202E => Uni::Invisible(K_OVERRIDE),
        0x202A..=0x202C | 0x2066..=0x2069 => Uni::Invisible(K_BIDI),
        0xE0000..=0xE007F => Uni::Invisible(K_TAG),
        0xE0100..=0xE01EF => Uni::Invisible(K_VS),
        0x2018 | 0x201A..=0x201F | 0xAB | 0xBB | 0x2039 | 0x203A | 0xFF02 => Uni::Quote,
        0x2019 | 0x2BC | 0xFF07 => Uni::Apostrophe,
        0xFF01..=0xFF5E => Uni::Ascii((cp - 0xFEE0) as u8),
        0x1D400..=0x1D6A3 => {
            let k = ((cp - 0x1D400) % 52) as u8;
            Uni::Letter(if k < 26 { b'a' + k } else { b'a' + k - 26 })
        }
        0x1D7CE..=0x1D7FF => Uni::Letter(b'0' + ((cp - 0x1D7CE) % 10) as u8),
        0x24B6..=0x24CF => Uni::Letter(b'a' + (cp - 0x24B6) as u8),
        0x24D0..=0x24E9 => Uni::Letter(b'a' + (cp - 0x24D0) as u8),
        0x249C..=0x24B5 => Uni::Letter(b'a' + (cp - 0x249C) as u8),
        0x1F130..=0x1F149 => Uni::Letter(b'a' + (cp - 0x1F130) as u8),
        0x1F150..=0x1F169 => Uni::Letter(b'a' + (cp - 0x1F150) as u8),
        0x1F170..=0x1F189 => Uni::Letter(b'a' + (cp - 0x1F170) as u8),
        // Greek, Cyrillic and Cyrillic Supplement.
        0x370..=0x52F => match confusable(cp) {
            Some(c) => Uni::Letter(c),
            None => Uni::Sep(Ctx::Script),
        },
        0x1F3F4 => Uni::Sep(Ctx::BlackFlag),
        0x590..=0x8FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFC => Uni::Sep(Ctx::Rtl),
        0x2010..=0x2017 | 0x2020..=0x205E | 0x2E00..=0x2E7F | 0x3001..=0x303F => {
            Uni::Sep(Ctx::Other)
        }
        0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF | 0xAC00..=0xD7AF => {
            Uni::Sep(Ctx::Cjk)
        }
        0x2190..=0x2BFF | 0x1F000..=0x1FAFF => Uni::Sep(Ctx::Emoji),
        _ => Uni::Sep(Ctx::Script),
    }
}

/// Cyrillic and Greek letters that render like Latin ones: the SDK's
/// table, shared with the PII and secrets detectors, lower-cased.
fn confusable(cp: u32) -> Option<u8> {
    char::from_u32(cp)
        .and_then(railyard_plugin_sdk::normalize::fold::confusable)
        .map(|b| b.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::{S_UPPER, WORD, swar_word};

    /// `swar_word` as the byte loop of `Builder::ascii_word` reads a word.
    fn by_bytes(v: u64) -> (u64, usize, u8) {
        let b = v.to_le_bytes();
        let n = b.iter().take_while(|&&c| WORD[c as usize] != 0).count();
        let mut lowered = [0u8; 8];
        let mut seen = 0;
        for k in 0..n {
            let s = WORD[b[k] as usize];
            lowered[k] = b[k] | ((s & S_UPPER) << 4);
            seen |= s;
        }
        (u64::from_le_bytes(lowered), n, seen)
    }

    /// Every byte at every position among letters, digits and the bytes
    /// around their ranges, and many mixtures of those.
    #[test]
    fn swar_word_reads_as_the_byte_loop_does() {
        let edges: Vec<u8> = (0..=255u8)
            .filter(|c| {
                c.is_ascii_alphanumeric()
                    && matches!(c, b'a' | b'z' | b'A' | b'Z' | b'0' | b'9' | b'q')
                    || !c.is_ascii_alphanumeric()
                        && (c % 16 == 0 || c % 32 >= 26 || *c < 0x80 && c % 8 == 7)
            })
            .chain([
                b'@', b'[', b'`', b'{', b'/', b':', 0x7f, 0x80, 0xc1, 0xda, 0xe1, 0xfa, 0xff,
            ])
            .collect();
        let fillers = [*b"aaaaaaaa", *b"ZZZZZZZZ", *b"00000000", *b"aB3zZ9qQ"];
        for f in fillers {
            for at in 0..8 {
                for c in 0..=255u8 {
                    let mut b = f;
                    b[at] = c;
                    let v = u64::from_le_bytes(b);
                    assert_eq!(swar_word(v), by_bytes(v), "{b:?}");
                }
            }
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut b = [0u8; 8];
            for (k, d) in b.iter_mut().enumerate() {
                *d = edges[((x >> (k * 8)) as usize) % edges.len()];
            }
            let v = u64::from_le_bytes(b);
            assert_eq!(swar_word(v), by_bytes(v), "{b:?}");
        }
    }
}
