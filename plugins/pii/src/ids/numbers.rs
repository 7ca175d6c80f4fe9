//! Identifiers that start with a digit: UK NHS, Indian Aadhaar,
//! Australian ABN, ACN, TFN and Medicare, Polish PESEL, Korean RRN, US
//! ITIN, Spanish NIF (DNI), Finnish personal identity code, and the US
//! formats without a checksum (bank account, passport and driver's
//! licence numbers), which need their context words.

use super::{CONTEXT_SCORE, checked_score, checks, context, end_ok, start_ok};
use crate::scan::{Keywords, at, keywords, p, w};
use crate::{
    AU_ABN, AU_ACN, AU_MEDICARE, AU_TFN, ES_NIF, FI_PERSONAL_IDENTITY_CODE, IN_AADHAAR, KR_RRN,
    PL_PESEL, Scan, UK_NHS, US_BANK_NUMBER, US_DRIVER_LICENSE, US_ITIN, US_PASSPORT,
};

const NHS: &Keywords = &keywords(&[p("health"), w("nhs")]);
const AADHAAR: &Keywords = &keywords(&[p("aadhaar"), p("aadhar"), w("uid"), p("uidai")]);
/// "Aadhaar" in Devanagari (Hindi, Marathi): the keyword lists above hold
/// ASCII words only.
const AADHAAR_NATIVE: &[u8] = "आधार".as_bytes();

/// Whether `word` is written in the 64 bytes before `start` (wider than
/// the ASCII window: a Devanagari letter is three bytes).
fn written_before(b: &[u8], start: usize, word: &[u8]) -> bool {
    b[start.saturating_sub(64)..start]
        .windows(word.len())
        .any(|w| w == word)
}
const ABN: &Keywords = &keywords(&[w("abn"), p("business")]);
const ACN: &Keywords = &keywords(&[w("acn"), p("compan")]);
const TFN: &Keywords = &keywords(&[p("file"), w("tfn")]);
const MEDICARE: &Keywords = &keywords(&[p("medicare")]);
const PESEL: &Keywords = &keywords(&[w("pesel")]);
const RRN: &Keywords = &keywords(&[p("registration"), p("resident"), w("rrn")]);
const ITIN: &Keywords = &keywords(&[w("itin"), w("tin"), p("taxpayer")]);
const PASSPORT: &Keywords = &keywords(&[
    p("pasaport"),
    p("pasport"),
    p("passeport"),
    p("passport"),
    p("reisepass"),
]);
const LICENCE: &Keywords =
    &keywords(&[p("dl"), p("driver"), p("driving"), p("licen"), w("permit")]);
const BANK: &Keywords = &keywords(&[
    p("account"),
    p("acct"),
    p("bank"),
    p("checking"),
    p("saving"),
]);

/// Digit groups from a start: one kind of single separator (space or
/// dash) between groups.
struct Groups {
    digits: [u8; 20],
    nd: usize,
    sizes: [u8; 6],
    ng: usize,
    sep: u8,
    end: usize,
}

impl Groups {
    fn read(b: &[u8], s: usize) -> Groups {
        let mut g = Groups {
            digits: [0; 20],
            nd: 0,
            sizes: [0; 6],
            ng: 0,
            sep: 0,
            end: s,
        };
        let mut i = s;
        loop {
            let gs = i;
            while i < b.len() && b[i].is_ascii_digit() && g.nd < 20 {
                g.digits[g.nd] = b[i] - b'0';
                g.nd += 1;
                i += 1;
            }
            g.sizes[g.ng] = (i - gs) as u8;
            g.ng += 1;
            g.end = i;
            let sep = at(b, i);
            if g.ng < 6
                && matches!(sep, b' ' | b'-')
                && (g.sep == 0 || g.sep == sep)
                && at(b, i + 1).is_ascii_digit()
                && g.nd < 20
            {
                g.sep = sep;
                i += 1;
            } else {
                return g;
            }
        }
    }

    fn d(&self) -> &[u8] {
        &self.digits[..self.nd]
    }

    fn is(&self, shape: &[u8]) -> bool {
        &self.sizes[..self.ng] == shape
    }
}

