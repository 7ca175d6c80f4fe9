//! Unit tests of the detector: the shared helpers, whole texts, exact spans
//! and UTF-8 safety here; each entity's formats and the config in submodules.

use super::*;

mod config;
mod contact;
mod numbers;

/// `(category, matched text)` of every detection with default settings.
fn found(text: &str) -> Vec<(&'static str, &str)> {
    found_with(text, &Settings::default())
}

fn found_with<'a>(text: &'a str, s: &Settings) -> Vec<(&'static str, &'a str)> {
    let mut out = Vec::new();
    detect(text, s, &mut out);
    check_invariants(text, &out);
    out.iter()
        .map(|d| (d.category, &text[d.start..d.end]))
        .collect()
}

/// Spans on char boundaries, sorted, non-overlapping, scores in range.
fn check_invariants(text: &str, out: &[Detection]) {
    for d in out {
        assert!(d.start < d.end && d.end <= text.len(), "{d:?}");
        assert!(
            text.is_char_boundary(d.start) && text.is_char_boundary(d.end),
            "{d:?}"
        );
        assert!((0.0..=1.0).contains(&d.score), "{d:?}");
        assert!(CATEGORIES.contains(&d.category));
        assert!(d.rule_id.starts_with("pii."));
    }
    for w in out.windows(2) {
        assert!(w[0].end <= w[1].start, "overlap or unsorted: {w:?}");
    }
}

/// Asserts that `text` yields exactly one detection, of `cat`, on `value`.
#[track_caller]
fn one(text: &str, cat: &str, value: &str) {
    assert_eq!(found(text), vec![(cat_static(cat), value)], "in {text:?}");
}

fn cat_static(cat: &str) -> &'static str {
    CATEGORIES
        .iter()
        .find(|c| **c == cat)
        .expect("known category")
}

#[track_caller]
fn none(text: &str) {
    assert_eq!(found(text), vec![], "in {text:?}");
}

fn only(text: &str, cat: &str) -> Vec<String> {
    found(text)
        .into_iter()
        .filter(|(c, _)| *c == cat)
        .map(|(_, v)| v.to_string())
        .collect()
}

const EMAIL: &str = "EMAIL_ADDRESS";
const PHONE: &str = "PHONE_NUMBER";
const CARD: &str = "CREDIT_CARD";
const IBAN: &str = "IBAN_CODE";
const SSN: &str = "US_SSN";
const IP: &str = "IP_ADDRESS";

// ----------------------------------------------------------- whole texts

#[test]
fn dev_style_sentences() {
    assert_eq!(
        found(
            "Summarize this ticket: customer sofiaokafor48@example.co.uk paid with \
             3772 075388 16410 from 29.206.171.101."
        ),
        vec![
            (EMAIL_C, "sofiaokafor48@example.co.uk"),
            (CARD_C, "3772 075388 16410"),
            (IP_C, "29.206.171.101"),
        ]
    );
    assert_eq!(
        found(
            "Transfer from GB68 PRKL 3316 4443 6062 57 failed; the customer's SSN is 597-24-7841."
        ),
        vec![
            (IBAN_C, "GB68 PRKL 3316 4443 6062 57"),
            (SSN_C, "597-24-7841")
        ]
    );
}

#[test]
fn comma_separated_values() {
    assert_eq!(
        found("4111111111111111,10.0.0.1,597-24-7841,+1 415-555-2671,x@example.com"),
        vec![
            (CARD_C, "4111111111111111"),
            (IP_C, "10.0.0.1"),
            (SSN_C, "597-24-7841"),
            (CATEGORIES[1], "+1 415-555-2671"),
            (EMAIL_C, "x@example.com"),
        ]
    );
    // Thousands separators still glue numbers together.
    none("call 1,555,223,4567 or 5,555,223");
    none("phone 555,223,4567");
}

const EMAIL_C: &str = CATEGORIES[0];
const CARD_C: &str = CATEGORIES[2];
const IBAN_C: &str = CATEGORIES[3];
const SSN_C: &str = CATEGORIES[4];
const IP_C: &str = CATEGORIES[5];

