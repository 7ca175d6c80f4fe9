//! PHONE_NUMBER: a run of digit groups joined by single separators
//! (space, dash, dot, slash, a parenthesised area code), classified by
//! structure:
//!
//! * international: `+CC ...` or `00CC ...` with a known country calling
//!   code and a national number of plausible length for that country;
//! * North American: `(AAA) EEE-NNNN`, `AAA-EEE-NNNN`, `1-AAA-EEE-NNNN`;
//! * national with trunk prefix: `020 7713 9980`, `01 23 45 67 89`;
//! * anything else digit-shaped (compact runs, `555-1234`) only next to a
//!   phone keyword.
//!
//! Dates, dotted quads and keyword contexts such as "order" or "invoice"
//! lower the score below the default threshold.

use crate::scan::{
    CTX_BEFORE, Keywords, any_word, at, clamp, is_digit, keywords, negative, numeric_end_ok, p,
    positive, positive_window, w,
};

const MAX_GROUPS: usize = 10;
const MAX_DIGITS: usize = 20;

const POSITIVE: &Keywords = &keywords(&[
    p("call"),
    p("cell"),
    p("contact"),
    p("dial"),
    w("fax"),
    p("hotline"),
    p("landline"),
    w("mob"),
    p("mobil"),
    w("ph"),
    p("phone"),
    p("reach"),
    w("ring"),
    w("sms"),
    w("tel"),
    p("telefon"),
    p("teleph"),
    w("text"),
    w("tlf"),
    w("txt"),
    p("whatsapp"),
]);

const NEGATIVE: &Keywords = &keywords(&[
    p("account"),
    w("acct"),
    p("amount"),
    p("balance"),
    w("batch"),
    w("bic"),
    p("booking"),
    p("build"),
    p("card"),
    w("case"),
    p("claim"),
    p("confirmation"),
    w("iban"),
    w("id"),
    w("ids"),
    w("imei"),
    p("invoice"),
    w("ip"),
    w("isbn"),
    w("issn"),
    w("item"),
    w("lot"),
    p("model"),
    p("order"),
    w("otp"),
    p("parcel"),
    w("part"),
    p("patent"),
    w("pin"),
    w("po"),
    p("policy"),
    p("population"),
    p("postal"),
    p("postcode"),
    p("price"),
    p("receipt"),
    w("ref"),
    p("reference"),
    p("reservation"),
    p("routing"),
    p("serial"),
    p("shipment"),
    w("sku"),
    p("social"),
    w("ssn"),
    w("swift"),
    p("ticket"),
    p("total"),
    p("track"),
    p("transaction"),
    w("txn"),
    w("ver"),
    p("version"),
    w("zip"),
]);

/// Separator code for ` - ` between groups: a dash for classification, but
/// spaced, so the number may also end before it.
const SPACED_DASH: u8 = b'_';

#[derive(Clone, Copy, Default)]
struct Group {
    /// Byte offset one past the group (after `)` for a parenthesised one).
    end: usize,
    /// Index of the group's first digit in the digit buffer.
    d0: usize,
    /// Number of digits.
    nd: usize,
    paren: bool,
    /// Separator before the group: 0 at the start, b'n' for none after `)`,
    /// [`SPACED_DASH`], otherwise the separator byte (NBSP counts as a
    /// space).
    sep: u8,
}

/// Cheap pre-check: at least seven digits among the next bytes that a
/// phone number can be made of (dates, versions and short numbers fail).
fn enough_digits(b: &[u8], i: usize) -> bool {
    let mut n = 0;
    for &c in b.iter().skip(i).take(32) {
        if is_digit(c) {
            n += 1;
            if n == 7 {
                return true;
            }
        } else if !matches!(c, b' ' | b'-' | b'.' | b'/' | b'(' | b')' | 0xC2 | 0xA0) {
            return false;
        }
    }
    false
}

