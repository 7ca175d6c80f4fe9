//! CREDIT_CARD: 13-19 digits, compact or in groups separated by one kind of
//! single separator (space or dash), with a known issuer prefix and a valid
//! Luhn checksum.

use crate::scan::{
    CTX_BEFORE, Keywords, at, clamp, is_digit, keywords, negative, numeric_end_ok, p, positive, w,
};

const MAX_DIGITS: usize = 19;
const MAX_GROUPS: usize = 8;

const POSITIVE: &Keywords = &keywords(&[
    p("american"),
    p("amex"),
    p("card"),
    w("cc"),
    w("ccn"),
    p("credit"),
    w("cvc"),
    w("cvv"),
    p("debit"),
    p("diners"),
    p("discover"),
    w("exp"),
    p("expir"),
    p("jcb"),
    p("maestro"),
    p("mastercard"),
    w("paid"),
    w("pan"),
    w("pay"),
    p("payment"),
    p("unionpay"),
    p("visa"),
]);

/// Words that make a bare run of digits an identifier rather than a card.
const NEGATIVE: &Keywords = &keywords(&[
    p("booking"),
    p("confirmation"),
    w("iccid"),
    w("id"),
    w("imei"),
    p("invoice"),
    w("isbn"),
    p("order"),
    p("parcel"),
    w("ref"),
    p("reference"),
    p("serial"),
    p("shipment"),
    p("ticket"),
    p("tracking"),
    p("transaction"),
]);

/// A card number starting at `s` (a digit at a numeric start), as
/// `(end, score)`.
pub(crate) fn at_digit(text: &str, s: usize) -> Option<(usize, f32)> {
    let b = text.as_bytes();
    let mut digits = [0u8; MAX_DIGITS];
    let mut nd = 0;
    // (end byte, digits so far, group length) per group.
    let mut groups = [(0usize, 0usize, 0usize); MAX_GROUPS];
    let mut ng = 0;
    let mut sep = 0u8;
    let mut i = s;
    loop {
        let gs = i;
        while is_digit(at(b, i)) {
            if nd == MAX_DIGITS {
                // Longer than any card: only a prefix cut at a space can be one.
                if ng == 0 {
                    return None;
                }
                break;
            }
            digits[nd] = b[i] - b'0';
            nd += 1;
            i += 1;
        }
        if is_digit(at(b, i)) {
            // Overflowed inside this group: drop it.
            break;
        }
        groups[ng] = (i, nd, i - gs);
        ng += 1;
        let c = at(b, i);
        if ng < MAX_GROUPS
            && (c == b' ' || c == b'-')
            && (sep == 0 || sep == c)
            && is_digit(at(b, i + 1))
        {
            sep = c;
            i += 1;
        } else {
            break;
        }
    }

    // Longest valid prefix of whole groups. Cutting inside the chunk is only
    // allowed at a space (the rest is another number).
    for k in (1..=ng).rev() {
        let (end, n, _) = groups[k - 1];
        if !(13..=MAX_DIGITS).contains(&n) {
            continue;
        }
        if k < ng && sep != b' ' {
            continue;
        }
        if k == ng && !numeric_end_ok(text, end) {
            continue;
        }
        if !grouping_ok(&groups[..k]) {
            continue;
        }
        let d = &digits[..n];
        if !luhn(d) || !issuer_ok(d) {
            continue;
        }
        let mut score: f32 = if k > 1 { 0.9 } else { 0.85 };
        if positive(b, s, end, POSITIVE) {
            score += 0.1;
        } else if k == 1 && negative(b, s, CTX_BEFORE, NEGATIVE) {
            score -= 0.45;
        }
        return Some((end, clamp(score)));
    }
    None
}

/// Compact, or a first group of four followed by groups of 4-6 digits with
/// a last group of 1-6 (4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3, ...).
fn grouping_ok(groups: &[(usize, usize, usize)]) -> bool {
    let k = groups.len();
    if k == 1 {
        return true;
    }
    if groups[0].2 != 4 {
        return false;
    }
    groups[1..k - 1].iter().all(|g| (4..=6).contains(&g.2)) && (1..=6).contains(&groups[k - 1].2)
}

/// Luhn (mod 10) checksum over digit values.
pub(crate) fn luhn(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &x) in d.iter().rev().enumerate() {
        let mut v = x as u32;
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn prefix(d: &[u8], n: usize) -> u32 {
    d[..n].iter().fold(0, |a, &x| a * 10 + x as u32)
}

/// Known issuer identification number ranges with their lengths.
fn issuer_ok(d: &[u8]) -> bool {
    let len = d.len();
    let p1 = prefix(d, 1);
    let p2 = prefix(d, 2);
    let p3 = prefix(d, 3);
    let p4 = prefix(d, 4);
    let p6 = prefix(d, 6);
    match p1 {
        // Visa: 13, 16 or 19 digits (15-digit IMEIs often start with 4).
        4 => matches!(len, 13 | 16 | 19),
        // Mastercard 51-55 and 2221-2720; Mir 2200-2204.
        5 if (51..=55).contains(&p2) => len == 16,
        2 if (2221..=2720).contains(&p4) => len == 16,
        2 if (2200..=2204).contains(&p4) => (16..=19).contains(&len),
        // Maestro and other 50/56-58 debit ranges.
        5 if p2 == 50 || (56..=58).contains(&p2) => (13..=19).contains(&len),
        3 => match p2 {
            // American Express.
            34 | 37 => len == 15,
            // JCB 3528-3589.
            35 => (3528..=3589).contains(&p4) && (16..=19).contains(&len),
            // Diners Club 300-305, 3095, 36, 38, 39.
            30 => ((300..=305).contains(&p3) || p4 == 3095) && (14..=19).contains(&len),
            36 | 38 | 39 => (14..=19).contains(&len),
            _ => false,
        },
        6 => {
            // Discover 6011, 644-649, 65, 622126-622925; UnionPay 62;
            // Maestro 6304, 6759, 6761-6763; RuPay 60, 81, 82 not covered.
            let ok = p4 == 6011
                || (644..=649).contains(&p3)
                || p2 == 65
                || p2 == 62
                || p4 == 6304
                || p4 == 6759
                || (6761..=6763).contains(&p4)
                || p2 == 60
                || (622126..=622925).contains(&p6);
            ok && (13..=19).contains(&len)
        }
        _ => false,
    }
}