#[test]
fn exact_byte_spans_and_rule_ids() {
    let text = "é 📧 kwame@example.com — ☎ +44 20 7713 9980";
    let mut out = Vec::new();
    detect(text, &Settings::default(), &mut out);
    let email_start = text.find("kwame").unwrap();
    let phone_start = text.find('+').unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].start, out[0].end), (email_start, email_start + 17));
    assert_eq!(out[0].rule_id, "pii.email");
    assert_eq!((out[1].start, out[1].end), (phone_start, text.len()));
    assert_eq!(out[1].rule_id, "pii.phone");
}

#[test]
fn rule_ids() {
    let ids = |t: &str| {
        let mut out = Vec::new();
        detect(t, &Settings::default(), &mut out);
        out.iter().map(|d| d.rule_id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(
            "a@b.com +1 372-342-8801 4111111111111111 DE89370400440532013000 SSN 597-24-7841 1.2.3.4 ::1"
        ),
        [
            "pii.email",
            "pii.phone",
            "pii.credit-card",
            "pii.iban",
            "pii.us-ssn",
            "pii.ipv4",
            "pii.ipv6"
        ]
    );
}

#[test]
fn appends_to_existing_output() {
    let mut out = vec![Detection {
        rule_id: "other",
        category: "X",
        score: 1.0,
        start: 0,
        end: 1,
    }];
    detect("a@b.com", &Settings::default(), &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].rule_id, "other");
}

// ------------------------------------------------------------ UTF-8 safety

#[test]
fn multibyte_text_around_and_inside() {
    one(
        "مرحبا، راسلني على test@example.com شكرا",
        EMAIL,
        "test@example.com",
    );
    one("\u{200f}SSN: 597-24-7841\u{200e}", SSN, "597-24-7841");
    one(
        "e\u{301} 4111 1111 1111 1111 e\u{301}",
        CARD,
        "4111 1111 1111 1111",
    );
    one("👋🏽 Server 10.1.2.3 🔥", IP, "10.1.2.3");
    one(
        "\u{7}\u{1b}\t+44 20 7713 9980\u{0}",
        PHONE,
        "+44 20 7713 9980",
    );
    one("电话+44 20 7713 9980", PHONE, "+44 20 7713 9980");
    // Glued to letters of other scripts: part of a longer token.
    none("ж4111111111111111");
    none("4111111111111111ж");
    none("ü10.1.2.3");
    // Unicode spaces inside a match are separators (folded first).
    one("4111 1111\u{a0}1111 1111", CARD, "4111 1111\u{a0}1111 1111");
    one(
        "DE89\u{2009}3704 0044 0532 0130 00",
        IBAN,
        "DE89\u{2009}3704 0044 0532 0130 00",
    );
    // Other non-ASCII characters inside a would-be match end it.
    none("4111 1111ж1111 1111");
}

/// Deterministic pseudo-random texts over an alphabet of digits,
/// separators, triggers and multi-byte characters: no panic, and every
/// detection satisfies the output invariants.
#[test]
fn fuzz_invariants() {
    const ALPHABET: &[&str] = &[
        "0", "1", "2", "4", "5", "7", "9", " ", " ", "-", ".", ":", "::", "@", "+", "(", ")", "/",
        ",", "%", "a", "e", "f", "x", "D", "E", "G", "B", "é", "😀", "\u{301}", "\u{200f}", "ж",
        "中", "\u{a0}", "\n", "\0", "com", "example", "SSN", "call", "4111", "ff",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let all = Settings {
        min_score: 0.0,
        ..Settings::default()
    };
    for _ in 0..3000 {
        let len = (next() % 60) as usize;
        let mut text = String::new();
        for _ in 0..len {
            text.push_str(ALPHABET[(next() % ALPHABET.len() as u64) as usize]);
        }
        for s in [&Settings::default(), &all] {
            let mut out = Vec::new();
            detect(&text, s, &mut out);
            check_invariants(&text, &out);
        }
    }
}

#[test]
fn swar_prefilter_matches_byte_classes() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..20000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let x = state;
        let bytes = x.to_le_bytes();
        let first = bytes
            .iter()
            .position(|&b| scan::CLASS[b as usize] & scan::INTERESTING != 0);
        match (scan::first_interesting(x), first) {
            (_, None) => {}
            (Some(k), Some(f)) => assert!(k <= f, "{x:#x}"),
            (None, Some(_)) => panic!("missed interesting byte in {x:#x}"),
        }
    }
    for b in 0..=255u8 {
        let x = u64::from_le_bytes([b' ', b' ', b' ', b, b' ', b' ', b' ', b' ']);
        if scan::CLASS[b as usize] & scan::INTERESTING != 0 {
            assert_eq!(scan::first_interesting(x), Some(3), "byte {b:#x}");
        }
    }
}

