//! Evasions seen in testing (issue 21): separators, invisible characters,
//! look-alike characters and encodings. The normalisation itself is the
//! SDK's (`railyard_plugin_sdk::normalize`); these check the detector sees
//! through it and that look-alikes stay quiet.

use super::*;

fn found(text: &str) -> Vec<(&'static str, &str)> {
    let mut out = Vec::new();
    detect(text, &Settings::default(), &mut out);
    for w in out.windows(2) {
        assert!(w[0].end <= w[1].start, "overlap or unsorted: {w:?}");
    }
    out.iter()
        .map(|d| (d.category, &text[d.start..d.end]))
        .collect()
}

#[test]
fn card_numbers_with_dots_or_underscores_are_found() {
    assert_eq!(
        found("card 4111.1111.1111.1111 exp 12/27"),
        [("CREDIT_CARD", "4111.1111.1111.1111")]
    );
    assert_eq!(
        found("pay with 4111_1111_1111_1111 please"),
        [("CREDIT_CARD", "4111_1111_1111_1111")]
    );
    assert_eq!(
        found("amex 3782.822463.10005 on file"),
        [("CREDIT_CARD", "3782.822463.10005")]
    );
}

#[test]
fn encoded_pii_is_found_on_the_encoded_text() {
    // base64("card 4111 1111 1111 1111"): the span covers the base64
    // quanta that encode the number.
    assert_eq!(
        found("blob Y2FyZCA0MTExIDExMTEgMTExMSAxMTEx end"),
        [("CREDIT_CARD", "ZCA0MTExIDExMTEgMTExMSAxMTEx")]
    );
    // base64("4111111111111111"), padding included.
    assert_eq!(
        found("card: NDExMTExMTExMTExMTExMQ=="),
        [("CREDIT_CARD", "NDExMTExMTExMTExMTExMQ==")]
    );
    // hex("maria.gonzalez@example.com")
    assert_eq!(
        found("u=6d617269612e676f6e7a616c657a406578616d706c652e636f6d;"),
        [(
            "EMAIL_ADDRESS",
            "6d617269612e676f6e7a616c657a406578616d706c652e636f6d"
        )]
    );
    // Percent-encoded e-mail in a query string.
    assert_eq!(
        found("GET /subscribe?email=maria.gonzalez%40example.com&x=1"),
        [("EMAIL_ADDRESS", "maria.gonzalez%40example.com")]
    );
}

#[test]
fn invisible_and_look_alike_characters_are_seen_through() {
    let text = "card 4111\u{200B}1111\u{200B}1111\u{200B}1111 thanks";
    assert_eq!(
        found(text),
        [("CREDIT_CARD", "4111\u{200B}1111\u{200B}1111\u{200B}1111")]
    );
    // Cyrillic о in the local part of an address.
    let text = "write to maria.g\u{043E}nzalez@example.com";
    assert_eq!(
        found(text),
        [("EMAIL_ADDRESS", "maria.g\u{043E}nzalez@example.com")]
    );
}

#[test]
fn look_alikes_stay_quiet() {
    for text in [
        // Luhn-invalid, with the new separators and encoded.
        "card 4111.1111.1111.1112",
        "card 4111_1111_1111_1112",
        "card: NDExMTExMTExMTExMTExMg==",
        "hex 34313131313131313131313131313132",
        // Dotted numbers that are not cards.
        "version 10.0.19041.1288 and build 2024.01.02",
        "pi is 3.14159265358979 and e is 2.718281828459045",
        "id_4111_1111_1111_1111 and 4111.1111_1111.1111",
        // base64("version 1.2.3 build 2024"), a hash, a JWT-like blob.
        "dmVyc2lvbiAxLjIuMyBidWlsZCAyMDI0",
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        // Russian text is not folded into Latin.
        "Привет, как дела? Всё хорошо.",
    ] {
        assert!(found(text).is_empty(), "{text}: {:?}", found(text));
    }
}
