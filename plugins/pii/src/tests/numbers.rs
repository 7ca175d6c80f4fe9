//! Card numbers, IBANs, US social security numbers and IP addresses:
//! formats, look-alikes and checksums.

use super::*;

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
fn version_suffixes_are_not_addresses() {
    none("release 1.2.3.4-beta and 10.0.0.1-rc1");
    assert_eq!(
        only("range 10.0.0.1-10.0.0.9", IP),
        ["10.0.0.1", "10.0.0.9"]
    );
}
