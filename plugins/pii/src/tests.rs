use super::*;

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

// ---------------------------------------------------------------- email

#[test]
fn email_formats() {
    for (text, value) in [
        (
            "Mail kwame.patel@example.co.uk today",
            "kwame.patel@example.co.uk",
        ),
        (
            "amara-smith82+test@mail.example.org",
            "amara-smith82+test@mail.example.org",
        ),
        (
            "to fatima_ivanova@example.com.",
            "fatima_ivanova@example.com",
        ),
        ("<John.Doe@EXAMPLE.COM>", "John.Doe@EXAMPLE.COM"),
        ("(ops@corp.example.net)", "ops@corp.example.net"),
        ("mailto:li@x-y.example.io?subject=hi", "li@x-y.example.io"),
        ("'quoted@example.com'", "quoted@example.com"),
        ("send to \"a.b@example.de\", thanks", "a.b@example.de"),
        ("ends with dots a@example.com...", "a@example.com"),
        ("请联系wei@example.cn谢谢", "wei@example.cn"),
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
    ] {
        one(text, EMAIL, value);
    }
}

#[test]
fn email_look_alikes() {
    for text in [
        "user@localhost",
        "icon@2x.png",
        "npm install left-pad@1.2.3",
        "@handle and a@b",
        "john..doe@example.com",
        "john.@example.com",
        "a@-example.com",
        "a@example.c",
        "a@example..com",
        "éjohn@example.com",
        "john@example.comé",
        "Explain how regular expressions match e-mail addresses.",
    ] {
        none(text);
    }
}

#[test]
fn email_long_runs_are_bounded() {
    let local = "a".repeat(70);
    none(&format!("{local}@example.com"));
    let many = "a@".repeat(5000);
    none(&many);
}

// ---------------------------------------------------------------- phone

