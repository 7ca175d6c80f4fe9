//! The Python plugin `banned-topics-py` (plugins/banned-topics-py), built
//! with its own build.sh (componentize-py with WASI stubbed out, then the
//! stub merger), through the real host: what it finds and where, what its
//! config changes, how a bad config fails, that it passes conformance with
//! and without config, and that it loads from a plugins folder that grants
//! nothing (it imports only the railyard host interface). Its matching is
//! also checked on the machine's CPython against a slow reference
//! (plugins/banned-topics-py/test/run.sh).

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{loader, pipeline, pipeline_error, request};
use railyard::conformance::{self, Format, Options};
use railyard::live::Reloader;
use railyard::pipeline::{Evaluation, Outcome};
use railyard::plugin::manifest::render;
use railyard::plugin::{PluginDigest, PluginKind};
use railyard::verdict::Finding;
use railyard::{Action, Message, Payload, Stage};

/// Two topics: weapons blocks, medical flags.
const TOPICS: &str = r#"
topics = ["weapons", "medical"]
weapons.keywords = ["build a bomb", "untraceable gun", "gun"]
weapons.action = "block"
medical.keywords = ["dosage", "Straße"]
medical.action = "flag"
"#;

/// The component, built once per test binary and compiled once into the
/// binary's compile cache before any test uses it (so parallel tests load
/// it from the cache instead of each compiling 18 MB of WebAssembly).
fn plugin() -> &'static PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        let wasm = common::lang_plugin("banned-topics-py");
        loader()
            .load_file("banned-topics", &wasm)
            .unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
        wasm
    })
}

/// A policy running the plugin alone at both stages, with `config` lines
/// under its `[plugins.topics.config]`. The deadline is generous: these
/// tests check answers, not speed (CPython takes over 100 ms on 1 MiB, and
/// the tests share two cores).
fn policy(config: &str, extra: &str) -> String {
    format!(
        "[plugins.topics]\npath = {:?}\nkind = \"guardrail\"\ntimeout-ms = 10000\n{extra}\n[plugins.topics.config]\n{config}\n[stages]\nrequest = [\"topics\"]\nresponse = [\"topics\"]\n",
        plugin().display().to_string()
    )
}

fn check_with(config: &str, payload: &Payload) -> Evaluation {
    pipeline(&policy(config, "")).evaluate(payload)
}

fn check(text: &str) -> Evaluation {
    check_with(TOPICS, &request(text))
}

fn findings(e: &Evaluation) -> &[Finding] {
    assert_eq!(e.decisions[0].outcome, Outcome::Ok, "{:?}", e.decisions[0]);
    &e.decisions[0].findings
}

/// (rule id, covered text) of each finding in a one-message payload.
fn hits<'a>(text: &'a str, e: &Evaluation) -> Vec<(String, &'a str)> {
    findings(e)
        .iter()
        .map(|f| {
            let span = f.span.expect("a span");
            assert_eq!(span.message, 0);
            (
                f.rule_id.clone(),
                &text[span.start as usize..span.end as usize],
            )
        })
        .collect()
}

#[test]
fn a_banned_phrase_blocks_with_a_byte_span_into_the_original_text() {
    // Non-ASCII before the hit: the span must count UTF-8 bytes, not
    // Python's code points; the phrase's words are split by a run of
    // whitespace and a newline.
    let text = "☕ Grüße! How do I BUILD   a\nBomb at home?";
    let e = check(text);
    assert_eq!(e.action, Action::Block);
    assert_eq!(e.reason, "topics: banned topic: weapons");
    assert_eq!(
        hits(text, &e),
        [("banned-topics.weapons".to_string(), "BUILD   a\nBomb")]
    );
    let f = &findings(&e)[0];
    assert_eq!(f.category, "BANNED_TOPIC");
    assert_eq!(f.score, 1.0);
    assert_eq!(f.replacement, None);
}

#[test]
fn keywords_match_whole_words_only() {
    for text in [
        "It has begun.",
        "Two guns and a shotgun.",
        "gun_safety is a variable name",
        "Rebuild a bomber jacket.",
    ] {
        let e = check(text);
        assert_eq!(e.action, Action::Allow, "{text}: {:?}", findings(&e));
        assert!(findings(&e).is_empty());
    }
    let text = "A gun. (Gun) «GUN» gun";
    let e = check(text);
    let covered: Vec<&str> = hits(text, &e).into_iter().map(|(_, t)| t).collect();
    assert_eq!(covered, ["gun", "Gun", "GUN", "gun"]);
}

#[test]
fn case_folding_is_full_unicode_and_spans_cover_the_original_characters() {
    // "ß" folds to "ss", so "STRASSE" matches the keyword "Straße" and
    // "straße" matches too; the "ß" before them makes the folded text
    // longer than the original, which the spans must not inherit.
    let text = "ß: STRASSE, Straße, straße.";
    let e = check(text);
    assert_eq!(e.action, Action::Flag);
    let covered: Vec<&str> = hits(text, &e).into_iter().map(|(_, t)| t).collect();
    assert_eq!(covered, ["STRASSE", "Straße", "straße"]);
}

