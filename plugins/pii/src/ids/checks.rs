//! Check digits and structural validation of national identifiers, from
//! each issuer's published rule (the same rules Presidio's recognizers
//! apply). Inputs are ASCII digits (`d`, values 0..=9) or upper-case
//! ASCII strings already cut to the identifier's length.

/// UK NHS number (10 digits): weights 10..=2 on the first nine, mod 11;
/// the check digit is `11 - r` (11 becomes 0, 10 is never issued).
pub(crate) fn nhs(d: &[u8]) -> bool {
    d.len() == 10 && weighted(d, &[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]).is_multiple_of(11)
}

/// Indian Aadhaar (12 digits): Verhoeff checksum, first digit 2-9, and
/// not a palindrome (UIDAI never issues those; test values often are).
pub(crate) fn aadhaar(d: &[u8]) -> bool {
    const M: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    if d.len() != 12 || d[0] < 2 || d.iter().eq(d.iter().rev()) {
        return false;
    }
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = M[c as usize][P[i % 8][x as usize] as usize];
    }
    c == 0
}

/// Australian Business Number (11 digits): subtract 1 from the first
/// digit, weights 10, 1, 3, …, 19, mod 89.
pub(crate) fn abn(d: &[u8]) -> bool {
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let mut v = [0u8; 11];
    v.copy_from_slice(d);
    v[0] -= 1;
    weighted(&v, &[10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]).is_multiple_of(89)
}

/// Australian Company Number (9 digits): weights 8..=1, check digit the
/// complement to 10.
pub(crate) fn acn(d: &[u8]) -> bool {
    d.len() == 9 && (10 - weighted(&d[..8], &[8, 7, 6, 5, 4, 3, 2, 1]) % 10) % 10 == d[8] as u32
}

/// Australian Tax File Number (9 digits): weights 1, 4, 3, 7, 5, 8, 6, 9,
/// 10, mod 11.
pub(crate) fn tfn(d: &[u8]) -> bool {
    d.len() == 9 && weighted(d, &[1, 4, 3, 7, 5, 8, 6, 9, 10]).is_multiple_of(11)
}

/// Australian Medicare card (10 digits, the 10th the issue number): first
/// digit 2-6, weights 1, 3, 7, 9 twice, mod 10 equals the 9th digit.
pub(crate) fn medicare(d: &[u8]) -> bool {
    d.len() == 10
        && (2..=6).contains(&d[0])
        && weighted(&d[..8], &[1, 3, 7, 9, 1, 3, 7, 9]) % 10 == d[8] as u32
}

/// Polish PESEL (11 digits): a birth date (the month carries the century:
/// +80 1800s, +0 1900s, +20 2000s, +40 2100s, +60 2200s) and weights 1,
/// 3, 7, 9 repeated, check digit the complement to 10.
pub(crate) fn pesel(d: &[u8]) -> bool {
    if d.len() != 11 {
        return false;
    }
    let month = (d[2] * 10 + d[3]) % 20;
    let day = d[4] * 10 + d[5];
    (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (10 - weighted(&d[..10], &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]) % 10) % 10 == d[10] as u32
}

