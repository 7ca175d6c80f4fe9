//! `railyard plugin new` through the real binary.
//!
//! For every template language and every kind: the scaffold builds with its
//! own `./build.sh`, passes `railyard conformance` unmodified, and behaves
//! as the template contract says (the examples are equivalent across
//! languages, so one set of expectations holds for all). Then the command's
//! errors: bad names, a folder in the way, an unknown language.
//!
//! The non-Rust scaffolds take their toolchains from `<repo>/.toolchains/`,
//! which `scripts/toolchains/*.sh` (run by `./scripts/test`) install; the
//! Rust scaffolds share one cargo target folder, `target/plugin-new-rust`,
//! so wit-bindgen compiles once. A language whose templates are missing
//! fails its test: every language must ship all three kinds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::Value;

const KINDS: [&str; 3] = ["guardrail", "pii-detector", "judge-router"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ lives in the repository")
        .to_path_buf()
}

/// Runs the `railyard` binary in `cwd`, with its cache, audit log and state
/// kept in `cwd` (out of `$HOME`).
pub(crate) fn railyard(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_railyard"))
        .args(args)
        .current_dir(cwd)
        .env("RAILYARD_CACHE_DIR", cwd.join(".railyard-cache"))
        .env("RAILYARD_AUDIT_URL", cwd.join(".railyard-audit"))
        .env("RAILYARD_STATE_DIR", cwd.join(".railyard-state"))
        .output()
        .expect("run railyard")
}

/// `railyard plugin new --lang LANG --kind KIND [--dir DIR] -- NAME` in `cwd`.
pub(crate) fn plugin_new(
    cwd: &Path,
    lang: &str,
    kind: &str,
    dir: Option<&str>,
    name: &str,
) -> Output {
    let mut args = vec!["plugin", "new", "--lang", lang, "--kind", kind];
    if let Some(dir) = dir {
        args.extend(["--dir", dir]);
    }
    args.extend(["--", name]);
    railyard(cwd, &args)
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What a failed command printed, for assertion messages.
pub(crate) fn printed(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// Runs a scaffold's `./build.sh` as a plugin author would, with the
/// repository's toolchains first on PATH and none of the outer cargo's
/// settings (they describe the test build, not the plugin's).
pub(crate) fn build(project: &Path) -> Output {
    let mut cmd = Command::new(project.join("build.sh"));
    cmd.current_dir(project);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let keep = matches!(key, "CARGO_HOME" | "CARGO_MAKEFLAGS")
            || key.starts_with("CARGO_NET_")
            || key.starts_with("CARGO_HTTP_")
            || key.starts_with("CARGO_REGISTRIES_");
        if (key.starts_with("CARGO_") && !keep)
            || matches!(key, "RUSTFLAGS" | "RUSTC_WORKSPACE_WRAPPER")
        {
            cmd.env_remove(key);
        }
    }
    let mut path: Vec<PathBuf> = toolchain_bins(&repo().join(".toolchains"), 4);
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    cmd.env("PATH", std::env::join_paths(path).expect("PATH"))
        .env("CARGO_TARGET_DIR", repo().join("target/plugin-new-rust"));
    cmd.output()
        .unwrap_or_else(|e| panic!("running {}/build.sh: {e}", project.display()))
}

/// Every `bin` or `.bin` folder under `dir`, down to `depth` levels: where
/// `scripts/toolchains/*.sh` put compilers, venvs and npm packages.
fn toolchain_bins(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries.into_iter().filter(|p| p.is_dir()) {
        let name = path.file_name().unwrap_or_default();
        if name == "bin" || name == ".bin" {
            found.push(path);
        } else if depth > 1 {
            found.extend(toolchain_bins(&path, depth - 1));
        }
    }
    found
}

/// Scaffolds every kind in `lang`, builds each (timed), runs conformance on
/// each, then checks the three side by side under one policy.
fn scaffolds_build_pass_conformance_and_behave(lang: &str) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path();
    for kind in KINDS {
        let name = format!("{lang}-{kind}");
        let o = plugin_new(root, lang, kind, None, &name);
        assert_eq!(
            o.status.code(),
            Some(0),
            "plugin new {lang} {kind}: {}",
            printed(&o)
        );
        let project = root.join(&name);
        assert_scaffold_is_complete(&project, &name);

        let started = Instant::now();
        let o = build(&project);
        let first = started.elapsed();
        assert!(
            o.status.success(),
            "{lang} {kind} ./build.sh: {}",
            printed(&o)
        );
        let started = Instant::now();
        let o = build(&project);
        let again = started.elapsed();
        assert!(
            o.status.success(),
            "{lang} {kind} second ./build.sh: {}",
            printed(&o)
        );
        eprintln!("{lang} {kind}: ./build.sh took {first:.1?}, again {again:.1?}");

        let wasm = format!("{name}.wasm");
        assert!(project.join(&wasm).is_file(), "{lang} {kind}: no {wasm}");
        let manifest = std::fs::read_to_string(project.join(format!("{name}.toml")))
            .unwrap_or_else(|e| panic!("{lang} {kind}: no manifest {name}.toml: {e}"));
        assert!(
            manifest.contains(&format!("kind = \"{kind}\"")),
            "{manifest}"
        );
        let o = railyard(&project, &["conformance", &wasm]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{lang} {kind} fails conformance: {}",
            printed(&o)
        );
        assert!(
            text(&o.stdout).contains("ok    manifest"),
            "{}",
            printed(&o)
        );
    }
    examples_behave_as_the_template_contract_says(lang, root);
}

