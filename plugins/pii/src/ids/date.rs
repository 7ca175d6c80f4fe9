//! DATE_TIME: calendar dates, numeric (`2024-03-15`, `15/03/2024`,
//! `03/15/24`, `15.03.2024`, ISO 8601 with a time and zone) or with a
//! month name in English, Spanish, French, German, Italian or Portuguese
//! (`15 March 2024`, `March 15, 2024`, `1 de marzo de 2024`,
//! `15. März 2024`), and a time of day right after a date.
//!
//! Every date is checked against the calendar (no 45/17/2024, no
//! 2024-02-30). Numbers that only look like dates are left alone: a
//! two-digit year needs a two-digit day and month (`1.2.24` is a
//! version), and a date glued to more digits or dots (`10.0.19045`,
//! `2024-0315-0042`) is part of something else.

use super::{checks::valid_date, end_ok, start_ok};
use crate::scan::at;
use crate::{DATE_TIME, Scan};

/// Month names and abbreviations (lower-case ASCII; accented names are
/// matched on their ASCII prefix where it is unambiguous) and their
/// number.
const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("enero", 1),
    ("janvier", 1),
    ("januar", 1),
    ("gennaio", 1),
    ("janeiro", 1),
    ("february", 2),
    ("feb", 2),
    ("febrero", 2),
    ("fevrier", 2),
    ("februar", 2),
    ("febbraio", 2),
    ("fevereiro", 2),
    ("march", 3),
    ("mar", 3),
    ("marzo", 3),
    ("mars", 3),
    ("marz", 3),
    ("marco", 3),
    ("april", 4),
    ("apr", 4),
    ("abril", 4),
    ("avril", 4),
    ("aprile", 4),
    ("may", 5),
    ("mayo", 5),
    ("mai", 5),
    ("maggio", 5),
    ("maio", 5),
    ("june", 6),
    ("jun", 6),
    ("junio", 6),
    ("juin", 6),
    ("juni", 6),
    ("giugno", 6),
    ("junho", 6),
    ("july", 7),
    ("jul", 7),
    ("julio", 7),
    ("juillet", 7),
    ("juli", 7),
    ("luglio", 7),
    ("julho", 7),
    ("august", 8),
    ("aug", 8),
    ("agosto", 8),
    ("aout", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("septiembre", 9),
    ("septembre", 9),
    ("settembre", 9),
    ("setembro", 9),
    ("october", 10),
    ("oct", 10),
    ("octubre", 10),
    ("octobre", 10),
    ("oktober", 10),
    ("ottobre", 10),
    ("outubro", 10),
    ("november", 11),
    ("nov", 11),
    ("noviembre", 11),
    ("novembre", 11),
    ("novembro", 11),
    ("december", 12),
    ("dec", 12),
    ("diciembre", 12),
    ("decembre", 12),
    ("dezember", 12),
    ("dicembre", 12),
    ("dezembro", 12),
];

fn month_name(w: &[u8]) -> Option<u32> {
    MONTHS
        .iter()
        .find(|(name, _)| w.eq_ignore_ascii_case(name.as_bytes()))
        .map(|&(_, m)| m)
}

/// A run of 1 to 4 digits at `i`: value and end.
fn num(b: &[u8], i: usize, max: usize) -> Option<(u32, usize)> {
    let mut k = i;
    let mut v = 0u32;
    while k < b.len() && b[k].is_ascii_digit() && k - i < max {
        v = v * 10 + (b[k] - b'0') as u32;
        k += 1;
    }
    (k > i && !at(b, k).is_ascii_digit()).then_some((v, k))
}

/// A word starting at `i` (end `j`).
pub(crate) fn word(s: &mut Scan, i: usize, j: usize) {
    let b = s.text.as_bytes();
    if !start_ok(s.text, i) {
        return;
    }
    let end = if b[i].is_ascii_digit() {
        numeric(b, i, j).or_else(|| day_first(b, i, j))
    } else {
        month_first(b, i, j)
    };
    if let Some(e) = end {
        let e = time(b, e).unwrap_or(e);
        if end_ok(s.text, e) && !(at(b, e) == b'.' && at(b, e + 1).is_ascii_digit()) {
            s.push(DATE_TIME, "pii.date-time", i, e, 0.85);
        }
    }
}

/// `yyyy-mm-dd`, `yyyy/mm/dd`, `dd/mm/yyyy`, `mm/dd/yyyy`, `dd.mm.yyyy`,
/// `dd-mm-yyyy` and two-digit-year forms: the date's end.
fn numeric(b: &[u8], i: usize, j: usize) -> Option<usize> {
    let (a, k) = num(b, i, 4)?;
    let sep = at(b, k);
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    let (m, k2) = num(b, k + 1, 2)?;
    if at(b, k2) != sep {
        return None;
    }
    let (c, e) = num(b, k2 + 1, 4)?;
    let (la, lm, lc) = (k - i, k2 - k - 1, e - k2 - 1);
    let _ = j;
    if la == 4 {
        // Year first.
        return (lm <= 2 && (1..=2).contains(&lc) && sep != b'.' && valid_date(a, m, c))
            .then_some(e);
    }
    if la > 2 || !(lc == 4 || lc == 2) {
        return None;
    }
    if lc == 2 && (la != 2 || lm != 2) {
        return None;
    }
    let year = if lc == 2 { 2000 + c } else { c };
    let day_month = valid_date(year, m, a);
    let month_day = sep == b'/' && valid_date(year, a, m);
    (day_month || month_day).then_some(e)
}

