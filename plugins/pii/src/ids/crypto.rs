//! CRYPTO: Bitcoin addresses. Legacy and script addresses (`1…`, `3…`)
//! are base58 with a double-SHA-256 checksum; SegWit addresses (`bc1…`)
//! are bech32 or bech32m with their BCH checksum. Both checksums are
//! verified, so a mistyped or made-up address is not reported.

use crate::{CRYPTO, Scan};

/// A word starting at `i` (end `j`).
pub(crate) fn word(s: &mut Scan, i: usize, j: usize) {
    let w = &s.text.as_bytes()[i..j];
    let ok = match w[0] {
        b'1' | b'3' if (26..=35).contains(&w.len()) => base58check(w),
        b'b' | b'B' if (14..=74).contains(&w.len()) && w[..3].eq_ignore_ascii_case(b"bc1") => {
            bech32(w)
        }
        _ => false,
    };
    if ok && super::end_ok(s.text, j) {
        s.push(CRYPTO, "pii.crypto", i, j, 0.95);
    }
}

const B58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Base58 decoding to the 25 bytes of an address, checksum verified.
fn base58check(w: &[u8]) -> bool {
    let mut out = [0u8; 25];
    for &c in w {
        let Some(v) = B58.iter().position(|&x| x == c) else {
            return false;
        };
        let mut carry = v as u32;
        for byte in out.iter_mut().rev() {
            carry += *byte as u32 * 58;
            *byte = carry as u8;
            carry >>= 8;
        }
        if carry != 0 {
            return false;
        }
    }
    let h = sha256(&sha256(&out[..21]));
    h[..4] == out[21..]
}

/// Bech32/bech32m: one case throughout, data characters from the
/// charset, and the polymod over the expanded prefix and data.
fn bech32(w: &[u8]) -> bool {
    const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    const GEN: [u32; 5] = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3];
    if w.iter().any(u8::is_ascii_lowercase) && w.iter().any(u8::is_ascii_uppercase) {
        return false;
    }
    let mut chk: u32 = 1;
    let mut step = |v: u32| {
        let top = chk >> 25;
        chk = ((chk & 0x1FFFFFF) << 5) ^ v;
        for (k, g) in GEN.iter().enumerate() {
            if (top >> k) & 1 == 1 {
                chk ^= g;
            }
        }
    };
    // Prefix "bc", expanded.
    for c in [b'b', b'c'] {
        step((c >> 5) as u32);
    }
    step(0);
    for c in [b'b', b'c'] {
        step((c & 31) as u32);
    }
    for &c in &w[3..] {
        let Some(v) = CHARSET.iter().position(|&x| x == c.to_ascii_lowercase()) else {
            return false;
        };
        step(v as u32);
    }
    chk == 1 || chk == 0x2BC830A3
}

/// SHA-256 (FIPS 180-4), for the base58 checksum: a dependency-free
/// plugin keeps its own.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for t in 0..16 {
            w[t] = u32::from_be_bytes([
                block[4 * t],
                block[4 * t + 1],
                block[4 * t + 2],
                block[4 * t + 3],
            ]);
        }
        for t in 16..64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16]
                .wrapping_add(s0)
                .wrapping_add(w[t - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for t in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[t])
                .wrapping_add(w[t]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (a, b) in h.iter_mut().zip(v) {
            *a = a.wrapping_add(b);
        }
    }
    let mut out = [0u8; 32];
    for (k, x) in h.iter().enumerate() {
        out[4 * k..4 * k + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_vectors() {
        let hex = |h: [u8; 32]| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn addresses_with_valid_checksums() {
        // The genesis block's address, and a SegWit address encoded for
        // this test (checked with Presidio's own bech32 validator).
        assert!(base58check(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
        assert!(!base58check(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"));
        assert!(bech32(b"bc1qsklnl2qvpj5mk0t64m5dcp8atl65jzj543czzv"));
        assert!(bech32(b"BC1QSKLNL2QVPJ5MK0T64M5DCP8ATL65JZJ543CZZV"));
        assert!(!bech32(b"bc1qsklnl2qvpj5mk0t64m5dcp8atl65jzj543czzq"));
        assert!(!bech32(b"bc1qsklnl2qvpj5mk0t64m5dcp8atl65jzj543cZZV"));
    }
}
