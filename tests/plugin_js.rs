//! The JavaScript plugin `output-format-js` (plugins/output-format-js),
//! built with its own build.sh (componentize-qjs: QuickJS and the module
//! in one component), through the real host: which answers it accepts,
//! what it reports and where (UTF-8 byte spans, JSON pointers), what its
//! config changes, how a bad config or schema fails, that it passes
//! conformance with and without a schema, stays within the fuel budget on
//! large answers, and loads from a plugins folder that grants nothing.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{loader, pipeline, pipeline_error};
use railyard::conformance::{self, Format, Options, Report};
use railyard::live::Reloader;
use railyard::pipeline::{Evaluation, Outcome};
use railyard::plugin::manifest::render;
use railyard::plugin::{PluginDigest, PluginKind};
use railyard::verdict::Finding;
use railyard::{Action, Message, Payload, Stage};

/// The component, built once per test binary.
fn plugin() -> &'static PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| common::lang_plugin("output-format-js"))
}

/// A person record: a name starting with a capital, a whole age of 0 or
/// more, at most two tags from a fixed set, nothing else.
const PERSON: &str = r#"{"type": "object", "required": ["name", "age"],
  "additionalProperties": false,
  "properties": {
    "name": {"type": "string", "minLength": 2, "pattern": "^[A-Z]"},
    "age": {"type": "integer", "minimum": 0},
    "tags": {"type": "array", "maxItems": 2, "items": {"enum": ["admin", "user"]}}}}"#;

/// A policy running output-format alone at the response stage, with
/// `config` lines under its `[plugins.format.config]`.
fn check_with(config: &str, payload: &Payload) -> Evaluation {
    let policy = format!(
        "[plugins.format]\npath = {:?}\n[plugins.format.config]\n{config}\n[stages]\nresponse = [\"format\"]\n",
        plugin().display().to_string()
    );
    pipeline(&policy).evaluate(payload)
}

/// `config` with the PERSON schema.
fn person(config: &str) -> String {
    format!("schema = '''{PERSON}'''\n{config}")
}

/// One assistant answer.
fn answer(text: &str) -> Payload {
    Payload::text(Stage::Response, text)
}

fn findings(e: &Evaluation) -> &[Finding] {
    assert_eq!(e.decisions[0].outcome, Outcome::Ok, "{:?}", e.decisions[0]);
    &e.decisions[0].findings
}

/// The text a finding's span covers in message `message` of `payload`.
fn covered<'a>(payload: &'a Payload, f: &Finding) -> &'a str {
    let span = f.span.expect("a span");
    let content = &payload.messages[span.message as usize].content;
    assert!(
        content.is_char_boundary(span.start as usize)
            && content.is_char_boundary(span.end as usize),
        "{span:?} is not on character boundaries of {content:?}"
    );
    &content[span.start as usize..span.end as usize]
}

#[test]
fn an_answer_matching_the_schema_is_allowed() {
    for text in [
        r#"{"name": "Zoë", "age": 31, "tags": ["admin"]}"#,
        "  {\"age\": 0,\n \"name\": \"Al\"}\n",
        "```json\n{\"name\": \"Bob\", \"age\": 7}\n```",
        "```\n{\"name\": \"Bob\", \"age\": 7}\n```",
    ] {
        let e = check_with(&person(""), &answer(text));
        assert_eq!(e.action, Action::Allow, "{text}: {:?}", e.decisions[0]);
        assert!(findings(&e).is_empty());
        assert_eq!(
            e.decisions[0].reason,
            "output-format: the answer is JSON matching the schema"
        );
    }
}

