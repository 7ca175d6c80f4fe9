//! Evasions seen in testing (issue 21): a key split by an invisible
//! character, written with look-alike letters or encoded. The same
//! `detect` serves the request and response stages and the stream scanner,
//! so each of these holds on every stage.

use super::*;

const AWS: &str = "AKIAUJZDEGXDNCF32EPF";

fn found(text: &str) -> Vec<(&'static str, &str)> {
    let mut out = Vec::new();
    detect(text, &Settings::default(), &mut out);
    out.iter()
        .map(|d| (d.category, &text[d.start..d.end]))
        .collect()
}

#[test]
fn aws_key_split_by_invisible_characters_is_found() {
    for c in ['\u{200B}', '\u{200C}', '\u{2060}', '\u{FEFF}', '\u{00AD}'] {
        let key = format!("{}{c}{}", &AWS[..8], &AWS[8..]);
        let text = format!("The key is {key}, keep it safe.");
        assert_eq!(found(&text), [("AWS_ACCESS_KEY", key.as_str())], "{c:?}");
    }
}

#[test]
fn aws_key_with_look_alike_letters_is_found() {
    // Cyrillic А and К.
    let key = "\u{0410}\u{041A}IAUJZDEGXDNCF32EPF";
    let text = format!("aws_access_key_id = {key}");
    assert_eq!(found(&text), [("AWS_ACCESS_KEY", key)]);
}

#[test]
fn encoded_keys_are_found_on_the_encoded_text() {
    // base64("AKIAUJZDEGXDNCF32EPF")
    assert_eq!(
        found("creds QUtJQVVKWkRFR1hETkNGMzJFUEY= here"),
        [("AWS_ACCESS_KEY", "QUtJQVVKWkRFR1hETkNGMzJFUEY=")]
    );
    // hex("my key: AKIAUJZDEGXDNCF32EPF"): the span starts at the hex pair
    // of the key's first letter.
    let hex = "6d79206b65793a20414b4941554a5a44454758444e43463332455046";
    assert_eq!(found(hex), [("AWS_ACCESS_KEY", &hex[16..])]);
}

#[test]
fn look_alikes_stay_quiet() {
    for text in [
        // The documented example key, hidden the same ways.
        "AKIA\u{200B}IOSFODNN7EXAMPLE",
        "QUtJQUlPU0ZPRE5ON0VYQU1QTEU=",
        // Russian text with letters that look Latin.
        "АКІА — это не ключ",
        // A private key body decodes to binary and is not re-read.
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    ] {
        assert!(found(text).is_empty(), "{text}: {:?}", found(text));
    }
}
