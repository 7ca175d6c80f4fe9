use super::*;

const AWS: &str = "AKIAUJZDEGXDNCF32EPF";
const GHP: &str = "ghp_gLKOmxgJTeKdNnFRIBXuDL7DxtpYlSXpfKtH";
const GHO: &str = "gho_F4vUCsMehGAkWvj7FAc9QeWJKY40uvSwMFLZ";
const GH_PAT: &str =
    "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";
const XOXB: &str = "xoxb-268599528907-8666617603137-khvMdgaKjIg8xNbe3nNyjOq9";
const XOXP: &str = "xoxp-595711777741-215472803852-8084148525388-a767c76fb008f86bebb2737f6a6f0fb2";
const HOOK: &str =
    "https://hooks.slack.com/services/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";
const JWT_HS: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSIsImlhdCI6MTUxNjIzOTAyMn0.3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4Pz";
const JWT_NONE: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiI0MiJ9.";
const BODY: &str = "J59FHz5r1pY4OjE2jBMptUsGr7CmY+uCu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZ\n\
t/PlJhx2jIclHkCiHp6bR1IqfEouHgxzNNAL5wIScGebcy8F5n3/YNBDRzrZSgqb\n\
jG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP/tKsf2rcDkdfr";

fn run(text: &str) -> Vec<Detection> {
    run_with(text, &Settings::default())
}

fn run_with(text: &str, s: &Settings) -> Vec<Detection> {
    let mut out = Vec::new();
    detect(text, s, &mut out);
    for d in &out {
        assert!(
            text.is_char_boundary(d.start) && text.is_char_boundary(d.end),
            "{d:?}"
        );
        assert!(d.start < d.end && d.end <= text.len());
    }
    out
}

/// (category, matched text) of every finding.
fn found(text: &str) -> Vec<(&'static str, &str)> {
    run(text)
        .into_iter()
        .map(|d| (d.category, &text[d.start..d.end]))
        .collect()
}

fn cfg(pairs: &[(&str, &str)]) -> Config {
    Config::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn aws_key_in_config_line_has_exact_span() {
    let text = format!("aws_access_key_id = {AWS}");
    let d = run(&text);
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].start, d[0].end), (20, 40));
    assert_eq!(
        (d[0].rule_id, d[0].category),
        ("secrets.aws-access-key", AWS_ACCESS_KEY)
    );
    assert!(d[0].score >= 0.5);
}

#[test]
fn aws_key_prefixes_are_all_recognised() {
    for p in [
        "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA",
    ] {
        let key = format!("{p}{}", &AWS[4..]);
        assert_eq!(
            found(&format!("id {key}.")),
            [(AWS_ACCESS_KEY, key.as_str())],
            "{p}"
        );
    }
    assert!(found(&format!("ABCD{}", &AWS[4..])).is_empty());
}

#[test]
fn aws_placeholders_and_documented_example_are_rejected() {
    for fake in [
        "AKIAXXXXXXXXXXXXXXXX",
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAAAAAAAAAAAAAAAAA",
        "AKIAABCDEFGHIJKLMNOP",
        "AKIA2222333344445555",
        "AKIAYOURACCESSKEYIDX",
        "AKIAABABABABABABABAB",
    ] {
        assert!(
            found(&format!("Use {fake} in the docs.")).is_empty(),
            "{fake}"
        );
    }
}

#[test]
fn aws_key_shape_is_exact() {
    // Too short, too long, lowercase, digits outside base32, glued.
    for text in [
        "AKIAUJZDEGXDNCF32EP",
        "AKIAUJZDEGXDNCF32EPFQ",
        "AKIAujzdegxdncf32epf",
        "AKIAUJZDEGXDNCF32EP0",
        "xAKIAUJZDEGXDNCF32EPF",
        "AKIAUJZDEGXDNCF32EPF_x",
        "_AKIAUJZDEGXDNCF32EPF",
    ] {
        assert!(found(text).is_empty(), "{text}");
    }
    // Punctuation and quotes are boundaries.
    assert_eq!(found(&format!("\"{AWS}\",")).len(), 1);
    assert_eq!(found(&format!("key={AWS}&x")).len(), 1);
}