#[test]
fn the_most_severe_topic_decides_and_the_reason_names_every_topic_hit() {
    let flag = check("What dosage is safe?");
    assert_eq!(flag.action, Action::Flag);
    assert_eq!(flag.decisions[0].reason, "banned topic: medical");

    let both = check("The dosage for an untraceable gun.");
    assert_eq!(both.action, Action::Block);
    assert_eq!(both.decisions[0].reason, "banned topics: weapons, medical");
    let rules: Vec<&str> = findings(&both).iter().map(|f| f.rule_id.as_str()).collect();
    // "gun" inside the "untraceable gun" hit is not reported again.
    assert_eq!(rules, ["banned-topics.medical", "banned-topics.weapons"]);

    let unset = check_with(
        "topics = [\"w\"]\nw.keywords = [\"gun\"]",
        &request("a gun"),
    );
    assert_eq!(unset.action, Action::Block, "block is the default action");
}

#[test]
fn spans_point_into_the_right_message_and_phrases_do_not_cross_messages() {
    let messages = vec![
        Message::new("system", "You are a helpful assistant. Build a"),
        Message::new("user", "bomb? No: naïve café ☕ — what dosage?"),
        Message::new("assistant", "🙂 An untraceable\tgun is not a topic here."),
    ];
    let payload = Payload {
        request_id: "r-py".into(),
        stage: Stage::Request,
        route: "gpt-test".into(),
        caller: "tests".into(),
        messages: messages.clone(),
        attributes: vec![],
    };
    let e = check_with(TOPICS, &payload);
    let got: Vec<(u32, &str)> = findings(&e)
        .iter()
        .map(|f| {
            let s = f.span.unwrap();
            let content = &messages[s.message as usize].content;
            assert!(content.is_char_boundary(s.start as usize));
            assert!(content.is_char_boundary(s.end as usize));
            (s.message, &content[s.start as usize..s.end as usize])
        })
        .collect();
    assert_eq!(got, [(1, "dosage"), (2, "untraceable\tgun")]);
}

#[test]
fn the_response_stage_is_checked_too() {
    let p = pipeline(&policy(TOPICS, ""));
    let answer = Payload::text(Stage::Response, "Sure, here is how to build a bomb:");
    assert_eq!(p.evaluate(&answer).action, Action::Block);
    let calm = Payload::text(Stage::Response, "I can't help with that.");
    assert_eq!(p.evaluate(&calm).action, Action::Allow);
}

#[test]
fn without_config_there_are_no_topics_and_everything_is_allowed() {
    let e = check_with("", &request("build a bomb with an untraceable gun"));
    assert_eq!(e.action, Action::Allow);
    assert!(findings(&e).is_empty());
    assert_eq!(e.decisions[0].reason, "");
}

#[test]
fn a_bad_config_is_refused_at_load_with_an_error_that_says_what_to_fix() {
    for (config, says) in [
        (
            "topics = [\"weapons\"]",
            "topic 'weapons' has no keywords: set `weapons.keywords = [...]`",
        ),
        (
            "topics = [\"weapons\"]\nweapons.keywords = [\"gun\"]\nweapons.action = \"warn\"",
            "`weapons.action` is 'warn'; expected \"block\" or \"flag\"",
        ),
        (
            "topics = [\"weapons\"]\nweapons.keywords = [\"gun\"]\nweapon.keywords = [\"knife\"]",
            "config names topic 'weapon', which `topics` does not list",
        ),
        (
            "topics = [\"weapons\"]\nweapons.keywords = [\"gun\", \"  \"]",
            "topic 'weapons' has a blank keyword",
        ),
        ("topic = [\"weapons\"]", "unknown config key `topic`"),
    ] {
        // The plugin's own message, from the probe call every load makes:
        // the policy never serves with a config its plugin refuses.
        let error = pipeline_error(&policy(config, ""));
        assert!(error.contains("banned-topics: bad config: "), "{error}");
        assert!(error.contains(says), "{config}: {error}");
    }
}

#[test]
fn findings_stop_at_one_thousand_but_the_verdict_counts_every_topic() {
    let text = "gun ".repeat(1500) + "and a dosage";
    let e = check(&text);
    let f = findings(&e);
    assert_eq!(f.len(), 1000);
    assert!(f.iter().all(|f| f.rule_id == "banned-topics.weapons"));
    assert_eq!(e.action, Action::Block);
    assert_eq!(e.decisions[0].reason, "banned topics: weapons, medical");
}

#[test]
fn a_one_mebibyte_message_is_checked_whole() {
    let mut text = "The shipment left the warehouse yesterday. ".repeat(24_000);
    text.push_str("Then the untraceable   gun ☕.");
    let e = check(&text);
    let found = hits(&text, &e);
    assert_eq!(
        found,
        [("banned-topics.weapons".to_string(), "untraceable   gun")]
    );
}

#[test]
fn a_reused_instance_answers_the_same_every_time() {
    let p = pipeline(&policy(TOPICS, "reuse = true"));
    let text = "dosage, gun, Straße";
    let first = p.evaluate(&request(text));
    assert_eq!(first.decisions[0].findings.len(), 3);
    for _ in 0..10 {
        let again = p.evaluate(&request(text));
        assert_eq!(again.decisions[0].findings, first.decisions[0].findings);
        assert_eq!(again.reason, first.reason);
    }
}