#[test]
fn phone_formats() {
    for (text, value) in [
        ("Call me at +44 20 7713 9980 after 6pm.", "+44 20 7713 9980"),
        (
            "Contact x or +1 372-342-8801 for details.",
            "+1 372-342-8801",
        ),
        ("Tel: +49 30 93895237", "+49 30 93895237"),
        ("Call (555) 223-4567 now", "(555) 223-4567"),
        ("phone 555.223.4567", "555.223.4567"),
        ("phone 555-223-4567", "555-223-4567"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
        ("0044 20 7713 9980", "0044 20 7713 9980"),
        ("+44 (0)20 7946 0958", "+44 (0)20 7946 0958"),
        ("+1 (415) 555-2671", "+1 (415) 555-2671"),
        ("1-800-555-0199", "1-800-555-0199"),
        ("+14155552671", "+14155552671"),
        ("ring 020 7946 0958", "020 7946 0958"),
        ("Appelez le 01.23.45.67.89 svp", "01.23.45.67.89"),
        ("mobile: 06 12 34 56 78", "06 12 34 56 78"),
        ("+81 3-1234-5678", "+81 3-1234-5678"),
        ("+7 (495) 123-45-67", "+7 (495) 123-45-67"),
        ("call 5552234567", "5552234567"),
        ("Call me at 555-1234.", "555-1234"),
        ("ext: 555-223-4567x89", "555-223-4567"),
        ("☎ +44 20 7713 9980 📱", "+44 20 7713 9980"),
    ] {
        one(text, PHONE, value);
    }
}

#[test]
fn phone_trailing_numbers_are_not_swallowed() {
    one(
        "Call +44 20 7713 9980 24 hours a day",
        PHONE,
        "+44 20 7713 9980",
    );
    one("Call (555) 223-4567 2 times", PHONE, "(555) 223-4567");
}

#[test]
fn phone_look_alikes() {
    for text in [
        "Meeting on 2020-01-20 at 10:30.",
        "Due 20/01/2020 or 1.2.2020 or 20.01.20",
        "Upgrade from version 1.2.3 to 10.4.12.",
        "The population grew to 5095929 people in 2018.",
        "Order #3780113250 shipped; tracking 233723530001.",
        "ISBN 978-3-16-148410-0 is out of print.",
        "Invoice 2023-004512 and PO 4500012345",
        "It costs 1,234,567 dollars",
        "Coordinates 51.5074, -0.1278",
        "ZIP 94105-1234",
        "Order 555-223-4567 was cancelled",
        "Part no. 925-53-7805-X",
        "+1 123-456-7890",
        "+999 1234 5678",
        "score 3+4 = 7",
        "a 1 2 3 4 5 6 7 8 9 b",
    ] {
        assert_eq!(only(text, PHONE), Vec::<String>::new(), "in {text:?}");
    }
}

#[test]
fn phone_does_not_fire_on_other_entities() {
    for (text, cat) in [
        ("from 192.168.100.200 today", IP),
        ("card 4111 1111 1111 1111", CARD),
        ("card 3772 075388 16410", CARD),
        ("DE89 3704 0044 0532 0130 00", IBAN),
        ("SSN 597-24-7841", SSN),
        ("SSN 597 24 7841", SSN),
    ] {
        let all = found(text);
        assert_eq!(all.len(), 1, "{text:?}: {all:?}");
        assert_eq!(all[0].0, cat, "{text:?}");
    }
}

// ----------------------------------------------------------- credit card

#[test]
fn card_formats() {
    for (text, value) in [
        (
            "My card number is 4111 1111 1111 1111, expiry 09/27.",
            "4111 1111 1111 1111",
        ),
        ("paid with 3772 075388 16410 from", "3772 075388 16410"),
        ("5213158611678101", "5213158611678101"),
        ("card: 5119-5401-4551-1822.", "5119-5401-4551-1822"),
        ("amex 3736-801871-53802", "3736-801871-53802"),
        ("6011 6340 7789 0630", "6011 6340 7789 0630"),
        ("Mastercard 2221000000000009", "2221000000000009"),
        ("JCB 3530111333300000", "3530111333300000"),
        ("Diners 3056 930902 5904", "3056 930902 5904"),
        ("visa 4222222222222", "4222222222222"),
        ("(4012888888881881)", "4012888888881881"),
    ] {
        one(text, CARD, value);
    }
}

#[test]
fn card_look_alikes() {
    for text in [
        "The test card 6011759120134392 should be rejected by the Luhn check.",
        "The test card 4111-1111-1111-1112 should be rejected.",
        "The test card 3772 075388 16411 should be rejected.",
        "unknown issuer 9111111111111111 and 1111 1111 1111 1117",
        "twenty digits 41111111111111111113",
        "glued x4111111111111111 and 4111111111111111y",
        "mixed 4111 1111-1111 1111",
        "Amex length 3782822463100050",
        "15 digits from a 4: 490154203237518",
    ] {
        assert_eq!(only(text, CARD), Vec::<String>::new(), "in {text:?}");
    }
}

#[test]
fn luhn_checksum() {
    let digits = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<_>>();
    assert!(card::luhn(&digits("79927398713")));
    assert!(!card::luhn(&digits("79927398710")));
    assert!(card::luhn(&digits("4111111111111111")));
}

// ------------------------------------------------------------------ IBAN

#[test]
fn iban_formats() {
    for (text, value) in [
        (
            "Transfer from GB68 PRKL 3316 4443 6062 57 failed",
            "GB68 PRKL 3316 4443 6062 57",
        ),
        (
            "from FR8333052211043069203964946 failed",
            "FR8333052211043069203964946",
        ),
        (
            "IBAN: DE89 3704 0044 0532 0130 00.",
            "DE89 3704 0044 0532 0130 00",
        ),
        ("iban=DE89370400440532013000", "DE89370400440532013000"),
        ("(NL91ABNA0417164300)", "NL91ABNA0417164300"),
        ("BE68539007547034 ok", "BE68539007547034"),
        ("NO9386011117947", "NO9386011117947"),
        (
            "CH93 0076 2011 6238 5295 7 thanks",
            "CH93 0076 2011 6238 5295 7",
        ),
        (
            "MT84MALT011000012345MTLCAST001S",
            "MT84MALT011000012345MTLCAST001S",
        ),
    ] {
        one(text, IBAN, value);
    }
}

#[test]
fn iban_look_alikes() {
    for text in [
        "Invalid IBAN example: ES61 5032 1087 5834 8461 7320.",
        "Invalid IBAN example: DE89370400440532013001.",
        "too long DE8937040044053201300012",
        "too short DE893704004405320130",
        "glued XDE89370400440532013000",
        "lower case de89370400440532013000",
        "unknown country ZZ89370400440532013000",
        "odd grouping DE89 3704 0044 053 20130 00",
    ] {
        assert_eq!(only(text, IBAN), Vec::<String>::new(), "in {text:?}");
    }
}

// ---------------------------------------------------------------- US SSN

#[test]
fn ssn_formats() {
    for (text, value) in [
        (
            "SSN on file: 714-17-6852. Can you update my address?",
            "714-17-6852",
        ),
        ("the customer's SSN is 597-24-7841.", "597-24-7841"),
        ("ssn 597 24 7841", "597 24 7841"),
        ("Social Security number 597247841", "597247841"),
        ("SSN#: 019-54-1609", "019-54-1609"),
        ("id 362-03-5234 on file", "362-03-5234"),
    ] {
        one(text, SSN, value);
    }
}

#[test]
fn ssn_look_alikes() {
    for text in [
        "SSN 000-12-3456",
        "SSN 666-12-3456",
        "SSN 912-12-3456",
        "SSN 123-00-4567",
        "SSN 123-45-0000",
        "SSN 111-11-1111",
        "nine digits 597247841 without a label",
        "mixed separators SSN 597-24 7841",
        "longer 597-24-78412",
        "Order 597-24-7841 shipped",
    ] {
        assert_eq!(only(text, SSN), Vec::<String>::new(), "in {text:?}");
    }
}

// ------------------------------------------------------------ IP address

#[test]
fn ipv4_formats() {
    for (text, value) in [
        (
            "The server at 29.206.171.101 keeps timing out.",
            "29.206.171.101",
        ),
        ("from 8.8.8.8.", "8.8.8.8"),
        ("http://10.0.0.1:8080/admin", "10.0.0.1"),
        ("net 192.168.0.0/16", "192.168.0.0"),
        ("ip=255.255.255.255", "255.255.255.255"),
        ("0.0.0.0 binds all", "0.0.0.0"),
    ] {
        one(text, IP, value);
    }
    assert_eq!(
        only("hosts 10.0.0.1,10.0.0.2", IP),
        ["10.0.0.1", "10.0.0.2"]
    );
}

#[test]
fn ipv4_look_alikes() {
    for text in [
        "Upgrade from version 1.2.3 to the latest release.",
        "sequence 1.2.3.4.5",
        "octet 256.1.1.1",
        "leading zeros 01.02.03.04",
        "version 10.2.0.1 is out",
        "see section 1.2.3.4",
        "v1.2.3.4",
        "1234.1.1.1",
    ] {
        assert_eq!(only(text, IP), Vec::<String>::new(), "in {text:?}");
    }
}

#[test]
fn ipv6_formats() {
    for (text, value) in [
        (
            "addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334 ok",
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        ),
        ("addr 2001:db8::1.", "2001:db8::1"),
        ("loopback ::1", "::1"),
        ("mapped ::ffff:192.0.2.128 here", "::ffff:192.0.2.128"),
        (
            "link fe80::1ff:fe23:4567:890a%eth0 up",
            "fe80::1ff:fe23:4567:890a%eth0",
        ),
        (
            "[2001:db8::8:800:200c:417a]:443",
            "2001:db8::8:800:200c:417a",
        ),
        ("FE80::0202:B3FF:FE1E:8329", "FE80::0202:B3FF:FE1E:8329"),
        (
            "dead:beef:cafe:babe:dead:beef:cafe:babe",
            "dead:beef:cafe:babe:dead:beef:cafe:babe",
        ),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:1.2.3.4"),
        ("abcd::12", "abcd::12"),
    ] {
        one(text, IP, value);
    }
}

#[test]
fn ipv6_look_alikes() {
    for text in [
        "Meeting at 10:30 or 10:30:45",
        "MAC 00:1A:2B:3C:4D:5E",
        "use std::vector and a::b and dead::beef",
        "just :: here",
        "1:2:3:4:5:6:7:8:9",
        "2001:db8::1::2",
        "12345::1",
        "2001:db8::g1",
        "fe80::1:2:3:4:5:6:7:8",
    ] {
        assert_eq!(only(text, IP), Vec::<String>::new(), "in {text:?}");
    }
}

#[test]
fn phone_context_windows() {
    // Labels on the line above count when the number starts its line.
    one("Phone:\n5552234567", PHONE, "5552234567");
    one("My number is 5552234567.", PHONE, "5552234567");
    one("5552234567 (mobile)", PHONE, "5552234567");
    // A negative label only applies within its own clause.
    one("Order shipped, call 5552234567", PHONE, "5552234567");
    none("Order 5552234567");
    none("note: invoice no. 93535488, \"phone\": none");
    // Made-up exchanges (`123`) need structure or a label.
    one("+1 (555) 123-4567", PHONE, "+1 (555) 123-4567");
    one("call 555-123-4567", PHONE, "555-123-4567");
    none("555-123-4567");
    // A spaced dash ends a number as a space does.
    one("+7 495 006-87-97 - 1fe3", PHONE, "+7 495 006-87-97");
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

#[test]
fn version_suffixes_are_not_addresses() {
    none("release 1.2.3.4-beta and 10.0.0.1-rc1");
    assert_eq!(
        only("range 10.0.0.1-10.0.0.9", IP),
        ["10.0.0.1", "10.0.0.9"]
    );
}

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

// ---------------------------------------------------------------- config

fn cfg(pairs: &[(&str, &str)]) -> Config {
    Config::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn default_settings() {
    let s = Settings::from_config(&Config::default()).unwrap();
    assert_eq!(s, Settings::default());
    assert_eq!(s.min_score(), 0.5);
    assert!(CATEGORIES.iter().all(|c| s.reports(c)
        == !matches!(
            *c,
            "URL" | "DATE_TIME" | "PERSON" | "LOCATION" | "ORGANIZATION"
        )));
    assert!(!s.reports("AWS_ACCESS_KEY"));
    let all = Settings::from_config(&cfg(&[("entities", "all")])).unwrap();
    assert!(CATEGORIES.iter().all(|c| all.reports(c)));
}

#[test]
fn entities_filter() {
    let text = "a@b.com SSN 597-24-7841 and 10.0.0.1";
    let s =
        Settings::from_config(&cfg(&[("entities", "US_SSN"), ("entities", "ip_address")])).unwrap();
    assert_eq!(
        found_with(text, &s),
        vec![(SSN_C, "597-24-7841"), (IP_C, "10.0.0.1")]
    );
    let s = Settings::from_config(&cfg(&[("entities", "EMAIL_ADDRESS, US_SSN")])).unwrap();
    assert_eq!(
        found_with(text, &s),
        vec![(EMAIL_C, "a@b.com"), (SSN_C, "597-24-7841")]
    );
    // A card is still recognised (and not reported as a phone number) when
    // only phone numbers are requested.
    let s = Settings::from_config(&cfg(&[("entities", "PHONE_NUMBER")])).unwrap();
    assert_eq!(found_with("card 4111 1111 1111 1111", &s), vec![]);
}

#[test]
fn allow_list() {
    let s = Settings::from_config(&cfg(&[
        ("allow", "  Support@Example.com "),
        ("allow", "10.0.0.1"),
    ]))
    .unwrap();
    let text = "Write support@example.com or bob@example.com from 10.0.0.1 or 10.0.0.2";
    assert_eq!(
        found_with(text, &s),
        vec![(EMAIL_C, "bob@example.com"), (IP_C, "10.0.0.2")]
    );
    // Case-insensitive only for e-mail addresses.
    let s = Settings::from_config(&cfg(&[("allow", "fe80::1")])).unwrap();
    assert_eq!(found_with("FE80::1", &s), vec![(IP_C, "FE80::1")]);
}

#[test]
fn min_score() {
    let text = "call 5552234567";
    let strict = Settings::from_config(&cfg(&[("min-score", "0.95")])).unwrap();
    assert_eq!(found_with(text, &strict), vec![]);
    let loose = Settings::from_config(&cfg(&[("min-score", "0")])).unwrap();
    assert_eq!(found_with("nine digits 597247841", &loose).len(), 1);
    assert_eq!(
        found_with("nine digits 597247841", &Settings::default()),
        vec![]
    );
}

#[test]
fn bad_config_is_an_error_naming_the_key() {
    let err = Settings::from_config(&cfg(&[("entities", "EMAIL")])).unwrap_err();
    assert!(
        err.contains("`entities`") && err.contains("EMAIL_ADDRESS"),
        "{err}"
    );
    let err = Settings::from_config(&cfg(&[("entities", " ")])).unwrap_err();
    assert!(err.contains("`entities`"), "{err}");
    let err = Settings::from_config(&cfg(&[("min-score", "high")])).unwrap_err();
    assert!(err.contains("`min-score`"), "{err}");
    for bad in ["1.5", "-0.1", "NaN", "inf"] {
        let err = Settings::from_config(&cfg(&[("min-score", bad)])).unwrap_err();
        assert!(
            err.contains("`min-score`") && err.contains("between 0 and 1"),
            "{err}"
        );
    }
}

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
fn the_allow_list_matches_folded_values() {
    let s = Settings::from_config(&cfg(&[("allow", "support@example.com")])).unwrap();
    assert!(found_with("write to ｓｕｐｐｏｒｔ＠ｅｘａｍｐｌｅ.ｃｏｍ", &s).is_empty());
}