#[test]
fn escaped_newline_is_a_boundary() {
    let text = format!("{{\"env\":\"X=1\\n{AWS}\\n\"}}");
    assert_eq!(found(&text), [(AWS_ACCESS_KEY, AWS)]);
}

#[test]
fn github_tokens_classic_and_fine_grained() {
    let text = format!("export GITHUB_TOKEN={GHP}");
    let d = run(&text);
    assert_eq!(
        (d[0].start, d[0].end, d[0].rule_id),
        (20, 60, "secrets.github-token")
    );
    assert_eq!(found(&format!("({GHO})")), [(GITHUB_TOKEN, GHO)]);
    for p in ["ghu_", "ghs_", "ghr_"] {
        let t = format!("{p}{}", &GHP[4..]);
        assert_eq!(found(&t), [(GITHUB_TOKEN, t.as_str())]);
    }
    assert_eq!(
        found(&format!("token: {GH_PAT}\n")),
        [(GITHUB_TOKEN, GH_PAT)]
    );
}

#[test]
fn github_look_alikes_are_rejected() {
    let long = format!("{GHP}x");
    let short = &GHP[..39];
    let fake = format!("ghp_{}", "x".repeat(36));
    let seq = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
    let wrong = format!("ghx_{}", &GHP[4..]);
    let pat_short = &GH_PAT[..GH_PAT.len() - 1];
    for t in [
        long.as_str(),
        short,
        fake.as_str(),
        seq,
        wrong.as_str(),
        pat_short,
    ] {
        assert!(found(t).is_empty(), "{t}");
    }
    assert!(found(&format!("my{GHP}")).is_empty());
}

#[test]
fn slack_bot_and_user_tokens() {
    let text = format!("The bot token is {XOXB}, do not share it.");
    let d = run(&text);
    assert_eq!(
        (d[0].start, d[0].end, d[0].category),
        (17, 17 + XOXB.len(), SLACK_TOKEN)
    );
    assert_eq!(found(XOXP), [(SLACK_TOKEN, XOXP)]);
    // A trailing hyphen is punctuation.
    assert_eq!(found(&format!("{XOXB}- next")), [(SLACK_TOKEN, XOXB)]);
    for p in ["xoxa-", "xoxr-", "xoxs-", "xoxe-"] {
        let t = format!("{p}{}", &XOXB[5..]);
        assert_eq!(found(&t), [(SLACK_TOKEN, t.as_str())]);
    }
    let rotating = format!("xoxe.xoxp-1-{}", &XOXP[5..]);
    assert_eq!(found(&rotating), [(SLACK_TOKEN, rotating.as_str())]);
    let app = "xapp-1-A05TR2QJ0LK-6035512930176-4f1d0e4cc6a1b8a3d9f2b7c3e5a6d8f0c1b2a3d4e5f6a7b8c9d0e1f2a3b4c5d6";
    assert_eq!(found(app), [(SLACK_TOKEN, app)]);
}

#[test]
fn slack_placeholders_are_rejected() {
    for t in [
        "xoxb-XXXXXXXXXXXX-XXXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXX",
        "xoxb-your-bot-token-here",
        "xoxb-000000000000-000000000000-khvMdgaKjIg8xNbe3nNyjOq9",
        "xoxb-123456789012-123456789012-abcdefghijklmnopqrstuvwx",
        "xoxb-1234",
        "xoxq-268599528907-8666617603137-khvMdgaKjIg8xNbe3nNyjOq9",
    ] {
        assert!(found(t).is_empty(), "{t}");
    }
}

