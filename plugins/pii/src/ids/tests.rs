//! The recognizer set on values of its own (published specimens or values
//! computed here), not the evaluation corpus's lines.

use crate::{Config, Detection, Settings, detect};

fn all() -> Settings {
    Settings::from_config(&Config::new(vec![("entities".into(), "all".into())])).unwrap()
}

fn found(text: &str) -> Vec<(&'static str, &str)> {
    let mut out: Vec<Detection> = Vec::new();
    detect(text, &all(), &mut out);
    out.iter()
        .map(|d| (d.category, &text[d.start..d.end]))
        .collect()
}

#[track_caller]
fn one(text: &str, cat: &str, value: &str) {
    let f = found(text);
    assert!(
        f.len() == 1 && f[0].0 == cat && f[0].1 == value,
        "{text:?}: expected {cat} {value:?}, got {f:?}"
    );
}

#[track_caller]
fn not(text: &str, cat: &str) {
    let f = found(text);
    assert!(
        f.iter().all(|d| d.0 != cat),
        "{text:?}: expected no {cat}, got {f:?}"
    );
}

#[track_caller]
fn none(text: &str) {
    let f = found(text);
    assert!(f.is_empty(), "{text:?}: expected nothing, got {f:?}");
}

#[test]
fn uk() {
    one("NHS no. 943 476 5919", "UK_NHS", "943 476 5919");
    one("nhs: 9434765919.", "UK_NHS", "9434765919");
    // A phone number's shape: only the check digit or the context is wrong.
    not("NHS no. 943 476 5918", "UK_NHS");
    not("call 943 476 5919", "UK_NHS");
    one("NI number AB123456C", "UK_NINO", "AB123456C");
    none("NI number QQ123456C"); // the specimen prefix, never issued
    one("NINO: JG 10 37 59 A", "UK_NINO", "JG 10 37 59 A");
    none("code BG123456A and DQ123456C");
}

#[test]
fn spain_and_italy() {
    one("DNI 12345678Z", "ES_NIF", "12345678Z");
    one("NIF: 12345678-Z.", "ES_NIF", "12345678-Z");
    none("DNI 12345678A");
    one("NIE X1234567L", "ES_NIE", "X1234567L");
    none("NIE X1234567A");
    one("CF RSSMRA85T10A562S", "IT_FISCAL_CODE", "RSSMRA85T10A562S");
    none("CF RSSMRA85T10A562T");
}

#[test]
fn india_singapore_korea_finland_poland() {
    one("PAN ABCPE1234F", "IN_PAN", "ABCPE1234F");
    none("PAN ABCDE1234F"); // fourth letter is not a holder type
    one("Aadhaar 2341 2341 2346", "IN_AADHAAR", "2341 2341 2346");
    one("aadhaar: 234123412346", "IN_AADHAAR", "234123412346");
    one("आधार संख्या: 2341 2341 2346", "IN_AADHAAR", "2341 2341 2346");
    none("आधार संख्या: 2341 2341 2345");
    none("ticket 234123412346");
    none("ref 2341 2341 2346");
    none("Aadhaar 2341 2341 2345");
    one("NRIC S1234567D", "SG_NRIC_FIN", "S1234567D");
    none("NRIC S1234567E");
    one("RRN 800101-1000008", "KR_RRN", "800101-1000008");
    none("RRN 800101-1000007");
    one(
        "hetu 131052-308T",
        "FI_PERSONAL_IDENTITY_CODE",
        "131052-308T",
    );
    none("hetu 131052-308U");
    one("PESEL 44051401359", "PL_PESEL", "44051401359");
    none("PESEL 44051401358");
    none("order 44051401359");
}

#[test]
fn australia() {
    one("ABN 51 824 753 556", "AU_ABN", "51 824 753 556");
    none("ABN 51 824 753 557");
    one("ACN 004 085 616", "AU_ACN", "004 085 616");
    one("TFN 123 456 782", "AU_TFN", "123 456 782");
    none("TFN 123 456 783");
    one("Medicare 2123 45670 1", "AU_MEDICARE", "2123 45670 1");
    none("Medicare 2123 45671 1");
}

#[test]
fn united_states() {
    one("ITIN 912-70-1234", "US_ITIN", "912-70-1234");
    none("ITIN 912-69-1234");
    one("DEA number AB1234563", "MEDICAL_LICENSE", "AB1234563");
    none("DEA number AB1234564");
    none("part AB1234563 in stock");
    one("passport 123456789", "US_PASSPORT", "123456789");
    one("passport: C03005988", "US_PASSPORT", "C03005988");
    one("driver's license D1234567", "US_DRIVER_LICENSE", "D1234567");
    one("savings account 0012345678", "US_BANK_NUMBER", "0012345678");
    none("order 0012345678 and D1234567");
}

#[test]
fn urls_crypto_and_dates() {
    one(
        "see https://example.com/a?b=1.",
        "URL",
        "https://example.com/a?b=1",
    );
    one("(docs at www.example.org/x)", "URL", "www.example.org/x");
    one("visit example.co.uk today", "URL", "example.co.uk");
    none("edit config.py and README.md");
    one("mail bob@example.com", "EMAIL_ADDRESS", "bob@example.com");
    one(
        "pay 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        "CRYPTO",
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    );
    one(
        "pay bc1qsklnl2qvpj5mk0t64m5dcp8atl65jzj543czzv",
        "CRYPTO",
        "bc1qsklnl2qvpj5mk0t64m5dcp8atl65jzj543czzv",
    );
    none("pay 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb");
    one("on 2024-02-29 we", "DATE_TIME", "2024-02-29");
    one(
        "at 2024-02-29T10:15:00+01:00",
        "DATE_TIME",
        "2024-02-29T10:15:00+01:00",
    );
    one("due 31/01/2025", "DATE_TIME", "31/01/2025");
    one("due 01/31/2025", "DATE_TIME", "01/31/2025");
    one("el 3 de abril de 2023", "DATE_TIME", "3 de abril de 2023");
    one("am 3. März 2023", "DATE_TIME", "3. März 2023");
    one("on April 3rd, 2023 we", "DATE_TIME", "April 3rd, 2023");
    none("2023-02-29 and 31/31/2025 and v1.2.24 and 10.0.19045");
    none("we may 3 times");
}

#[test]
fn default_settings_leave_urls_and_dates_out() {
    let mut out = Vec::new();
    detect(
        "see https://example.com on 2024-02-29, NRIC S1234567D",
        &Settings::default(),
        &mut out,
    );
    let cats: Vec<_> = out.iter().map(|d| d.category).collect();
    assert_eq!(cats, ["SG_NRIC_FIN"]);
}