// ----------------------------------------- tiny inputs and folded forms

#[test]
fn empty_and_tiny_inputs() {
    for t in [
        "", "@", "+", "(", ":", "::", "1", "A", "DE", "DE8", "1.", "a@", "@b.c",
    ] {
        none(t);
    }
}

#[test]
fn unicode_forms_are_folded_before_matching() {
    // Full-width digits and `＠`, as East Asian input methods type them.
    assert_eq!(
        found("mail ｊｏｈｎ＠ｅｘａｍｐｌｅ.ｃｏｍ now"),
        [("EMAIL_ADDRESS", "ｊｏｈｎ＠ｅｘａｍｐｌｅ.ｃｏｍ")]
    );
    assert_eq!(
        found("card ４１１１ １１１１ １１１１ １１１１"),
        [("CREDIT_CARD", "４１１１ １１１１ １１１１ １１１１")]
    );
    // Zero-width characters and soft hyphens hiding inside a number.
    assert_eq!(
        found("ssn 078\u{200B}-05-\u{00AD}1120 on file"),
        [("US_SSN", "078\u{200B}-05-\u{00AD}1120")]
    );
    // Non-breaking spaces and typographic dashes as separators.
    assert_eq!(
        found("call +1\u{00A0}415\u{00A0}555\u{2011}0132 today"),
        [("PHONE_NUMBER", "+1\u{00A0}415\u{00A0}555\u{2011}0132")]
    );
    assert_eq!(
        found("IBAN DE89\u{202F}3704\u{202F}0044\u{202F}0532\u{202F}0130\u{202F}00"),
        [(
            "IBAN_CODE",
            "DE89\u{202F}3704\u{202F}0044\u{202F}0532\u{202F}0130\u{202F}00"
        )]
    );
    // Arabic-Indic digits.
    assert_eq!(found("ip ١٩٢.١٦٨.١.٢٥"), [("IP_ADDRESS", "١٩٢.١٦٨.١.٢٥")]);
    // Nothing to fold: other scripts around ASCII PII are left alone.
    assert_eq!(
        found("メール: jane@example.org です"),
        [("EMAIL_ADDRESS", "jane@example.org")]
    );
}

#[test]
fn byte_search_agrees_with_str_contains() {
    // Every position of the needle, at and across the eight-byte blocks,
    // near misses, repeated last bytes and bytes whose borrow the block
    // test may flag.
    for len in 0..40 {
        for pos in 0..len {
            for needle in [&b"bc1"[..], b"1", b"11", b"-----END "] {
                let mut hay = vec![b'x'; len];
                for (k, &c) in needle.iter().enumerate() {
                    if let Some(h) = hay.get_mut(pos + k) {
                        *h = c;
                    }
                }
                for filler in [b'x', 0x01, 0x00, b'1', b'b', 0xFF] {
                    let mut h2 = hay.clone();
                    if pos > 0 {
                        h2[pos - 1] = filler;
                    }
                    let s = String::from_utf8_lossy(&h2);
                    let n = std::str::from_utf8(needle).unwrap();
                    assert_eq!(
                        scan::contains(&h2, needle),
                        h2.windows(needle.len()).any(|w| w == needle),
                        "{s:?} / {n:?}"
                    );
                }
            }
        }
    }
    assert!(!scan::contains(b"bc", b"bc1") && scan::contains(b"abc1", b"bc1"));
    assert!(!scan::contains(b"0123456789abcdefbc2bc", b"bc1"));
    assert!(scan::contains(b"0123456789abcdefbc2bc1", b"bc1"));
}

#[test]
fn segwit_addresses_found_at_any_offset() {
    // The SegWit pass runs only where `bc1` occurs: the address must be
    // found wherever it falls against the eight-byte blocks.
    let address = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq";
    for pad in 0..17 {
        let text = format!("{}wallet {address} ok", "x ".repeat(pad));
        let f = found(&text);
        assert!(
            f.iter().any(|(c, v)| *c == "CRYPTO" && *v == address),
            "{pad}: {f:?}"
        );
    }
}
