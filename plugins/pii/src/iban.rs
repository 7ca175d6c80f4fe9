//! IBAN_CODE: two-letter country code, two check digits and the BBAN,
//! compact or grouped with single spaces; the country's registered length
//! and the ISO 7064 mod-97 checksum must both hold.

use crate::scan::{at, next_is_word};

const MAX_LEN: usize = 34;
pub(crate) const SCORE: f32 = 0.95;

/// Registered IBAN length for a country code (upper case), from the SWIFT
/// IBAN registry plus the long-standing national (partner) formats.
fn iban_len(cc: &[u8]) -> Option<usize> {
    let n = match cc {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FO" | b"GL" | b"NL" | b"SD" | b"FK" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"XK" | b"MN" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"OM" | b"SO" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"LY" | b"PT" | b"ST" | b"AO" | b"CV" | b"MZ" => 25,
        b"IS" | b"TR" | b"DZ" | b"IR" => 26,
        b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" | b"BI" | b"DJ" | b"CM" | b"CG" | b"GA"
        | b"GQ" | b"KM" | b"MG" | b"TD" | b"CF" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HU" | b"LB" | b"PL" | b"SV" | b"NI"
        | b"HN" | b"BF" | b"BJ" | b"CI" | b"ML" | b"NE" | b"SN" | b"TG" | b"MA" | b"GW" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" | b"YE" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        b"RU" => 33,
        _ => return None,
    };
    Some(n)
}

/// An IBAN starting at `s` (a letter at a word start), as its end.
pub(crate) fn at_letter(text: &str, s: usize) -> Option<usize> {
    let b = text.as_bytes();
    let (c0, c1) = (at(b, s), at(b, s + 1));
    if !c0.is_ascii_uppercase()
        || !c1.is_ascii_uppercase()
        || !at(b, s + 2).is_ascii_digit()
        || !at(b, s + 3).is_ascii_digit()
    {
        return None;
    }
    let len = iban_len(&[c0, c1])?;
    let mut buf = [0u8; MAX_LEN];
    let mut n = 0;
    let mut i = s;
    while n < len {
        let c = at(b, i);
        if c.is_ascii_digit() || c.is_ascii_uppercase() {
            buf[n] = c;
            n += 1;
            i += 1;
        } else if c == b' ' && n % 4 == 0 && n > 0 && at(b, i + 1).is_ascii_alphanumeric() {
            // Print format: groups of four separated by single spaces.
            i += 1;
        } else {
            return None;
        }
    }
    // Compact form must be exactly one token; a spaced form may be followed
    // by more words, but not glued ones.
    if next_is_word(text, i) {
        return None;
    }
    mod97(&buf[..len]).then_some(i)
}

/// ISO 7064 MOD 97-10 over the IBAN rearranged (BBAN + country + check);
/// check digits 00, 01 and 99 are never issued.
fn mod97(iban: &[u8]) -> bool {
    let check = (iban[2] - b'0') * 10 + (iban[3] - b'0');
    if !(2..=98).contains(&check) {
        return false;
    }
    let mut r = 0u32;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        r = if c.is_ascii_digit() {
            (r * 10 + (c - b'0') as u32) % 97
        } else {
            (r * 100 + (c - b'A' + 10) as u32) % 97
        };
    }
    r == 1
}