#[test]
fn each_schema_violation_is_a_finding_spanning_the_offending_value() {
    // Non-ASCII before the values: spans are UTF-8 byte offsets.
    let text = r#"{"note": "☕ é", "name": "bob", "age": -3, "tags": ["admin", "root", "user"]}"#;
    let payload = answer(text);
    let e = check_with(&person(""), &payload);
    assert_eq!(e.action, Action::Block);
    let f = findings(&e);
    let got: Vec<(&str, &str)> = f
        .iter()
        .map(|f| (f.category.as_str(), covered(&payload, f)))
        .collect();
    assert_eq!(
        got,
        [
            ("OUTPUT_SCHEMA", r#""bob""#),
            ("OUTPUT_SCHEMA", "-3"),
            ("OUTPUT_SCHEMA", r#"["admin", "root", "user"]"#),
            ("OUTPUT_SCHEMA", r#""root""#),
            ("OUTPUT_SCHEMA", r#""☕ é""#),
        ],
        "in the schema's order, then the properties it does not allow: {f:?}"
    );
    assert!(
        f.iter().all(|f| f.rule_id == "output-format.schema"
            && f.score == 1.0
            && f.replacement.is_none())
    );
    let reason = &e.decisions[0].reason;
    for part in [
        "message 0 /note: property \"note\" is not allowed (additionalProperties is false)",
        "message 0 /name: expected a string matching /^[A-Z]/, got \"bob\"",
        "message 0 /age: expected a number of at least 0, got -3",
        "message 0 /tags: expected at most 2 items, got 3",
        "message 0 /tags/1: expected one of [\"admin\",\"user\"], got \"root\"",
    ] {
        assert!(reason.contains(part), "{part:?} not in {reason:?}");
    }
}

#[test]
fn a_missing_property_spans_its_object_and_a_wrong_type_stops_there() {
    let text = r#"[{"age": 1.5}]"#;
    let schema = format!(r#"schema = '{{"type": "array", "items": {PERSON}}}'"#).replace('\n', " ");
    let payload = answer(text);
    let e = check_with(&schema, &payload);
    let f = findings(&e);
    let got: Vec<&str> = f.iter().map(|f| covered(&payload, f)).collect();
    assert_eq!(got, [r#"{"age": 1.5}"#, "1.5"], "{f:?}");
    let reason = &e.decisions[0].reason;
    assert!(
        reason.contains("/0: missing the required property \"name\""),
        "{reason}"
    );
    assert!(
        reason.contains("/0/age: expected integer, got number 1.5"),
        "the minimum is not checked on a value of the wrong type: {reason}"
    );
    assert!(!reason.contains("at least"), "{reason}");
}

#[test]
fn an_answer_that_is_not_json_is_blocked_with_where_parsing_failed() {
    // (answer, what the reason says, the span: from the start to where
    // parsing failed, at least one character)
    for (text, says, spans) in [
        (
            "Sure! Here is the JSON you asked for.",
            "found \"S\", expected a JSON value, at line 1, byte 0",
            "S",
        ),
        // The engine places grammar errors itself (a byte position).
        (
            "{\"name\": \"Zoë\",\n \"age\": 3,}",
            "Expected property name or '}', at line 2, byte 27",
            "{\"name\": \"Zoë\",\n \"age\": 3,",
        ),
        (
            "{\"name\": \"Zoë\",\n \"age\": tru}",
            "found \"t\", expected a JSON value, at line 2, byte 25",
            "{\"name\": \"Zoë\",\n \"age\": ",
        ),
        (
            "{\"name\": \"Zoë\"",
            "Expected ',' or '}' after property value, at line 1, byte 15",
            "{\"name\": \"Zoë\"",
        ),
        (
            "{\"name\": \"Zoë",
            "found the end of the text, expected the closing '\"' of the string, at line 1, byte 14",
            "{\"name\": \"Zoë",
        ),
        (
            "{\"name\": \"Bob\", \"age\": 3} and more",
            "found \"a\", expected nothing after the JSON value, at line 1, byte 26",
            "{\"name\": \"Bob\", \"age\": 3} ",
        ),
        (
            "é",
            "found \"é\", expected a JSON value, at line 1, byte 0",
            "é",
        ),
        ("", "found the end of the text, expected a JSON value", ""),
    ] {
        let payload = answer(text);
        let e = check_with(&person(""), &payload);
        assert_eq!(e.action, Action::Block, "{text:?}");
        let f = findings(&e);
        assert_eq!(f.len(), 1, "{text:?}: {f:?}");
        assert_eq!(f[0].rule_id, "output-format.json");
        assert_eq!(f[0].category, "OUTPUT_NOT_JSON");
        assert_eq!(covered(&payload, &f[0]), spans, "{text:?}");
        let reason = &e.decisions[0].reason;
        assert!(
            reason.starts_with("output-format: message 0 is not JSON: ") && reason.contains(says),
            "{text:?}: {reason}"
        );
    }
}

#[test]
fn a_fenced_answer_is_checked_inside_the_fence_unless_fences_are_refused() {
    let text = "Here you go:\n```json\n{\"name\": \"Bob\", \"age\": 7}\n```";
    let e = check_with(&person(""), &answer(text));
    assert_eq!(
        e.action,
        Action::Block,
        "prose around the fence is not JSON"
    );

    let text = "```json\n{\"name\": \"Zoë\", \"age\": -1}\n```\n";
    let payload = answer(text);
    let e = check_with(&person(""), &payload);
    let f = findings(&e);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(covered(&payload, &f[0]), "-1");

    let e = check_with(&person("allow-fences = \"false\""), &payload);
    let f = findings(&e);
    assert_eq!(f[0].category, "OUTPUT_NOT_JSON", "{f:?}");
    assert_eq!(covered(&payload, &f[0]), "`");

    let two = "```json\n{\"name\": \"Bob\", \"age\": 7}\n```\n```json\n{}\n```";
    let e = check_with(&person(""), &answer(two));
    assert_eq!(
        findings(&e)[0].category,
        "OUTPUT_NOT_JSON",
        "one fence only"
    );
}

fn conversation(answers: &[&str]) -> Payload {
    let mut messages = vec![
        Message::new("system", "Answer in JSON."),
        Message::new("user", "Who is it?"),
    ];
    for a in answers {
        messages.push(Message::new("assistant", *a));
        messages.push(Message::new("user", "And now?"));
    }
    messages.pop();
    Payload {
        request_id: "r-js".into(),
        stage: Stage::Response,
        route: "gpt-test".into(),
        caller: "tests".into(),
        messages,
        attributes: vec![],
    }
}

#[test]
fn only_the_last_assistant_message_is_checked_unless_messages_is_all() {
    let payload = conversation(&[
        "not json at all",
        r#"{"name": "Ann", "age": -2}"#,
        r#"{"name": "Ann", "age": 40}"#,
    ]);
    let e = check_with(&person(""), &payload);
    assert_eq!(e.action, Action::Allow, "{:?}", e.decisions[0]);

    let e = check_with(&person("messages = \"all\""), &payload);
    assert_eq!(e.action, Action::Block);
    let f = findings(&e);
    let got: Vec<(u32, &str, &str)> = f
        .iter()
        .map(|f| {
            (
                f.span.unwrap().message,
                f.category.as_str(),
                covered(&payload, f),
            )
        })
        .collect();
    assert_eq!(
        got,
        [(2, "OUTPUT_NOT_JSON", "n"), (4, "OUTPUT_SCHEMA", "-2"),]
    );
    let reason = &e.decisions[0].reason;
    assert!(reason.contains("message 2 is not JSON"), "{reason}");
    assert!(reason.contains("message 4 /age"), "{reason}");

    let mut none = answer("x");
    none.messages[0].role = "user".into();
    let e = check_with(&person(""), &none);
    assert_eq!(e.action, Action::Allow);
    assert_eq!(
        e.decisions[0].reason,
        "output-format: no assistant message to check"
    );
}

#[test]
fn action_flag_flags_instead_of_blocking() {
    let e = check_with(&person("action = \"flag\""), &answer("nope"));
    assert_eq!(e.action, Action::Flag);
    assert_eq!(findings(&e).len(), 1);
}

#[test]
fn without_a_schema_every_answer_is_allowed_and_the_reason_says_so() {
    for text in ["Plain prose.", "{not json", r#"{"any": "json"}"#] {
        let e = check_with("", &answer(text));
        assert_eq!(e.action, Action::Allow);
        assert!(findings(&e).is_empty());
        assert_eq!(
            e.decisions[0].reason,
            "output-format: no schema configured, answers are not checked"
        );
    }
}

#[test]
fn findings_stop_at_fifty_and_the_reason_quotes_five() {
    let items: Vec<String> = (0..80).map(|i| format!("{{\"name\": \"x{i}\"}}")).collect();
    let text = format!("[{}]", items.join(", "));
    let schema = format!(r#"schema = '{{"type": "array", "items": {PERSON}}}'"#).replace('\n', " ");
    let e = check_with(&schema, &answer(&text));
    let f = findings(&e);
    assert_eq!(f.len(), 50);
    let reason = &e.decisions[0].reason;
    assert_eq!(reason.matches("message 0 /").count(), 5, "{reason}");
    assert!(reason.ends_with("; and 45 more"), "{reason}");
}

#[test]
fn a_bad_config_or_schema_is_refused_at_load_with_an_error_naming_the_key() {
    for (config, says) in [
        (
            "schema = '{\"type\": \"object\",}'",
            "config key `schema`: not valid JSON: expected a property name in double quotes at line 1",
        ),
        (
            "schema = '{\"oneOf\": [{\"type\": \"string\"}]}'",
            "config key `schema`: at /oneOf: unsupported keyword `oneOf`; supported: type, properties, required",
        ),
        (
            "schema = '{\"properties\": {\"a/b\": {\"type\": \"text\"}}}'",
            "config key `schema`: at /properties/a~1b/type: expected one of null, boolean, object, array, number, string, integer",
        ),
        (
            "schema = '{\"pattern\": \"([a-z\"}'",
            "config key `schema`: at /pattern: not a valid JavaScript regular expression",
        ),
        (
            "schema = '{\"additionalProperties\": {\"type\": \"string\"}}'",
            "at /additionalProperties: only true or false is supported",
        ),
        (
            "schema = '{}'\naction = \"redact\"",
            "config key `action`: expected \"block\" or \"flag\", got \"redact\"",
        ),
        (
            "messages = \"first\"",
            "config key `messages`: expected \"last\" or \"all\", got \"first\"",
        ),
        (
            "allow-fences = \"yes\"",
            "config key `allow-fences`: expected \"true\" or \"false\", got \"yes\"",
        ),
        (
            "schemas = '{}'",
            "config key `schemas`: unknown; expected schema, action, allow-fences or messages",
        ),
        (
            "schema = { type = \"object\" }",
            "config key `schema.type`: the schema must be one JSON string",
        ),
        (
            "schema = ['{}', '{}']",
            "config key `schema`: given more than once",
        ),
    ] {
        // The plugin's own message, from the probe call every load makes:
        // the policy never serves with a config its plugin refuses.
        let error = pipeline_error(&format!(
            "[plugins.format]\npath = {:?}\n[plugins.format.config]\n{config}\n[stages]\nresponse = [\"format\"]\n",
            plugin().display().to_string()
        ));
        assert!(error.contains("plugin `format`"), "{config}: {error}");
        assert!(error.contains(says), "{config}: {error}");
    }
}

#[test]
fn a_reused_instance_answers_the_same_every_time() {
    let policy = format!(
        "[plugins.format]\npath = {:?}\nreuse = true\n[plugins.format.config]\n{}\n[stages]\nresponse = [\"format\"]\n",
        plugin().display().to_string(),
        person("")
    );
    let p = pipeline(&policy);
    let bad = answer(r#"{"name": "al", "age": 1}"#);
    let good = answer(r#"{"name": "Al", "age": 1}"#);
    let first = p.evaluate(&bad);
    assert_eq!(first.decisions[0].findings.len(), 1);
    for _ in 0..10 {
        let again = p.evaluate(&bad);
        assert_eq!(again.decisions[0].findings, first.decisions[0].findings);
        assert_eq!(again.reason, first.reason);
        assert_eq!(p.evaluate(&good).action, Action::Allow);
    }
}

fn options(config: &[(&str, &str)], vectors: Option<&Path>) -> Options {
    Options {
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        vectors: vectors.map(Path::to_path_buf),
        cache_dir: Some(common::cache_dir()),
        ..Options::default()
    }
}

fn assert_passes(report: &Report, checks: &[&str]) {
    assert!(report.passed(), "{}", report.render(Format::Text));
    for check in checks {
        assert!(
            report.checks.iter().any(|c| c.check == *check),
            "no `{check}` check ran:\n{}",
            report.render(Format::Text)
        );
    }
}

#[test]
fn passes_conformance_with_its_manifest_and_no_capabilities() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(plugin()).unwrap();
    let wasm = dir.path().join("output-format.wasm");
    std::fs::write(&wasm, &bytes).unwrap();
    let manifest = render(
        "output-format",
        "0.1.0",
        PluginKind::Guardrail,
        &[Stage::Response],
        &PluginDigest::of(&bytes),
        None,
        None,
    );
    std::fs::write(dir.path().join("output-format.toml"), manifest).unwrap();
    // No schema: the shipped default, which must let benign prose through.
    let report = conformance::run(&wasm, &options(&[], None)).unwrap();
    assert_passes(
        &report,
        &[
            "load",
            "info",
            "manifest",
            "contract",
            "determinism",
            "golden",
        ],
    );
    // With a schema, every vector's answer is checked (and fails it), so
    // flag rather than block for the benign-text vectors.
    let schema = PERSON.replace('\n', " ");
    let report = conformance::run(
        &wasm,
        &options(
            &[("schema", &schema), ("action", "flag"), ("messages", "all")],
            None,
        ),
    )
    .unwrap();
    assert_passes(&report, &["contract", "determinism", "golden"]);
}

#[test]
fn large_answers_stay_within_the_fuel_budget() {
    // The harness's budget: 20,000,000 + 1,000 per input byte. A megabyte
    // of prose, a megabyte fence of prose, a truncated 250 KB JSON
    // document, a 5 KB document with violations, and a mid-sized valid one.
    let prose = "The shipment left the warehouse yesterday and should arrive early next week. "
        .repeat(13_500);
    let items: Vec<String> = (0..3_000)
        .map(|i| format!(r#"{{"name": "Item {i}", "age": {i}, "tags": ["user"]}}"#))
        .collect();
    let big = format!("[{}]", items.join(", "));
    let bad: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"name": "item {i}", "age": -{i}}}"#))
        .collect();
    let vector = |id: &str, content: &str| {
        serde_json::json!({"id": id, "payload": {"messages": [
            {"role": "user", "content": "q"}, {"role": "assistant", "content": content}]}})
    };
    let vectors = serde_json::json!({"kind": "guardrail", "vectors": [
        vector("prose", &prose),
        vector("fenced-prose", &format!("```json\n{prose}\n```")),
        vector("truncated", &big[..big.len() - 1]),
        vector("violations", &format!("[{}]", bad.join(", "))),
        vector("valid-100", &format!("[{}]", items[..100].join(", "))),
    ]});
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("large.json"), vectors.to_string()).unwrap();
    let schema = format!(r#"{{"type": "array", "items": {PERSON}}}"#).replace('\n', " ");
    let report = conformance::run(
        plugin(),
        &options(&[("schema", &schema), ("action", "flag")], Some(dir.path())),
    )
    .unwrap();
    assert_passes(&report, &["contract", "determinism"]);
    let contract: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.check == "contract")
        .map(|c| c.case.as_str())
        .collect();
    assert_eq!(contract.len(), 5, "{contract:?}");
}

#[test]
fn dropped_into_a_plugins_folder_it_goes_live_when_it_flags() {
    let root = tempfile::tempdir().unwrap();
    let plugins = root.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let policy = root.path().join("policy.toml");
    std::fs::write(&policy, "[registry]\ndir = \"plugins\"\n").unwrap();
    let reloader = Reloader::from_file(loader().clone(), &policy).unwrap();

    // Deploy: the .wasm and its manifest with its config, no capabilities.
    // The smoke test runs benign prose answers through it with that
    // config, so a schema that blocks is refused: folder plugins flag.
    let bytes = std::fs::read(plugin()).unwrap();
    std::fs::write(plugins.join("output-format.wasm"), &bytes).unwrap();
    let manifest = |action: &str| {
        render(
            "output-format",
            "0.1.0",
            PluginKind::Guardrail,
            &[Stage::Response],
            &PluginDigest::of(&bytes),
            None,
            None,
        ) + &format!("\n[config]\nschema = '{{\"type\": \"object\"}}'\naction = \"{action}\"\n")
    };
    std::fs::write(plugins.join("output-format.toml"), manifest("block")).unwrap();
    let report = reloader.reload();
    assert!(report.went_live.is_empty(), "{report:?}");
    let refused = format!("{:?}", report.refused);
    assert!(
        refused.contains("smoke-test")
            && refused.contains("decided block on a payload where it must not"),
        "{refused}"
    );

    std::fs::write(plugins.join("output-format.toml"), manifest("flag")).unwrap();
    let report = reloader.reload();
    assert!(report.refused.is_empty(), "{report:?}");
    assert_eq!(report.went_live.len(), 1, "{report:?}");
    let live = reloader.live();
    assert_eq!(live.evaluate(&answer("[1, 2]")).action, Action::Flag);
    assert_eq!(live.evaluate(&answer("{\"a\": 1}")).action, Action::Allow);
}

#[test]
fn the_js_templates_pin_the_toolchain_that_scripts_toolchains_js_sh_installs() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |file: &str| std::fs::read_to_string(repo.join(file)).unwrap();
    let package: serde_json::Value =
        serde_json::from_str(&read("scripts/toolchains/js/package.json")).unwrap();
    let installed = package["dependencies"]["componentize-qjs"]
        .as_str()
        .expect("componentize-qjs is pinned");
    assert!(
        installed.chars().all(|c| c.is_ascii_digit() || c == '.'),
        "an exact version, not a range: {installed}"
    );
    let template = read("plugins/templates/js/common/build.sh");
    assert!(
        template
            .lines()
            .any(|l| l == format!("COMPONENTIZE_QJS_VERSION={installed}")),
        "plugins/templates/js/common/build.sh installs another componentize-qjs than {installed}"
    );
}