/// Korean resident registration number (13 digits): a birth date, a
/// gender/century digit 1-4 (5-8 for foreign residents), a region code
/// up to 95, and weights 2..=9, 2..=5 mod 11.
pub(crate) fn rrn(d: &[u8]) -> bool {
    if d.len() != 13 {
        return false;
    }
    let month = d[2] * 10 + d[3];
    let day = d[4] * 10 + d[5];
    (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (1..=8).contains(&d[6])
        && d[7] * 10 + d[8] <= 95
        && (11 - weighted(&d[..12], &[2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]) % 11) % 10
            == d[12] as u32
}

/// Finnish personal identity code `DDMMYYCZZZQ` (11 ASCII bytes): a valid
/// date, a century sign, an individual number, and the check character
/// `0-9A-Y` (no G, I, O, Q, Z) indexed by `DDMMYYZZZ mod 31`.
pub(crate) fn hetu(s: &[u8]) -> bool {
    const CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    if s.len() != 11 || !s[..6].iter().chain(&s[7..10]).all(u8::is_ascii_digit) {
        return false;
    }
    let century = match s[6] {
        b'+' => 1800,
        b'-' | b'U'..=b'Y' => 1900,
        b'A'..=b'F' => 2000,
        _ => return false,
    };
    let n = |i: usize| (s[i] - b'0') as u32 * 10 + (s[i + 1] - b'0') as u32;
    if !valid_date(century + n(4), n(2), n(0)) {
        return false;
    }
    let num = s[..6]
        .iter()
        .chain(&s[7..10])
        .fold(0u64, |a, &c| a * 10 + (c - b'0') as u64);
    CHECK[(num % 31) as usize] == s[10].to_ascii_uppercase()
}

/// The control letter of a Spanish DNI/NIF number.
pub(crate) fn nif_letter(n: u32) -> u8 {
    b"TRWAGMYFPDXBNJZSQVHLCKE"[(n % 23) as usize]
}

/// Italian codice fiscale (16 upper-case characters): the fixed layout of
/// letters and digits (digits may be replaced by letters L-V when codes
/// collide, "omocodia"), a month letter, and the check letter from the
/// odd/even position tables.
pub(crate) fn fiscal_code(s: &[u8]) -> bool {
    const ODD: [u8; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    const ODD_DIGIT: [u8; 10] = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21];
    if s.len() != 16
        || !s
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    // Positions that hold digits (or their omocodia letters).
    let numeric = |c: u8| c.is_ascii_digit() || matches!(c, b'L'..=b'N' | b'P'..=b'V');
    let layout = s[..6].iter().all(u8::is_ascii_uppercase)
        && numeric(s[6])
        && numeric(s[7])
        && b"ABCDEHLMPRST".contains(&s[8])
        && numeric(s[9])
        && numeric(s[10])
        && s[11].is_ascii_uppercase()
        && s[12..15].iter().all(|&c| numeric(c))
        && s[15].is_ascii_uppercase();
    if !layout {
        return false;
    }
    let mut sum = 0u32;
    for (i, &c) in s[..15].iter().enumerate() {
        sum += if i % 2 == 0 {
            if c.is_ascii_digit() {
                ODD_DIGIT[(c - b'0') as usize]
            } else {
                ODD[(c - b'A') as usize]
            }
        } else if c.is_ascii_digit() {
            c - b'0'
        } else {
            c - b'A'
        } as u32;
    }
    s[15] == b'A' + (sum % 26) as u8
}

/// Singapore NRIC/FIN (`[STFGM]` + 7 digits + letter): weights 2, 7, 6,
/// 5, 4, 3, 2, an offset for the T, G (4) and M (3) series, and the
/// series' letter table.
pub(crate) fn nric(s: &[u8]) -> bool {
    if s.len() != 9 || !s[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d: Vec<u8> = s[1..8].iter().map(|c| c - b'0').collect();
    let sum = weighted(&d, &[2, 7, 6, 5, 4, 3, 2]);
    let (offset, table): (u32, &[u8; 11]) = match s[0] {
        b'S' => (0, b"JZIHGFEDCBA"),
        b'T' => (4, b"JZIHGFEDCBA"),
        b'F' => (0, b"XWUTRQPNMLK"),
        b'G' => (4, b"XWUTRQPNMLK"),
        // The M series (FINs from 2022) uses a rule not published by ICA;
        // its shape alone is checked, and the caller asks for context.
        b'M' => return s[8].is_ascii_uppercase(),
        _ => return false,
    };
    s[8] == table[((sum + offset) % 11) as usize]
}

/// US DEA registration number (2 letters + 7 digits): the first letter is
/// a registrant type, and the 7th digit is the last digit of
/// `d1 + d3 + d5 + 2 (d2 + d4 + d6)`.
pub(crate) fn dea(s: &[u8]) -> bool {
    if s.len() != 9
        || !b"ABCDEFGHJKLMPRSTUX".contains(&s[0])
        || !s[1].is_ascii_uppercase() && s[1] != b'9'
        || !s[2..].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let d: Vec<u32> = s[2..].iter().map(|c| (c - b'0') as u32).collect();
    (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]
}

/// Whether `y-m-d` is a calendar date.
pub(crate) fn valid_date(y: u32, m: u32, d: u32) -> bool {
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

fn weighted(d: &[u8], w: &[u32]) -> u32 {
    d.iter().zip(w).map(|(&x, &w)| x as u32 * w).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(s: &str) -> Vec<u8> {
        s.bytes()
            .filter(u8::is_ascii_digit)
            .map(|c| c - b'0')
            .collect()
    }

    // Published example or specimen values from each issuer's
    // documentation, and the same with one digit changed.
    #[test]
    fn checksums_accept_specimens_and_reject_one_digit_changes() {
        assert!(nhs(&ds("943 476 5919")) && !nhs(&ds("943 476 5918")));
        assert!(abn(&ds("51 824 753 556")) && !abn(&ds("51 824 753 557")));
        assert!(acn(&ds("000 000 019")) && acn(&ds("004 085 616")) && !acn(&ds("004 085 617")));
        assert!(tfn(&ds("123 456 782")) && !tfn(&ds("123 456 783")));
        assert!(medicare(&ds("2123 45670 1")) && !medicare(&ds("2123 45671 1")));
        assert!(pesel(&ds("44051401359")) && !pesel(&ds("44051401358")));
        assert!(aadhaar(&ds("2341 2341 2346")) && !aadhaar(&ds("2341 2341 2345")));
        assert!(hetu(b"131052-308T") && !hetu(b"131052-308U") && !hetu(b"310252-308T"));
        assert!(fiscal_code(b"RSSMRA85T10A562S") && !fiscal_code(b"RSSMRA85T10A562T"));
        assert!(nric(b"S1234567D") && !nric(b"S1234567E") && nric(b"T1234567J"));
        assert!(dea(b"AB1234563") && !dea(b"AB1234564"));
        assert_eq!(nif_letter(12345678), b'Z');
        assert!(rrn(&ds("800101-1000008")) && !rrn(&ds("800101-1000007")));
    }
}