/// One candidate phone number starting at `s` (`+`, `(` or a digit at a
/// numeric start), as `(end, score)`.
pub(crate) fn at_start(text: &str, s: usize) -> Option<(usize, f32)> {
    let b = text.as_bytes();
    let plus = at(b, s) == b'+';
    let mut i = if plus { s + 1 } else { s };
    if !enough_digits(b, i) {
        return None;
    }
    let mut digits = [0u8; MAX_DIGITS];
    let mut nd = 0;
    let mut groups = [Group::default(); MAX_GROUPS];
    let mut ng = 0;
    let mut sep = 0u8;
    loop {
        if ng == MAX_GROUPS {
            break;
        }
        let paren = at(b, i) == b'(';
        let ds = if paren { i + 1 } else { i };
        let mut j = ds;
        while is_digit(at(b, j)) {
            j += 1;
        }
        let run = j - ds;
        if run == 0 || nd + run > MAX_DIGITS {
            break;
        }
        if paren {
            if run > 5 || at(b, j) != b')' {
                break;
            }
            j += 1;
        }
        for (k, &c) in b[ds..ds + run].iter().enumerate() {
            digits[nd + k] = c - b'0';
        }
        groups[ng] = Group {
            end: j,
            d0: nd,
            nd: run,
            paren,
            sep,
        };
        nd += run;
        ng += 1;
        i = j;
        // Separator to the next group.
        let c = at(b, i);
        let next_ok = |k: usize| is_digit(at(b, k)) || (at(b, k) == b'(' && is_digit(at(b, k + 1)));
        if matches!(c, b' ' | b'-' | b'.' | b'/') && next_ok(i + 1) {
            sep = c;
            i += 1;
        } else if c == b' ' && at(b, i + 1) == b'-' && at(b, i + 2) == b' ' && next_ok(i + 3) {
            sep = SPACED_DASH;
            i += 3;
        } else if c == 0xC2 && at(b, i + 1) == 0xA0 && next_ok(i + 2) {
            sep = b' ';
            i += 2;
        } else if paren && is_digit(c) {
            sep = b'n';
        } else {
            break;
        }
    }
    if ng == 0 {
        return None;
    }

    let mut best: Option<(usize, f32)> = None;
    let mut ctx: Option<(bool, bool)> = None;
    for k in (1..=ng).rev() {
        let g = &groups[..k];
        let last = g[k - 1];
        if k < ng && !matches!(groups[k].sep, b' ' | SPACED_DASH) {
            continue;
        }
        if k == ng && !numeric_end_ok(text, last.end) && !extension_follows(b, last.end) {
            continue;
        }
        if last.paren || last.nd < 2 {
            continue;
        }
        let n = last.d0 + last.nd;
        let Some((base, strong)) = classify(plus, g, &digits[..n]) else {
            continue;
        };
        let (pos, neg) = *ctx.get_or_insert_with(|| {
            let e = groups[ng - 1].end;
            (
                positive(b, s, e, POSITIVE) || possessive_number(b, s),
                negative(b, s, CTX_BEFORE, NEGATIVE),
            )
        });
        let mut score = base;
        if strong {
            if pos {
                score += 0.1;
            }
            if neg {
                score -= 0.15;
            }
        } else {
            if pos {
                score += 0.3;
            }
            if neg {
                score -= 0.3;
            }
        }
        let score = clamp(score);
        if best.is_none_or(|(_, bs)| score > bs) {
            best = Some((last.end, score));
        }
    }
    best
}

/// "my number is", "your no.": a number word right after a possessive, in
/// the window before the match. ("number" alone labels anything.)
fn possessive_number(b: &[u8], s: usize) -> bool {
    let mut prev: &[u8] = &[];
    any_word(b, positive_window(b, s), s, |word| {
        let hit = matches!(word.len(), 2..=6)
            && ["number", "num", "no", "nr"]
                .iter()
                .any(|n| word.eq_ignore_ascii_case(n.as_bytes()))
            && ["my", "your", "our", "his", "her", "their", "whose"]
                .iter()
                .any(|p| prev.eq_ignore_ascii_case(p.as_bytes()));
        prev = word;
        hit
    })
}

/// `555-123-4567x89`: an extension glued to the number ends it.
fn extension_follows(b: &[u8], e: usize) -> bool {
    matches!(at(b, e), b'x' | b'X') && is_digit(at(b, e + 1))
}

