//! E-mail addresses and phone numbers: formats, look-alikes, bounded runs
//! and the labels around a number.

use super::*;

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
