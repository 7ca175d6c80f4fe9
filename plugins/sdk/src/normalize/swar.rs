//! Eight bytes at a time: the tests that let normalisation skip ordinary
//! prose (every first-party detector pays for them on every text, so they
//! must cost a fraction of a nanosecond per byte). Exact bit tricks from
//! "Bit Twiddling Hacks" (haszero, hasless), no false negatives.

const ONES: u64 = u64::MAX / 255;
const HIGH: u64 = ONES * 0x80;

/// The eight bytes at `b[i..i + 8]` as a little-endian word.
#[inline]
pub(crate) fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// Whether some byte of `x` equals `c`.
#[inline]
pub(crate) fn has_byte(x: u64, c: u8) -> bool {
    let y = x ^ (ONES * c as u64);
    (y.wrapping_sub(ONES) & !y & HIGH) != 0
}

/// Whether some byte of `x` is below `n` (`n` at most 128).
#[inline]
pub(crate) fn has_less(x: u64, n: u8) -> bool {
    (x.wrapping_sub(ONES * n as u64) & !x & HIGH) != 0
}

/// The high bit of exactly the bytes of `x` below `n` (every byte of `x`
/// ASCII, `n` at most 128; no carries between bytes).
#[inline]
pub(crate) fn below_ascii(x: u64, n: u8) -> u64 {
    ((x & !HIGH) + ONES * (0x80 - n as u64)) & HIGH ^ HIGH
}

/// Whether `b` holds the byte `c`: [`has_byte`] on each eight-byte block.
/// core's `<[u8]>::contains` reads `usize` words, four bytes on wasm32,
/// where the detectors run.
pub(crate) fn contains_byte(b: &[u8], c: u8) -> bool {
    let mut blocks = b.chunks_exact(8);
    blocks
        .by_ref()
        .any(|w| has_byte(u64::from_le_bytes(w.try_into().expect("eight bytes")), c))
        || blocks.remainder().contains(&c)
}

/// Whether every byte of `b` is ASCII, eight bytes at a time with no
/// early exit (a loop the compiler may vectorise; core's `is_ascii` reads
/// four bytes at a time on wasm32).
pub(crate) fn is_ascii(b: &[u8]) -> bool {
    let blocks = b.chunks_exact(8);
    let tail = blocks.remainder().iter().fold(0, |acc, &c| acc | c);
    let high = blocks.fold(0u64, |acc, w| {
        acc | u64::from_le_bytes(w.try_into().expect("eight bytes"))
    });
    high & HIGH == 0 && tail < 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_slice_tests_agree_with_core() {
        for len in 0..40 {
            for pos in 0..len {
                let mut b = vec![b'a'; len];
                assert!(is_ascii(&b) && !contains_byte(&b, b'%'));
                for c in [b'%', 0x80, 0xC3, 0xFF, 0x7F, 0x00, b'$', b'&'] {
                    b[pos] = c;
                    assert_eq!(is_ascii(&b), b.is_ascii(), "{b:?}");
                    for needle in [b'%', 0x00, 0xFF, b'a'] {
                        assert_eq!(contains_byte(&b, needle), b.contains(&needle), "{b:?}");
                    }
                    b[pos] = b'a';
                }
            }
        }
    }

    #[test]
    fn exact_on_every_position() {
        for pos in 0..8 {
            let mut b = *b"abcdefgh";
            assert!(!has_byte(word(&b, 0), b'.') && !has_less(word(&b, 0), 0x21));
            b[pos] = b'.';
            assert!(has_byte(word(&b, 0), b'.'));
            b[pos] = b' ';
            assert!(has_less(word(&b, 0), 0x21) && !has_byte(word(&b, 0), b'.'));
            b[pos] = 0xC3;
            assert!(!has_less(word(&b, 0), 0x21));
        }
        for pos in 0..8 {
            for c in 0u8..0x80 {
                let mut b = *b"abcdefgh";
                b[pos] = c;
                let m = below_ascii(word(&b, 0), 0x21);
                assert_eq!(m, if c < 0x21 { 0x80 << (8 * pos) } else { 0 });
            }
        }
    }
}
