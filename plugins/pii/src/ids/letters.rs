//! Identifiers that start with a letter: Spanish NIE, Singapore NRIC/FIN,
//! UK National Insurance number, US DEA number (MEDICAL_LICENSE), Indian
//! PAN, Italian codice fiscale, and the letter forms of US passport and
//! driver's licence numbers (context words only).

use super::{CONTEXT_SCORE, checked_score, checks, context, end_ok, start_ok};
use crate::scan::{Keywords, at, keywords, p, w};
use crate::{
    ES_NIE, IN_PAN, IT_FISCAL_CODE, MEDICAL_LICENSE, SG_NRIC_FIN, Scan, UK_NINO, US_DRIVER_LICENSE,
    US_PASSPORT,
};

const DEA: &Keywords = &keywords(&[
    p("certificat"),
    w("dea"),
    p("doctor"),
    w("dr"),
    p("licen"),
    w("md"),
    p("medical"),
    p("physician"),
    p("practitioner"),
    p("prescri"),
    p("registration"),
]);
const NRIC_M: &Keywords = &keywords(&[w("fin"), w("ic"), w("nric"), p("singapore")]);
const PASSPORT: &Keywords = &keywords(&[
    p("pasaport"),
    p("pasport"),
    p("passeport"),
    p("passport"),
    p("reisepass"),
]);
const LICENCE: &Keywords =
    &keywords(&[p("dl"), p("driver"), p("driving"), p("licen"), w("permit")]);

fn upper(c: u8) -> bool {
    c.is_ascii_uppercase()
}

fn digits(v: &[u8]) -> bool {
    v.iter().all(u8::is_ascii_digit)
}

/// A word starting with a letter at `i` (word end `j`).
pub(crate) fn word(s: &mut Scan, i: usize, j: usize) {
    let text = s.text;
    let b = text.as_bytes();
    let v = &b[i..j];
    if !upper(v[0]) || !start_ok(text, i) {
        return;
    }
    match v.len() {
        2 if upper(v[1]) => nino_spaced(s, i),
        8 if s.run & ES_NIE != 0
            && b"XYZ".contains(&v[0])
            && digits(&v[1..])
            && at(b, j) == b'-'
            // NIE with a dash before its letter.
            && upper(at(b, j + 1)) && end_ok(text, j + 2) =>
        {
            nie(s, i, [&v[..8], &[at(b, j + 1)]].concat().as_slice(), j + 2);
        }
        _ => {}
    }
    if !end_ok(text, j) {
        return;
    }
    let run = s.run;
    let push = |s: &mut Scan, cat: u32, rule, score| {
        if run & cat != 0 {
            s.push(cat, rule, i, j, score)
        }
    };
    match v.len() {
        9 if b"XYZ".contains(&v[0]) && digits(&v[1..8]) && upper(v[8]) => nie(s, i, v, j),
        9 if b"STFGM".contains(&v[0])
            && digits(&v[1..8])
            && upper(v[8])
            && checks::nric(v)
            && (v[0] != b'M' || context(s, i, j, NRIC_M)) =>
        {
            push(s, SG_NRIC_FIN, "pii.sg-nric-fin", checked_score(false));
        }
        9 if upper(v[1])
            && digits(&v[2..8])
            && b"ABCD".contains(&v[8])
            && nino_prefix(v[0], v[1]) =>
        {
            push(s, UK_NINO, "pii.uk-nino", checked_score(false));
        }
        9 if digits(&v[2..])
            && (upper(v[1]) || v[1] == b'9')
            && checks::dea(v)
            && context(s, i, j, DEA) =>
        {
            push(
                s,
                MEDICAL_LICENSE,
                "pii.medical-license",
                checked_score(true),
            );
        }
        9 if digits(&v[1..]) && context(s, i, j, PASSPORT) => {
            push(s, US_PASSPORT, "pii.us-passport", CONTEXT_SCORE);
        }
        10 if v[..5].iter().all(|&c| upper(c))
            && b"ABCFGHJLPT".contains(&v[3])
            && digits(&v[5..9])
            && upper(v[9]) =>
        {
            push(s, IN_PAN, "pii.in-pan", checked_score(false));
        }
        16 if checks::fiscal_code(v) => {
            push(
                s,
                IT_FISCAL_CODE,
                "pii.it-fiscal-code",
                checked_score(false),
            );
        }
        // US state licence layouts: one letter and 4 to 14 digits.
        5..=15 if digits(&v[1..]) && context(s, i, j, LICENCE) => {
            push(s, US_DRIVER_LICENSE, "pii.us-driver-license", CONTEXT_SCORE);
        }
        _ => {}
    }
}

/// Spanish NIE: X, Y or Z (standing for 0, 1, 2), seven digits and the
/// NIF control letter of the resulting number.
fn nie(s: &mut Scan, i: usize, v: &[u8], e: usize) {
    let lead = (v[0] - b'X') as u32;
    let num = v[1..8]
        .iter()
        .fold(lead, |a, &c| a * 10 + (c - b'0') as u32);
    if checks::nif_letter(num) == v[8] && s.run & ES_NIE != 0 {
        s.push(ES_NIE, "pii.es-nie", i, e, checked_score(false));
    }
}

/// The two prefix letters of a National Insurance number: D, F, I, Q, U
/// and V never appear, O never second, and BG, GB, KN, NK, NT, TN and ZZ
/// are not allocated.
fn nino_prefix(a: u8, b: u8) -> bool {
    !b"DFIQUV".contains(&a)
        && !b"DFIQUVO".contains(&b)
        && !matches!(
            &[a, b],
            b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN" | b"ZZ"
        )
}

/// `AB 12 34 56 C`: a NINO written in pairs.
fn nino_spaced(s: &mut Scan, i: usize) {
    let b = s.text.as_bytes();
    let Some(v) = b.get(i..i + 13) else { return };
    let shape = v[2] == b' '
        && v[5] == b' '
        && v[8] == b' '
        && v[11] == b' '
        && digits(&v[3..5])
        && digits(&v[6..8])
        && digits(&v[9..11])
        && b"ABCD".contains(&v[12]);
    if shape && nino_prefix(v[0], v[1]) && end_ok(s.text, i + 13) && s.run & UK_NINO != 0 {
        s.push(UK_NINO, "pii.uk-nino", i, i + 13, checked_score(false));
    }
}