/// Every file is in place: placeholders substituted, build script
/// executable, the host's own WIT.
fn assert_scaffold_is_complete(project: &Path, name: &str) {
    for file in ["build.sh", "README.md", "wit/railyard.wit"] {
        assert!(project.join(file).is_file(), "{name}: no {file}");
    }
    let wit = std::fs::read_to_string(project.join("wit/railyard.wit")).unwrap();
    let host_wit = std::fs::read_to_string(repo().join("wit/railyard.wit")).unwrap();
    assert_eq!(wit, host_wit, "{name}: wit/railyard.wit is not the host's");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(project.join("build.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "{name}: build.sh is not executable");
    }
    let mut stack = vec![project.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            assert!(
                !path.to_string_lossy().contains("{{"),
                "{}: placeholder left in a file name",
                path.display()
            );
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(contents) = std::fs::read_to_string(&path) {
                for placeholder in ["{{name}}", "{{name_snake}}", "{{kind}}"] {
                    assert!(
                        !contents.contains(placeholder),
                        "{}: {placeholder} left unsubstituted",
                        path.display()
                    );
                }
            }
        }
    }
}

/// The examples side by side in one request stage (guardrail, detector,
/// router), under configured and default settings.
fn examples_behave_as_the_template_contract_says(lang: &str, root: &Path) {
    let policy = |config: &str| {
        format!(
            "[plugins.g]\npath = \"{lang}-guardrail/{lang}-guardrail.wasm\"\n{config}\n\
             [plugins.p]\npath = \"{lang}-pii-detector/{lang}-pii-detector.wasm\"\n\
             [plugins.j]\npath = \"{lang}-judge-router/{lang}-judge-router.wasm\"\n\
             [plugins.j.config]\njudge = \"privacy-judge\"\n\
             [stages]\nrequest = [\"g\", \"p\", \"j\"]\n"
        )
    };
    std::fs::write(
        root.join("configured.toml"),
        policy("[plugins.g.config]\nbanned = [\"secret plan\", \"forbidden-word\"]"),
    )
    .unwrap();
    std::fs::write(root.join("defaults.toml"), policy("")).unwrap();
    let check = |policy: &str, text: &str| -> (Option<i32>, Value) {
        let o = railyard(root, &["check", "--json", "--policy", policy, text]);
        let json = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{lang}: check output is not JSON ({e}): {}", printed(&o)));
        (o.status.code(), json)
    };
    let span = |f: &Value| {
        (
            f["span"]["start"].as_u64().unwrap() as usize,
            f["span"]["end"].as_u64().unwrap() as usize,
        )
    };

    // Byte offsets, not character offsets: the text starts with a
    // two-byte character.
    let text = "é! my Secret Plan: mail bob@example.com. FORBIDDEN-WORD";
    let (code, v) = check("configured.toml", text);
    assert_eq!(code, Some(1), "{lang}: banned words block: {v:#}");
    assert_eq!(v["action"], "block", "{v:#}");
    let [g, p, j] = [0, 1, 2].map(|i| &v["decisions"][i]);
    assert_eq!(g["outcome"], "ok", "{v:#}");
    assert_eq!(g["action"], "block", "{v:#}");
    assert_eq!(g["reason"], "banned word", "{v:#}");
    let hits: Vec<(usize, usize)> = g["findings"].as_array().unwrap().iter().map(span).collect();
    let secret = text.find("Secret Plan").unwrap();
    let forbidden = text.find("FORBIDDEN-WORD").unwrap();
    assert_eq!(
        hits,
        [(secret, secret + 11), (forbidden, forbidden + 14)],
        "{lang}: one finding per hit, in config order: {v:#}"
    );
    for f in g["findings"].as_array().unwrap() {
        assert_eq!(f["rule_id"], format!("{lang}-guardrail.banned"), "{f}");
        assert_eq!(f["category"], "BANNED_WORD", "{f}");
        assert_eq!(f["score"], 1.0, "{f}");
    }

    assert_eq!(p["outcome"], "ok", "{v:#}");
    let emails = p["findings"].as_array().unwrap();
    assert_eq!(emails.len(), 1, "{lang}: one address: {v:#}");
    let email = text.find("bob@").unwrap();
    assert_eq!(
        span(&emails[0]),
        (email, email + "bob@example.com".len()),
        "the trailing dot is not part of the address"
    );
    assert_eq!(emails[0]["rule_id"], format!("{lang}-pii-detector.email"));
    assert_eq!(emails[0]["category"], "EMAIL_ADDRESS");
    assert!((emails[0]["score"].as_f64().unwrap() - 0.9).abs() < 1e-6);

    assert_eq!(j["outcome"], "ok", "{v:#}");
    let requests = v["judge_requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{lang}: one judge request: {v:#}");
    assert_eq!(requests[0]["judge"], "privacy-judge");
    assert_eq!(requests[0]["rubric"], "default");
    assert_eq!(requests[0]["mode"], "async", "background mode");
    assert_eq!(requests[0]["priority"], 0);
    assert_eq!(requests[0]["sample_rate"], 1.0);
    let reason = requests[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("finding BANNED_WORD scored 1"),
        "{lang}: the first finding scoring 0.5 or more: {reason:?}"
    );

    // Defaults: one banned word, "forbidden-word"; "secret plan" is fine.
    let (code, v) = check("defaults.toml", "a secret plan with a Forbidden-Word");
    assert_eq!(
        code,
        Some(1),
        "{lang}: the default banned word blocks: {v:#}"
    );
    assert_eq!(v["decisions"][0]["findings"].as_array().unwrap().len(), 1);

    // Nothing found: allowed, no reason, no judge.
    let (code, v) = check("defaults.toml", "hello there, user@localhost");
    assert_eq!(code, Some(0), "{lang}: benign text passes: {v:#}");
    assert_eq!(v["action"], "allow", "{v:#}");
    assert_eq!(v["decisions"][0]["reason"], "", "{v:#}");
    assert!(
        v["decisions"][1]["findings"].as_array().unwrap().is_empty(),
        "{lang}: a domain without a dot is no address: {v:#}"
    );
    assert!(v["judge_requests"].as_array().unwrap().is_empty(), "{v:#}");
}