fn config_pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn assert_certified(report: &conformance::Report, label: &str, checks: &[&str]) {
    assert!(report.passed(), "{label}:\n{}", report.render(Format::Text));
    for check in checks {
        assert!(
            report.checks.iter().any(|c| c.check == *check),
            "{label}: no `{check}` check ran:\n{}",
            report.render(Format::Text)
        );
    }
}

#[test]
fn passes_conformance_without_config_with_its_manifest_and_with_topics() {
    // As shipped: no config, a manifest beside it that grants nothing.
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(plugin()).unwrap();
    let wasm = dir.path().join("banned-topics.wasm");
    std::fs::write(&wasm, &bytes).unwrap();
    let manifest = render(
        "banned-topics",
        "0.1.0",
        PluginKind::Guardrail,
        &[Stage::Request, Stage::Response],
        &PluginDigest::of(&bytes),
        None,
        None,
    );
    std::fs::write(dir.path().join("banned-topics.toml"), manifest).unwrap();
    let options = Options {
        cache_dir: Some(common::cache_dir()),
        ..Options::default()
    };
    let report = conformance::run(&wasm, &options).unwrap();
    assert_certified(
        &report,
        "no config",
        &[
            "load",
            "info",
            "manifest",
            "contract",
            "determinism",
            "golden",
        ],
    );

    // Configured: topics whose keywords the edge cases contain ("the",
    // "shipment" in the 1 MiB message), so the scan finds hits there and
    // must still fit the fuel budget; the benign vectors stay benign.
    let options = Options {
        config: config_pairs(&[
            ("topics", "weapons"),
            ("topics", "logistics"),
            ("weapons.keywords", "build a bomb"),
            ("weapons.keywords", "untraceable gun"),
            ("logistics.keywords", "the shipment left"),
            ("logistics.keywords", "warehouse"),
            ("logistics.action", "flag"),
        ]),
        ..options
    };
    let report = conformance::run(plugin(), &options).unwrap();
    assert_certified(
        &report,
        "with topics",
        &["load", "contract", "determinism", "golden"],
    );
    let mebibyte = report
        .checks
        .iter()
        .find(|c| c.check == "contract" && c.case.contains("one-mebibyte"))
        .expect("the 1 MiB vector ran");
    assert!(mebibyte.message.contains("fuel"), "{}", mebibyte.message);
}

#[test]
fn dropped_into_a_plugins_folder_that_grants_nothing_it_goes_live_and_blocks() {
    let root = tempfile::tempdir().unwrap();
    let plugins = root.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let policy = root.path().join("policy.toml");
    std::fs::write(&policy, "[registry]\ndir = \"plugins\"\n").unwrap();
    let reloader = Reloader::from_file(loader().clone(), &policy).unwrap();

    // Deploy: the .wasm and its manifest, with the config in the manifest
    // and no capabilities: componentize-py's WASI imports are stubbed out.
    let bytes = std::fs::read(plugin()).unwrap();
    std::fs::write(plugins.join("banned-topics.wasm"), &bytes).unwrap();
    let manifest = render(
        "banned-topics",
        "0.1.0",
        PluginKind::Guardrail,
        &[Stage::Request],
        &PluginDigest::of(&bytes),
        None,
        None,
    ) + "\n[config]\ntopics = [\"weapons\"]\n\"weapons.keywords\" = [\"untraceable gun\"]\n";
    std::fs::write(plugins.join("banned-topics.toml"), manifest).unwrap();
    let report = reloader.reload();
    assert!(report.refused.is_empty(), "{report:?}");
    assert_eq!(report.went_live.len(), 1, "{report:?}");

    let e = reloader
        .live()
        .evaluate(&request("where to buy an untraceable gun"));
    assert_eq!(e.action, Action::Block, "{:?}", e.decisions);
    let calm = reloader.live().evaluate(&request("where to buy a bike"));
    assert_eq!(calm.action, Action::Allow, "{:?}", calm.decisions);
}

#[test]
fn its_matching_agrees_with_a_character_by_character_reference() {
    // plugins/banned-topics-py/test/run.sh runs app.py's logic on the
    // machine's CPython: config errors, and 3,000 random payloads whose
    // spans must equal a slow reference's.
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/banned-topics-py/test/run.sh");
    let out = std::process::Command::new(&script)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}:\n{}{stderr}",
        script.display(),
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.trim_end().ends_with("OK"), "{stderr}");
}

#[test]
fn the_python_templates_pin_the_componentize_py_that_the_toolchain_script_installs() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let pin = |file: &str| -> String {
        let text = std::fs::read_to_string(repo.join(file)).unwrap();
        let pins: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("COMPONENTIZE_PY_VERSION="))
            .collect();
        assert_eq!(pins.len(), 1, "{file}: {pins:?}");
        pins[0].to_string()
    };
    assert_eq!(
        pin("plugins/templates/python/common/build.sh"),
        pin("scripts/toolchains/python.sh")
    );
}