/// `15 March 2024`, `7 Feb 2025`, `15. März 2024`, `1 de marzo de 2024`,
/// `15-MAR-2024`: the date's end.
fn day_first(b: &[u8], i: usize, j: usize) -> Option<usize> {
    if j - i > 2 {
        return None;
    }
    let (d, mut k) = num(b, i, 2)?;
    let dash = at(b, k) == b'-';
    if at(b, k) == b'.' {
        k += 1;
    }
    if !matches!(at(b, k), b' ' | b'-') {
        return None;
    }
    k += 1;
    if !dash && b[k..].len() > 3 && b[k..k + 3].eq_ignore_ascii_case(b"de ") {
        k += 3;
    }
    let (m, me) = month_word(b, k)?;
    let mut e = me;
    let mut y = 2000;
    let sep_len = if dash {
        (at(b, e) == b'-').then_some(1)
    } else if b[e..].starts_with(b" de ") {
        Some(4)
    } else if matches!(at(b, e), b' ' | b',') {
        Some(if b[e..].starts_with(b", ") { 2 } else { 1 })
    } else {
        None
    };
    if let Some(l) = sep_len
        && let Some((yv, ye)) = num(b, e + l, 4)
        && ye - (e + l) == 4
    {
        y = yv;
        e = ye;
    } else if dash {
        return None;
    }
    valid_date(y, m, d).then_some(e)
}

/// `March 15, 2024`, `Jan 3, 2026`, `March 15`: the date's end.
fn month_first(b: &[u8], i: usize, _j: usize) -> Option<usize> {
    let (m, me) = month_word(b, i)?;
    // A lower-case "may", "mar", "jun"… is a word, not a month.
    if !b[i].is_ascii_uppercase() {
        return None;
    }
    if at(b, me) != b' ' {
        return None;
    }
    let (d, de) = num(b, me + 1, 2)?;
    let mut e = de;
    let mut k = de;
    // Ordinal suffix.
    if b.get(k..k + 2)
        .is_some_and(|x| matches!(x, b"st" | b"nd" | b"rd" | b"th"))
    {
        k += 2;
        e = k;
    }
    let mut y = 2000;
    if b[k..].starts_with(b", ") || at(b, k) == b' ' {
        let ys = k + if at(b, k) == b',' { 2 } else { 1 };
        if let Some((yv, ye)) = num(b, ys, 4)
            && ye - ys == 4
        {
            y = yv;
            e = ye;
        }
    }
    valid_date(y, m, d).then_some(e)
}

/// A month name at `k` (letters, an optional `.` after an abbreviation):
/// its number and end. Non-ASCII letters inside (`März`, `février`) are
/// matched by their ASCII skeleton.
fn month_word(b: &[u8], k: usize) -> Option<(u32, usize)> {
    let mut e = k;
    let mut skel = [0u8; 12];
    let mut n = 0;
    while e < b.len() && n < 12 {
        let c = b[e];
        if c.is_ascii_alphabetic() {
            skel[n] = c;
            n += 1;
            e += 1;
        } else if c >= 0x80 {
            // One accented letter: ä, é, û, ç (two bytes in UTF-8).
            let (ascii, len) = match b.get(e..e + 2) {
                Some([0xC3, 0xA4]) => (b'a', 2),
                Some([0xC3, 0xA9]) => (b'e', 2),
                Some([0xC3, 0xBB]) => (b'u', 2),
                Some([0xC3, 0xA7]) => (b'c', 2),
                _ => return None,
            };
            skel[n] = ascii;
            n += 1;
            e += len;
        } else {
            break;
        }
    }
    let m = month_name(&skel[..n])?;
    if at(b, e) == b'.' && n <= 4 {
        e += 1;
    }
    Some((m, e))
}

/// `T10:30`, ` 10:30`, `:45`, `.123`, `Z`, `+02:00` after a date: the end.
fn time(b: &[u8], e: usize) -> Option<usize> {
    if !matches!(at(b, e), b'T' | b' ') {
        return None;
    }
    let (h, k) = num(b, e + 1, 2)?;
    if k - e - 1 != 2 || at(b, k) != b':' || h > 23 {
        return None;
    }
    let (mi, mut k) = num(b, k + 1, 2)?;
    if mi > 59 {
        return None;
    }
    if at(b, k) == b':'
        && let Some((sec, k2)) = num(b, k + 1, 2)
        && sec <= 60
    {
        k = k2;
        if at(b, k) == b'.' && at(b, k + 1).is_ascii_digit() {
            k += 1;
            while at(b, k).is_ascii_digit() {
                k += 1;
            }
        }
    }
    if at(b, k) == b'Z' {
        k += 1;
    } else if matches!(at(b, k), b'+' | b'-')
        && b.get(k + 1..k + 6).is_some_and(|z| {
            z[..2].iter().all(u8::is_ascii_digit)
                && z[2] == b':'
                && z[3..].iter().all(u8::is_ascii_digit)
        })
    {
        k += 6;
    }
    Some(k)
}