#[test]
fn slack_webhook_url_is_one_finding() {
    let text = format!("POST to {HOOK} with the payload");
    let d = run(&text);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].start, d[0].end, d[0].rule_id),
        (8, 8 + HOOK.len(), "secrets.slack-webhook")
    );
    let bare = &HOOK[8..];
    assert_eq!(found(&format!("url: {bare}.")), [(SLACK_TOKEN, bare)]);
    assert!(
        found("https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX")
            .is_empty()
    );
    assert!(found("see https://hooks.slack.com/services/ for details").is_empty());
}

#[test]
fn private_key_block_is_one_finding() {
    for label in [
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "DSA PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PRIVATE KEY",
    ] {
        let block = format!("-----BEGIN {label}-----\n{BODY}\n-----END {label}-----");
        let text = format!("key:\n{block}\nthanks");
        let d = run(&text);
        assert_eq!(d.len(), 1, "{label}");
        assert_eq!(
            (d[0].start, d[0].end, d[0].category),
            (5, 5 + block.len(), PRIVATE_KEY),
            "{label}"
        );
    }
}

#[test]
fn private_key_with_pem_headers_and_escaped_newlines() {
    let block = format!(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17\n\n{BODY}\n-----END RSA PRIVATE KEY-----"
    );
    assert_eq!(found(&block), [(PRIVATE_KEY, block.as_str())]);
    let escaped = format!(
        "-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----",
        BODY.replace('\n', "\\n")
    );
    let json = format!("{{\"private_key\": \"{escaped}\", \"x\": 1}}");
    assert_eq!(found(&json), [(PRIVATE_KEY, escaped.as_str())]);
}

#[test]
fn unterminated_private_key_runs_to_end_of_key_material() {
    let text = format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{BODY}\n");
    let want = text.trim_end();
    assert_eq!(found(&text), [(PRIVATE_KEY, want)]);
    // Cut right after the BEGIN line, as a stream chunk might be.
    let cut = "here it is: -----BEGIN RSA PRIVATE KEY-----\n";
    assert_eq!(
        found(cut),
        [(PRIVATE_KEY, "-----BEGIN RSA PRIVATE KEY-----")]
    );
    // Prose after the key material is not part of it.
    let prose = format!("-----BEGIN EC PRIVATE KEY-----\n{BODY}\nCan you check it?");
    let want = format!("-----BEGIN EC PRIVATE KEY-----\n{BODY}");
    assert_eq!(found(&prose), [(PRIVATE_KEY, want.as_str())]);
}

#[test]
fn private_key_look_alikes_are_rejected() {
    for t in [
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----\n<your key here>\n-----END RSA PRIVATE KEY-----",
        "What does -----BEGIN RSA PRIVATE KEY----- mean in a PEM file?",
    ] {
        assert!(found(t).is_empty(), "{t}");
    }
}

#[test]
fn jwt_three_segments_and_alg_none() {
    let text = format!("Authorization: Bearer {JWT_HS}\n");
    let d = run(&text);
    assert_eq!(
        (d[0].start, d[0].end, d[0].rule_id),
        (22, 22 + JWT_HS.len(), "secrets.jwt")
    );
    assert_eq!(found(&format!("token {JWT_NONE} ok")), [(JWT, JWT_NONE)]);
    // A sentence-ending dot is not part of the token.
    assert_eq!(found(&format!("It was {JWT_HS}.")), [(JWT, JWT_HS)]);
}

#[test]
fn jwt_look_alikes_are_rejected() {
    let (h, rest) = JWT_HS.split_once('.').unwrap();
    let (p, _) = rest.split_once('.').unwrap();
    let two = format!("{h}.{p}");
    let empty_sig = format!("{h}.{p}. next");
    let glued = format!("x{JWT_HS}");
    for t in [
        two.as_str(),
        empty_sig.as_str(),
        glued.as_str(),
        "eyJhbGciOi...",
        "eyJ.eyJ.sig",
    ] {
        assert!(found(t).is_empty(), "{t}");
    }
}

