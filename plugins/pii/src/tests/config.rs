//! Settings: defaults, the entities filter, the allow list (also on
//! folded values), min-score, and errors that name the key.

use super::*;

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
fn the_allow_list_matches_folded_values() {
    let s = Settings::from_config(&cfg(&[("allow", "support@example.com")])).unwrap();
    assert!(found_with("write to ｓｕｐｐｏｒｔ＠ｅｘａｍｐｌｅ.ｃｏｍ", &s).is_empty());
}