/// Base score of the groups `g` (digits `d`) as a phone number, and whether
/// the structure alone is strong evidence.
fn classify(plus: bool, g: &[Group], d: &[u8]) -> Option<(f32, bool)> {
    let k = g.len();
    if plus {
        return international(g, d, false).map(|s| (s, true));
    }
    if d.len() >= 4 && d[0] == 0 && d[1] == 0 && d[2] != 0 {
        return international(g, d, true).map(|s| (s, true));
    }
    if looks_like_date(g, d) || dotted_quad(g) || ssn_shaped(g) {
        return None;
    }
    let nd = d.len();
    if let Some(s) = nanp(g, d) {
        return Some((s, g.iter().any(|x| x.paren)));
    }
    if d[0] == 0 && d[1] != 0 {
        let first_ok = (2..=5).contains(&g[0].nd);
        if k >= 2 && (9..=12).contains(&nd) && first_ok && g.iter().all(|x| (2..=8).contains(&x.nd))
        {
            return Some((0.5, g[0].paren));
        }
        if k == 1 && (10..=11).contains(&nd) {
            return Some((0.3, false));
        }
    }
    if k == 1 {
        if nd == 10 || (nd == 11 && d[0] == 1) {
            let o = nd - 10;
            if nanp_penalty(&d[o..]) == Some(0.0) {
                return Some((0.3, false));
            }
        }
        if (7..=12).contains(&nd) {
            return Some((0.25, false));
        }
        return None;
    }
    if k == 2 && g[0].nd == 3 && g[1].nd == 4 && matches!(g[1].sep, b'-' | b' ' | b'.') {
        return Some((0.3, false));
    }
    if (8..=12).contains(&nd) && g.iter().all(|x| (2..=5).contains(&x.nd)) {
        return Some((0.3, false));
    }
    None
}

/// `+CC ...` (or `00CC ...` with `zeros`): known calling code, national
/// number length within the country's range.
fn international(g: &[Group], d: &[u8], zeros: bool) -> Option<f32> {
    // Drop a parenthesised trunk zero, as in +44 (0)20 7713 9980.
    let mut buf = [0u8; MAX_DIGITS];
    let mut n = 0;
    for (i, x) in g.iter().enumerate() {
        if i > 0 && x.paren && x.nd == 1 && d[x.d0] == 0 {
            continue;
        }
        buf[n..n + x.nd].copy_from_slice(&d[x.d0..x.d0 + x.nd]);
        n += x.nd;
    }
    let skip = if zeros { 2 } else { 0 };
    let digits = &buf[skip..n];
    let cc_len = country_code_len(digits)?;
    // The calling code must not straddle two groups.
    if g[0].nd != skip && g[0].nd < skip + cc_len {
        return None;
    }
    if g[0].paren && !zeros {
        return None;
    }
    let nsn = digits.len() - cc_len;
    let cc = digits[..cc_len]
        .iter()
        .fold(0u32, |a, &x| a * 10 + x as u32);
    let (lo, hi) = nsn_range(cc, cc_len);
    if nsn < lo || nsn > hi {
        return None;
    }
    let penalty = if cc == 1 {
        nanp_penalty(&digits[1..])?
    } else {
        0.0
    };
    if g.len() == 1 && zeros {
        // 0044207... with no grouping at all is too easily an identifier.
        return Some(0.45);
    }
    Some(if zeros { 0.7 } else { 0.8 } - penalty)
}

/// North American numbers: the area code starts with 2-9. An exchange
/// starting with 0 or 1 is not assigned either, but is common in made-up
/// numbers (`555-123-4567`), so it only lowers the score.
fn nanp_penalty(d: &[u8]) -> Option<f32> {
    if d.len() != 10 || d[0] < 2 {
        return None;
    }
    Some(if d[3] < 2 { 0.15 } else { 0.0 })
}

/// `(AAA) EEE-NNNN`, `AAA-EEE-NNNN`, `AAA.EEE.NNNN`, `AAA EEE NNNN`,
/// optionally behind a `1` trunk prefix.
fn nanp(g: &[Group], d: &[u8]) -> Option<f32> {
    let (o, bonus) = match g.len() {
        3 => (0, 0.0),
        4 if g[0].nd == 1 && d[0] == 1 && !g[0].paren => (1, 0.05),
        _ => return None,
    };
    let (a, e, n) = (g[o], g[o + 1], g[o + 2]);
    if a.nd != 3 || e.nd != 3 || n.nd != 4 || e.paren || n.paren {
        return None;
    }
    let penalty = nanp_penalty(&d[a.d0..a.d0 + 10])?;
    if a.paren {
        if !matches!(e.sep, b' ' | b'n' | b'-') || !matches!(n.sep, b'-' | b' ' | b'.') {
            return None;
        }
        return Some(0.7 + bonus - penalty);
    }
    if e.sep != n.sep {
        return None;
    }
    match e.sep {
        b'-' | b'.' => Some(0.6 + bonus - penalty),
        b' ' => Some(0.5 + bonus - penalty),
        _ => None,
    }
}