#[test]
fn findings_in_text_order_with_utf8_around() {
    let text = format!("🔑 clé: {AWS} — עברית {GHP}\u{202e} e\u{301} {XOXB}…");
    let cats: Vec<_> = found(&text).into_iter().map(|(c, _)| c).collect();
    assert_eq!(cats, [AWS_ACCESS_KEY, GITHUB_TOKEN, SLACK_TOKEN]);
}

#[test]
fn arbitrary_unicode_and_truncations_never_panic() {
    let base =
        format!("é{AWS}🙂{GHP}\u{0}{XOXB}-----BEGIN RSA PRIVATE KEY-----\n{BODY}\n{JWT_HS}{HOOK}");
    for cut in 0..=base.len() {
        if base.is_char_boundary(cut) {
            run(&base[..cut]);
            run(&base[cut..]);
        }
    }
    run("");
    run("A");
    run("-----BEGIN ");
    run("eyJ");
    run("https://hooks.slack.com/");
}

#[test]
fn entities_restrict_categories() {
    let s =
        Settings::from_config(&cfg(&[("entities", "github_token"), ("entities", "JWT")])).unwrap();
    assert!(s.is_enabled(GITHUB_TOKEN) && s.is_enabled(JWT) && !s.is_enabled(AWS_ACCESS_KEY));
    let text = format!("{AWS} {GHP} {JWT_HS}");
    let cats: Vec<_> = run_with(&text, &s)
        .into_iter()
        .map(|d| d.category)
        .collect();
    assert_eq!(cats, [GITHUB_TOKEN, JWT]);
}

#[test]
fn allow_list_skips_exact_values() {
    let s = Settings::from_config(&cfg(&[("allow", AWS)])).unwrap();
    let text = format!("{AWS} AKIA3DHODZDOCIS2JHTL");
    let d = run_with(&text, &s);
    assert_eq!(d.len(), 1);
    assert_eq!(&text[d[0].start..d[0].end], "AKIA3DHODZDOCIS2JHTL");
}

#[test]
fn min_score_zero_reports_placeholders_too() {
    let s = Settings::from_config(&cfg(&[("min-score", "0")])).unwrap();
    let d = run_with("AKIAXXXXXXXXXXXXXXXX", &s);
    assert_eq!(d.len(), 1);
    assert!(d[0].score < 0.5);
    let s = Settings::from_config(&cfg(&[("min-score", "0.99")])).unwrap();
    assert!(run_with(AWS, &s).is_empty());
}

#[test]
fn bad_config_names_the_key() {
    let e = Settings::from_config(&cfg(&[("entities", "EMAIL_ADDRESS")])).unwrap_err();
    assert!(
        e.contains("`entities`") && e.contains("AWS_ACCESS_KEY"),
        "{e}"
    );
    for v in ["1.5", "-1", "high"] {
        let e = Settings::from_config(&cfg(&[("min-score", v)])).unwrap_err();
        assert!(e.contains("`min-score`"), "{e}");
    }
    assert_eq!(
        Settings::from_config(&Config::default()).unwrap(),
        Settings::default()
    );
}

#[test]
fn random_fragments_never_panic_and_spans_stay_on_boundaries() {
    let parts = [
        "AKIA",
        "ASIA",
        "ghp_",
        "github_pat_",
        "xoxb-",
        "xoxe.",
        "xapp-",
        "hooks.slack.com/",
        "https://",
        "services/",
        "T0",
        "B0",
        "-----BEGIN ",
        "PRIVATE KEY-----",
        "-----END ",
        "eyJ",
        ".",
        "-",
        "_",
        "\\n",
        "\n",
        " ",
        "é",
        "🙂",
        "\u{200B}",
        "A",
        "Z",
        "7",
        "x",
        "QWERTYUIOPASDFGH",
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
        "0123456789",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..1 + next(12) {
            text.push_str(parts[next(parts.len())]);
        }
        run(&text);
        run_with(
            &text,
            &Settings::from_config(&cfg(&[("min-score", "0")])).unwrap(),
        );
    }
}