/// A word starting with a digit at `i` (word end `j`).
pub(crate) fn word(s: &mut Scan, i: usize, j: usize) {
    let text = s.text;
    let b = text.as_bytes();
    if !start_ok(text, i) {
        return;
    }
    if s.run & FI_PERSONAL_IDENTITY_CODE != 0 && (j - i == 6 || j - i == 11) {
        hetu(s, i);
    }
    if s.run & ES_NIF != 0 {
        nif(s, i, j);
    }
    let g = Groups::read(b, i);
    if g.end != j && g.ng == 1 || !end_ok(text, g.end) {
        return;
    }
    let (e, d) = (g.end, g.d());
    let ctx = |s: &Scan, kws| context(s, i, e, kws);
    let push = |s: &mut Scan, cat, rule, score| s.push(cat, rule, i, e, score);
    match g.nd {
        9 if g.is(&[3, 2, 4]) || g.is(&[9]) => {
            let mid = d[3] * 10 + d[4];
            let itin = d[0] == 9 && matches!(mid, 50..=65 | 70..=88 | 90..=92 | 94..=99);
            let labelled = ctx(s, ITIN);
            if itin && (g.ng == 3 || labelled) {
                if s.run & US_ITIN != 0 {
                    push(s, US_ITIN, "pii.us-itin", checked_score(labelled));
                }
                return;
            }
        }
        _ => {}
    }
    let compact = g.ng == 1;
    let found = match g.nd {
        10 if (g.is(&[10]) || g.is(&[3, 3, 4])) && checks::nhs(d) && ctx(s, NHS) => {
            Some((UK_NHS, "pii.uk-nhs", true))
        }
        10 if (compact || g.is(&[4, 5, 1]))
            && checks::medicare(d)
            && (!compact || ctx(s, MEDICARE)) =>
        {
            Some((AU_MEDICARE, "pii.au-medicare", ctx(s, MEDICARE)))
        }
        // Verhoeff passes one number in ten, and twelve digits in groups
        // of four are common (order numbers, truncated cards, the shared
        // development set's look-alikes): context words always.
        12 if (compact || g.is(&[4, 4, 4]))
            && checks::aadhaar(d)
            && (ctx(s, AADHAAR) || written_before(b, i, AADHAAR_NATIVE)) =>
        {
            Some((IN_AADHAAR, "pii.in-aadhaar", true))
        }
        11 if (compact || g.is(&[2, 3, 3, 3])) && checks::abn(d) && (!compact || ctx(s, ABN)) => {
            Some((AU_ABN, "pii.au-abn", ctx(s, ABN)))
        }
        11 if compact && checks::pesel(d) && ctx(s, PESEL) => {
            Some((PL_PESEL, "pii.pl-pesel", true))
        }
        9 if (compact || g.is(&[3, 3, 3])) && checks::tfn(d) && ctx(s, TFN) => {
            Some((AU_TFN, "pii.au-tfn", true))
        }
        9 if (compact || g.is(&[3, 3, 3])) && checks::acn(d) && ctx(s, ACN) => {
            Some((AU_ACN, "pii.au-acn", true))
        }
        13 if (g.is(&[6, 7]) && g.sep == b'-' || compact && ctx(s, RRN)) && checks::rrn(d) => {
            Some((KR_RRN, "pii.kr-rrn", ctx(s, RRN)))
        }
        _ => None,
    };
    if let Some((cat, rule, ctx)) = found {
        if s.run & cat != 0 {
            push(s, cat, rule, checked_score(ctx));
        }
        return;
    }
    // No checksum: context words only, on one compact number.
    if !compact {
        return;
    }
    if g.nd == 9 && s.run & US_PASSPORT != 0 && ctx(s, PASSPORT) {
        push(s, US_PASSPORT, "pii.us-passport", CONTEXT_SCORE);
    } else if (6..=14).contains(&g.nd) && s.run & US_DRIVER_LICENSE != 0 && ctx(s, LICENCE) {
        push(s, US_DRIVER_LICENSE, "pii.us-driver-license", CONTEXT_SCORE);
    } else if (8..=17).contains(&g.nd) && s.run & US_BANK_NUMBER != 0 && ctx(s, BANK) {
        push(s, US_BANK_NUMBER, "pii.us-bank-number", CONTEXT_SCORE);
    }
}

/// Spanish DNI/NIF: 8 digits (7 for old ones, zero-padded), an optional
/// dash and the control letter.
fn nif(s: &mut Scan, i: usize, j: usize) {
    let b = s.text.as_bytes();
    let mut k = i;
    while k < j && b[k].is_ascii_digit() {
        k += 1;
    }
    let n = k - i;
    if !(7..=8).contains(&n) {
        return;
    }
    let (letter, e) = if k == j && b.get(k) == Some(&b'-') {
        (at(b, k + 1), k + 2)
    } else if j == k + 1 {
        (b[k], j)
    } else {
        return;
    };
    let num = b[i..k]
        .iter()
        .fold(0u32, |a, &c| a * 10 + (c - b'0') as u32);
    if letter.is_ascii_uppercase() && checks::nif_letter(num) == letter && end_ok(s.text, e) {
        s.push(ES_NIF, "pii.es-nif", i, e, checked_score(false));
    }
}

/// Finnish personal identity code `DDMMYYCZZZQ`.
fn hetu(s: &mut Scan, i: usize) {
    let b = s.text.as_bytes();
    if let Some(v) = b.get(i..i + 11)
        && checks::hetu(v)
        && end_ok(s.text, i + 11)
    {
        s.push(
            FI_PERSONAL_IDENTITY_CODE,
            "pii.fi-personal-identity-code",
            i,
            i + 11,
            checked_score(false),
        );
    }
}