/// `2020-01-20`, `20/01/2020`, `1.2.2020`, `20.01.20`: three groups with
/// the same non-space separator shaped like a date, with a plausible day
/// and month.
fn looks_like_date(g: &[Group], d: &[u8]) -> bool {
    if g.len() < 3 || g[1].sep != g[2].sep || !matches!(g[1].sep, b'-' | b'/' | b'.') {
        return false;
    }
    let val = |x: &Group| {
        d[x.d0..x.d0 + x.nd]
            .iter()
            .fold(0u32, |a, &c| a * 10 + c as u32)
    };
    let day_month = |a: u32, b: u32| (1..=31).contains(&a) && (1..=12).contains(&b);
    let (a, m, c) = (&g[0], &g[1], &g[2]);
    let short = |x: &Group| (1..=2).contains(&x.nd);
    let (va, vm, vc) = (val(a), val(m), val(c));
    (a.nd == 4 && short(m) && short(c) && (day_month(vc, vm) || day_month(vm, vc)))
        || (short(a)
            && short(m)
            && (c.nd == 4 || (c.nd == 2 && g.len() == 3))
            && (day_month(va, vm) || day_month(vm, va)))
}

/// `192.168.1.1`: four dot-separated groups of at most three digits.
fn dotted_quad(g: &[Group]) -> bool {
    g.len() == 4 && g[1..].iter().all(|x| x.sep == b'.') && g.iter().all(|x| x.nd <= 3)
}

/// `123-45-6789`: the US social security number layout.
fn ssn_shaped(g: &[Group]) -> bool {
    g.len() == 3 && g[0].nd == 3 && g[1].nd == 2 && g[2].nd == 4
}

/// Length of the ITU-T E.164 country calling code at the start of `d`.
fn country_code_len(d: &[u8]) -> Option<usize> {
    if d.len() < 3 {
        return None;
    }
    let d1 = d[0] as u32;
    if d1 == 0 {
        return None;
    }
    if d1 == 1 || d1 == 7 {
        return Some(1);
    }
    let d2 = d1 * 10 + d[1] as u32;
    let two = matches!(
        d2,
        20 | 27 | 30..=34 | 36 | 39 | 40 | 41 | 43..=49 | 51..=58 | 60..=66 | 81 | 82 | 84 | 86 | 90..=95 | 98
    );
    if two {
        return Some(2);
    }
    let d3 = d2 * 10 + d[2] as u32;
    let three = matches!(
        d3,
        211 | 212
            | 213
            | 216
            | 218
            | 220..=258
            | 260..=269
            | 290
            | 291
            | 297..=299
            | 350..=359
            | 370..=378
            | 380..=383
            | 385..=387
            | 389
            | 420
            | 421
            | 423
            | 500..=509
            | 590..=599
            | 670
            | 672..=683
            | 685..=692
            | 800
            | 808
            | 850
            | 852
            | 853
            | 855
            | 856
            | 870
            | 878
            | 880..=883
            | 886
            | 888
            | 960..=968
            | 970..=977
            | 979
            | 992..=996
            | 998
    );
    three.then_some(3)
}

/// Plausible national significant number lengths per calling code.
fn nsn_range(cc: u32, cc_len: usize) -> (usize, usize) {
    match cc {
        1 | 7 | 30 | 52 | 57 | 58 | 90 | 91 => (10, 10),
        20 => (8, 10),
        27 | 31 | 33 | 34 | 40 | 41 | 48 | 56 | 61 | 351 | 380 | 420 | 421 | 966 | 254 => (9, 9),
        32 | 36 | 51 | 66 | 971 | 972 => (8, 9),
        39 => (6, 11),
        43 => (4, 13),
        44 => (9, 10),
        45 | 47 | 65 => (8, 8),
        46 => (7, 10),
        49 => (6, 13),
        54 | 55 => (10, 11),
        60 | 63 | 64 | 82 | 234 => (8, 10),
        62 => (8, 12),
        81 | 84 | 92 => (9, 10),
        86 => (10, 11),
        353 => (7, 9),
        358 => (5, 12),
        _ => (6, (15 - cc_len).min(12)),
    }
}