#[test]
fn rust_scaffolds_build_pass_conformance_and_behave() {
    scaffolds_build_pass_conformance_and_behave("rust");
}

#[test]
fn python_scaffolds_build_pass_conformance_and_behave() {
    scaffolds_build_pass_conformance_and_behave("python");
}

#[test]
fn js_scaffolds_build_pass_conformance_and_behave() {
    scaffolds_build_pass_conformance_and_behave("js");
}

#[test]
fn c_scaffolds_build_pass_conformance_and_behave() {
    scaffolds_build_pass_conformance_and_behave("c");
}

#[test]
fn default_folder_is_the_name_and_an_empty_folder_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let o = plugin_new(tmp.path(), "rust", "guardrail", None, "no-shouting");
    assert_eq!(o.status.code(), Some(0), "{}", printed(&o));
    assert!(tmp.path().join("no-shouting/build.sh").is_file());
    let out = text(&o.stdout);
    assert!(out.contains("./build.sh"), "{out}");
    assert!(
        out.contains("railyard conformance no-shouting.wasm"),
        "{out}"
    );

    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    let o = plugin_new(tmp.path(), "rust", "pii-detector", Some("empty"), "x");
    assert_eq!(o.status.code(), Some(0), "{}", printed(&o));
    assert!(tmp.path().join("empty/src/lib.rs").is_file());
}

#[test]
fn bad_names_are_refused_with_the_rule() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["No-Shouting", "1st", "-x", "a_b", "a.b", "zoë", ""] {
        let o = plugin_new(tmp.path(), "rust", "guardrail", None, name);
        assert_eq!(o.status.code(), Some(2), "{name:?}: {}", printed(&o));
        let err = text(&o.stderr);
        assert!(
            err.contains(&format!("plugin name {name:?}"))
                && err.contains("lower-case ASCII letters, digits and `-`"),
            "{name:?}: {err}"
        );
    }
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing is written for a bad name"
    );
}

#[test]
fn an_existing_non_empty_folder_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("taken");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let o = plugin_new(tmp.path(), "rust", "guardrail", None, "taken");
    assert_eq!(o.status.code(), Some(2), "{}", printed(&o));
    assert!(
        text(&o.stderr).contains("taken exists and is not empty"),
        "{}",
        printed(&o)
    );
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "nothing was added");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn an_unknown_language_or_kind_is_an_error_listing_the_choices() {
    let tmp = tempfile::tempdir().unwrap();
    let o = plugin_new(tmp.path(), "cobol", "guardrail", None, "x");
    assert_eq!(o.status.code(), Some(2), "{}", printed(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("no plugin templates for language \"cobol\"; available: ")
            && err.contains("rust"),
        "{err}"
    );

    let o = plugin_new(tmp.path(), "rust", "moderator", None, "x");
    assert_eq!(o.status.code(), Some(2), "{}", printed(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("guardrail") && err.contains("pii-detector") && err.contains("judge-router"),
        "{err}"
    );
    assert!(!tmp.path().join("x").exists());
}
